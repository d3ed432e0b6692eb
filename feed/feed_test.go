package feed

import (
	"context"
	"encoding/xml"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ecoresponsable/bulletin/publication"
)

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Écologie", "ecologie"},
		{"écologie", "ecologie"},
		{"C++ & Rust", "c-rust"},
		{"  Été 2024 !", "ete-2024"},
		{"Œuvres complètes", "oeuvres-completes"},
		{"vidéo", "video"},
		{"a/b\\c", "a-b-c"},
		{"日本", "日本"},
	}
	for _, tt := range tests {
		if got := slug(tt.in); got != tt.want {
			t.Errorf("slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// Names without a letter or digit get a folder of their own.
	a, b := slug("!!!"), slug("???")
	if !strings.HasPrefix(a, "tag-") || !strings.HasPrefix(b, "tag-") || a == b || a != slug("!!!") {
		t.Errorf("slug(\"!!!\") = %q, slug(\"???\") = %q: want two stable, distinct tag- names", a, b)
	}
	// Names too long for a folder are cut, between characters, and keep
	// folders of their own.
	for _, long := range []string{strings.Repeat("très long ", 30), strings.Repeat("日本語", 40)} {
		x := slug(long)
		if len(x) > maxSlug || !utf8.ValidString(x) || x != slug(long) {
			t.Errorf("slug of a %d-byte name = %q (%d bytes)", len(long), x, len(x))
		}
		if x == slug(long+" bis") {
			t.Errorf("two long names that start alike share %q", x)
		}
	}
}

func TestPlanOutputs(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Options)
		want   []string // "path kind key title"
	}{
		{
			name:   "defaults",
			modify: func(*Options) {},
			want: []string{
				"feed.xml|site||Le Bulletin (RSS)",
				"atom.xml|site||Le Bulletin (Atom)",
				"feed.json|site||Le Bulletin (JSON Feed)",
				"tags/c-rust/feed.xml|tag|C++ & Rust|Le Bulletin — C++ & Rust (RSS)",
				"tags/c-rust/atom.xml|tag|C++ & Rust|Le Bulletin — C++ & Rust (Atom)",
				"tags/c-rust/feed.json|tag|C++ & Rust|Le Bulletin — C++ & Rust (JSON Feed)",
				// "Écologie" and "écologie" share a slug: one merged feed.
				"tags/ecologie/feed.xml|tag|Écologie|Le Bulletin — Écologie (RSS)",
				"tags/ecologie/atom.xml|tag|Écologie|Le Bulletin — Écologie (Atom)",
				"tags/ecologie/feed.json|tag|Écologie|Le Bulletin — Écologie (JSON Feed)",
				"tags/podcast/feed.xml|tag|podcast|Le Bulletin — podcast (RSS)",
				"tags/podcast/atom.xml|tag|podcast|Le Bulletin — podcast (Atom)",
				"tags/podcast/feed.json|tag|podcast|Le Bulletin — podcast (JSON Feed)",
				"tags/video/feed.xml|tag|vidéo|Le Bulletin — vidéo (RSS)",
				"tags/video/atom.xml|tag|vidéo|Le Bulletin — vidéo (Atom)",
				"tags/video/feed.json|tag|vidéo|Le Bulletin — vidéo (JSON Feed)",
				// Kept as is by the slug, percent-encoded in the URL.
				"tags/日本/feed.xml|tag|日本|Le Bulletin — 日本 (RSS)",
				"tags/日本/atom.xml|tag|日本|Le Bulletin — 日本 (Atom)",
				"tags/日本/feed.json|tag|日本|Le Bulletin — 日本 (JSON Feed)",
				"types/news/feed.xml|type|news|Le Bulletin — type\u00a0: news (RSS)",
				"types/news/atom.xml|type|news|Le Bulletin — type\u00a0: news (Atom)",
				"types/news/feed.json|type|news|Le Bulletin — type\u00a0: news (JSON Feed)",
				"types/podcast/feed.xml|type|podcast|Le Bulletin — type\u00a0: podcast (RSS)",
				"types/podcast/atom.xml|type|podcast|Le Bulletin — type\u00a0: podcast (Atom)",
				"types/podcast/feed.json|type|podcast|Le Bulletin — type\u00a0: podcast (JSON Feed)",
				"types/video/feed.xml|type|video|Le Bulletin — type\u00a0: video (RSS)",
				"types/video/atom.xml|type|video|Le Bulletin — type\u00a0: video (Atom)",
				"types/video/feed.json|type|video|Le Bulletin — type\u00a0: video (JSON Feed)",
				"feeds.opml|index||Le Bulletin",
				"feed.xsl|index||Le Bulletin",
			},
		},
		{
			name: "nested paths, no tags or types, no JSON, OPML or XSL",
			modify: func(o *Options) {
				o.RSSPath, o.AtomPath, o.JSONPath = "feed/feed.xml", "feed/atom.xml", ""
				o.Tags, o.Types = false, false
				o.OPMLPath, o.XSLPath = "", ""
			},
			want: []string{
				"feed/feed.xml|site||Le Bulletin (RSS)",
				"feed/atom.xml|site||Le Bulletin (Atom)",
			},
		},
		{
			name: "tag folder without trailing slash, types off",
			modify: func(o *Options) {
				o.TagPath, o.Types, o.AtomPath, o.JSONPath, o.OPMLPath, o.XSLPath = "sujets/{slug}", false, "", "", "", ""
			},
			want: []string{
				"feed.xml|site||Le Bulletin (RSS)",
				"sujets/c-rust/feed.xml|tag|C++ & Rust|Le Bulletin — C++ & Rust (RSS)",
				"sujets/ecologie/feed.xml|tag|Écologie|Le Bulletin — Écologie (RSS)",
				"sujets/podcast/feed.xml|tag|podcast|Le Bulletin — podcast (RSS)",
				"sujets/video/feed.xml|tag|vidéo|Le Bulletin — vidéo (RSS)",
				"sujets/日本/feed.xml|tag|日本|Le Bulletin — 日本 (RSS)",
			},
		},
		{
			name: "an English site: no space before the colon",
			modify: func(o *Options) {
				o.Language, o.Tags, o.AtomPath, o.JSONPath, o.OPMLPath, o.XSLPath = "en-GB", false, "", "", "", ""
			},
			want: []string{
				"feed.xml|site||Le Bulletin (RSS)",
				"types/news/feed.xml|type|news|Le Bulletin — type: news (RSS)",
				"types/podcast/feed.xml|type|podcast|Le Bulletin — type: podcast (RSS)",
				"types/video/feed.xml|type|video|Le Bulletin — type: video (RSS)",
			},
		},
		{
			name: "labels: titles only, matched by slug, types too",
			modify: func(o *Options) {
				o.AtomPath, o.JSONPath, o.OPMLPath, o.XSLPath = "", "", "", ""
				o.Labels = publication.NewLabels(map[string]string{"ecologie": "L’écologie", "video": "Vidéos", "news": "Actualités"})
			},
			want: []string{
				"feed.xml|site||Le Bulletin (RSS)",
				"tags/c-rust/feed.xml|tag|C++ & Rust|Le Bulletin — C++ & Rust (RSS)",
				"tags/ecologie/feed.xml|tag|Écologie|Le Bulletin — L’écologie (RSS)",
				"tags/podcast/feed.xml|tag|podcast|Le Bulletin — podcast (RSS)",
				"tags/video/feed.xml|tag|vidéo|Le Bulletin — Vidéos (RSS)",
				"tags/日本/feed.xml|tag|日本|Le Bulletin — 日本 (RSS)",
				"types/news/feed.xml|type|news|Le Bulletin — type\u00a0: Actualités (RSS)",
				"types/podcast/feed.xml|type|podcast|Le Bulletin — type\u00a0: podcast (RSS)",
				"types/video/feed.xml|type|video|Le Bulletin — type\u00a0: Vidéos (RSS)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			tt.modify(&opts)
			s := Plan(fixture(), opts)
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range s.Outputs() {
				got = append(got, strings.Join([]string{o.Path, o.Kind, o.Key, o.Title}, "|"))
				if want, _ := url.JoinPath("https://exemple.org/blog/", o.Path); o.URL != want {
					t.Errorf("%s: URL %q, want %q", o.Path, o.URL, want)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("outputs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestPlanURLEscaping(t *testing.T) {
	opts := testOptions()
	opts.SiteURL = "https://exemple.org/mon blog" // no trailing slash, a space
	opts.TagPath = "étiquettes/{slug}/"
	s := Plan(fixture(), opts)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"feed.xml":                     "https://exemple.org/mon%20blog/feed.xml",
		"étiquettes/ecologie/feed.xml": "https://exemple.org/mon%20blog/%C3%A9tiquettes/ecologie/feed.xml",
	}
	for _, o := range s.Outputs() {
		if w, ok := want[o.Path]; ok && o.URL != w {
			t.Errorf("%s: URL %q, want %q", o.Path, o.URL, w)
		}
	}
	if s.xslHref != "/mon%20blog/feed.xsl" {
		t.Errorf("stylesheet href %q", s.xslHref)
	}
}

func TestPlanLimitAndPublications(t *testing.T) {
	opts := testOptions()
	opts.Limit = 2
	s := Plan(fixture(), opts)
	got := ids(s.Publications())
	// "code" has no tag and no type: with only two items per feed, no feed
	// holds it, so it need not be rendered.
	want := []string{idSummer, idPodcast, idVideo, idNote}
	if !slices.Equal(got, want) {
		t.Errorf("Publications() = %v, want %v", got, want)
	}
	opts.Limit = 0
	if got := ids(Plan(fixture(), opts).Publications()); len(got) != 5 {
		t.Errorf("without limit, Publications() = %v, want all five", got)
	}
}

func TestPlanDuplicateIDs(t *testing.T) {
	pubs := fixture()
	dup := *pubs[0] // "code"
	dup.Title = "Copie"
	dup.Date = dup.Date.Add(-1)
	s := Plan(append(pubs, &dup), testOptions())
	got := ids(s.Publications())
	if len(got) != 5 {
		t.Fatalf("Publications() = %v, want the duplicate id once", got)
	}
	for _, p := range s.Publications() {
		if p.Title == "Copie" {
			t.Error("the older publication of a duplicated id was kept")
		}
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Options)
		want   string
	}{
		{"tag path without slug", func(o *Options) { o.TagPath = "tags/" }, "must contain {slug}"},
		{"path leaving the folder", func(o *Options) { o.RSSPath = "sub/../../feed.xml" }, "inside the output folder"},
		{"absolute path", func(o *Options) { o.AtomPath = "/srv/atom.xml" }, "inside the output folder"},
		{"two formats on one path", func(o *Options) { o.AtomPath = "feed.xml" }, "would both be written to feed.xml"},
		{"tag and type on one path", func(o *Options) { o.TypePath = "tags/{slug}/" }, "would both be written to tags/podcast/feed.xml"},
		{"reserved name", func(o *Options) { o.OPMLPath = ".bulletin-manifest" }, "reserved"},
		{"folder as a file", func(o *Options) { o.RSSPath = "feed/" }, "names a folder"},
		{"same file spelled two ways", func(o *Options) { o.AtomPath = "./x/../feed.xml" }, "would both be written to feed.xml"},
		{"relative site URL", func(o *Options) { o.SiteURL = "/blog/" }, "not an absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			tt.modify(&opts)
			s := Plan(fixture(), opts)
			if err := s.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Err() = %v, want it to mention %q", err, tt.want)
			}
			sink := newMemSink()
			if err := s.Generate(context.Background(), sink); err == nil || len(sink.files) != 0 {
				t.Errorf("Generate wrote %d files, error %v", len(sink.files), err)
			}
			if _, err := Build(context.Background(), t.TempDir(), s); err == nil {
				t.Error("Build succeeded")
			}
		})
	}
}

func TestLinks(t *testing.T) {
	opts := testOptions()
	opts.SiteTitle = `Le "Bulletin" <b>`
	got := Links(Plan(fixture(), opts))
	lines := strings.Split(strings.TrimSpace(got), "\n")
	want := []string{
		`<link rel="alternate" type="application/rss+xml" title="Le &#34;Bulletin&#34; &lt;b&gt; (RSS)" href="https://exemple.org/blog/feed.xml">`,
		`<link rel="alternate" type="application/atom+xml" title="Le &#34;Bulletin&#34; &lt;b&gt; (Atom)" href="https://exemple.org/blog/atom.xml">`,
		`<link rel="alternate" type="application/feed+json" title="Le &#34;Bulletin&#34; &lt;b&gt; (JSON Feed)" href="https://exemple.org/blog/feed.json">`,
	}
	if !slices.Equal(lines[:3], want) {
		t.Errorf("site links:\n%s\nwant:\n%s", strings.Join(lines[:3], "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(lines[3], "<!--") {
		t.Errorf("line 4 = %q, want the comment introducing tag feeds", lines[3])
	}
	// 6 tags/types… 8 feeds × 3 formats follow, never the OPML or XSL.
	if n := len(lines) - 4; n != 24 {
		t.Errorf("%d tag and type links, want 24", n)
	}
	if strings.Contains(got, "feeds.opml") || strings.Contains(got, "feed.xsl") {
		t.Error("Links lists the OPML or the stylesheet")
	}
}

const (
	idSummer  = "https://exemple.org/blog/ete-a-la-cite/"
	idPodcast = "https://exemple.org/blog/episode-1/"
	idVideo   = "https://exemple.org/blog/video-atelier/"
	idNote    = "tag:exemple.org,2024:note-4"
	idCode    = "https://exemple.org/blog/code/"
)

func ids(pubs []*publication.Publication) []string {
	var out []string
	for _, p := range pubs {
		out = append(out, p.ID)
	}
	return out
}

func TestXMLSafe(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", true},
		{"<p>Bonjour, l’été\n\tà\r\nParis</p>", true},
		{strings.Repeat("abcdefgh", 5) + "\x0b", false},
		{"abc\x00", false},
		{strings.Repeat("é", 20) + "\x1f" + strings.Repeat("x", 20), false},
		{"abcdefg\uFFFE", false},
		{"abcdef\uFFFFgh", false},
		{"bad utf-8 \xff here", false},
		{"nbsp\u00a0« guillemets »", true},
		{"C1 \u0085 control", false},
		{"replacement \uFFFD", false},
		{strings.Repeat("\n", 17), true},
	}
	for _, tt := range tests {
		if got := xmlSafe(tt.in); got != tt.want {
			t.Errorf("xmlSafe(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestStylesheet checks the XSL view: well-formed XSLT 1.0 handling RSS
// items and Atom entries, with the French and English notice, and nothing
// a browser would fetch or run.
func TestStylesheet(t *testing.T) {
	root, _ := parseRaw(t, xslSheet)
	if root.name() != "xsl:stylesheet" {
		t.Fatalf("root %s", root.name())
	}
	if v, _ := root.attr("version"); v != "1.0" {
		t.Errorf("XSLT version %q, want 1.0 (what browsers run)", v)
	}
	matches := map[string]bool{}
	for _, tpl := range root.all("xsl:template") {
		m, _ := tpl.attr("match")
		matches[m] = true
	}
	for _, m := range []string{"/", "item", "atom:entry"} {
		if !matches[m] {
			t.Errorf("no template for %q", m)
		}
	}
	for _, want := range []string{"Ceci est un flux", "This is a feed", `lang="fr"`, `lang="en"`, "/rss/channel/item | /atom:feed/atom:entry"} {
		if !strings.Contains(xslSheet, want) {
			t.Errorf("stylesheet lacks %q", want)
		}
	}
	lower := strings.ToLower(xslSheet)
	for _, bad := range []string{"<script", "<link", "@import", "src=", "url(", "<iframe", "javascript:"} {
		if strings.Contains(lower, bad) {
			t.Errorf("stylesheet holds %q: it must not load or run anything", bad)
		}
	}
}

// TestMergedNames: names that differ only by case and accents share a
// feed quietly; names that differ by more (punctuation) are reported.
func TestMergedNames(t *testing.T) {
	pubs := fixture()
	pubs[0].Tags = []string{"C", "Vidéo"}
	pubs[1].Tags = []string{"C++", "video"}
	pubs[2].Tags = []string{"C#", "VIDÉO"}
	opts := testOptions()
	s := Plan(pubs, opts)
	want := []Merge{{Kind: KindTag, Names: []string{"C", "C#", "C++"}, Dir: "tags/c"}}
	if got := s.Merged(); !reflect.DeepEqual(got, want) {
		t.Errorf("Merged() = %+v, want %+v", got, want)
	}
}

// TestOPMLListsEachFeedOnce checks that a reader importing the OPML
// subscribes to each feed once, in the first format the site writes of
// RSS, Atom and JSON Feed, titled without the format.
func TestOPMLListsEachFeedOnce(t *testing.T) {
	type outline struct {
		Title  string `xml:"title,attr"`
		XMLURL string `xml:"xmlUrl,attr"`
	}
	read := func(opts Options) (*Set, []outline) {
		s, sink := generate(t, fixture(), opts)
		var doc struct {
			Outlines []outline `xml:"body>outline"`
		}
		if err := xml.Unmarshal(sink.files["feeds.opml"].Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		return s, doc.Outlines
	}
	for _, c := range []struct {
		name   string
		change func(*Options)
		suffix string
	}{
		{"all formats", func(*Options) {}, "feed.xml"},
		{"no RSS", func(o *Options) { o.RSSPath = "" }, "atom.xml"},
		{"JSON only", func(o *Options) { o.RSSPath, o.AtomPath = "", "" }, "feed.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := testOptions()
			c.change(&opts)
			s, got := read(opts)
			if len(got) != len(s.feeds) {
				t.Fatalf("%d outlines for %d feeds", len(got), len(s.feeds))
			}
			seen := map[string]bool{}
			for i, o := range got {
				if !strings.HasSuffix(o.XMLURL, "/"+c.suffix) || seen[o.XMLURL] {
					t.Errorf("outline %d: xmlUrl %q, want a distinct …/%s", i, o.XMLURL, c.suffix)
				}
				seen[o.XMLURL] = true
				if o.Title != s.feeds[i].title {
					t.Errorf("outline %d: title %q, want %q", i, o.Title, s.feeds[i].title)
				}
			}
		})
	}
}
