package templates

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeOverride writes files (path relative to the folder → content) into
// a new override folder.
func writeOverride(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// emailData has the fields the embedded email templates use.
type emailData struct {
	Lang, Subject, Preheader, SiteTitle, SiteURL string
	Count                                        int
	Date                                         time.Time
	Items                                        []emailItem
	Email                                        string
	Topics                                       []string
	UnsubscribeURL, PreferencesURL, ArchiveURL   string
}

type emailItem struct {
	Title, URL, Description string
	Date                    time.Time
	Tags                    []string
	Thumbnail, Type, Lang   string
}

func sampleData(lang string) emailData {
	at := time.Date(2022, 6, 2, 9, 0, 0, 0, time.UTC)
	return emailData{
		Lang: lang, Subject: "Sujet", Preheader: "2 nouvelles", SiteTitle: "Site <&>", SiteURL: "https://site.example/",
		Count: 2, Date: at, Email: "a@example.org", Topics: []string{"x"},
		Items: []emailItem{
			{Title: "Un", URL: "https://site.example/un/", Description: "D", Date: at, Tags: []string{"t"}, Thumbnail: "https://site.example/un.png"},
			{Title: "Deux", URL: "https://site.example/deux/", Date: at},
		},
		UnsubscribeURL: "https://site.example/unsubscribe?token=a", PreferencesURL: "https://site.example/preferences?token=b",
		ArchiveURL: "https://site.example/digests/1",
	}
}

func TestLoadEmbedded(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"fr", "en"} {
		var h, x bytes.Buffer
		if err := s.HTML(&h, "email/digest", sampleData(lang)); err != nil {
			t.Fatal(err)
		}
		if err := s.Text(&x, "email/digest", sampleData(lang)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(h.String(), `<html lang="`+lang+`"`) || !strings.Contains(h.String(), "Site &lt;&amp;&gt;") {
			t.Errorf("%s: HTML lacks the lang attribute or the escaped title:\n%s", lang, h.String())
		}
		if !strings.Contains(x.String(), "Site <&>") || !strings.Contains(x.String(), "https://site.example/deux/") {
			t.Errorf("%s: text part lacks the title or an item URL:\n%s", lang, x.String())
		}
		want := map[string]string{"fr": "Se désabonner", "en": "Unsubscribe"}[lang]
		if !strings.Contains(h.String(), want) || !strings.Contains(x.String(), want) {
			t.Errorf("%s: parts lack %q", lang, want)
		}
	}
	var buf bytes.Buffer
	if err := s.HTML(&buf, "email/nope", nil); err == nil || !strings.Contains(err.Error(), "email/nope") {
		t.Errorf("unknown HTML template: %v, want an error naming it", err)
	}
	if err := s.Text(&buf, "email/nope", nil); err == nil || !strings.Contains(err.Error(), "email/nope") {
		t.Errorf("unknown text template: %v, want an error naming it", err)
	}
}

func TestOverride(t *testing.T) {
	dir := writeOverride(t, map[string]string{
		"email/digest.txt.tmpl":    `{{template "greeting" .}} {{len .Items}}`,
		"email/_partials.txt.tmpl": `{{define "greeting"}}{{t .Lang "email.unsubscribe"}}!{{end}}`,
		"README.md":                "not a template, ignored",
	})
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var x, h bytes.Buffer
	if err := s.Text(&x, "email/digest", sampleData("en")); err != nil {
		t.Fatal(err)
	}
	if x.String() != "Unsubscribe! 2" {
		t.Errorf("override text = %q, want %q", x.String(), "Unsubscribe! 2")
	}
	if err := s.HTML(&h, "email/digest", sampleData("en")); err != nil || !strings.Contains(h.String(), "<h1") {
		t.Errorf("the HTML template, not overridden, should be the embedded one: %v", err)
	}
}

func TestOverrideErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // path relative to the folder, with ":line" when known
	}{
		{"text parse error", map[string]string{"email/digest.txt.tmpl": "a\nb\n{{if .X}}{{end}\n"}, "email/digest.txt.tmpl:3"},
		{"html parse error", map[string]string{"email/digest.html.tmpl": "<p>\n{{.X | nope}}</p>"}, "email/digest.html.tmpl:2"},
		{"html escaping error", map[string]string{"email/digest.html.tmpl": "<p>\n\n{{if .X}}<a href=\"{{end}}\">x</a>"}, "email/digest.html.tmpl:3"},
		{"broken partial", map[string]string{"email/_x.html.tmpl": "{{define \"x\"}}\n{{end}"}, "email/_x.html.tmpl:2"},
		{"misspelt name", map[string]string{"email/digets.html.tmpl": "x"}, "email/digets.html.tmpl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeOverride(t, tt.files)
			s, err := Load(dir)
			if err == nil {
				t.Fatalf("Load succeeded (%v), want an error", s != nil)
			}
			if want := filepath.Join(dir, filepath.FromSlash(tt.want)); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing override folder: want an error")
	}
}

