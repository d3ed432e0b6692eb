package publication

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSlug(t *testing.T) {
	tests := map[string]string{
		"Éco-conception":        "eco-conception",
		"Œuvre d’art":           "oeuvre-d-art",
		"  Hello,  World!  ":    "hello-world",
		"Straße":                "strasse",
		"Ça va ?":               "ca-va",
		"2024 : bilan":          "2024-bilan",
		"C++ & Go":              "c-go",
		"Ex-æquo":               "ex-aequo",
		"日本語":                   "日本語",
		"":                      "",
		"   ":                   "",
		"---":                   "",
		"video":                 "video",
		"Numérique Responsable": "numerique-responsable",
	}
	for in, want := range tests {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultPathAndFileSlug(t *testing.T) {
	tests := []struct{ source, path, slug string }{
		{"a/b/c.md", "/a/b/c/", "c"},
		{"a/b/index.md", "/a/b/", "b"},
		{"index.md", "/", ""},
		{"page.markdown", "/page/", "page"},
		{"guides/éco-conception/fiche outils.md", "/guides/éco-conception/fiche outils/", "fiche outils"},
		// A file named as its folder is the folder's index (Eleventy's
		// TemplatePermalink._hasDuplicateFolder), compared as written.
		{"a/a.md", "/a/", "a"},
		{"guides/guides/guides.md", "/guides/guides/", "guides"},
		{"a/b/a.md", "/a/b/a/", "a"},
		{"a/A.md", "/a/A/", "A"},
		{"a.md", "/a/", "a"},
		// The slug drops a date before it (Eleventy's TemplateFileSlug);
		// the default URL keeps it, as Eleventy's does.
		{"blog/2026-01-01-hello.md", "/blog/2026-01-01-hello/", "hello"},
		{"blog/n1-2026-01-01-hello.md", "/blog/n1-2026-01-01-hello/", "hello"},
		{"2026-01-01-hello/index.md", "/2026-01-01-hello/", "hello"},
		{"hello/2026-01-01-hello.md", "/hello/2026-01-01-hello/", "hello"},
		{"2026-01-01-index.md", "/2026-01-01-index/", ""},
		{"posts/veille-2022-02-23.md", "/posts/veille-2022-02-23/", "veille-2022-02-23"},
		{"2026-01-01.md", "/2026-01-01/", "2026-01-01"},
		{"2026-1-01-x.md", "/2026-1-01-x/", "2026-1-01-x"},
	}
	for _, tt := range tests {
		if got := defaultPath(tt.source); got != tt.path {
			t.Errorf("defaultPath(%q) = %q, want %q", tt.source, got, tt.path)
		}
		if got := fileSlug(tt.source); got != tt.slug {
			t.Errorf("fileSlug(%q) = %q, want %q", tt.source, got, tt.slug)
		}
	}
}

func TestPathDate(t *testing.T) {
	tests := []struct{ source, want string }{
		{"blog/2026-01-01-hello.md", "2026-01-01"},
		{"2026-01-01/index.md", "2026-01-01"},
		{"posts/veille-2022-02-23.md", "2022-02-23"},
		{"a/2026-01-01/b-2027-02-02.md", "2026-01-01"},
		{"12026-01-01-x.md", "2026-01-01"},
		{"2026-02-30-x.md", "2026-02-30"}, // found; ParseDate refuses it
		{"blog/hello.md", ""},
		{"2026-1-01-x.md", ""},
		{"2026-01-0", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := pathDate(tt.source)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("pathDate(%q) = %q, %v; want %q", tt.source, got, ok, tt.want)
		}
	}
}

func TestEncodePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/guides/éco-conception/fiche outils/", "/guides/%C3%A9co-conception/fiche%20outils/"},
		{"/guides/%C3%A9co-conception/fiche%20outils/", "/guides/%C3%A9co-conception/fiche%20outils/"},
		{"a/b", "/a/b"},
		{"//a//b/", "/a/b/"},
		{"/", "/"},
		{"/100%/", "/100%25/"},
		{"/a%2Fb/", "/a%2Fb/"},
		{"/C++ & Go/", "/C++%20&%20Go/"},
		{"/feed.xml", "/feed.xml"},
		{"/日本/", "/%E6%97%A5%E6%9C%AC/"},
	}
	for _, tt := range tests {
		got, err := encodePath(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("encodePath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		if _, err := url.Parse(testSiteURL + strings.TrimPrefix(got, "/")); err != nil {
			t.Errorf("encodePath(%q) = %q is not a valid URL path: %v", tt.in, got, err)
		}
	}
	for _, bad := range []string{"/a?b/", "/a#b/", "/a/../b/", "/./", "/a/%2e%2e/b/", "/a/%2E/b/"} {
		if got, err := encodePath(bad); err == nil {
			t.Errorf("encodePath(%q) = %q, want an error", bad, got)
		}
	}
}

func TestExpandPermalink(t *testing.T) {
	date := time.Date(2024, 3, 5, 0, 0, 0, 0, paris(t))
	tests := []struct{ pattern, source, want string }{
		{"/actualites/:slug/", "actualites/2024/lancement.md", "/actualites/lancement/"},
		{"/actualites/:slug/", "actualites/2024/index.md", "/actualites/2024/"},
		{"/:year/:month/:day/:title/", "blog/x.md", "/2024/03/05/l-ete-a-paris/"},
		{"/archive/:path/", "blog/a/x.md", "/archive/blog/a/x/"},
		{"/:dir/:slug.html", "blog/a/x.md", "/blog/a/x.html"},
		{"/:dir/:slug/", "x.md", "//x/"},
		{"/actualites/:slug/", "actualites/2024-03-05-lancement.md", "/actualites/lancement/"},
		{"/:year/:month/:day/:slug.html", "_posts/2024-03-05-lancement.md", "/2024/03/05/lancement.html"},
		{"/archive/:path/", "guides/guides.md", "/archive/guides/"},
		{"/archive/:path/", "blog/2024-03-05-x.md", "/archive/blog/2024-03-05-x/"},
		{"/:dir/:slug/", "guides/guides.md", "/guides/guides/"},
	}
	for _, tt := range tests {
		if got := expandPermalink(tt.pattern, tt.source, "L’été à Paris", date); got != tt.want {
			t.Errorf("expandPermalink(%q, %q) = %q, want %q", tt.pattern, tt.source, got, tt.want)
		}
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"actualites/**", "actualites/x.md", true},
		{"actualites/**", "actualites/2024/x.md", true},
		{"actualites/**", "autres/x.md", false},
		{"actualites/**", "actualites-bis/x.md", false},
		{"README.md", "README.md", true},
		{"README.md", "guides/README.md", false},
		{"**/README.md", "guides/README.md", true},
		{"**/README.md", "README.md", true},
		{"*.md", "x.md", true},
		{"*.md", "a/x.md", false},
		{"a/*/c.md", "a/b/c.md", true},
		{"a/*/c.md", "a/b/d/c.md", false},
		{"a/**/c.md", "a/b/d/c.md", true},
		{"[", "[", false},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestResolveURL(t *testing.T) {
	base, _ := url.Parse("https://example.org/a/b/")
	tests := map[string]string{
		"c":                       "https://example.org/a/b/c",
		"../x.png":                "https://example.org/a/x.png",
		"/x/":                     "https://example.org/x/",
		"//cdn.example.net/x.js":  "https://cdn.example.net/x.js",
		"#top":                    "https://example.org/a/b/#top",
		"?q=1":                    "https://example.org/a/b/?q=1",
		"  c  ":                   "https://example.org/a/b/c",
		"mailto:a@example.org":    "mailto:a@example.org",
		"https://other.example/x": "https://other.example/x",
		"fiche outils/":           "https://example.org/a/b/fiche%20outils/",
		"":                        "https://example.org/a/b/",
		"   ":                     "https://example.org/a/b/",
		"%zz":                     "%zz",
		"/guides/éco-conception/": "https://example.org/guides/%C3%A9co-conception/",
		// Absolute URLs and queries come out as URIs too (RFC 3986, 3987).
		"https://cdn.example.org/épisode 1.mp3":            "https://cdn.example.org/%C3%A9pisode%201.mp3",
		"https://cdn.example.org/t humb.png?a=b c&d=é#x y": "https://cdn.example.org/t%20humb.png?a=b%20c&d=%C3%A9#x%20y",
		"?q=a b|c":             "https://example.org/a/b/?q=a%20b%7Cc",
		"https://host.example": "https://host.example",
	}
	for in, want := range tests {
		if got := resolveURL(base, in); got != want {
			t.Errorf("resolveURL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := resolveURL(nil, "x"); got != "x" {
		t.Errorf("nil base: %q", got)
	}
}

// TestSlugFast checks the table-driven Slug against the decomposing one on
// every rune it knows, alone and among others.
func TestSlugFast(t *testing.T) {
	for r := rune(0); r < slugTableSize; r++ {
		for _, s := range []string{string(r), "x" + string(r) + "y", string(r) + " é " + string(r), "Ab" + string(r) + string(r) + "-"} {
			if got, ok := slugFast(s); ok && got != slugNFD(s) {
				t.Fatalf("slugFast(%q) = %q, slugNFD = %q", s, got, slugNFD(s))
			}
		}
	}
	for _, s := range []string{"Réemploi écoconception", "Œuvre & cœur", "Straße", "Ærø", "Ça, c'est ¡fort!", "2024 — bilan", "L’État « sobre »", "e\u0301t\u00e9", "日本語"} {
		got, ok := slugFast(s)
		if !ok {
			t.Errorf("slugFast(%q) fell back", s)
		}
		if got != slugNFD(s) {
			t.Errorf("slugFast(%q) = %q, slugNFD = %q", s, got, slugNFD(s))
		}
	}
	if _, ok := slugFast("\uac00"); ok {
		t.Error("a Hangul syllable (NFD decomposes it) did not fall back")
	}
}

func FuzzSlug(f *testing.F) {
	for _, s := range []string{"Réemploi écoconception", "Œuvre", "a\u0301b", "日本", "ǅ ǈ ǋ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Slug(s), slugNFD(s); got != want {
			t.Errorf("Slug(%q) = %q, slugNFD = %q", s, got, want)
		}
	})
}

func TestLabels(t *testing.T) {
	l := NewLabels(map[string]string{"guideachat": "Guides d’achat", "Écoconception": " Écoconception ", "vide": " ", "": "x"})
	for _, tt := range []struct{ name, want string }{
		{"guideachat", "Guides d’achat"},
		{"GuideAchat", "Guides d’achat"},
		{"ecoconception", "Écoconception"},
		{"écoconception", "Écoconception"},
		{"vide", "vide"},
		{"autre", "autre"},
		{"", ""},
	} {
		if got := l.Of(tt.name); got != tt.want {
			t.Errorf("Of(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := Labels(nil).Of("tool"); got != "tool" {
		t.Errorf("nil labels: Of(tool) = %q", got)
	}
}

func TestUnderRoot(t *testing.T) {
	for _, tt := range []struct{ root, ref, want string }{
		{"", "/a/", "/a/"},
		{"/sub", "/a/", "/sub/a/"},
		{"/sub", " /a/ ", "/sub/a/"},
		{"/sub", "/sub/a/", "/sub/a/"},
		{"/sub", "/sub", "/sub"},
		{"/sub", "/sub?x", "/sub?x"},
		{"/sub", "/subway/", "/sub/subway/"},
		{"/sub", "//cdn.example/x", "//cdn.example/x"},
		{"/sub", "/\\evil.example", "/\\evil.example"},
		{"/sub", "a/", "a/"},
		{"/sub", "https://x.org/", "https://x.org/"},
		{"/sub", "#top", "#top"},
		{"/sub", "", ""},
	} {
		if got := underRoot(tt.root, tt.ref); got != tt.want {
			t.Errorf("underRoot(%q, %q) = %q, want %q", tt.root, tt.ref, got, tt.want)
		}
	}
}

// TestSiteRef checks the configuration's links (logo, icon, author page)
// against a site at the root of its host and one under a path, where a
// site-absolute path must go under the site's path as content links do.
func TestSiteRef(t *testing.T) {
	for _, tt := range []struct{ site, ref, want string }{
		{"https://example.org/", "/img/logo.svg", "https://example.org/img/logo.svg"},
		{"https://example.org/sub/", "/img/logo.svg", "https://example.org/sub/img/logo.svg"},
		{"https://example.org/sub/", "/sub/a-propos/", "https://example.org/sub/a-propos/"},
		{"https://example.org/sub/", "img/icône.png", "https://example.org/sub/img/ic%C3%B4ne.png"},
		{"https://example.org/sub/", "https://cdn.example/logo.png", "https://cdn.example/logo.png"},
		{"https://example.org/sub/", "", ""},
		{"https://example.org/sub/", "  ", ""},
	} {
		if got := SiteRef(tt.site, tt.ref); got != tt.want {
			t.Errorf("SiteRef(%q, %q) = %q, want %q", tt.site, tt.ref, got, tt.want)
		}
	}
}
