package publication

import (
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// PermalinkRule gives the files whose source path matches Pattern (a glob
// relative to the content folder, "**" matching any number of folders) a URL
// built from Permalink, where :slug, :title, :year, :month, :day, :path and
// :dir are replaced.
type PermalinkRule struct {
	Pattern   string
	Permalink string
}

// Slug turns a name into a URL-friendly form: lower case, accents folded,
// anything but letters and digits turned into single dashes. Letters of
// non-Latin scripts are kept (they are percent-encoded in URLs).
func Slug(s string) string {
	if out, ok := slugFast(s); ok {
		return out
	}
	return slugNFD(s)
}

// slugNFD is Slug on the canonical decomposition of s.
func slugNFD(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	dash := false
	for _, r := range norm.NFD.String(s) {
		dash = slugRune(&b, r, dash)
	}
	return strings.TrimRight(b.String(), "-")
}

// slugRune writes what Slug makes of one rune of a decomposed string: its
// letters, lower case, or a dash after letters (dash tells whether the
// last byte written is one); combining marks are dropped. It returns the
// new dash.
func slugRune(b *strings.Builder, r rune, dash bool) bool {
	switch {
	case unicode.Is(unicode.Mn, r):
		return dash
	case r == 'œ' || r == 'Œ':
		b.WriteString("oe")
	case r == 'æ' || r == 'Æ':
		b.WriteString("ae")
	case r == 'ß':
		b.WriteString("ss")
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		b.WriteRune(unicode.ToLower(r))
	default:
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			return true
		}
		return dash
	}
	return false
}

// slugTableSize bounds the runes slugFast knows: Latin-1, Latin
// Extended-A and B, where French and most European titles live.
const slugTableSize = 0x250

// slugTable gives, for each rune below slugTableSize, what slugNFD makes of
// it alone: the letters it becomes, "-" for a separator, "" for nothing
// (never: no rune of the range decomposes to marks only), or "?" when it
// mixes both and only slugNFD can say. Built once from slugNFD, read only.
var slugTable = func() [slugTableSize]string {
	var t [slugTableSize]string
	for r := rune(0); r < slugTableSize; r++ {
		out := slugNFD("a" + string(r) + "a")
		switch {
		case out == "a-a":
			t[r] = "-"
		case len(out) > 2 && !strings.Contains(out[1:len(out)-1], "-"):
			t[r] = out[1 : len(out)-1]
		default:
			t[r] = "?"
		}
	}
	return t
}()

// slugFast is Slug without decomposing the string: the runes below
// slugTableSize are looked up in slugTable, the others that NFD leaves
// alone are read as they are; false when s holds a rune NFD would
// decompose, or invalid UTF-8, for slugNFD to do.
func slugFast(s string) (string, bool) {
	var b strings.Builder
	b.Grow(len(s))
	dash := false
	var enc [utf8.UTFMax]byte
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			return "", false // invalid UTF-8: as NFD reads it, whatever that is
		}
		if r >= slugTableSize {
			// A rune NFD leaves alone is read as slugNFD reads it.
			if !norm.NFD.IsNormal(utf8.AppendRune(enc[:0], r)) {
				return "", false
			}
			dash = slugRune(&b, r, dash)
			continue
		}
		switch m := slugTable[r]; m {
		case "?", "":
			return "", false
		case "-":
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		default:
			b.WriteString(m)
			dash = false
		}
	}
	return strings.TrimRight(b.String(), "-"), true
}

// fileSlug is Eleventy's page.fileSlug: the file name without extension and
// without a date before it (2026-01-01-hello.md → hello), or the folder
// name, also without its date, for an index file.
func fileSlug(source string) string {
	base := path.Base(source)
	name := stripDate(strings.TrimSuffix(base, path.Ext(base)))
	if name == "index" {
		dir := path.Dir(source)
		if dir == "." {
			return ""
		}
		return stripDate(path.Base(dir))
	}
	return name
}

// stripDate removes what Eleventy's TemplateFileSlug removes from a name:
// everything up to the first "YYYY-MM-DD-" in it, wherever it is
// ("2026-01-01-hello" and "n1-2026-01-01-hello" are "hello").
func stripDate(name string) string {
	for i := 0; i+isoDateLen < len(name); i++ {
		if isISODate(name[i:]) && name[i+isoDateLen] == '-' {
			return name[i+isoDateLen+1:]
		}
	}
	return name
}

// defaultPath is Eleventy's URL for a source file: a/b/c.md → /a/b/c/,
// a/b/index.md → /a/b/, unescaped. A file named as its folder is that
// folder's index, as Eleventy's TemplatePermalink has it: a/b/b.md → /a/b/.
// Dates stay in the URL (a/2026-01-01-c.md → /a/2026-01-01-c/), as they do
// in Eleventy's.
func defaultPath(source string) string {
	stem := strings.TrimSuffix(source, path.Ext(source))
	if base := path.Base(stem); base == "index" || base == path.Base(path.Dir(stem)) {
		stem = path.Dir(stem)
	}
	if stem == "." || stem == "" {
		return "/"
	}
	return "/" + stem + "/"
}

