package feed

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"

	"github.com/gorilla/feeds"

	"github.com/ecoresponsable/bulletin/publication"
)

// Namespaces declared on the RSS root (every prefix used below).
const (
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsAtom    = "http://www.w3.org/2005/Atom"
	nsDC      = "http://purl.org/dc/elements/1.1/"
	nsMedia   = "http://search.yahoo.com/mrss/"
)

// rssDoc is gorilla's <rss> root with the extra namespaces, and a channel
// whose items are written apart (see Generate).
type rssDoc struct {
	feeds.RssFeedXml
	AtomNS  string      `xml:"xmlns:atom,attr"`
	DCNS    string      `xml:"xmlns:dc,attr"`
	MediaNS string      `xml:"xmlns:media,attr"`
	Channel *rssChannel `xml:"channel"`
}

// rssChannel is gorilla's channel (with Items left nil) followed by the
// self link, then the place of the items: the RSS profile wants every
// channel element before the first item.
type rssChannel struct {
	XMLName xml.Name `xml:"channel"`
	*feeds.RssFeed
	// Creator names the feed author when there is no email address for
	// managingEditor.
	Creator string      `xml:"dc:creator,omitempty"`
	Self    rssAtomLink `xml:"atom:link"`
	Items   itemsMark   `xml:"item"`
}

type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

// Indentation of the lines of an RSS item, as encodeXML indents it in its
// channel (at depth 2); each line starts with its newline.
const (
	rssItemLine  = "\n    "
	rssChildLine = "\n      "
	rssGrandLine = "\n        "
)

// rssEncoder returns a function encoding s.pubs[i] as it appears in a
// channel; the bytes it returns are valid until its next call.
func (s *Set) rssEncoder(bodies *bodyChecks) func(int, *publication.Publication) []byte {
	var b []byte
	return func(i int, p *publication.Publication) []byte {
		b = s.appendRSSItem(b[:0], p, bodies.xml(i, p.Content))
		return b
	}
}

// appendRSSItem appends p as an RSS item: gorilla's item (title, link,
// description, author, enclosure, guid, pubDate) plus what it lacks: the
// full content as CDATA (body, p.Content without what XML cannot carry), a
// creator name when there is no email address for <author>, several
// categories, the language, the update date, then Media RSS: the
// enclosures after the first (an item has only one <enclosure>), the image,
// the thumbnail and the video page.
func (s *Set) appendRSSItem(b []byte, p *publication.Publication, body string) []byte {
	c := s.common(p)
	b = append(b, rssItemLine+"<item>"...)
	b = appendElem(b, rssChildLine, "title", c.title, xmlText)
	b = appendElem(b, rssChildLine, "link", p.URL, xmlText)
	b = appendElem(b, rssChildLine, "description", p.Description, xmlHTML)
	// rssPerson, without building the "email (name)" string.
	creator := c.author.Name
	if c.author.Email != "" && c.author.Name != "" {
		creator = ""
		b = append(b, rssChildLine+"<author>"...)
		b = appendXML(b, c.author.Email, xmlText)
		b = append(b, " ("...)
		b = appendXML(b, c.author.Name, xmlText)
		b = append(b, ")</author>"...)
	} else if creator == "" {
		creator = c.author.Email
	}
	if len(p.Enclosures) > 0 {
		e := p.Enclosures[0]
		b = append(b, rssChildLine+"<enclosure"...)
		b = appendAttr(b, "url", e.URL)
		b = append(b, ` length="`...)
		b = strconv.AppendInt(b, max(e.Length, 0), 10)
		b = append(b, '"')
		b = appendAttr(b, "type", enclosureType(e))
		b = append(b, "></enclosure>"...)
	}
	if p.ID == p.URL {
		b = append(b, rssChildLine+`<guid isPermaLink="true">`...)
	} else {
		b = append(b, rssChildLine+`<guid isPermaLink="false">`...)
	}
	b = appendXML(b, p.ID, xmlText)
	b = append(b, "</guid>"+rssChildLine+"<pubDate>"...)
	b = appendRFC822(b, p.Date)
	b = append(b, "</pubDate>"...)
	if p.Content != "" {
		b = append(b, rssChildLine+"<content:encoded>"...)
		b = appendCDATA(b, body)
		b = append(b, "</content:encoded>"...)
	}
	if creator != "" {
		b = appendElem(b, rssChildLine, "dc:creator", creator, xmlText)
	}
	for _, t := range c.tags {
		b = appendElem(b, rssChildLine, "category", t, xmlText)
	}
	if c.lang != "" {
		b = appendElem(b, rssChildLine, "dc:language", c.lang, xmlText)
	}
	b = append(b, rssChildLine+"<atom:updated>"...)
	b = appendRFC3339(b, s.updatedOf(p))
	b = append(b, "</atom:updated>"...)
	for i, e := range p.Enclosures {
		if i == 0 {
			continue
		}
		typ := enclosureType(e)
		b = append(b, rssChildLine+"<media:content"...)
		b = appendAttr(b, "url", e.URL)
		b = appendAttr(b, "type", typ)
		b = appendAttr(b, "medium", medium(typ))
		if e.Length > 0 {
			b = append(b, ` fileSize="`...)
			b = strconv.AppendInt(b, e.Length, 10)
			b = append(b, '"')
		}
		b = append(b, "></media:content>"...)
	}
	if img := p.Image; img != nil && img.URL != "" {
		b = append(b, rssChildLine+"<media:content"...)
		b = appendAttr(b, "url", img.URL)
		b = appendAttr(b, "type", typeByExtension(img.URL))
		b = append(b, ` medium="image">`...)
		if img.Alt != "" {
			b = append(b, rssGrandLine+`<media:description type="plain">`...)
			b = appendXML(b, img.Alt, xmlText)
			b = append(b, "</media:description>"+rssChildLine...)
		}
		b = append(b, "</media:content>"...)
	}
	if c.thumb != "" {
		b = append(b, rssChildLine+"<media:thumbnail"...)
		b = appendAttr(b, "url", c.thumb)
		b = append(b, "></media:thumbnail>"...)
	}
	if p.VideoURL != "" {
		b = append(b, rssChildLine+"<media:player"...)
		b = appendAttr(b, "url", p.VideoURL)
		b = append(b, "></media:player>"...)
	}
	return append(b, rssItemLine+"</item>"...)
}

