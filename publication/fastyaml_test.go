package publication

import (
	"net/url"
	"reflect"
	"testing"
)

var flatSeeds = []string{
	"title: Hello\ndate: 2022-06-02\n",
	"title: \"Épisode #4 : Les engagements\"\ntags: [\"video\"]\ntype: video\n",
	"tags: [a, b, 'c d']\ndraft: true\n",
	"title: 'It''s'\nempty: []\n",
	"# comment\n\ntitle: x\r\ndate: 2022-06-02T10:00:00+01:00\n",
	"a: 12\n", "a: -x\n", "a: yes\n", "a: ~\n", "a: null\n", "a: x # c\n",
	"a:\n  b: c\n", "a: [1, 2]\n", "a: \"x\\ty\"\n", "a: b: c\n", "a: 2022-06-02 10:00\n",
	"a: x\na: y\n", " a: x\n", "a: |\n  x\n", "a: &x y\n", "a: .5\n", "a: True\n",
	"a: [x, ]\n", "a: [x,y:z]\n", "a: 'x\n", "ké: v\n", "a: x\u2028y\n", "a: 0x10\n",
	"a: \"\"\n", "a: ''\n", "a: [\"\"]\n", "a:b\n", "a: x:y\n", "a: [a b, c]\n",
	"tags:\n  - a\n  - b\ntitle: x\n", "tags:\n- a\n- 'b c'\n", "audio:\n  url: /a.mp3\n  type: audio/mpeg\n",
	"nav:\n  parent: x\n  order: 40\n", "a:\nb: c\n", "a:\n  # c\n\n  b: c\n", "a:\n  b:\n    c: d\n",
	"a:\n  - x\n   - y\n", "a:\n  b: c\n   d: e\n", "a:\n  - \n", "a:   \n", "a:\n  b: c\n  b: d\n",
	"a:\n  - [x]\n", "a:\n  x\n", "a:\n  b: [c, d]\n  e: \"f\"\n", "a:\n -x\n",
	"a: 0\n", "a: 007\n", "a: 12345678901234567890\n", "a: 1_000\n", "a: 12a\n", "a: 10.5\n",
}

func TestFlatYAMLMatchesFullParser(t *testing.T) {
	accepted := 0
	for _, s := range flatSeeds {
		if checkFlat(t, []byte(s)) {
			accepted++
		}
	}
	// The fast path must take the common shapes, not only refuse.
	if accepted < 10 {
		t.Fatalf("the fast path accepted only %d of the seeds", accepted)
	}
}

// checkFlat compares the fast path with yaml.v3 on one input and reports
// whether the fast path took it.
func checkFlat(t *testing.T, in []byte) bool {
	t.Helper()
	fast, ok := parseFlatYAML(in, 2)
	if !ok {
		return false
	}
	full, err := parseFullYAML(in, 2)
	if err != nil {
		t.Fatalf("fast path accepted %q, full parser refused it: %v", in, err)
	}
	if !reflect.DeepEqual(fast.Data, full.Data) || !reflect.DeepEqual(fast.Lines, full.Lines) {
		t.Fatalf("fast path and full parser differ on %q:\nfast %#v %v\nfull %#v %v", in, fast.Data, fast.Lines, full.Data, full.Lines)
	}
	return true
}

func FuzzFlatYAML(f *testing.F) {
	for _, s := range flatSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkFlat(t, in)
	})
}

// The shapes real front matter uses most must take the fast path.
func TestFlatYAMLTakesCommonShapes(t *testing.T) {
	for _, s := range []string{
		"title: \"Épisode #4 : Les engagements de l’État\"\ndescription: Face aux défis, …\ndate: 2022-06-02\nimage: /img/a.jpg\nembedVideoUrl: https://www.dailymotion.com/embed/video/k2W\ntags: [\"video\"]\ntype: video\n",
		"title: x\ntags:\n  - a\n  - b\n",
		"title: x\naudio:\n  url: /a.mp3\n  type: audio/mpeg\n  length: 1000042\n",
		"title: x\norder: 40\nzero: 0\n",
		"title: x\nimage:\n  src: /a.png\n  alt: Une image\ndraft: false\n",
	} {
		if !checkFlat(t, []byte(s)) {
			t.Errorf("fast path refused %q", s)
		}
	}
}

// The fast path of resolveURL gives what url.ResolveReference gives.
func TestResolveURLFastPath(t *testing.T) {
	base, _ := url.Parse("https://example.org/blog/post/")
	for _, ref := range []string{"/img/a.png", "/a/b/", "/", "/a/./b", "/a/../b", "/a/..", "/a/.", "/.x", "/a..b/c", "/a%20b", "//cdn.example/x", "/a?b", "/a#b", "/é", "/a b", "/..", "/a/...", "/-_~"} {
		want := ref
		if u, err := url.Parse(ref); err == nil && !u.IsAbs() {
			want = base.ResolveReference(u).String()
		}
		if got := resolveURL(base, ref); got != want {
			t.Errorf("resolveURL(%q) = %q, want %q", ref, got, want)
		}
	}
}
