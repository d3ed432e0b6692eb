package publication

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	gmrenderer "github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	"golang.org/x/net/html"
)

// Render turns the Markdown bodies of the given publications into clean HTML
// with absolute URLs (Publication.Content), using every CPU. Publications
// already rendered are left as they are, so callers render only what some
// output includes.
func Render(ctx context.Context, pubs []*Publication) error {
	todo := make([]*Publication, 0, len(pubs))
	for _, p := range pubs {
		if !p.rendered {
			todo = append(todo, p)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	policy := newPolicy()
	workers := runtime.GOMAXPROCS(0)
	if workers > len(todo) {
		workers = len(todo)
	}
	var wg sync.WaitGroup
	next := make(chan *Publication, workers*4)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRenderer(policy)
			for p := range next {
				r.renderInto(p)
			}
		}()
	}
	var err error
	for _, p := range todo {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- p
	}
	close(next)
	wg.Wait()
	if err != nil {
		return fmt.Errorf("publication: render: %w", err)
	}
	return nil
}

// renderer holds one goroutine's Markdown engines and buffers. Markdown's
// own output is safe by construction (text escaped, URLs checked and made
// absolute in the AST); only the raw HTML that editors wrote goes through
// rewriteHTML and the bluemonday policy, fragment by fragment, which costs a
// fraction of sanitising whole documents.
type renderer struct {
	md        goldmark.Markdown // without bare-URL linkification
	mdLinkify goldmark.Markdown // with it, for bodies that hold a bare URL
	raw       *rawHTML
	mdBuf     bufWriter
}

// bufWriter is the util.BufWriter goldmark renders into: a bytes.Buffer
// written directly. Given a plain io.Writer, goldmark would allocate a
// bufio.Writer on every Render and copy everything through it.
type bufWriter struct{ bytes.Buffer }

// Buffered is what the buffer holds.
func (b *bufWriter) Buffered() int { return b.Len() }

// Flush does nothing: the bytes are in the buffer already.
func (b *bufWriter) Flush() error { return nil }

var _ util.BufWriter = (*bufWriter)(nil)

func newRenderer(policy *bluemonday.Policy) *renderer {
	raw := &rawHTML{policy: policy}
	build := func(linkify bool) goldmark.Markdown {
		exts := []goldmark.Extender{
			extension.Strikethrough,
			extension.TaskList,
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
		}
		if linkify {
			exts = append(exts, extension.Linkify)
		}
		return goldmark.New(
			goldmark.WithExtensions(exts...),
			goldmark.WithParserOptions(
				parser.WithAutoHeadingID(),
				// "## Contexte {#contexte}" (markdown-it-attrs, Pandoc):
				// the id is kept, every other attribute dropped (Transform).
				parser.WithHeadingAttribute(),
				parser.WithASTTransformers(util.Prioritized(raw, 100)),
			),
			goldmark.WithRendererOptions(gmrenderer.WithNodeRenderers(util.Prioritized(raw, 100)), textWriterOption()),
		)
	}
	return &renderer{md: build(false), mdLinkify: build(true), raw: raw}
}

// linkifyMarks are what any text GFM's extended autolinks turn into a
// link holds: goldmark's Linkify reads "http://", "https://", "ftp://",
// "www." and e-mail addresses.
var linkifyMarks = [][]byte{[]byte("://"), []byte("www."), []byte("@")}

// mayLinkify reports whether b may hold a bare URL or e-mail address that
// GFM's extended autolinks would turn into a link.
func mayLinkify(b []byte) bool {
	for _, m := range linkifyMarks {
		if bytes.Contains(b, m) {
			return true
		}
	}
	return false
}

// renderInto renders p's body into p.Content and drops the source.
func (r *renderer) renderInto(p *Publication) {
	p.Content = r.render(p)
	p.body = nil
	p.rendered = true
}

// render turns p's body into clean HTML. Bare URLs become links (GFM's
// extended autolinks), but goldmark's Linkify costs a fifth of the parse
// and most bodies hold URLs only in link destinations. So the body is
// parsed without it, and again with it only when some text of the result
// holds what Linkify would read (Transform notes it).
func (r *renderer) render(p *Publication) string {
	r.mdBuf.Reset()
	r.raw.base, _ = url.Parse(p.URL)
	r.raw.root = p.root
	r.raw.lang = p.Lang
	r.raw.unsure = false
	md := r.md
	doc := r.parse(md, p.body)
	if r.raw.bareText {
		md = r.mdLinkify
		doc = r.parse(md, p.body)
	}
	if err := md.Renderer().Render(&r.mdBuf, p.body, doc); err != nil {
		// goldmark only fails on writer errors, which a bytes.Buffer has none of.
		return ""
	}
	out := strings.TrimSpace(r.mdBuf.String())
	if r.raw.unsure && !balancedHTML(out) {
		out = balanceHTML(out)
	}
	return out
}

