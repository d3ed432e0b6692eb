package feed

import (
	"encoding/xml"
	"io"
	"strconv"
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

// Indentation of the lines of an Atom entry, as encodeXML indents it in its
// feed (at depth 1); each line starts with its newline.
const (
	atomEntryLine = "\n  "
	atomChildLine = "\n    "
	atomGrandLine = "\n      "
)

// atomEncoder returns a function encoding s.pubs[i] as it appears in a
// feed; the bytes it returns are valid until its next call.
func (s *Set) atomEncoder(bodies *bodyChecks) func(int, *publication.Publication) []byte {
	var b []byte
	return func(i int, p *publication.Publication) []byte {
		b = s.appendAtomEntry(b[:0], p, bodies.xml(i, p.Content))
		return b
	}
}

// appendAtomEntry appends p as an Atom entry: gorilla's entry plus its
// language, one category per tag, the content as CDATA (body, p.Content
// without what XML cannot carry) and a thumbnail.
func (s *Set) appendAtomEntry(b []byte, p *publication.Publication, body string) []byte {
	c := s.common(p)
	b = append(b, atomEntryLine+"<entry"...)
	b = appendAttr(b, "xml:lang", c.lang)
	b = append(b, '>')
	b = appendElem(b, atomChildLine, "title", c.title, xmlText)
	b = appendElem(b, atomChildLine, "id", p.ID, xmlText)
	b = append(b, atomChildLine+"<updated>"...)
	b = appendRFC3339(b, s.updatedOf(p))
	b = append(b, "</updated>"+atomChildLine+"<published>"...)
	b = appendRFC3339(b, p.Date)
	b = append(b, "</published>"...)
	b = appendAtomLink(b, p.URL, "alternate", "text/html", 0)
	for _, e := range p.Enclosures {
		b = appendAtomLink(b, e.URL, "enclosure", enclosureType(e), e.Length)
	}
	if p.Image != nil && p.Image.URL != "" {
		b = appendAtomLink(b, p.Image.URL, "enclosure", typeByExtension(p.Image.URL), 0)
	}
	if p.VideoURL != "" {
		b = appendAtomLink(b, p.VideoURL, "related", "text/html", 0)
	}
	switch {
	case p.Description != "":
		b = append(b, atomChildLine+`<summary type="text">`...)
		b = appendXML(b, p.Description, xmlText)
		b = append(b, "</summary>"...)
	case p.Content == "":
		// An entry needs some text besides its title (MissingTextualContent):
		// for a page without body nor description, the title stands in.
		b = append(b, atomChildLine+`<summary type="text">`...)
		b = appendXML(b, c.title, xmlText)
		b = append(b, "</summary>"...)
	}
	if person, ok := atomPerson(c.author, s.opts.SiteTitle); ok {
		b = append(b, atomChildLine+"<author>"...)
		b = appendElem(b, atomGrandLine, "name", person.Name, xmlText)
		if person.Uri != "" {
			b = appendElem(b, atomGrandLine, "uri", person.Uri, xmlText)
		}
		if person.Email != "" {
			b = appendElem(b, atomGrandLine, "email", person.Email, xmlText)
		}
		b = append(b, atomChildLine+"</author>"...)
	}
	for _, t := range c.tags {
		b = append(b, atomChildLine+"<category"...)
		b = appendAttr(b, "term", t)
		if label := s.opts.Labels.Of(t); label != t {
			b = appendAttr(b, "label", label)
		}
		b = append(b, "></category>"...)
	}
	if p.Content != "" {
		b = append(b, atomChildLine+`<content type="html">`...)
		b = appendCDATA(b, body)
		b = append(b, "</content>"...)
	}
	if c.thumb != "" {
		b = append(b, atomChildLine+"<media:thumbnail"...)
		b = appendAttr(b, "url", c.thumb)
		b = append(b, "></media:thumbnail>"...)
	}
	return append(b, atomEntryLine+"</entry>"...)
}

// appendAtomLink appends an entry's link; length is left out when not
// positive.
func appendAtomLink(b []byte, href, rel, typ string, length int64) []byte {
	b = append(b, atomChildLine+"<link"...)
	b = appendAttr(b, "href", href)
	b = appendAttr(b, "rel", rel)
	b = appendAttr(b, "type", typ)
	if length > 0 {
		b = append(b, ` length="`...)
		b = strconv.AppendInt(b, length, 10)
		b = append(b, '"')
	}
	return append(b, "></link>"...)
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
		},
		Lang:    o.Language,
		MediaNS: nsMedia,
		Links: []feeds.AtomLink{
			{Href: o.SiteURL, Rel: "alternate", Type: "text/html"},
			{Href: self, Rel: "self", Type: MediaTypeAtom},
		},
	}
	if person, ok := atomPerson(o.Author, o.SiteTitle); ok {
		doc.Author = &person
	}
	if o.Generator != "" {
		doc.Generator = &atomGenerator{Text: cleanXML(o.Generator)}
	}
	return splitFrame(func(w io.Writer) error { return s.encodeXML(w, doc) })
}

// atomPerson converts an author, cleaned for XML; Atom requires a name, so
// the email address or else fallback stands in for a missing one. ok is
// false when there is no name at all.
func atomPerson(a publication.Author, fallback string) (person feeds.AtomAuthor, ok bool) {
	name := strings.TrimSpace(a.Name)
	if name == "" {
		name = a.Email
	}
	if name == "" {
		name = fallback
	}
	if name == "" {
		return feeds.AtomAuthor{}, false
	}
	return feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: cleanXML(name), Uri: a.URL, Email: cleanXML(a.Email)}}, true
}
