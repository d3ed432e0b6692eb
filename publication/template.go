package publication

import (
	"bytes"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// templateIssue is a problem found in template syntax, at a body line.
type templateIssue struct {
	line int
	msg  string
}

// vars looks a dotted template variable up ("image", "metadata.feed.url").
type vars func(path []string) (any, bool)

// videoLink describes the link that replaces an embedded video.
type videoLink struct {
	thumbnail string // URL as written (made absolute later), may be empty
	title     string
	lang      string
}

// expandTemplates removes the Nunjucks/Liquid syntax that Eleventy would have
// run: {{ var }} becomes the variable's value, video shortcodes become links,
// comments and raw blocks are honoured, every other tag is removed with an
// issue. firstLine is the file line of src's first line.
func expandTemplates(src []byte, firstLine int, lookup vars, video videoLink) ([]byte, []templateIssue) {
	if !bytes.Contains(src, []byte("{{")) && !bytes.Contains(src, []byte("{%")) && !bytes.Contains(src, []byte("{#")) {
		return src, nil
	}
	var out bytes.Buffer
	out.Grow(len(src))
	var issues []templateIssue
	line := firstLine
	i := 0
	inRaw := false
	// unclosed remembers the delimiters with no closing one left, so that a
	// file full of "{%" costs one search, not one per opener.
	unclosed := map[byte]bool{}
	for i < len(src) {
		j := bytes.IndexByte(src[i:], '{')
		if j < 0 || i+j+1 >= len(src) {
			out.Write(src[i:])
			break
		}
		j += i
		out.Write(src[i:j])
		line += bytes.Count(src[i:j], []byte("\n"))
		open := src[j+1]
		closeDelim := ""
		switch open {
		case '{':
			closeDelim = "}}"
		case '%':
			closeDelim = "%}"
		case '#':
			closeDelim = "#}"
		}
		if closeDelim == "" || (inRaw && open != '%') || open == '#' && attributeBlock(src[j:]) {
			out.WriteByte('{')
			i = j + 1
			continue
		}
		end := -1
		if !unclosed[open] {
			end = bytes.Index(src[j+2:], []byte(closeDelim))
		}
		if end < 0 {
			unclosed[open] = true
			if inRaw || open == '#' {
				// A "{#" with no "#}" after it is no comment: text, such
				// as a heading's "{#id}".
				out.WriteString(string(src[j : j+2]))
			} else {
				issues = append(issues, templateIssue{line, fmt.Sprintf("unterminated %q: removed", string(src[j:j+2]))})
			}
			i = j + 2
			continue
		}
		inner := src[j+2 : j+2+end]
		next := j + 2 + end + 2
		tagLine := line
		line += bytes.Count(inner, []byte("\n"))
		expr := strings.TrimSpace(strings.Trim(strings.TrimSpace(string(inner)), "-"))
		switch open {
		case '#':
			// A comment: dropped.
		case '{':
			val, issue := evalExpr(expr, lookup)
			if issue != "" {
				issues = append(issues, templateIssue{tagLine, issue})
			}
			out.WriteString(val)
		case '%':
			name, args := splitTag(expr)
			switch {
			case inRaw && (name == "endraw" || name == "endverbatim"):
				inRaw = false
			case inRaw:
				out.Write(src[j:next])
			case name == "raw" || name == "verbatim":
				inRaw = true
			case name == "comment":
				// A comment block: dropped with what it holds, which is
				// often a note not meant for readers. Unterminated, the
				// rest of the body goes too (Eleventy would not build it).
				skip, ok := commentEnd(src, next)
				line += bytes.Count(src[next:skip], []byte("\n"))
				if !ok {
					issues = append(issues, templateIssue{tagLine, "{% comment %} without {% endcomment %}: the rest of the body is left out"})
				}
				next = skip
			case name == "youtube" || name == "dailymotion" || name == "vimeo":
				target := watchURL(name, unquote(args))
				if target == "" {
					issues = append(issues, templateIssue{tagLine, fmt.Sprintf("{%% %s %%} without a video id: removed", name)})
					break
				}
				out.WriteString(video.html(target))
			default:
				issues = append(issues, templateIssue{tagLine, fmt.Sprintf("template tag {%% %s %%} cannot be run: removed", shorten(expr))})
			}
		}
		i = next
	}
	return out.Bytes(), capIssues(issues)
}

// attributeBlock reports whether s, which starts with "{#", is an
// attribute block such as a heading's "{#contexte}" or "{#id .class}"
// (markdown-it-attrs, Pandoc) rather than a comment: an id right after
// the "#", and a "}" that closes it on the same line, with no "#}" first.
func attributeBlock(s []byte) bool {
	if len(s) < 4 || !(s[2] >= 'A' && s[2] <= 'Z' || s[2] >= 'a' && s[2] <= 'z' || s[2] == '_') {
		return false
	}
	for i := 3; i < len(s); i++ {
		switch s[i] {
		case '\n', '\r', '{':
			return false
		case '}':
			return s[i-1] != '#'
		}
	}
	return false
}

// commentEnd returns where the text after the {% endcomment %} that closes
// the comment block whose content starts at i ends (nested comment blocks
// count), and whether there is one; without one, the end of src.
func commentEnd(src []byte, i int) (int, bool) {
	depth := 1
	for {
		j := bytes.Index(src[i:], []byte("{%"))
		if j < 0 {
			return len(src), false
		}
		j += i
		k := bytes.Index(src[j+2:], []byte("%}"))
		if k < 0 {
			return len(src), false
		}
		end := j + 2 + k + 2
		name, _ := splitTag(strings.TrimSpace(strings.Trim(strings.TrimSpace(string(src[j+2:j+2+k])), "-")))
		switch name {
		case "comment":
			depth++
		case "endcomment":
			if depth--; depth == 0 {
				return end, true
			}
		}
		i = end
	}
}

// maxIssues bounds the template warnings of one file.
const maxIssues = 20

func capIssues(issues []templateIssue) []templateIssue {
	if len(issues) <= maxIssues {
		return issues
	}
	more := len(issues) - maxIssues
	issues = issues[:maxIssues:maxIssues]
	return append(issues, templateIssue{issues[maxIssues-1].line, fmt.Sprintf("%d more template problems in this file", more)})
}

func splitTag(expr string) (name, args string) {
	name, args, _ = strings.Cut(expr, " ")
	return name, strings.TrimSpace(args)
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if first, _, ok := strings.Cut(s, ","); ok && !strings.HasPrefix(s, "\"") && !strings.HasPrefix(s, "'") {
		s = first
	}
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') {
		if k := strings.IndexByte(s[1:], s[0]); k >= 0 {
			return s[1 : k+1]
		}
	}
	return s
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		cut := 57
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return s[:cut] + "..."
	}
	return s
}

