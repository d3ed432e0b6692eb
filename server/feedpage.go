package server

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/ecoresponsable/bulletin/feed"
	"github.com/ecoresponsable/bulletin/templates"
)

// feedPageData is what pages/feed.html.tmpl receives: one RSS or Atom feed
// as a browser shows it.
type feedPageData struct {
	Format      string // "RSS" or "Atom"
	URL         string // the feed's address
	Description string
	// Langs are the languages of the notice saying what a feed is: the
	// page's, then the other.
	Langs  []string
	Others []feedFormat // the same feed in its other formats
	Items  []feedPageItem
}

// feedFormat is a link to one format of a feed.
type feedFormat struct{ Name, URL string }

// feedPageItem is one item of a feed's page.
type feedPageItem struct {
	Title, URL, Summary string
	Date                time.Time
	Lang                string // "" when in the page's language
}

// feedPage renders the HTML page that a browser gets instead of the RSS
// or Atom feed l (see serveAsset): the page a feed.xsl transform would
// make, without XSLT, which browsers are removing. Rendered once per build.
func (p *pages) feedPage(l feed.Listing) ([]byte, error) {
	lang := p.lang
	format := feed.FormatName(l.Output.Format)
	d := feedPageData{
		Format: format, URL: l.Output.URL, Description: l.Description,
		Langs: []string{lang, otherLang(lang)},
		Items: make([]feedPageItem, len(l.Items)),
	}
	for _, o := range l.Others {
		d.Others = append(d.Others, feedFormat{Name: feed.FormatName(o.Format), URL: o.URL})
	}
	for i, it := range l.Items {
		d.Items[i] = feedPageItem{Title: it.Title, URL: it.URL, Summary: it.Summary, Date: it.Date}
		if !inLanguage(it.Lang, lang) {
			d.Items[i].Lang = it.Lang
		}
	}
	pg := &page{
		Lang: lang, Title: l.Title, HeadTitle: templates.Tf(lang, "feed_page.title", "feed", l.Title, "format", format),
		SiteTitle: p.siteTitle, SiteURL: l.SiteURL, Base: p.base, CSS: p.cssURL,
		CanSubscribe: p.canSubscribe, Archive: p.hasArchive, NoIndex: true, Data: d,
	}
	var buf bytes.Buffer
	if err := p.tpl.HTML(&buf, "pages/feed", pg); err != nil {
		return nil, fmt.Errorf("server: the page of %s: %w", l.Output.Path, err)
	}
	return buf.Bytes(), nil
}

// inLanguage reports whether the language tag is lang or a narrower tag
// of it ("fr-CA" is in "fr"), as RFC 4647 §3.3.1 filters: an item so
// tagged needs no lang of its own on a page in lang. A missing tag is in
// every language.
func inLanguage(tag, lang string) bool {
	if tag == "" || strings.EqualFold(tag, lang) {
		return true
	}
	return len(tag) > len(lang) && tag[len(lang)] == '-' && strings.EqualFold(tag[:len(lang)], lang)
}
