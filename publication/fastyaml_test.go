package publication

import (
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
