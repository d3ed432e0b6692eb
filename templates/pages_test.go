package templates

import (
	"bytes"
	"strings"
	"testing"
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
		Lang, Title, SiteTitle, SiteURL, Base, CSS string
		FeedURL, AltLang, AltURL                   string
		CanSubscribe, NoIndex                      bool
		Data                                       any
	}
	data := page{Lang: "en", Title: "T", SiteTitle: "S", SiteURL: "https://s.example/", Base: "/", CSS: "/assets/bulletin.css",
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