// parse parses a body with md, with fresh heading ids.
func (r *renderer) parse(md goldmark.Markdown, body []byte) ast.Node {
	ctx := parser.NewContext(parser.WithIDs(&headingIDs{seen: map[string]bool{}}))
	return md.Parser().Parse(text.NewReader(body), parser.WithContext(ctx))
}

// rawHTML makes the URLs of Markdown links and images absolute (an AST
// transformer) and renders the raw HTML of a body cleaned (a node renderer).
// It holds the document being rendered, so each goroutine has its own.
type rawHTML struct {
	policy *bluemonday.Policy
	base   *url.URL
	root   string // the site's path, see underRoot
	lang   string
	buf    bytes.Buffer
	out    bytes.Buffer
	san    bytes.Buffer
	// unsure is set when a fragment of raw HTML was not self-contained, so
	// that the whole document must be checked (see balancedHTML).
	unsure bool
	// raws are the inline raw HTML nodes of the document, in order.
	raws []*ast.RawHTML
	// bareText is set when a text of the document holds one of
	// linkifyMarks, for render.
	bareText bool
}

// parseableAbs reports whether u is an absolute URL that parses, with one
// of the schemes the sanitising policy allows (http and https with a host):
// resolveURL leaves what does not parse ("%", "1:2") as it is, and a
// Markdown link or autolink may name any scheme ("<ftp:x>"); no reader
// could follow those, and raw HTML with them is dropped by the policy too.
func parseableAbs(u string) bool {
	v, err := url.Parse(u)
	return err == nil && allowedAbs(v)
}

// validHost reports whether u has a host a reader could look up: a name
// made of letters, digits, "-", "." and "_", or an IP address. url.Parse
// also takes characters such as `"`, "<" and ">" in a host.
func validHost(u *url.URL) bool {
	h := u.Hostname()
	if h == "" {
		return false
	}
	if strings.HasPrefix(u.Host, "[") {
		return true // an IPv6 address, which url.Parse checked
	}
	for _, r := range h {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) && r != '-' && r != '.' && r != '_' {
			return false
		}
	}
	return true
}

// allowedAbs is parseableAbs for a parsed URL.
func allowedAbs(v *url.URL) bool {
	if !v.IsAbs() {
		return false
	}
	switch strings.ToLower(v.Scheme) {
	case "http", "https":
		return validHost(v)
	case "mailto", "tel":
		return true
	}
	return false
}

// resolveLink is resolveURL for a Markdown link or image destination, and
// whether a reader may follow the result: not an unsafeURL, and
// parseableAbs. It leaves out resolveURL's last step (toURI): goldmark's
// renderer escapes the destination, which still holds its backslash
// escapes ("Bloatware\)"). It parses the destination once: a site-absolute path
// resolves against the page's http(s) URL without parsing, and an
// absolute URL is checked as parsed.
func resolveLink(base *url.URL, ref string) (string, bool) {
	if unsafeURL(ref) {
		return "", false
	}
	if base == nil {
		dest := resolveURL(base, ref)
		return dest, parseableAbs(dest)
	}
	ref = strings.TrimSpace(ref)
	httpBase := (base.Scheme == "https" || base.Scheme == "http") && validHost(base) && base.Opaque == "" && base.User == nil
	if plainRootPath(ref) && base.Opaque == "" && base.User == nil {
		dest := base.Scheme + "://" + base.Host + ref
		if httpBase {
			return dest, true
		}
		return dest, parseableAbs(dest)
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref, false // resolveURL keeps it as is, and it does not parse
	}
	if u.IsAbs() {
		return ref, allowedAbs(u)
	}
	dest := base.ResolveReference(u).String()
	if httpBase && plainRelative(ref) {
		return dest, true
	}
	return dest, parseableAbs(dest)
}

