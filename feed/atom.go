package feed

import (
	"encoding/xml"
	"io"
	"strings"

	"github.com/gorilla/feeds"

	"github.com/ecoresponsable/bulletin/publication"
)

// atomDoc is gorilla's feed with what it lacks: xml:lang, several links
// (alternate and self) and the generator, then the place of the entries
// (written apart, see Generate).
type atomDoc struct {
	XMLName xml.Name `xml:"feed"`
	*feeds.AtomFeed
	Lang      string `xml:"xml:lang,attr,omitempty"`
	MediaNS   string `xml:"xmlns:media,attr"`
	Links     []feeds.AtomLink
	Generator *atomGenerator
	Entries   itemsMark `xml:"entry"`
}

type atomGenerator struct {
	XMLName xml.Name `xml:"generator"`
	Text    string   `xml:",chardata"`
}

// atomEntry is gorilla's entry plus its language, one category per tag,
// the content as CDATA and a thumbnail.
type atomEntry struct {
	feeds.AtomEntry
	Lang       string // xml:lang, when not the feed's
	Categories []string
	Body       *encoded // content type="html"
	Thumbnail  string   // media:thumbnail

	// Storage the pointers above point to, reused from entry to entry.
	summary feeds.AtomSummary
	author  feeds.AtomAuthor
	body    encoded
}

// atomEncoder returns a function encoding one entry as it appears in a
// feed.
func (s *Set) atomEncoder() func(*publication.Publication) ([]byte, error) {
	x := newXMLItems(1)
	var a atomEntry
	return func(p *publication.Publication) ([]byte, error) {
		s.fillAtom(&a, p)
		return x.encode(func(w *tokenWriter) { w.atomEntry(&a) })
	}
}

func (w *tokenWriter) atomEntry(a *atomEntry) {
	w.attr("xml:lang", a.Lang)
	w.start("entry")
	w.textAlways("title", a.Title)
	w.textAlways("id", a.Id)
	w.textAlways("updated", a.Updated)
	w.text("published", a.Published)
	for _, l := range a.Links {
		w.attr("href", l.Href)
		w.attr("rel", l.Rel)
		w.attr("type", l.Type)
		w.attr("length", l.Length)
		w.leaf("link")
	}
	if s := a.Summary; s != nil {
		w.attr("type", s.Type)
		w.textAlways("summary", s.Content)
	}
	if p := a.Author; p != nil {
		w.start("author")
		w.textAlways("name", p.Name)
		w.text("uri", p.Uri)
		w.text("email", p.Email)
		w.end("author")
	}
	for _, c := range a.Categories {
		w.attr("term", c)
		w.leaf("category")
	}
	if a.Body != nil {
		w.attr("type", "html")
		w.html("content", a.Body)
	}
	if a.Thumbnail != "" {
		w.attr("url", a.Thumbnail)
		w.leaf("media:thumbnail")
	}
	w.end("entry")
}

// atomFrame encodes the Atom document of a feed without its entries.
func (s *Set) atomFrame(f *feedSpec) (head, tail []byte, err error) {
	o := &s.opts
	self := s.outputs[f.atom].URL
	doc := atomDoc{
		AtomFeed: &feeds.AtomFeed{
			Xmlns:    nsAtom,
			Title:    cleanXML(f.title),
			Id:       self,
			Updated:  rfc3339(orEpoch(f.updated)),
			Icon:     o.Icon,
			Logo:     o.Logo,
			Rights:   cleanXML(o.Rights),
			Subtitle: cleanXML(o.SiteDescription),
			Author:   atomPerson(o.Author, o.SiteTitle),
		},
		Lang:    o.Language,
		MediaNS: nsMedia,
		Links: []feeds.AtomLink{
			{Href: o.SiteURL, Rel: "alternate", Type: "text/html"},
			{Href: self, Rel: "self", Type: MediaTypeAtom},
		},
	}
	if o.Generator != "" {
		doc.Generator = &atomGenerator{Text: cleanXML(o.Generator)}
	}
	return splitFrame(func(w io.Writer) error { return s.encodeXML(w, doc) })
}

// atomPerson converts an author; Atom requires a name, so the email
// address or else fallback stands in for a missing one.
func atomPerson(a publication.Author, fallback string) *feeds.AtomAuthor {
	name := strings.TrimSpace(a.Name)
	if name == "" {
		name = a.Email
	}
	if name == "" {
		name = fallback
	}
	if name == "" {
		return nil
	}
	return &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: cleanXML(name), Uri: a.URL, Email: cleanXML(a.Email)}}
}
