package publication

import (
	"net/url"
	"strings"
	"testing"
)

// Front-matter URLs end up in feeds and emails as they are: one that would
// run code must never get there.
func TestFrontMatterURLsThatRunCodeAreDropped(t *testing.T) {
	site := loadFiles(t, map[string]string{
		"a.md": "---\ntitle: A\ndate: 2024-01-02\nimage: \"javascript:alert(1)\"\napercu: \" JavaScript:alert(2)\"\naudio: \"vbscript:x\"\nauthor: {name: Zoé, url: \"javascript:alert(3)\"}\n---\nBody\n",
	}, testOptions(t))
	p := bySource(site)["a.md"]
	if p == nil {
		t.Fatalf("a.md not loaded: %v", diagStrings(site))
	}
	if p.Image != nil || p.Thumbnail != "" || len(p.Enclosures) != 0 {
		t.Fatalf("unsafe URLs kept: image=%v thumbnail=%q enclosures=%v", p.Image, p.Thumbnail, p.Enclosures)
	}
	if p.Author == nil || p.Author.Name != "Zoé" || strings.Contains(strings.ToLower(p.Author.URL), "javascript") {
		t.Fatalf("author = %+v", p.Author)
	}
	warned := false
	for _, d := range diagStrings(site) {
		if strings.Contains(d, "vbscript:x") {
			warned = true
		}
	}
	if !warned {
		t.Fatalf("the dropped enclosure was not reported: %v", diagStrings(site))
	}
}

// FuzzResolveLink checks resolveLink's shortcut against what it stands for.
func FuzzResolveLink(f *testing.F) {
	for _, s := range []string{"../a/", "/img/x.png", "b.png", "https://x.org/", "//evil/x", "javascript:x", "/%", "a:b", " /a ", "../../../../x", "mailto:a@b"} {
		f.Add("https://example.org/a/b/", s)
	}
	f.Add("http://localhost:8080/x", "/y")
	f.Fuzz(func(t *testing.T, page, ref string) {
		base, err := url.Parse(page)
		if err != nil {
			return
		}
		got, ok := resolveLink(base, ref)
		want := resolveURL(base, ref)
		wantOK := !unsafeURL(ref) && parseableAbs(want)
		if ok != wantOK || ok && got != want {
			t.Errorf("resolveLink(%q, %q) = %q, %v; want %q, %v", page, ref, got, ok, want, wantOK)
		}
	})
}