// rssFrame encodes the RSS document of a feed without its items.
func (s *Set) rssFrame(f *feedSpec) (head, tail []byte, err error) {
	o := &s.opts
	ch := &rssChannel{
		RssFeed: &feeds.RssFeed{
			Title:       cleanXML(f.title),
			Link:        o.SiteURL,
			Description: cleanXML(o.SiteDescription),
			Language:    o.Language,
			Copyright:   cleanXML(o.Rights),

			Generator: cleanXML(o.Generator),
			Docs:      "https://www.rssboard.org/rss-specification",
			Ttl:       max(o.TTL, 0),
		},
		Self: rssAtomLink{Href: s.outputs[f.rss].URL, Rel: "self", Type: MediaTypeRSS},
	}
	if !f.published.IsZero() {
		ch.PubDate = rfc822(f.published)
	}
	if !f.updated.IsZero() { // optional: a feed without items has none
		ch.LastBuildDate = rfc822(f.updated)
	}
	ch.ManagingEditor, ch.Creator = rssPerson(o.Author)
	ch.ManagingEditor, ch.Creator = cleanXML(ch.ManagingEditor), cleanXML(ch.Creator)
	if img := rssImageURL(o.Logo, o.Icon); img != "" {
		// The RSS profile wants the image's title and link to be the
		// channel's.
		ch.Image = &feeds.RssImage{Url: img, Title: ch.Title, Link: o.SiteURL}
	}
	doc := rssDoc{
		RssFeedXml: feeds.RssFeedXml{Version: "2.0", ContentNamespace: nsContent},
		AtomNS:     nsAtom, DCNS: nsDC, MediaNS: nsMedia,
		Channel: ch,
	}
	return splitFrame(func(w io.Writer) error { return s.encodeXML(w, doc) })
}

// rssPerson returns the RSS author (an email address with the name in
// parentheses), or when there is no such pair the dc:creator text.
func rssPerson(a publication.Author) (author, creator string) {
	switch {
	case a.Email != "" && a.Name != "":
		return a.Email + " (" + a.Name + ")", ""
	case a.Name != "":
		return "", a.Name
	default:
		return "", a.Email
	}
}

// rssImageURL picks the channel image: the logo, else the icon, as long as
// it is a format the RSS profile accepts (JPEG, PNG, GIF, or a URL without
// an extension).
func rssImageURL(candidates ...string) string {
	for _, u := range candidates {
		if u == "" {
			continue
		}
		ext := u[strings.LastIndexByte(u, '.')+1:]
		switch strings.ToLower(ext) {
		case "jpg", "jpeg", "png", "gif":
			return u
		}
		if !isWord(ext) {
			return u
		}
	}
	return ""
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// encodeXML writes the XML declaration, the stylesheet link when there is
// one, then doc.
func (s *Set) encodeXML(w io.Writer, doc any) error {
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	toks := []xml.Token{xml.ProcInst{Target: "xml", Inst: []byte(`version="1.0" encoding="UTF-8"`)}, xml.CharData("\n")}
	if s.xslHref != "" {
		var b strings.Builder
		b.WriteString(`type="text/xsl" href="`)
		xml.EscapeText(&b, []byte(s.xslHref))
		b.WriteString(`"`)
		toks = append(toks, xml.ProcInst{Target: "xml-stylesheet", Inst: []byte(b.String())}, xml.CharData("\n"))
	}
	for _, t := range toks {
		if err := enc.EncodeToken(t); err != nil {
			return err
		}
	}
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// itemsMarkText marks, in an encoded feed without items, where they go.
// Text and attributes are escaped, so "<!--" appears nowhere else.
const itemsMarkText = "bulletin:items"

// itemsMark stands for the items in a feed document.
type itemsMark struct{}

// MarshalXML writes the marker comment.
func (itemsMark) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	return e.EncodeToken(xml.Comment(itemsMarkText))
}
