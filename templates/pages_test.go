package templates

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestStylesheet(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if css := string(s.Stylesheet()); !strings.Contains(css, ".wrap") || !strings.Contains(css, ":focus-visible") {
		t.Fatalf("embedded stylesheet: %d bytes", len(css))
	}
	o, err := Load(writeOverride(t, map[string]string{"pages/bulletin.css": "body{color:#000}"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(o.Stylesheet()); got != "body{color:#000}" {
		t.Errorf("override stylesheet %q", got)
	}
	if o, err := Load(writeOverride(t, map[string]string{"email/x.txt.tmpl.bak": "x"})); err != nil || !bytes.Equal(o.Stylesheet(), s.Stylesheet()) {
		t.Errorf("without an override stylesheet, the embedded one: %v", err)
	}
}

// TestPageLayout: every page runs inside the shared layout, whose partial
// an override folder can replace.
func TestPageLayout(t *testing.T) {
	type page struct {
		Lang, Title, HeadTitle, SiteTitle, SiteURL, Base, CSS string
		FeedURL, AltLang, AltURL                              string
		CanSubscribe, Archive, NoIndex                        bool
		Data                                                  any
	}
	data := page{Lang: "en", Title: "T", SiteTitle: "S", SiteURL: "https://s.example/", Base: "/", CSS: "/assets/bulletin.css", Archive: true,
		Data: struct{ Message, LinkURL, LinkText string }{Message: "M <b>"}}
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.HTML(&buf, "pages/error", data); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<html lang="en"`, "<h1>T</h1>", "<p>M &lt;b&gt;</p>", `<link rel="stylesheet" href="/assets/bulletin.css">`, "Archive"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the error page lacks %q:\n%s", want, buf.String())
		}
	}
	o, err := Load(writeOverride(t, map[string]string{
		"pages/_layout.html.tmpl": `{{define "layout"}}<main>{{template "content" .}}</main>{{end}}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := o.HTML(&buf, "pages/error", data); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(buf.String()); !strings.HasPrefix(got, "<main>") || strings.Contains(got, "<html") {
		t.Errorf("the overridden layout is not used: %q", got)
	}
}

// TestFeedPage: pages/feed tells what a feed is in both languages, the
// page's first, and lists the items, an item in another language with its
// lang; without items it says so.
func TestFeedPage(t *testing.T) {
	type item struct {
		Title, URL, Summary string
		Date                time.Time
		Lang                string
	}
	type data struct {
		Format, URL, Description string
		Langs                    []string
		Others                   []struct{ Name, URL string }
		Items                    []item
	}
	type page struct {
		Lang, Title, HeadTitle, SiteTitle, SiteURL, Base, CSS string
		FeedURL, AltLang, AltURL                              string
		CanSubscribe, Archive, NoIndex                        bool
		Data                                                  any
	}
	at := time.Date(2026, 11, 24, 0, 0, 0, 0, time.FixedZone("CET", 3600))
	d := data{Format: "Atom", URL: "https://s.example/atom.xml", Description: "D & d", Langs: []string{"en", "fr"},
		Others: []struct{ Name, URL string }{{"RSS", "https://s.example/feed.xml"}},
		Items: []item{
			{Title: "One <1>", URL: "https://s.example/one/", Summary: "S1", Date: at},
			{Title: "Deux", URL: "https://s.example/deux/", Date: at, Lang: "fr"},
		}}
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	pg := page{Lang: "en", Title: "Site", HeadTitle: "Site – Atom feed", SiteTitle: "Site", SiteURL: "https://s.example/", Base: "/", CSS: "/c.css",
		CanSubscribe: true, NoIndex: true, Data: d}
	if err := s.HTML(&buf, "pages/feed", pg); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	order := []string{
		`<html lang="en"`, "<title>Site – Atom feed</title>", "<h1>Site</h1>", `<p class="lead">D &amp; d</p>`,
		`<p lang="en"><strong>This is an Atom feed.</strong>`, `Other formats: <a href="https://s.example/feed.xml">RSS</a>.`,
		`<a href="/subscribe?lang=en">Or get them by email in the newsletter</a>`,
		`<p lang="fr"><strong>Ceci est un flux Atom.</strong>`, "Autres formats\u00a0: ",
		`<a href="/subscribe?lang=fr">`, "<code>https://s.example/atom.xml</code>", "<h2>Publications</h2>",
		`<li class="item">`, `<h3><a href="https://s.example/one/">One &lt;1&gt;</a></h3>`,
		`<time datetime="2026-11-24T00:00:00&#43;01:00">November 24, 2026</time>`, "<p>S1</p>",
		`<li class="item" lang="fr">`, `<p class="date" lang="en">`,
	}
	rest := got
	for _, w := range order {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("the page lacks %q after what came before:\n%s", w, got)
		}
		rest = rest[i+len(w):]
	}
	if strings.Contains(got, "digests/") || strings.Contains(got, "style=") || strings.Contains(got, "<style") {
		t.Errorf("no archive, no inline style expected:\n%s", got)
	}

	buf.Reset()
	d.Items, d.Others, pg.CanSubscribe = nil, nil, false
	pg.Data = d
	if err := s.HTML(&buf, "pages/feed", pg); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); !strings.Contains(got, "<p>No publications yet.</p>") || strings.Contains(got, "<ol") ||
		strings.Contains(got, "subscribe") || strings.Contains(got, "formats") || strings.Contains(got, "<footer") {
		t.Errorf("a feed without items, other formats nor subscription:\n%s", got)
	}
}