// plainRelative reports a relative reference made only of characters that
// need no escaping and no scheme, query or fragment ("../a/", "b.png").
func plainRelative(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/' || c == '~') {
			return false
		}
	}
	return s[0] != '/'
}

// Transform rewrites link and image destinations against the document's
// URL and unlinks those with a dangerous scheme.
func (h *rawHTML) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	source := reader.Source()
	var unlink []ast.Node
	h.raws = h.raws[:0]
	h.bareText = false
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch x := n.(type) {
		case *ast.Text:
			if !h.bareText && mayLinkify(x.Segment.Value(source)) {
				h.bareText = true
			}
		case *ast.String:
			if !h.bareText && mayLinkify(x.Value) {
				h.bareText = true
			}
		case *ast.RawHTML:
			h.raws = append(h.raws, x)
		case *ast.Heading:
			// Of "{#id .class style=…}", only a plain id stays. Most
			// headings have just their generated id: left as they are.
			if attrs := x.Attributes(); len(attrs) > 1 || len(attrs) == 1 && !(string(attrs[0].Name) == "id" && isPlainID(attrs[0].Value)) {
				id, ok := x.AttributeString("id")
				x.RemoveAttributes()
				if ok && isPlainID(id) {
					x.SetAttributeString("id", id)
				}
			}
		case *ast.Link:
			dest, ok := resolveLink(h.base, underRoot(h.root, string(x.Destination)))
			if !ok {
				unlink = append(unlink, x)
				break
			}
			x.Destination = []byte(dest)
		case *ast.Image:
			dest, ok := resolveLink(h.base, underRoot(h.root, string(x.Destination)))
			if !ok {
				unlink = append(unlink, x)
				break
			}
			x.Destination = []byte(dest)
		case *ast.AutoLink:
			u := string(x.URL(source))
			if x.AutoLinkType == ast.AutoLinkEmail {
				u = "mailto:" + u // as goldmark renders it
			}
			if unsafeURL(u) || !parseableAbs(u) {
				unlink = append(unlink, x)
			}
		}
		return ast.WalkContinue, nil
	})
	h.dropSkippedContent(source)
	for _, n := range unlink {
		parent := n.Parent()
		if parent == nil {
			continue
		}
		if al, ok := n.(*ast.AutoLink); ok {
			parent.ReplaceChild(parent, n, ast.NewString(al.Label(source)))
			continue
		}
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, n, c)
			c = next
		}
		parent.RemoveChild(parent, n)
	}
}

// dropSkippedContent removes the Markdown nodes that stand between an inline
// raw tag opening an element whose content is dropped (<script>, <style>,
// <iframe>, …) and its closing tag, as a whole-document sanitiser would.
func (h *rawHTML) dropSkippedContent(source []byte) {
	for _, raw := range h.raws {
		if raw.Parent() == nil {
			continue // already removed as the content of an earlier one
		}
		frag := rawValue(raw, source)
		if !mayOpenSkipped(frag) {
			continue
		}
		name := skippedAtEnd(frag)
		if name == "" {
			continue
		}
		for sib := raw.NextSibling(); sib != nil; {
			if r, ok := sib.(*ast.RawHTML); ok && bytes.Contains(bytes.ToLower(rawValue(r, source)), []byte("</"+name)) {
				break
			}
			next := sib.NextSibling()
			raw.Parent().RemoveChild(raw.Parent(), sib)
			sib = next
		}
	}
}

func rawValue(n *ast.RawHTML, source []byte) []byte {
	var b []byte
	for i := 0; i < n.Segments.Len(); i++ {
		seg := n.Segments.At(i)
		b = append(b, seg.Value(source)...)
	}
	return b
}

// skippedNames are the elements whose content rewriteHTML drops.
var skippedNames = func() [][]byte {
	names := [][]byte{[]byte("iframe")}
	for n := range droppedElems {
		names = append(names, []byte(n))
	}
	return names
}()

// mayOpenSkipped reports whether frag may hold a start tag of an element
// whose content is dropped: a cheap test on the bytes, true for every
// fragment where the HTML tokenizer would find one (and for some others),
// which spares tokenizing the common fragments.
func mayOpenSkipped(frag []byte) bool {
	for i := bytes.IndexByte(frag, '<'); i >= 0; {
		j := i + 1
		for j < len(frag) && (frag[j]|0x20 >= 'a' && frag[j]|0x20 <= 'z' || frag[j] >= '0' && frag[j] <= '9') {
			j++
		}
		for _, n := range skippedNames {
			if bytes.EqualFold(frag[i+1:j], n) {
				return true
			}
		}
		k := bytes.IndexByte(frag[j:], '<')
		if k < 0 {
			break
		}
		i = j + k
	}
	return false
}

