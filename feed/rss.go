package feed

import (
	"bytes"
	"encoding/xml"
	"io"
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

// rssItem is gorilla's item plus what it lacks: the full content (as
// CDATA), a creator name when there is no email address for <author>,
// several categories, the update date, the language and Media RSS pictures.
type rssItem struct {
	feeds.RssItem
	Encoded    *encoded // content:encoded
	Creator    string   // dc:creator
	Categories []string
	Language   string // dc:language, when not the feed's
	Updated    string // atom:updated
	Media      []mediaContent
	Thumbnail  string // media:thumbnail
	Player     string // media:player

	// Storage the pointers above point to, reused from item to item.
	guid      feeds.RssGuid
	enclosure feeds.RssEnclosure
	body      encoded
}

// mediaContent is a Media RSS media:content: the image, and the
// enclosures after the first (an RSS item has only one <enclosure>).
type mediaContent struct {
	URL, Type, Medium string
	FileSize          string // bytes, "" when unknown
	Description       string // the image's alternative text
}

// rssEncoder returns a function encoding one item as it appears in a
// channel.
func (s *Set) rssEncoder() func(*publication.Publication) ([]byte, error) {
	x := newXMLItems(2)
	var it rssItem
	return func(p *publication.Publication) ([]byte, error) {
		s.fillRSS(&it, p)
		return x.encode(func(w *tokenWriter) { w.rssItem(&it) })
	}
}

func (w *tokenWriter) rssItem(it *rssItem) {
	w.start("item")
	w.textAlways("title", it.Title)
	w.textAlways("link", it.Link)
	w.textAlways("description", it.Description)
	w.text("author", it.Author)
	if e := it.Enclosure; e != nil {
		w.attr("url", e.Url)
		w.attr("length", e.Length)
		w.attr("type", e.Type)
		w.leaf("enclosure")
	}
	if g := it.Guid; g != nil {
		w.attr("isPermaLink", g.IsPermaLink)
		w.textAlways("guid", g.Id)
	}
	w.text("pubDate", it.PubDate)
	w.html("content:encoded", it.Encoded)
	w.text("dc:creator", it.Creator)
	for _, c := range it.Categories {
		w.textAlways("category", c)
	}
	w.text("dc:language", it.Language)
	w.text("atom:updated", it.Updated)
	for _, m := range it.Media {
		w.attr("url", m.URL)
		w.attr("type", m.Type)
		w.attr("medium", m.Medium)
		w.attr("fileSize", m.FileSize)
		if m.Description == "" {
			w.leaf("media:content")
			continue
		}
		w.start("media:content")
		w.attr("type", "plain")
		w.textAlways("media:description", m.Description)
		w.end("media:content")
	}
	if it.Thumbnail != "" {
		w.attr("url", it.Thumbnail)
		w.leaf("media:thumbnail")
	}
	if it.Player != "" {
		w.attr("url", it.Player)
		w.leaf("media:player")
	}
	w.end("item")
}

// rssFrame encodes the RSS document of a feed without its items.
func (s *Set) rssFrame(f *feedSpec) (head, tail []byte, err error) {
	o := &s.opts
	ch := &rssChannel{
		RssFeed: &feeds.RssFeed{
			Title:         cleanXML(f.title),
			Link:          o.SiteURL,
			Description:   cleanXML(o.SiteDescription),
			Language:      o.Language,
			Copyright:     cleanXML(o.Rights),
			LastBuildDate: rfc822(orEpoch(f.updated)),
			Generator:     cleanXML(o.Generator),
			Docs:          "https://www.rssboard.org/rss-specification",
			Ttl:           max(o.TTL, 0),
		},
		Self: rssAtomLink{Href: s.outputs[f.rss].URL, Rel: "self", Type: MediaTypeRSS},
	}
	if !f.published.IsZero() {
		ch.PubDate = rfc822(f.published)
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

// xmlItems encodes items one at a time with the indentation they have in
// their feed.
type xmlItems struct {
	buf bytes.Buffer
	enc *xml.Encoder
	w   tokenWriter
}

// newXMLItems returns an encoder for items at depth in the document.
func newXMLItems(depth int) *xmlItems {
	x := &xmlItems{}
	x.enc = xml.NewEncoder(&x.buf)
	x.enc.Indent(strings.Repeat("  ", depth), "  ")
	// After a first element, the encoder starts each next one on a new
	// line, as it does between the items of a feed; that first element is
	// thrown away.
	x.enc.EncodeToken(xml.StartElement{Name: xml.Name{Local: "x"}})
	x.enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: "x"}})
	x.enc.Flush()
	x.w.e = x.enc
	return x
}

// encode runs write and returns the bytes written, valid until the next
// call.
func (x *xmlItems) encode(write func(*tokenWriter)) ([]byte, error) {
	x.buf.Reset()
	write(&x.w)
	if x.w.err != nil {
		return nil, x.w.err
	}
	if err := x.enc.Flush(); err != nil {
		return nil, err
	}
	return x.buf.Bytes(), nil
}
