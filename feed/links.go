package feed

import (
	"html/template"
	"strings"
)

// The media types are template text: html/template would escape their "+"
// as "&#43;" in an attribute value, correct but odd to read once pasted.
const linksTemplate = `{{define "link"}}<link rel="alternate" type="
{{- if eq .Format "rss"}}application/rss+xml{{else if eq .Format "atom"}}application/atom+xml{{else}}application/feed+json{{end -}}
" title="{{.Title}}" href="{{.URL}}">
{{end}}{{range .Site}}{{template "link" .}}{{end}}{{if .Others}}{{.Comment}}
{{range .Others}}{{template "link" .}}{{end}}{{end}}`

// Links returns the <link rel="alternate"> lines that announce the site
// feeds, to paste into the site's <head> (`bulletin build --print-links`).
// The per-tag and per-type feeds follow, after a comment: each belongs on
// its tag's or type's page.
func Links(s *Set) string {
	var data struct {
		Site, Others []Output
		Comment      template.HTML
	}
	data.Comment = "<!-- Per-tag and per-type feeds: put each on its own page. / Flux par étiquette et par type : chacun sur sa page. -->"
	for _, o := range s.outputs {
		switch {
		case o.Kind == KindIndex:
		case o.Kind == KindSite:
			data.Site = append(data.Site, o)
		default:
			data.Others = append(data.Others, o)
		}
	}
	// The template is a constant and writing to a strings.Builder cannot
	// fail, so Must and Execute cannot fail either.
	t := template.Must(template.New("links").Parse(linksTemplate))
	var b strings.Builder
	_ = t.Execute(&b, data)
	return b.String()
}