// filters that keep the value as it is for our purpose.
var neutralFilters = map[string]bool{"safe": true, "url": true, "escape": true, "e": true, "trim": true, "striptags": true, "absoluteUrl": true, "htmlBaseUrl": true}

// evalExpr evaluates a {{ }} expression: a dotted variable, optionally a
// quoted literal, with filters. It returns the text and an issue, if any.
func evalExpr(expr string, lookup vars) (string, string) {
	parts := strings.Split(expr, "|")
	head := strings.TrimSpace(parts[0])
	var val string
	switch {
	case head == "":
		return "", "empty {{ }}: removed"
	case head[0] == '"' || head[0] == '\'':
		val = unquote(head)
	default:
		v, ok := lookup(strings.Split(head, "."))
		if !ok {
			return "", fmt.Sprintf("unknown variable {{ %s }}: removed", shorten(expr))
		}
		s, ok := scalarString(v)
		if !ok {
			return "", fmt.Sprintf("{{ %s }} is not a text value: removed", shorten(expr))
		}
		val = s
	}
	for _, f := range parts[1:] {
		name, _, _ := strings.Cut(strings.TrimSpace(f), "(")
		name = strings.TrimSpace(name)
		switch {
		case neutralFilters[name]:
		case name == "slug" || name == "slugify":
			val = Slug(val)
		case name == "upper":
			val = strings.ToUpper(val)
		case name == "lower":
			val = strings.ToLower(val)
		default:
			return val, fmt.Sprintf("filter %q in {{ %s }} cannot be run: value used as it is", name, shorten(expr))
		}
	}
	return val, ""
}

// scalarString formats a front-matter scalar for insertion in text.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "", true
	}
	return "", false
}