func TestStrings(t *testing.T) {
	for key := range catalog["fr"] {
		if _, ok := catalog["en"][key]; !ok {
			t.Errorf("key %q has no English string", key)
		}
	}
	for key := range catalog["en"] {
		if _, ok := catalog["fr"][key]; !ok {
			t.Errorf("key %q has no French string", key)
		}
	}
	cases := []struct{ got, want string }{
		{T("fr", "email.unsubscribe"), "Se désabonner"},
		{T("en", "email.unsubscribe"), "Unsubscribe"},
		{T("", "email.unsubscribe"), "Se désabonner"},
		{T("de", "email.unsubscribe"), "Se désabonner"},
		{T("en-GB", "email.unsubscribe"), "Unsubscribe"},
		{T("en", "no.such.key"), "no.such.key"},
		{Tf("fr", "email.why_topics", "topics", "a, b"), "Vous ne recevez que les publications de vos thèmes\u00a0: a, b."},
		{Plural("fr", "email.items", 0), "0 nouvelle publication"},
		{Plural("fr", "email.items", 1), "1 nouvelle publication"},
		{Plural("fr", "email.items", 2), "2 nouvelles publications"},
		{Plural("en", "email.items", 0), "0 new publications"},
		{Plural("en", "email.items", 1), "1 new publication"},
		{Plural("en", "email.items", 12), "12 new publications"},
		{Lang(" EN "), "en"},
		{Lang("fr-CA"), "fr"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
}

func TestDate(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	for _, c := range []struct {
		lang string
		t    time.Time
		want string
	}{
		{"fr", time.Date(2022, 6, 2, 0, 0, 0, 0, time.UTC), "2 juin 2022"},
		{"fr", time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC), "1er juin 2022"},
		{"fr", time.Date(2023, 2, 14, 0, 0, 0, 0, time.UTC), "14 février 2023"},
		{"fr", time.Date(2023, 8, 31, 0, 0, 0, 0, time.UTC), "31 août 2023"},
		{"en", time.Date(2022, 6, 2, 0, 0, 0, 0, time.UTC), "June 2, 2022"},
		{"en", time.Date(2022, 12, 1, 0, 0, 0, 0, time.UTC), "December 1, 2022"},
		// The day is the one of the time's own location.
		{"fr", time.Date(2022, 6, 1, 23, 30, 0, 0, time.UTC).In(paris), "2 juin 2022"},
	} {
		if got := Date(c.lang, c.t); got != c.want {
			t.Errorf("Date(%s, %v) = %q, want %q", c.lang, c.t, got, c.want)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		width    int
		in, want string
	}{
		{10, "un deux trois quatre", "un deux\ntrois\nquatre"},
		{10, "  a\r\n b  ", "a b"},
		{5, "https://very.long/url x", "https://very.long/url\nx"},
		{12, "été à l’île", "été à l’île"}, // counted in characters, not bytes
		{8, "Thèmes\u00a0: a b", "Thèmes\u00a0:\na b"},
		{0, "a b", "a\nb"},
		// French punctuation after an ordinary space stays with its word.
		{16, "reconditionnés ? Racontez", "reconditionnés ?\nRacontez"},
		{10, "un mot « cité » ici", "un mot\n« cité »\nici"},
		{6, "oui !? non", "oui !?\nnon"},
	} {
		if got := Wrap(c.width, c.in); got != c.want {
			t.Errorf("Wrap(%d, %q) = %q, want %q", c.width, c.in, got, c.want)
		}
	}
}
