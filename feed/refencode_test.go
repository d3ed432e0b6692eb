package feed

// The item encoders as they were before they wrote bytes themselves:
// gorilla's structs filled from a publication, then encoding/xml token by
// token, or encoding/json. Kept, renamed, as the reference the
// differential tests (encode_test.go) compare the encoders with.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/feeds"

	"github.com/ecoresponsable/bulletin/publication"
)

// refRSSItem is gorilla's item plus what it lacks: the full content (as
// CDATA), a creator name when there is no email address for <author>,
// several categories, the update date, the language and Media RSS pictures.
type refRSSItem struct {
	feeds.RssItem
	Encoded    *refEncoded // content:encoded
	Creator    string      // dc:creator
	Categories []string
	Language   string // dc:language, when not the feed's
	Updated    string // atom:updated
	Media      []refMediaContent
	Thumbnail  string // media:thumbnail
	Player     string // media:player

	// Storage the pointers above point to, reused from item to item.
	guid      feeds.RssGuid
	enclosure feeds.RssEnclosure
	body      refEncoded
}

// refMediaContent is a Media RSS media:content: the image, and the
// enclosures after the first (an RSS item has only one <enclosure>).
type refMediaContent struct {
	URL, Type, Medium string
	FileSize          string // bytes, "" when unknown
	Description       string // the image's alternative text
}

// refRSSEncoder returns a function encoding one item as it appears in a
// channel.
func (s *Set) refRSSEncoder() func(*publication.Publication) ([]byte, error) {
	x := newRefXMLItems(2)
	var it refRSSItem
	return func(p *publication.Publication) ([]byte, error) {
		s.refFillRSS(&it, p)
		return x.encode(func(w *refTokenWriter) { w.writeRSSItem(&it) })
	}
}

