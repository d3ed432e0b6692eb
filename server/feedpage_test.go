package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/ecoresponsable/bulletin/feed"
	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/templates"
)

// read sends one request to h and reads the answer in full.
func read(t *testing.T, h http.Handler, method, path string, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// feedEntry is an item of a feed or of its page: title and link.
type feedEntry struct{ Title, URL string }

// feedEntries reads the items of an RSS or Atom document.
func feedEntries(t *testing.T, body string) (title string, entries []feedEntry) {
	t.Helper()
	var doc struct {
		Title   string `xml:"title"`
		Channel struct {
			Title string `xml:"title"`
			Items []struct {
				Title string `xml:"title"`
				Link  string `xml:"link"`
			} `xml:"item"`
		} `xml:"channel"`
		Entries []struct {
			Title string `xml:"title"`
			Links []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	for _, it := range doc.Channel.Items {
		entries = append(entries, feedEntry{it.Title, it.Link})
	}
	for _, e := range doc.Entries {
		for _, l := range e.Links {
			if l.Rel == "alternate" {
				entries = append(entries, feedEntry{e.Title, l.Href})
			}
		}
	}
	return doc.Title + doc.Channel.Title, entries
}

// pageOutline is what a feed's page shows, read from its HTML.
type pageOutline struct {
	Lang     string   // of <html>
	H1       []string // the text of every h1
	Headings []int    // the level of every heading, in order
	Items    []feedEntry
	ItemLang []string // the lang of each item, "" for none
	Times    []string // the datetime of each item's <time>
	Links    []string // every href outside the items
}

func outline(t *testing.T, body string) pageOutline {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var o pageOutline
	var text func(*html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	var walk func(n *html.Node, inItem bool)
	walk = func(n *html.Node, inItem bool) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "html":
				o.Lang = attrOf(n, "lang")
			case "h1", "h2", "h3", "h4", "h5", "h6":
				o.Headings = append(o.Headings, int(n.Data[1]-'0'))
				if n.Data == "h1" {
					o.H1 = append(o.H1, text(n))
				}
			case "li":
				if n.Parent != nil && n.Parent.Data == "ol" {
					inItem = true
					o.Items = append(o.Items, feedEntry{})
					o.ItemLang = append(o.ItemLang, attrOf(n, "lang"))
					o.Times = append(o.Times, "")
				}
			case "a":
				if inItem {
					o.Items[len(o.Items)-1] = feedEntry{text(n), attrOf(n, "href")}
				} else {
					o.Links = append(o.Links, attrOf(n, "href"))
				}
			case "time":
				if inItem {
					o.Times[len(o.Times)-1] = attrOf(n, "datetime")
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inItem)
		}
	}
	walk(doc, false)
	return o
}

// TestFeedPage: a browser asking for an RSS or Atom feed gets an HTML page
// rendered by the server, listing the feed's items with their absolute
// links, with validators of its own; a feed reader gets the feed's bytes.
func TestFeedPage(t *testing.T) {
	s := newFeedServer(t, copyDir(t, "../content"), fixedClock())
	h := s.Handler()
	for _, tc := range []struct{ path, title, format string }{
		{"/feed.xml", "Exemple", "RSS"},
		{"/atom.xml", "Exemple", "Atom"},
		{"/tags/podcast/feed.xml", "Exemple — podcast", "RSS"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			fd := read(t, h, "GET", tc.path, "Accept", acceptReader)
			feedTitle, entries := feedEntries(t, fd.body)
			pg := read(t, h, "GET", tc.path, "Accept", acceptChromium)
			checkPage(t, pg, http.StatusOK, "fr", "<title>"+tc.title+" – flux "+tc.format+"</title>",
				"Ceci est un flux "+tc.format+".", "This is an "+tc.format+" feed.", "<code>http://localhost:8080"+tc.path+"</code>")
			if got := pg.header.Get("Content-Security-Policy"); got != siteCSP {
				t.Errorf("Content-Security-Policy %q, want the site's", got)
			}
			if got := pg.header.Get("Vary"); got != "Accept-Encoding, Accept" {
				t.Errorf("Vary %q", got)
			}
			o := outline(t, pg.body)
			if len(o.H1) != 1 || o.H1[0] != tc.title || o.H1[0] != feedTitle {
				t.Errorf("h1 %q, want the feed's title %q", o.H1, feedTitle)
			}
			for i, l := range o.Headings {
				if i > 0 && l > o.Headings[i-1]+1 {
					t.Errorf("headings %v skip a level", o.Headings)
					break
				}
			}
			if len(entries) == 0 || !slices.Equal(o.Items, entries) {
				t.Errorf("the page lists\n%q\nthe feed\n%q", o.Items, entries)
			}
			for i, dt := range o.Times {
				if _, err := time.Parse(time.RFC3339, dt); err != nil {
					t.Errorf("item %d: <time datetime=%q>", i, dt)
				}
			}
			dir := "http://localhost:8080" + strings.TrimSuffix(tc.path, path.Base(tc.path))
			other := map[string]string{"RSS": "atom.xml", "Atom": "feed.xml"}[tc.format]
			if !slices.Contains(o.Links, dir+other) || !slices.Contains(o.Links, dir+"feed.json") {
				t.Errorf("no link to the feed's other formats: %q", o.Links)
			}
			for _, l := range o.Links {
				if strings.Contains(l, "subscribe") || strings.Contains(l, "digests/") {
					t.Errorf("without a store, a link to %s", l)
				}
			}

			// Validators of its own, for each encoding.
			etag, feedETag := pg.header.Get("ETag"), fd.header.Get("ETag")
			xmlETag := strings.TrimSuffix(feedETag, `"`) + `-xml"` // what browsers got before
			if etag == "" || etag == feedETag || etag == xmlETag {
				t.Errorf("page ETag %s, feed's %s", etag, feedETag)
			}
			for _, inm := range []string{feedETag, xmlETag} {
				if r := read(t, h, "GET", tc.path, "Accept", acceptChromium, "If-None-Match", inm); r.status != 200 || r.body != pg.body {
					t.Errorf("If-None-Match %s: %d, want 200 with the page", inm, r.status)
				}
			}
			r := read(t, h, "GET", tc.path, "Accept", acceptChromium, "If-None-Match", etag)
			if r.status != http.StatusNotModified || r.header.Get("ETag") != etag || r.body != "" || r.header.Get("Vary") != "Accept-Encoding, Accept" {
				t.Errorf("If-None-Match %s: %d, ETag %s, Vary %q", etag, r.status, r.header.Get("ETag"), r.header.Get("Vary"))
			}
			if r := read(t, h, "GET", tc.path, "Accept", acceptChromium, "If-Modified-Since", pg.header.Get("Last-Modified")); r.status != http.StatusNotModified {
				t.Errorf("If-Modified-Since: %d, want 304", r.status)
			}
			gz := read(t, h, "GET", tc.path, "Accept", acceptFirefox, "Accept-Encoding", "gzip, deflate, br, zstd")
			gzETag := gz.header.Get("ETag")
			if gz.header.Get("Content-Encoding") != "gzip" || gz.header.Get("Content-Type") != "text/html; charset=utf-8" || gzETag == etag || gzETag == feedETag {
				t.Fatalf("gzip: %q, %q, ETag %s", gz.header.Get("Content-Encoding"), gz.header.Get("Content-Type"), gzETag)
			}
			zr, err := gzip.NewReader(strings.NewReader(gz.body))
			if err != nil {
				t.Fatal(err)
			}
			if unzipped, _ := io.ReadAll(zr); string(unzipped) != pg.body {
				t.Error("the gzip page differs from the identity one")
			}
			if r := read(t, h, "GET", tc.path, "Accept", acceptChromium, "Accept-Encoding", "gzip", "If-None-Match", gzETag); r.status != http.StatusNotModified || r.header.Get("ETag") != gzETag {
				t.Errorf("gzip If-None-Match: %d, ETag %s", r.status, r.header.Get("ETag"))
			}
			head := read(t, h, "HEAD", tc.path, "Accept", acceptChromium)
			if head.status != 200 || head.body != "" || head.header.Get("Content-Type") != "text/html; charset=utf-8" ||
				head.header.Get("ETag") != etag || head.header.Get("Content-Length") != strconv.Itoa(len(pg.body)) {
				t.Errorf("HEAD: %d, %d bytes, %q, ETag %s, Content-Length %s", head.status, len(head.body), head.header.Get("Content-Type"), head.header.Get("ETag"), head.header.Get("Content-Length"))
			}
			if head := read(t, h, "HEAD", tc.path, "Accept", acceptReader); head.header.Get("ETag") != feedETag || head.body != "" {
				t.Errorf("HEAD from a reader: ETag %s", head.header.Get("ETag"))
			}
		})
	}
}

// TestFeedPageReadersUnchanged: a feed reader gets every RSS and Atom
// feed's bytes as the feed package writes them, with the feed's type.
func TestFeedPageReadersUnchanged(t *testing.T) {
	dir := copyDir(t, "../content")
	h := newFeedServer(t, dir, fixedClock()).Handler()
	site, err := sampleLoader(dir)(context.Background(), fixedClock()())
	if err != nil {
		t.Fatal(err)
	}
	set := feed.Plan(site.Publications, sampleFeedOptions())
	if err := publication.Render(context.Background(), set.Publications()); err != nil {
		t.Fatal(err)
	}
	sink := &memSink{files: map[string]*bytes.Buffer{}}
	if err := set.Generate(context.Background(), sink); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range set.Outputs() {
		if o.Format != feed.FormatRSS && o.Format != feed.FormatAtom {
			continue
		}
		n++
		for _, accept := range []string{"", "*/*", acceptReader, "application/atom+xml,application/rss+xml;q=0.9,*/*;q=0.7"} {
			r := read(t, h, "GET", "/"+o.Path, "Accept", accept)
			if r.status != 200 || r.header.Get("Content-Type") != o.MediaType+"; charset=utf-8" || r.body != sink.files[o.Path].String() {
				t.Errorf("%s, Accept %q: %d, %q, %d bytes, want the feed's %d", o.Path, accept, r.status, r.header.Get("Content-Type"), len(r.body), sink.files[o.Path].Len())
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d RSS and Atom feeds", n)
	}
}

// TestFeedPageWithStore: with the subscription pages on, a feed's page
// links to the form in both languages and to the archive, and keeps its
// Last-Modified across an unchanged rebuild.
func TestFeedPageWithStore(t *testing.T) {
	e := newPageEnv(t, testPublicURL, nil)
	pg := e.get("/atom.xml", "Accept", acceptChromium)
	checkPage(t, pg, http.StatusOK, "fr",
		`<p lang="fr"><strong>Ceci est un flux Atom.</strong>`,
		`<a href="/subscribe?lang=fr">Ou recevez-les par courriel dans la lettre d’information</a>`,
		`<a href="/subscribe?lang=en">Or get them by email in the newsletter</a>`,
		`<a href="/digests/?lang=fr">Archives</a>`)
	o := outline(t, pg.body)
	english := slices.IndexFunc(o.Items, func(e feedEntry) bool { return e.Title == "Digital sobriety week: our talks in English" })
	if english < 0 {
		t.Fatalf("no English item in %q", o.Items)
	}
	for i, l := range o.ItemLang {
		if want := map[bool]string{true: "en", false: ""}[i == english]; l != want {
			t.Errorf("%q has lang %q, want %q", o.Items[i].Title, l, want)
		}
	}
	css := e.get("/assets/bulletin.css")
	if css.status != 200 || !strings.Contains(css.body, ".feed-items") {
		t.Errorf("stylesheet: %d", css.status)
	}

	e.clock.add(time.Hour)
	if err := e.srv.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	again := e.get("/atom.xml", "Accept", acceptChromium)
	if again.header.Get("ETag") != pg.header.Get("ETag") || again.header.Get("Last-Modified") != pg.header.Get("Last-Modified") {
		t.Errorf("an unchanged rebuild changed the page's validators: %s %s, then %s %s",
			pg.header.Get("ETag"), pg.header.Get("Last-Modified"), again.header.Get("ETag"), again.header.Get("Last-Modified"))
	}
}

// TestFeedPageStylesheetWithoutStore: the feeds' pages link to the
// stylesheet, which is served with or without the subscription pages.
func TestFeedPageStylesheetWithoutStore(t *testing.T) {
	h := newFeedServer(t, copyDir(t, "../content"), fixedClock()).Handler()
	pg := read(t, h, "GET", "/feed.xml", "Accept", acceptChromium)
	i := strings.Index(pg.body, `href="/assets/bulletin.css?v=`)
	if i < 0 {
		t.Fatal("no stylesheet link")
	}
	href := pg.body[i+len(`href="`):]
	href = href[:strings.IndexByte(href, '"')]
	css := read(t, h, "GET", href)
	if css.status != 200 || css.header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(css.body, ".feed-items") {
		t.Errorf("GET %s: %d, %q", href, css.status, css.header.Get("Content-Type"))
	}
}

// TestFeedPageTemplateError: a feed page template that fails is reported
// when the server starts, naming the feed.
func TestFeedPageTemplateError(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pages"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pages", "feed.html.tmpl"), []byte(`{{.Data.Nope}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tpl, err := templates.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	content := copyDir(t, "../content")
	_, err = New(context.Background(), Options{
		ContentDir: content, LoadSite: sampleLoader(content), Feeds: sampleFeedOptions(),
		RebuildInterval: -1, Now: fixedClock(), Templates: tpl,
	})
	if err == nil || !strings.Contains(err.Error(), "feed.xml") || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("New: %v, want an error naming the feed and the field", err)
	}
}

func TestInLanguage(t *testing.T) {
	for _, c := range []struct {
		tag, lang string
		want      bool
	}{
		{"fr", "fr", true},
		{"FR", "fr", true},
		{"fr-CA", "fr", true},
		{"", "fr", true},
		{"en", "fr", false},
		{"fra", "fr", false},
		{"en-GB", "en", true},
		{"de", "fr", false},
	} {
		if got := inLanguage(c.tag, c.lang); got != c.want {
			t.Errorf("inLanguage(%q, %q) = %v", c.tag, c.lang, got)
		}
	}
}
