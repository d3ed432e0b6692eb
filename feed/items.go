package feed

import (
	"math/bits"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

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

// isBlank reports whether s is empty or only white space.
func isBlank(s string) bool {
	if s != "" && s[0] > ' ' && s[0] < utf8.RuneSelf {
		return false // the usual case: a visible ASCII character first
	}
	return strings.TrimSpace(s) == ""
}

// itemAuthor is the publication's author, else the feed's.
func (s *Set) itemAuthor(p *publication.Publication) publication.Author {
	if p.Author != nil && (p.Author.Name != "" || p.Author.Email != "") {
		return *p.Author
	}
	return s.opts.Author
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
// cleanXML removes.
func xmlSafe(s string) bool {
	return xmlSafeChars(s) && utf8.ValidString(s)
}

// xmlSafeChars reports whether s holds none of the characters cleanXML
// removes, UTF-8 validity aside. It looks at eight bytes at a time for a
// control character or a byte that may start a C1 control, U+FFFD, U+FFFE
// or U+FFFF (0xC2, 0xEF), then at that byte.
func xmlSafeChars(s string) bool {
	for i := 0; i < len(s); i++ {
		for i+8 <= len(s) {
			x := load64(s, i)
			if m := below(x, 0x20) | equal(x, 0xEF) | equal(x, 0xC2); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i < len(s) && !xmlSafeAt(s, i) {
			return false
		}
	}
	return true
}

// xmlSafeAt reports whether the byte of s at i starts none of the
// characters cleanXML removes (invalid UTF-8 aside).
func xmlSafeAt(s string, i int) bool {
	switch c := s[i]; {
	case c < 0x20:
		return c == '\t' || c == '\n' || c == '\r'
	case c == 0xC2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9F:
		return false // C1 control
	case c == 0xEF && i+2 < len(s) && s[i+1] == 0xBF && s[i+2] >= 0xBD && s[i+2] <= 0xBF:
		return false // U+FFFD, U+FFFE, U+FFFF
	}
	return true
}

// bodyChecks remembers, during one Generate, what the formats need to know
// about each publication's Content (tens of kilobytes at times): whether it
// is valid UTF-8 (JSON) and free of what cleanXML removes (RSS and Atom).
// The first format to reach a publication looks, the others read: the
// passes run concurrently, hence atomics (4 bytes per publication).
type bodyChecks struct {
	state []atomic.Uint32 // by index in Set.pubs; 0 until checked
}

// What bodyChecks knows of a body.
const (
	bodyChecked   = 1 << iota // the other bits are set
	bodyValidUTF8             // valid UTF-8
	bodyXMLSafe               // valid UTF-8 without what cleanXML removes
)

// newBodyChecks returns the checks of n publications, none done yet.
func newBodyChecks(n int) *bodyChecks {
	return &bodyChecks{state: make([]atomic.Uint32, n)}
}

// of returns what is known of body, the Content of s.pubs[i].
func (c *bodyChecks) of(i int, body string) uint32 {
	if st := c.state[i].Load(); st != 0 {
		return st
	}
	st := uint32(bodyChecked)
	if utf8.ValidString(body) {
		st |= bodyValidUTF8
		if xmlSafeChars(body) {
			st |= bodyXMLSafe
		}
	}
	c.state[i].Store(st)
	return st
}

// xml returns body (the Content of s.pubs[i]) as XML can carry it.
func (c *bodyChecks) xml(i int, body string) string {
	if c.of(i, body)&bodyXMLSafe != 0 {
		return body
	}
	return cleanXML(body) // rare, and not kept: memory is what bounds a build
}

// escapeHTML turns plain text into HTML text (RSS descriptions are HTML).
func escapeHTML(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// orEpoch returns t, or for a feed without items (zero t) a fixed date that
// keeps the output independent of the build time: 2000-01-01, as validators
// call dates before 1990 implausible (ImplausibleDate).
func orEpoch(t time.Time) time.Time {
	if t.IsZero() {
		return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// rfc822 formats t for RSS: RFC 822 with a four-digit year.
func rfc822(t time.Time) string {
	return rssZone(t).Format(time.RFC1123Z)
}

// appendRFC822 appends rfc822(t): only ASCII letters, digits, spaces and
// ",:+-", which XML carries unescaped.
func appendRFC822(dst []byte, t time.Time) []byte {
	return rssZone(t).AppendFormat(dst, time.RFC1123Z)
}

// rssZone returns t, in UTC when its offset is one the RSS profile does not
// accept (not a multiple of 30 minutes).
func rssZone(t time.Time) time.Time {
	if _, off := t.Zone(); off%1800 != 0 {
		return t.UTC()
	}
	return t
}

// rfc3339 formats t for Atom and JSON Feed.
func rfc3339(t time.Time) string {
	return minuteZone(t).Format(time.RFC3339)
}

// appendRFC3339 appends rfc3339(t): only ASCII letters, digits and ":+-",
// which XML and JSON carry unescaped.
func appendRFC3339(dst []byte, t time.Time) []byte {
	return minuteZone(t).AppendFormat(dst, time.RFC3339)
}

// minuteZone returns t, in UTC when its offset is not a whole number of
// minutes (RFC 3339 cannot write it).
func minuteZone(t time.Time) time.Time {
	if _, off := t.Zone(); off%60 != 0 {
		return t.UTC()
	}
	return t
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
	case "png":
		return "image/png"
	case "gif":
		return "image/gif"
	case "webp":
		return "image/webp"
	case "avif":
		return "image/avif"
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
