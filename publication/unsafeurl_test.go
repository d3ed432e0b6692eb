package publication

import (
	"context"
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
		// resolveLink leaves to goldmark's renderer the escaping that
		// resolveURL does (toURI): a Markdown destination still holds its
		// backslash escapes.
		got, ok := resolveLink(base, ref)
		want := resolveURL(base, ref)
		wantOK := !unsafeURL(ref) && parseableAbs(want)
		if ok != wantOK || ok && toURI(got) != want {
			t.Errorf("resolveLink(%q, %q) = %q, %v; want %q, %v", page, ref, got, ok, want, wantOK)
		}
	})
}

func TestValidHost(t *testing.T) {
	for _, tt := range []struct {
		url  string
		want bool
	}{
		{"https://example.org/", true},
		{"https://www.ex_ample.org:8443/x", true},
		{"https://économie.gouv.fr/", true},
		{"https://[::1]/", true},
		{"http://127.0.0.1:8080/", true},
		{`https://"`, false},
		{"https://<x>/", false},
		{`https://a"b.org/`, false},
		{"https://a!b.org/", false},
		{"https:///x", false},
		{"https:x", false},
	} {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatalf("%q: %v", tt.url, err)
		}
		if got := validHost(u); got != tt.want {
			t.Errorf("validHost(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
}

// A URL whose host no name has parses in Go but comes out percent-encoded
// ("https://%22"), which does not: it must not reach a feed, in front
// matter or in a body.
func TestURLsWithoutAValidHostAreDropped(t *testing.T) {
	site := loadFiles(t, map[string]string{
		"a.md": "---\ntitle: A\ndate: 2024-01-02\nimage: '//\"'\nthumbnail: 'https://<x>/a.png'\napercu: '%zz'\n" +
			"audio: 'https://a\"b.org/a.mp3'\nembedVideoUrl: '//\"'\nauthor: {name: Zoé, url: 'https://<x>/'}\n---\n" +
			"[lien](https://\"/) et [autre](//\"x) <a href=\"//&quot;\">brut</a> <img src=\"https://&lt;x&gt;/i.png\" alt=\"i\" srcset=\"//&quot;/a.png 1x, b.png 2x\">\n",
	}, testOptions(t))
	p := bySource(site)["a.md"]
	if p == nil {
		t.Fatalf("a.md not loaded: %v", diagStrings(site))
	}
	if p.Image != nil || p.Thumbnail != "" || len(p.Enclosures) != 0 || p.VideoURL != "" || p.Author == nil || p.Author.URL != "" {
		t.Errorf("invalid URLs kept: image=%v thumbnail=%q enclosures=%v video=%q author=%+v", p.Image, p.Thumbnail, p.Enclosures, p.VideoURL, p.Author)
	}
	if err := Render(context.Background(), []*Publication{p}); err != nil {
		t.Fatal(err)
	}
	if p.Content != `<p>lien et autre brut <img alt="i" srcset="https://example.org/a/b.png 2x"/></p>` {
		t.Errorf("content %q", p.Content)
	}
	want := []string{
		`a.md:4: warning: image must be a URL or a map with src and alt: ignored`,
		`a.md:5: warning: thumbnail "https://<x>/a.png" is not a valid URL: ignored`,
		`a.md:6: warning: apercu "%zz" is not a valid URL: ignored`,
		`a.md:7: warning: audio https://a"b.org/a.mp3: not a link to a file: ignored`,
		`a.md:8: warning: embedVideoUrl "//\"" is not the URL of a video: ignored`,
	}
	got := strings.Join(diagStrings(site), "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("diagnostics lack %q:\n%s", w, got)
		}
	}
}