// skippedAtEnd returns the element whose content rewriteHTML would still be
// dropping at the end of frag, or "".
func skippedAtEnd(frag []byte) string {
	z := html.NewTokenizer(bytes.NewReader(frag))
	skip := ""
	for {
		switch z.Next() {
		case html.ErrorToken:
			return skip
		case html.StartTagToken:
			name, _ := z.TagName()
			if skip == "" && (droppedElems[string(name)] || string(name) == "iframe") {
				skip = string(name)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if string(name) == skip {
				skip = ""
			}
		}
	}
}

// RegisterFuncs renders raw HTML, inline and in blocks, through rewriteHTML
// and the bluemonday policy.
func (h *rawHTML) RegisterFuncs(reg gmrenderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, h.renderInline)
	reg.Register(ast.KindHTMLBlock, h.renderBlock)
}

func (h *rawHTML) renderInline(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.RawHTML)
	h.buf.Reset()
	for i := 0; i < n.Segments.Len(); i++ {
		seg := n.Segments.At(i)
		h.buf.Write(seg.Value(source))
	}
	h.clean(w, true)
	return ast.WalkSkipChildren, nil
}

func (h *rawHTML) renderBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.HTMLBlock)
	h.buf.Reset()
	for i := 0; i < n.Lines().Len(); i++ {
		line := n.Lines().At(i)
		h.buf.Write(line.Value(source))
	}
	if n.HasClosure() {
		h.buf.Write(n.ClosureLine.Value(source))
	}
	h.clean(w, false)
	return ast.WalkContinue, nil
}

// clean writes the raw HTML collected in h.buf, rewritten and sanitised,
// and notes whether the document needs checking for balance.
func (h *rawHTML) clean(w util.BufWriter, inline bool) {
	h.out.Reset()
	rewriteHTML(&h.out, h.buf.Bytes(), h.base, h.root, h.lang)
	h.san.Reset()
	_ = h.policy.SanitizeReaderToWriter(bytes.NewReader(h.out.Bytes()), &h.san)
	if !h.unsure && !selfContained(h.san.Bytes(), inline) {
		h.unsure = true
	}
	_, _ = w.Write(h.san.Bytes())
}

var languageClass = regexp.MustCompile(`^language-[\w+#.-]+$`)

