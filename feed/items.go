package feed

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/feeds"

	"github.com/ecoresponsable/bulletin/publication"
)

// common holds what the three formats derive alike from a publication.
type common struct {
	title  string
	tags   []string
	author publication.Author
	lang   string // when not the feed's
	thumb  string
}

func (s *Set) common(p *publication.Publication) common {
	c := common{title: p.Title, tags: p.Tags, author: s.itemAuthor(p), thumb: p.Thumbnail}
	for i, t := range c.tags {
		if isBlank(t) { // rare: copy without the blank tags
			c.tags = append(c.tags[:i:i], nonBlank(c.tags[i:])...)
			break
		}
	}
	if isBlank(c.title) {
		c.title = p.URL
	}
	if p.Lang != "" && p.Lang != s.opts.Language {
		c.lang = p.Lang
	}
	if c.thumb == "" && p.Image != nil {
		c.thumb = p.Image.URL
	}
	return c
}

func nonBlank(tags []string) []string {
	var out []string
	for _, t := range tags {
		if !isBlank(t) {
			out = append(out, t)
		}
	}
	return out
}

// fillRSS sets r from p, reusing r's slices.
func (s *Set) fillRSS(r *rssItem, p *publication.Publication) {
	c := s.common(p)
	media := r.Media[:0]
	*r = rssItem{}
	r.Title = c.title
	r.Link = p.URL
	r.Description = escapeHTML(p.Description)
	if p.Content != "" {
		r.body = makeEncoded(p.Content)
		r.Encoded = &r.body
	}
	r.guid = feeds.RssGuid{Id: p.ID, IsPermaLink: "false"}
	if p.ID == p.URL {
		r.guid.IsPermaLink = "true"
	}
	r.Guid = &r.guid
	r.PubDate = rfc822(p.Date)
	r.Updated = rfc3339(s.updatedOf(p))
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
		mc := mediaContent{URL: e.URL, Type: typ, Medium: medium(typ)}
		if e.Length > 0 {
			mc.FileSize = strconv.FormatInt(e.Length, 10)
		}
		media = append(media, mc)
	}
	if p.Image != nil && p.Image.URL != "" {
		media = append(media, mediaContent{URL: p.Image.URL, Type: typeByExtension(p.Image.URL), Medium: "image", Description: p.Image.Alt})
	}
	r.Media = media
	r.Thumbnail = c.thumb
	r.Player = p.VideoURL
}

// fillAtom sets a from p, reusing a's slices.
func (s *Set) fillAtom(a *atomEntry, p *publication.Publication) {
	c := s.common(p)
	links := a.Links[:0]
	*a = atomEntry{}
	a.Lang = c.lang
	a.Title = c.title
	a.Id = p.ID
	a.Updated = rfc3339(s.updatedOf(p))
	a.Published = rfc3339(p.Date)
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
	if person := atomPerson(c.author, s.opts.SiteTitle); person != nil {
		a.author = *person
		a.Author = &a.author
	}
	a.Categories = c.tags
	if p.Content != "" {
		a.body = makeEncoded(p.Content)
		a.Body = &a.body
	}
	a.Thumbnail = c.thumb
}