// watchURL turns a video id, an embed URL or a watch URL into the URL of the
// video's page on its platform. kind is youtube, dailymotion, vimeo or "".
func watchURL(kind, v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if !strings.Contains(v, "/") && !strings.Contains(v, ":") {
		switch kind {
		case "youtube":
			return "https://www.youtube.com/watch?v=" + url.QueryEscape(v)
		case "dailymotion":
			return "https://www.dailymotion.com/video/" + url.PathEscape(v)
		case "vimeo":
			return "https://vimeo.com/" + url.PathEscape(v)
		}
		return ""
	}
	if strings.HasPrefix(v, "//") {
		v = "https:" + v
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return v
	}
	host := strings.TrimPrefix(strings.ToLower(u.Host), "www.")
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	last := segs[len(segs)-1]
	switch {
	case (host == "youtube.com" || host == "youtube-nocookie.com") && len(segs) >= 2 && segs[0] == "embed":
		return "https://www.youtube.com/watch?v=" + url.QueryEscape(last)
	case host == "youtu.be" && last != "":
		return "https://www.youtube.com/watch?v=" + url.QueryEscape(last)
	case host == "dailymotion.com" && len(segs) >= 3 && segs[0] == "embed" && segs[1] == "video":
		return "https://www.dailymotion.com/video/" + url.PathEscape(last)
	case host == "geo.dailymotion.com" && u.Query().Get("video") != "":
		return "https://www.dailymotion.com/video/" + url.PathEscape(u.Query().Get("video"))
	case host == "player.vimeo.com" && len(segs) >= 2 && segs[0] == "video":
		return "https://vimeo.com/" + url.PathEscape(last)
	}
	u.RawQuery = stripAutoplay(u.Query())
	return u.String()
}

func stripAutoplay(q url.Values) string {
	q.Del("autoplay")
	return q.Encode()
}

// label is the text of the link that stands for a video, in the
// publication's language.
func (v videoLink) label() string {
	label := "Regarder la vidéo"
	if strings.HasPrefix(v.lang, "en") {
		label = "Watch the video"
	}
	if v.title != "" {
		label += " : " + v.title
		if strings.HasPrefix(v.lang, "en") {
			label = strings.Replace(label, " : ", ": ", 1)
		}
	}
	return label
}

// markdown writes the link that stands for a video as Markdown, for the
// start of a body: Markdown links cost a fraction of raw HTML, which is
// matched by regular expressions and then sanitised. It returns false when
// a URL holds a character that Markdown would read in its own way (the
// caller then uses html).
func (v videoLink) markdown(target string) (string, bool) {
	if !plainDestination(target) || !plainDestination(v.thumbnail) {
		return "", false
	}
	var b strings.Builder
	label := strings.Join(strings.Fields(v.label()), " ")
	b.WriteByte('[')
	if v.thumbnail != "" {
		b.WriteString("![")
		mdEscape(&b, label)
		b.WriteString("](<" + v.thumbnail + ">)")
	} else {
		mdEscape(&b, label)
	}
	b.WriteString("](<" + target + ">)")
	return b.String(), true
}

// plainDestination reports whether u can stand between < and > as a
// Markdown link destination and come out unchanged: no angle bracket,
// backslash, ampersand (entities) or white space.
func plainDestination(u string) bool {
	return !strings.ContainsAny(u, "<>\\& \t\r\n")
}

// mdEscape writes s with every ASCII punctuation character backslash-escaped
// and line breaks as spaces, so that Markdown reads it as literal text, or
// as a literal link destination between < and >.
func mdEscape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n' || c == '\r':
			b.WriteByte(' ')
			continue
		case c >= '!' && c <= '/', c >= ':' && c <= '@', c >= '[' && c <= '`', c >= '{' && c <= '~':
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
}

// html renders the link that stands for a video: the thumbnail when there is
// one, else a sentence.
func (v videoLink) html(target string) string {
	label := v.label()
	href := html.EscapeString(target)
	if v.thumbnail != "" {
		return fmt.Sprintf(`<a href="%s"><img src="%s" alt="%s"></a>`, href, html.EscapeString(v.thumbnail), html.EscapeString(label))
	}
	return fmt.Sprintf(`<a href="%s">%s</a>`, href, html.EscapeString(label))
}
