// Package publication loads a folder of Markdown publications (Eleventy,
// Jekyll or Hugo style) into Publications: front matter, data cascade,
// permalinks, and Markdown rendered to clean HTML with absolute URLs.
package publication

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Publication is one published page of the site, as feeds and digests see it.
// Every URL in it is absolute.
type Publication struct {
	// Source is the file's path relative to the content folder, with "/".
	Source string
	// Path is the site-relative, percent-encoded URL path, e.g. "/a/b/".
	Path string
	// URL is the absolute URL of the publication.
	URL string
	// ID is the stable identifier used by feeds and digests: the front-matter
	// id (resolved against the site URL when it is not an absolute URI), else
	// URL. It never depends on the content.
	ID string

	Title       string
	Description string
	// Date is the publication date and Updated the last modification (equal
	// to Date when the front matter has no "updated"), in the site's zone.
	Date    time.Time
	Updated time.Time
	// Tags are the publication's tags, in their written form, without the
	// ignored collection tags, duplicates removed, in first-seen order.
	Tags []string
	// Type is the front-matter type ("video", "news", …), possibly empty.
	Type string
	// Lang is the publication's language (front matter, else the site's).
	Lang string

	// Image is the main image, nil when none.
	Image *Image
	// Thumbnail is the small preview (apercu/thumbnail), else Image's URL.
	Thumbnail string
	// Author is the publication's author, nil for the site's author.
	Author *Author
	// VideoURL is the page of the video the publication presents
	// (embedVideoUrl turned into a watch URL), empty when none.
	VideoURL string
	// Enclosures are the audio and video files with their type and size.
	Enclosures []Enclosure

	// Data is the merged front matter (data cascade applied), for templates.
	Data map[string]any

	// Content is the body rendered to clean HTML with absolute URLs. It is
	// empty until Render has been called on the publication.
	Content string

	body     []byte         // the Markdown body, template syntax already handled
	bodyLine int            // the line of Source the body starts on
	lines    map[string]int // the line of each front-matter key
	rendered bool
	// root is the site URL's path without its final slash ("/sub"), ""
	// for a site at the root of its host: see underRoot.
	root string
}

// Image is a picture with its alternative text.
type Image struct {
	URL string
	Alt string
}

// Author is a person or organisation credited for a publication.
type Author struct {
	Name  string
	Email string
	URL   string
}

// Enclosure is a media file attached to a publication.
type Enclosure struct {
	URL    string
	Type   string // MIME type, e.g. "audio/mpeg"
	Length int64  // bytes; 0 when unknown
}

// Severity says whether a Diagnostic stops the file from being published.
type Severity int

const (
	// Warning is a problem that was worked around.
	Warning Severity = iota
	// Error is a problem that made the file be skipped.
	Error
)

// Diagnostic is a problem found in a file while loading.
type Diagnostic struct {
	Path     string // as given to the user: the content folder joined with Source
	Line     int    // 1-based; 0 when the problem is about the whole file
	Severity Severity
	Message  string
}

// String formats the diagnostic as "path:line: message", the form editors
// and CI tools recognise.
func (d Diagnostic) String() string {
	level := "warning"
	if d.Severity == Error {
		level = "error"
	}
	path, msg := printable(d.Path), printable(d.Message)
	if d.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", path, d.Line, level, msg)
	}
	return fmt.Sprintf("%s: %s: %s", path, level, msg)
}

// printable escapes what a terminal or a log would not show as it is —
// control characters (line breaks, escape sequences), line and paragraph
// separators, bidirectional overrides, and bytes that are not UTF-8 — as
// Go writes them in strings ("\n", "\x1b", "\u202e"), so that a file
// named "a\nb.md" gives one diagnostic on one line that reads as it is.
func printable(s string) string {
	if !strings.ContainsFunc(s, needsEscape) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case needsEscape(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// needsEscape reports whether printable escapes r.
func needsEscape(r rune) bool {
	switch {
	case r == '\t':
		return false
	case r == utf8.RuneError, unicode.IsControl(r), unicode.In(r, unicode.Zl, unicode.Zp):
		return true
	}
	return '\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069' // bidi embeddings, overrides, isolates
}