// fillJSON sets j from p, reusing j's slices.
func (s *Set) fillJSON(j *jsonItem, p *publication.Publication) {
	c := s.common(p)
	attachments := j.Attachments[:0]
	*j = jsonItem{}
	j.Id = p.ID
	j.Url = p.URL
	j.ExternalUrl = p.VideoURL
	j.Title = p.Title
	j.ContentHTML = p.Content
	if p.Content == "" {
		j.ContentText = p.Description
	}
	j.Summary = p.Description
	if p.Image != nil {
		j.Image = p.Image.URL
	}
	j.Published = rfc3339(p.Date)
	j.Modified = rfc3339(s.updatedOf(p))
	if ja := jsonAuthor(c.author); ja != nil {
		j.author = *ja
		j.authors[0] = &j.author
		j.Authors = j.authors[:]
	}
	j.Tags = c.tags
	j.Language = c.lang
	for _, e := range p.Enclosures {
		attachments = append(attachments, jsonAttachment{URL: e.URL, MIMEType: enclosureType(e), SizeInBytes: max(e.Length, 0)})
	}
	j.Attachments = attachments
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// itemAuthor is the publication's author, else the feed's.
func (s *Set) itemAuthor(p *publication.Publication) publication.Author {
	if p.Author != nil && (p.Author.Name != "" || p.Author.Email != "") {
		return *p.Author
	}
	return s.opts.Author
}

// encoded is HTML in an XML element, as CDATA: copied as is, where
// escaping would look at every character of the tens of kilobytes of the
// item's body.
type encoded struct {
	CDATA []byte `xml:",cdata"`
}

func makeEncoded(html string) encoded {
	return encoded{CDATA: bytesOf(cleanXML(html))}
}

// cleanXML returns s without the characters XML cannot carry (control
// characters, U+FFFE, U+FFFF, invalid UTF-8) and those the feed validator
// warns about (C1 controls, U+FFFD). Escaping would replace them with
// U+FFFD, which the validator flags as a bad character. s is returned
// as is, without a copy, in the usual case where there is none.
func cleanXML(s string) string {
	if xmlSafe(s) {
		return s
	}
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

// xmlSafe reports whether s is valid UTF-8 with none of the characters
// cleanXML removes. It looks at eight bytes at a time for a control
// character or a byte that may start a C1 control, U+FFFD, U+FFFE or
// U+FFFF (0xC2, 0xEF), and only then at each byte.
func xmlSafe(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	b := bytesOf(s)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		below20 := (x - ones*0x20) & ^x & highs // some byte < 0x20
		ef := x ^ (ones * 0xEF)
		hasEF := (ef - ones) & ^ef & highs // some byte == 0xEF
		c2 := x ^ (ones * 0xC2)
		hasC2 := (c2 - ones) & ^c2 & highs // some byte == 0xC2
		if below20|hasEF|hasC2 != 0 && !xmlSafeBytes(s, i, i+8) {
			return false
		}
	}
	return xmlSafeBytes(s, i, len(s)) && utf8.ValidString(s)
}

// xmlSafeBytes checks s[from:to] byte by byte.
func xmlSafeBytes(s string, from, to int) bool {
	for i := from; i < to; i++ {
		c := s[i]
		switch {
		case c < 0x20:
			if c != '\t' && c != '\n' && c != '\r' {
				return false
			}
		case c == 0xC2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9F:
			return false // C1 control
		case c == 0xEF && i+2 < len(s) && s[i+1] == 0xBF && s[i+2] >= 0xBD && s[i+2] <= 0xBF:
			return false // U+FFFD, U+FFFE, U+FFFF
		}
	}
	return true
}

// escapeHTML turns plain text into HTML text (RSS descriptions are HTML).
func escapeHTML(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// orEpoch returns t, or for a feed without items (zero t) a fixed date that
// keeps the output independent of the build time.
func orEpoch(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t
}

// rfc822 formats t for RSS: RFC 822 with a four-digit year. Offsets that
// the RSS profile does not accept (not a multiple of 30 minutes) are given
// in UTC.
func rfc822(t time.Time) string {
	if _, off := t.Zone(); off%1800 != 0 {
		t = t.UTC()
	}
	return t.Format(time.RFC1123Z)
}

// rfc3339 formats t for Atom.
func rfc3339(t time.Time) string {
	if _, off := t.Zone(); off%60 != 0 {
		t = t.UTC()
	}
	return t.Format(time.RFC3339)
}

// typeByExtension guesses the media type of a media URL from its
// extension, from a fixed table so that the output does not depend on the
// machine's MIME database. Unknown extensions give "".
func typeByExtension(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	ext := strings.ToLower(u[strings.LastIndexByte(u, '.')+1:])
	switch ext {
	case "jpg", "jpeg":
		return "image/jpeg"
	case "png", "gif", "webp", "avif":
		return "image/" + ext
	case "svg":
		return "image/svg+xml"
	case "mp3":
		return "audio/mpeg"
	case "m4a", "m4b":
		return "audio/mp4"
	case "ogg", "oga":
		return "audio/ogg"
	case "opus":
		return "audio/opus"
	case "wav":
		return "audio/wav"
	case "flac":
		return "audio/flac"
	case "aac":
		return "audio/aac"
	case "mp4", "m4v":
		return "video/mp4"
	case "webm":
		return "video/webm"
	case "ogv":
		return "video/ogg"
	case "mov":
		return "video/quicktime"
	}
	return ""
}

// enclosureType is the media type of an enclosure: given, else guessed, else
// the generic binary type (RSS and JSON Feed require one).
func enclosureType(e publication.Enclosure) string {
	if e.Type != "" {
		return e.Type
	}
	if t := typeByExtension(e.URL); t != "" {
		return t
	}
	return "application/octet-stream"
}

// medium is the Media RSS medium of a media type.
func medium(typ string) string {
	kind, _, _ := strings.Cut(typ, "/")
	switch kind {
	case "image", "audio", "video":
		return kind
	}
	return ""
}