func (w *refTokenWriter) writeRSSItem(it *refRSSItem) {
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

// refXMLItems encodes items one at a time with the indentation they have in
// their feed.
type refXMLItems struct {
	buf bytes.Buffer
	enc *xml.Encoder
	w   refTokenWriter
}

// newRefXMLItems returns an encoder for items at depth in the document.
func newRefXMLItems(depth int) *refXMLItems {
	x := &refXMLItems{}
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
func (x *refXMLItems) encode(write func(*refTokenWriter)) ([]byte, error) {
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

// refAtomEntry is gorilla's entry plus its language, one category per tag,
// the content as CDATA and a thumbnail.
type refAtomEntry struct {
	feeds.AtomEntry
	Lang       string // xml:lang, when not the feed's
	Categories []string
	Body       *refEncoded // content type="html"
	Thumbnail  string      // media:thumbnail

	// Storage the pointers above point to, reused from entry to entry.
	summary feeds.AtomSummary
	author  feeds.AtomAuthor
	body    refEncoded
}

// refAtomEncoder returns a function encoding one entry as it appears in a
// feed.
func (s *Set) refAtomEncoder() func(*publication.Publication) ([]byte, error) {
	x := newRefXMLItems(1)
	var a refAtomEntry
	return func(p *publication.Publication) ([]byte, error) {
		s.refFillAtom(&a, p)
		return x.encode(func(w *refTokenWriter) { w.writeAtomEntry(&a) })
	}
}

func (w *refTokenWriter) writeAtomEntry(a *refAtomEntry) {
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

// refAtomPerson converts an author; Atom requires a name, so the email
// address or else fallback stands in for a missing one.
func refAtomPerson(a publication.Author, fallback string) *feeds.AtomAuthor {
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
	return &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: refCleanXML(name), Uri: a.URL, Email: refCleanXML(a.Email)}}
}

// refJSONItem is gorilla's item with JSON Feed 1.1 attachments (a 64-bit
// size_in_bytes, where gorilla writes an int32 "size") and the item's
// language. Its dates are formatted once, like Atom's, rather than by
// time.Time for every feed the item is in. gorilla's deprecated author and
// its misnamed banner field are left empty, so they are not written.
type refJSONItem struct {
	feeds.JSONItem
	Published   string              `json:"date_published,omitempty"`
	Modified    string              `json:"date_modified,omitempty"`
	Attachments []refJSONAttachment `json:"attachments,omitempty"`
	Language    string              `json:"language,omitempty"`

	// Storage for Authors, reused from item to item.
	author  feeds.JSONAuthor
	authors [1]*feeds.JSONAuthor
}

type refJSONAttachment struct {
	URL         string `json:"url"`
	MIMEType    string `json:"mime_type"`
	SizeInBytes int64  `json:"size_in_bytes,omitempty"`
}

// refJSONEncoder returns a function encoding one item.
func (s *Set) refJSONEncoder() func(*publication.Publication) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	var it refJSONItem
	return func(p *publication.Publication) ([]byte, error) {
		s.refFillJSON(&it, p)
		b.Reset()
		if err := enc.Encode(&it); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
	}
}

// refJSONAuthor converts an author; JSON Feed authors have no email field, so
// an address alone becomes a mailto: URL.
func refJSONAuthor(a publication.Author) *feeds.JSONAuthor {
	ja := &feeds.JSONAuthor{Name: strings.TrimSpace(a.Name), Url: a.URL}
	if ja.Url == "" && a.Email != "" {
		ja.Url = "mailto:" + a.Email
	}
	if ja.Name == "" && ja.Url == "" {
		return nil
	}
	return ja
}

// refFillRSS sets r from p, reusing r's slices.
func (s *Set) refFillRSS(r *refRSSItem, p *publication.Publication) {
	c := s.common(p)
	media := r.Media[:0]
	*r = refRSSItem{}
	r.Title = c.title
	r.Link = p.URL
	r.Description = escapeHTML(p.Description)
	if p.Content != "" {
		r.body = makeRefEncoded(p.Content)
		r.Encoded = &r.body
	}
	r.guid = feeds.RssGuid{Id: p.ID, IsPermaLink: "false"}
	if p.ID == p.URL {
		r.guid.IsPermaLink = "true"
	}
	r.Guid = &r.guid
	r.PubDate = refRFC822(p.Date)
	r.Updated = refRFC3339(s.updatedOf(p))
	r.Author, r.Creator = rssPerson(c.author)
	r.Categories = c.tags
	r.Language = c.lang
	for i, e := range p.Enclosures {
		typ := enclosureType(e)
		if i == 0 {
			r.enclosure = feeds.RssEnclosure{Url: e.URL, Type: typ, Length: strconv.FormatInt(max(e.Length, 0), 10)}
			r.Enclosure = &r.enclosure
			continue
		}
		mc := refMediaContent{URL: e.URL, Type: typ, Medium: medium(typ)}
		if e.Length > 0 {
			mc.FileSize = strconv.FormatInt(e.Length, 10)
		}
		media = append(media, mc)
	}
	if p.Image != nil && p.Image.URL != "" {
		media = append(media, refMediaContent{URL: p.Image.URL, Type: typeByExtension(p.Image.URL), Medium: "image", Description: p.Image.Alt})
	}
	r.Media = media
	r.Thumbnail = c.thumb
	r.Player = p.VideoURL
}

// refFillAtom sets a from p, reusing a's slices.
func (s *Set) refFillAtom(a *refAtomEntry, p *publication.Publication) {
	c := s.common(p)
	links := a.Links[:0]
	*a = refAtomEntry{}
	a.Lang = c.lang
	a.Title = c.title
	a.Id = p.ID
	a.Updated = refRFC3339(s.updatedOf(p))
	a.Published = refRFC3339(p.Date)
	links = append(links, feeds.AtomLink{Href: p.URL, Rel: "alternate", Type: "text/html"})
	for _, e := range p.Enclosures {
		l := feeds.AtomLink{Href: e.URL, Rel: "enclosure", Type: enclosureType(e)}
		if e.Length > 0 {
			l.Length = strconv.FormatInt(e.Length, 10)
		}
		links = append(links, l)
	}
	if p.Image != nil && p.Image.URL != "" {
		links = append(links, feeds.AtomLink{Href: p.Image.URL, Rel: "enclosure", Type: typeByExtension(p.Image.URL)})
	}
	if p.VideoURL != "" {
		links = append(links, feeds.AtomLink{Href: p.VideoURL, Rel: "related", Type: "text/html"})
	}
	a.Links = links
	switch {
	case p.Description != "":
		a.summary = feeds.AtomSummary{Content: p.Description, Type: "text"}
		a.Summary = &a.summary
	case p.Content == "":
		// An entry needs some text besides its title (MissingTextualContent):
		// for a page without body nor description, the title stands in.
		a.summary = feeds.AtomSummary{Content: c.title, Type: "text"}
		a.Summary = &a.summary
	}
	if person := refAtomPerson(c.author, s.opts.SiteTitle); person != nil {
		a.author = *person
		a.Author = &a.author
	}
	a.Categories = c.tags
	if p.Content != "" {
		a.body = makeRefEncoded(p.Content)
		a.Body = &a.body
	}
	a.Thumbnail = c.thumb
}

// refFillJSON sets j from p, reusing j's slices.
func (s *Set) refFillJSON(j *refJSONItem, p *publication.Publication) {
	c := s.common(p)
	attachments := j.Attachments[:0]
	*j = refJSONItem{}
	j.Id = p.ID
	j.Url = p.URL
	j.ExternalUrl = p.VideoURL
	j.Title = p.Title
	j.ContentHTML = p.Content
	if p.Content == "" {
		j.ContentText = p.Description
		if j.ContentText == "" {
			j.ContentText = c.title
		}
	}
	j.Summary = p.Description
	if p.Image != nil {
		j.Image = p.Image.URL
	}
	j.Published = refRFC3339(p.Date)
	j.Modified = refRFC3339(s.updatedOf(p))
	if ja := refJSONAuthor(c.author); ja != nil {
		j.author = *ja
		j.authors[0] = &j.author
		j.Authors = j.authors[:]
	}
	j.Tags = c.tags
	j.Language = c.lang
	for _, e := range p.Enclosures {
		attachments = append(attachments, refJSONAttachment{URL: e.URL, MIMEType: enclosureType(e), SizeInBytes: max(e.Length, 0)})
	}
	j.Attachments = attachments
}

// refEncoded is HTML in an XML element, as CDATA: copied as is, where
// escaping would look at every character of the tens of kilobytes of the
// item's body.
type refEncoded struct {
	CDATA []byte `xml:",cdata"`
}

func makeRefEncoded(html string) refEncoded {
	return refEncoded{CDATA: bytesOf(refCleanXML(html))}
}

// refTokenWriter writes an item through an xml.Encoder token by token.
// encoding/xml still escapes every text and attribute and checks that
// elements nest, but it skips the reflection that encoding a struct costs
// (five times slower, measured; there are hundreds of thousands of items).
// The values come from gorilla's RssItem and AtomEntry. Texts lose the
// characters cleanXML removes.
type refTokenWriter struct {
	e     *xml.Encoder
	attrs []xml.Attr
	err   error
}

func (w *refTokenWriter) token(t xml.Token) {
	if w.err == nil {
		w.err = w.e.EncodeToken(t)
	}
}

// attr adds an attribute to the next start tag, unless value is empty.
func (w *refTokenWriter) attr(name, value string) {
	if value != "" {
		w.attrs = append(w.attrs, xml.Attr{Name: xml.Name{Local: name}, Value: refCleanXML(value)})
	}
}

// start opens an element with the attributes added since the last one.
func (w *refTokenWriter) start(name string) {
	w.token(xml.StartElement{Name: xml.Name{Local: name}, Attr: w.attrs})
	w.attrs = w.attrs[:0]
}

func (w *refTokenWriter) end(name string) {
	w.token(xml.EndElement{Name: xml.Name{Local: name}})
}

// leaf writes an element without content, with the pending attributes.
func (w *refTokenWriter) leaf(name string) {
	w.start(name)
	w.end(name)
}

// text writes <name>value</name>, or nothing when value is empty.
func (w *refTokenWriter) text(name, value string) {
	if value != "" {
		w.textAlways(name, value)
	}
}

// textAlways writes <name>value</name>, empty or not.
func (w *refTokenWriter) textAlways(name, value string) {
	w.start(name)
	if value != "" {
		w.token(xml.CharData(bytesOf(refCleanXML(value))))
	}
	w.end(name)
}

// html writes HTML as the content of an element, as CDATA when it can
// (encoding/xml writes CDATA only for a struct field, hence EncodeElement).
func (w *refTokenWriter) html(name string, body *refEncoded) {
	if w.err != nil || body == nil {
		return
	}
	start := xml.StartElement{Name: xml.Name{Local: name}, Attr: w.attrs}
	w.attrs = w.attrs[:0]
	w.err = w.e.EncodeElement(body, start)
}

// refCleanXML is cleanXML without its fast path.
func refCleanXML(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, r == 0xFFFE, r == 0xFFFF, r >= 0x80 && r <= 0x9F:
			return -1
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r':
			return -1
		}
		return r
	}, s)
}

// refRFC822 is rfc822 as it was.
func refRFC822(t time.Time) string {
	if _, off := t.Zone(); off%1800 != 0 {
		t = t.UTC()
	}
	return t.Format(time.RFC1123Z)
}

// refRFC3339 is rfc3339 as it was.
func refRFC3339(t time.Time) string {
	if _, off := t.Zone(); off%60 != 0 {
		t = t.UTC()
	}
	return t.Format(time.RFC3339)
}