// newPolicy is the allow-list applied after rewriting: structure, text,
// tables, figures, media, and links with safe schemes. No style, no script,
// no event handler, no iframe, no form.
func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowURLSchemes("http", "https", "mailto", "tel")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(true)
	p.AllowElements("p", "br", "hr", "strong", "em", "b", "i", "u", "s", "del", "ins", "sub", "sup",
		"code", "pre", "kbd", "samp", "var", "mark", "small", "cite", "span", "div", "section",
		"article", "aside", "header", "footer", "figure", "figcaption", "details", "summary",
		"ul", "ol", "li", "dl", "dt", "dd", "blockquote", "q", "abbr", "time", "picture",
		"table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col")
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^[\p{L}\p{N}_:.-]+$`)).OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowElements("h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("title").Globally()
	p.AllowAttrs("lang", "dir").Globally()
	p.AllowAttrs("hreflang").OnElements("a")
	p.AllowAttrs("src", "alt", "width", "height", "srcset", "sizes", "loading").OnElements("img")
	p.AllowAttrs("srcset", "media", "type", "src").OnElements("source")
	p.AllowAttrs("src", "poster", "controls", "preload", "width", "height").OnElements("video")
	p.AllowAttrs("src", "controls", "preload").OnElements("audio")
	p.AllowElements("audio", "video", "source")
	p.AllowAttrs("cite").OnElements("blockquote", "q", "del", "ins")
	p.AllowAttrs("datetime").OnElements("time", "del", "ins")
	p.AllowAttrs("start", "reversed", "type").OnElements("ol")
	p.AllowAttrs("colspan", "rowspan", "scope", "align").OnElements("th", "td")
	p.AllowAttrs("span").OnElements("col", "colgroup")
	p.AllowAttrs("open").OnElements("details")
	p.AllowAttrs("class").Matching(languageClass).OnElements("code")
	p.AllowAttrs("checked", "disabled", "type").OnElements("input")
	p.AllowElements("input")
	return p
}

// urlAttrs are the attributes whose value is one URL.
var urlAttrs = map[string]bool{"href": true, "src": true, "poster": true, "cite": true, "data": true, "action": true, "formaction": true, "background": true, "longdesc": true, "usemap": true, "xlink:href": true}

// dropped elements are removed with their content. A <button> is not: the
// sanitising policy removes the tag and keeps its text, which on real
// sites is often a heading's (DSFR accordions: <h2><button>Sources</button>).
var droppedElems = map[string]bool{"script": true, "style": true, "noscript": true, "template": true, "object": true, "applet": true, "form": true, "select": true, "textarea": true, "link": true, "meta": true, "base": true}

// voidElems are dropped elements that have no end tag, hence no content.
var voidElems = map[string]bool{"link": true, "meta": true, "base": true}

// rewriteHTML copies an HTML fragment to w with every relative URL made
// absolute against base, iframes and embeds turned into links to what they
// showed, and style, script, event handlers and javascript: URLs removed.
func rewriteHTML(w *bytes.Buffer, src []byte, base *url.URL, root, lang string) {
	z := html.NewTokenizer(bytes.NewReader(src))
	skip := "" // the element whose content is being dropped
	for {
		tt := z.Next()
		if tt == html.SelfClosingTagToken {
			// The tokenizer reads what follows <iframe/>, <script/>… as raw
			// text; the sanitizer, which never sees those tags, would read it
			// as markup whose URLs were not rewritten.
			z.NextIsNotRawText()
		}
		switch tt {
		case html.ErrorToken:
			return
		case html.CommentToken, html.DoctypeToken:
			continue
		case html.TextToken:
			if skip == "" {
				w.Write(z.Raw())
			}
			continue
		case html.EndTagToken:
			name, _ := z.TagName()
			if skip != "" {
				if string(name) == skip {
					skip = ""
				}
				continue
			}
			if droppedElems[string(name)] || string(name) == "iframe" || string(name) == "embed" {
				continue
			}
			w.Write(z.Raw())
			continue
		}
		if skip != "" {
			continue
		}
		tok := z.Token()
		switch {
		case tok.Data == "iframe" || tok.Data == "embed":
			src := attr(tok, "src")
			if tt == html.StartTagToken && tok.Data == "iframe" {
				skip = "iframe"
			}
			target := watchURL("", src)
			if target == "" || unsafeURL(target) {
				continue
			}
			label := attr(tok, "title")
			if label == "" {
				label = "Voir le contenu intégré"
				if strings.HasPrefix(lang, "en") {
					label = "View the embedded content"
				}
			}
			w.WriteString(`<a href="`)
			w.WriteString(html.EscapeString(resolveURL(base, underRoot(root, target))))
			w.WriteString(`">`)
			w.WriteString(html.EscapeString(label))
			w.WriteString(`</a>`)
			continue
		case droppedElems[tok.Data]:
			if tt == html.StartTagToken && !voidElems[tok.Data] {
				skip = tok.Data
			}
			continue
		}
		attrs := tok.Attr[:0]
		for _, a := range tok.Attr {
			key := strings.ToLower(a.Key)
			switch {
			case key == "style" || strings.HasPrefix(key, "on") || key == "srcdoc" || key == "class" && tok.Data != "code":
				continue
			case key == "srcset":
				a.Val = rewriteSrcset(base, root, a.Val)
			case urlAttrs[key]:
				if unsafeURL(a.Val) {
					continue
				}
				a.Val = resolveURL(base, underRoot(root, a.Val))
				if unsafeURL(a.Val) { // "//\"" resolves to "https://\""
					continue
				}
			}
			attrs = append(attrs, a)
		}
		tok.Attr = attrs
		w.WriteString(tok.String())
	}
}