// expandPermalink fills a permalink pattern for one publication.
func expandPermalink(pattern, source, title string, date time.Time) string {
	def := defaultPath(source)
	dir := path.Dir(source)
	if dir == "." {
		dir = ""
	}
	r := strings.NewReplacer(
		":slug", fileSlug(source),
		":title", Slug(title),
		":year", date.Format("2006"),
		":month", date.Format("01"),
		":day", date.Format("02"),
		":path", strings.Trim(def, "/"),
		":dir", dir,
	)
	return r.Replace(pattern)
}

// encodePath normalises a site path: leading slash, no "//", each segment
// percent-encoded once (already-encoded segments are not encoded twice).
func encodePath(p string) (string, error) {
	if strings.ContainsAny(p, "?#") {
		return "", fmt.Errorf("permalink %q must not contain ? or #", p)
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		if s == "" && i != 0 && i != len(segs)-1 {
			continue
		}
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		// Checked once decoded: "%2e%2e" is ".." to every URL resolver.
		if s == "." || s == ".." {
			return "", fmt.Errorf("permalink %q must not contain . or .. segments", p)
		}
		out = append(out, url.PathEscape(s))
	}
	return strings.Join(out, "/"), nil
}

// matchGlob reports whether a slash-separated path matches a pattern where
// "*" matches within a segment and "**" matches any number of segments.
func matchGlob(pattern, name string) bool {
	return matchSegs(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			if len(pat) == 1 {
				return true
			}
			for i := 0; i <= len(name); i++ {
				if matchSegs(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], name[0]); err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// plainRootPath reports a path that starts with one "/" and holds only
// characters that need no escaping, no query, fragment or dot segment:
// resolving it changes nothing but the origin.
func plainRootPath(ref string) bool {
	if len(ref) < 2 || ref[0] != '/' || ref[1] == '/' {
		return false
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '~', c == '/':
		case c == '.':
			// "/./", "/../", or a trailing "/." or "/..": a dot segment.
			if ref[i-1] == '/' && (i+1 == len(ref) || ref[i+1] == '/' || ref[i+1] == '.' && (i+2 == len(ref) || ref[i+2] == '/')) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// underRoot puts a site-absolute path ("/img/a.png") under the site's own
// path when the site is not at the root of its host (root "/sub"), as
// Eleventy's HTML base plugin does, so that a link to "/guides/" reaches
// the page whose URL is site.url + "guides/"; a path already under root
// is kept as it is.
func underRoot(root, ref string) string {
	if root == "" {
		return ref
	}
	r := strings.TrimSpace(ref)
	if r == "" || r[0] != '/' || len(r) > 1 && (r[1] == '/' || r[1] == '\\') {
		return ref
	}
	if rest, ok := strings.CutPrefix(r, root); ok && (rest == "" || strings.ContainsRune("/?#", rune(rest[0]))) {
		return r
	}
	return root + r
}

// SiteRef makes ref, a link given in the configuration (the site's logo
// and icon, its author's page), absolute against siteURL as links in
// content are: a site-absolute path goes under the site's own path
// ("/img/logo.svg" on https://example.org/sub/ is
// https://example.org/sub/img/logo.svg). An empty ref stays empty, and a
// siteURL that does not parse leaves ref as it is.
func SiteRef(siteURL, ref string) string {
	if strings.TrimSpace(ref) == "" {
		return ""
	}
	base, err := url.Parse(siteURL)
	if err != nil {
		return ref
	}
	return resolveURL(base, underRoot(strings.TrimSuffix(base.EscapedPath(), "/"), ref))
}

// resolveURL makes ref absolute against base. It returns ref unchanged when
// it cannot be parsed, so that no content is lost. An empty ref is the base
// itself (RFC 3986), as it is for a browser on the page.
func resolveURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if base == nil {
		return ref
	}
	// The common case, a plain site-absolute path ("/img/a.png"), needs
	// no parsing: it resolves to the site's origin followed by the path.
	if plainRootPath(ref) && base.Opaque == "" && base.User == nil {
		return base.Scheme + "://" + base.Host + ref
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	if u.IsAbs() {
		return toURI(ref) // as written, its own escapes kept
	}
	return toURI(base.ResolveReference(u).String())
}

// toURI percent-encodes, after the host, the bytes a URI cannot hold
// (RFC 3986): spaces, controls, non-ASCII (RFC 3987's mapping of an IRI),
// and `"<>\^`{|}`. url.URL.String escapes the path and fragment but keeps
// the query and an absolute URL's odd bytes as they were given, which
// feed validators refuse ("https://cdn.example.org/épisode 1.mp3?a=b c").
func toURI(s string) string {
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + 3
		if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
			start += j
		} else {
			return s
		}
	}
	const hex = "0123456789ABCDEF"
	var b []byte
	for i := start; i < len(s); i++ {
		c := s[i]
		if c > ' ' && c < 0x7f && !strings.ContainsRune("\"<>\\^`{|}", rune(c)) {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = append(make([]byte, 0, len(s)+16), s[:i]...)
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	if b == nil {
		return s
	}
	return string(b)
}