func attr(t html.Token, key string) string {
	for _, a := range t.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

// unsafeURL reports a URL that runs code or embeds a document, or an
// http(s) URL without a host ("https:x"), which each reader would resolve
// in its own way, or with a host no name has ("https://\"", which comes
// out as "https://%22", a URL that does not parse).
func unsafeURL(v string) bool {
	s := strings.ToLower(strings.Map(func(r rune) rune {
		if r <= ' ' {
			return -1
		}
		return r
	}, v))
	if strings.HasPrefix(s, "http:") || strings.HasPrefix(s, "https:") {
		u, err := url.Parse(strings.TrimSpace(v))
		return err == nil && !validHost(u)
	}
	return strings.HasPrefix(s, "javascript:") || strings.HasPrefix(s, "vbscript:") || strings.HasPrefix(s, "data:") && !strings.HasPrefix(s, "data:image/")
}

// rewriteSrcset makes every URL of a srcset list absolute, and drops the
// candidates whose URL is not then an http(s) URL that parses: the
// sanitising policy checks src, not srcset, and resolveURL leaves what
// does not parse ("%0è") as it is. The list is split as browsers do
// (HTML's "parse a srcset attribute"): a URL runs to the next space, so
// "data:a,b 2x" is one candidate, and descriptors run to the next comma.
func rewriteSrcset(base *url.URL, root, v string) string {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
	var out []string
	for i := 0; i < len(v); {
		for i < len(v) && (isSpace(v[i]) || v[i] == ',') {
			i++
		}
		start := i
		for i < len(v) && !isSpace(v[i]) {
			i++
		}
		ref := v[start:i]
		var desc string
		if trimmed := strings.TrimRight(ref, ","); trimmed != ref {
			ref = trimmed // "a.png," has no descriptors
		} else {
			start, paren := i, false
			for ; i < len(v) && (paren || v[i] != ','); i++ {
				switch v[i] {
				case '(':
					paren = true
				case ')':
					paren = false
				}
			}
			desc = strings.Join(strings.Fields(v[start:i]), " ")
		}
		if ref == "" || unsafeURL(ref) || !srcsetDescriptors(desc) {
			continue
		}
		ref = resolveURL(base, underRoot(root, ref))
		if u, err := url.Parse(ref); err != nil || !allowedAbs(u) || u.Scheme != "http" && u.Scheme != "https" {
			continue
		}
		// A comma in a URL is escaped: readers that split the list on
		// commas, as many do, then read the same URLs.
		ref = strings.ReplaceAll(ref, ",", "%2C")
		if desc != "" {
			ref += " " + desc
		}
		out = append(out, ref)
	}
	return strings.Join(out, ", ")
}

// srcsetDescriptors reports whether the descriptors of a srcset candidate
// are ones browsers take: none, or a width ("480w"), a density ("1.5x")
// and a future-compatible height ("300h"); browsers drop the others.
func srcsetDescriptors(desc string) bool {
	if desc == "" {
		return true
	}
	for _, d := range strings.Split(desc, " ") {
		n, unit := d[:len(d)-1], d[len(d)-1]
		switch unit {
		case 'w', 'h':
			if v, err := strconv.Atoi(n); err != nil || v <= 0 || n[0] == '+' {
				return false
			}
		case 'x':
			if v, err := strconv.ParseFloat(n, 64); err != nil || v < 0 || n[0] == '+' || strings.ContainsAny(n, "xXnNiI_") {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// headingIDs gives headings readable, unique ids made with Slug, so that
// accented titles keep their letters ("Séance" → "seance").
type headingIDs struct {
	seen map[string]bool
	next map[string]int // the next suffix to try for a base id
}

// Generate returns a new id for a heading's text.
func (h *headingIDs) Generate(value []byte, _ ast.NodeKind) []byte {
	base := Slug(string(value))
	if base == "" {
		base = "section"
	}
	id := base
	if h.seen[id] {
		if h.next == nil {
			h.next = map[string]int{}
		}
		i := h.next[base]
		for i++; h.seen[base+"-"+strconv.Itoa(i)]; i++ {
		}
		h.next[base] = i
		id = base + "-" + strconv.Itoa(i)
	}
	h.seen[id] = true
	return []byte(id)
}

// Put records an id written by hand so that generated ones avoid it.
func (h *headingIDs) Put(value []byte) { h.seen[string(value)] = true }

// isPlainID is plainID for an attribute value, which is []byte when
// goldmark parsed it.
func isPlainID(v any) bool {
	b, ok := v.([]byte)
	return ok && plainID(b)
}

// plainID reports an id made of letters, digits, "-", "_", ":" and "."
// (HTML5 allows ids to start with a digit; generated ones such as
// "1-remise-en-etat" do).
func plainID(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_:.", r) {
			return false
		}
	}
	return true
}
