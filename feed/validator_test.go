package feed

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/publication"
)

// The rules below are those of the W3C Feed Validation Service
// (feedvalidator) that our feeds could break; each check names the
// validator message it guards against.

// node is an element as written: prefixes kept, not resolved.
type node struct {
	prefix, local string
	attrs         []xml.Attr
	children      []*node
	text          string
}

func (n *node) name() string {
	if n.prefix != "" {
		return n.prefix + ":" + n.local
	}
	return n.local
}

func (n *node) attr(name string) (string, bool) {
	for _, a := range n.attrs {
		full := a.Name.Local
		if a.Name.Space != "" {
			full = a.Name.Space + ":" + a.Name.Local
		}
		if full == name {
			return a.Value, true
		}
	}
	return "", false
}

func (n *node) all(name string) []*node {
	var out []*node
	for _, c := range n.children {
		if c.name() == name {
			out = append(out, c)
		}
	}
	return out
}

func (n *node) one(name string) *node {
	if all := n.all(name); len(all) > 0 {
		return all[0]
	}
	return nil
}

func (n *node) walk(fn func(*node)) {
	fn(n)
	for _, c := range n.children {
		c.walk(fn)
	}
}

// parseRaw parses a document into nodes and returns its processing
// instructions too.
func parseRaw(t *testing.T, doc string) (*node, []xml.ProcInst) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	var stack []*node
	var root *node
	var pis []xml.ProcInst
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{prefix: tok.Name.Space, local: tok.Name.Local, attrs: tok.Copy().Attr}
			if len(stack) == 0 {
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		case xml.ProcInst:
			pis = append(pis, tok.Copy())
		}
	}
	return root, pis
}

var (
	rfc822Re    = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d\d[03]0$`)
	emailNameRe = regexp.MustCompile(`^[A-Za-z0-9_.+'-]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+ \(.+\)$`)
	mimeRe      = regexp.MustCompile(`^[^\s()<>,;:\\"/\[\]?=]+/[^\s()<>,;:\\"/\[\]?=]+$`)
	urlAttrRe   = regexp.MustCompile(`(?i)\s(?:href|src)\s*=\s*"([^"]*)"`)
	unsafeRe    = regexp.MustCompile(`(?i)<(script|style|iframe|object|embed)\b|\son[a-z]+\s*=|\sstyle\s*=`)
)

func checkRFC822(t *testing.T, where, v string) {
	t.Helper()
	tm, err := time.Parse(time.RFC1123Z, v)
	if !rfc822Re.MatchString(v) || err != nil || tm.Format(time.RFC1123Z) != v {
		t.Errorf("%s: %q is not an RFC 822 date with a four-digit year and the right weekday (InvalidRFC2822Date)", where, v)
	}
}

func checkRFC3339(t *testing.T, where, v string) {
	t.Helper()
	if _, err := time.Parse(time.RFC3339, v); err != nil {
		t.Errorf("%s: %q is not RFC 3339 (InvalidRFC3339Date)", where, v)
	}
}

func checkAbsolute(t *testing.T, where, v string) {
	t.Helper()
	if u, err := url.Parse(v); err != nil || !u.IsAbs() {
		t.Errorf("%s: %q is not an absolute URI (InvalidFullLink)", where, v)
	}
}

func checkHTML(t *testing.T, where, html string) {
	t.Helper()
	if m := unsafeRe.FindString(html); m != "" {
		t.Errorf("%s: HTML holds %q (SecurityRisk)", where, m)
	}
	for _, m := range urlAttrRe.FindAllStringSubmatch(html, -1) {
		if u, err := url.Parse(m[1]); err != nil || !u.IsAbs() {
			t.Errorf("%s: relative URL %q in HTML (ContainsRelRef)", where, m[1])
		}
	}
	if msg := htmlParseProblem(html); msg != "" {
		t.Errorf("%s: %s (NotHtml: the validator parses content with html5lib in strict mode)", where, msg)
	}
}

// checkPrefixes checks that every prefix used is declared on the root with
// its standard namespace (UndeclaredPrefix, ReservedPrefix,
// MediaRssNamespace).
func checkPrefixes(t *testing.T, root *node, known map[string]string) {
	t.Helper()
	declared := map[string]string{}
	for _, a := range root.attrs {
		if a.Name.Space == "xmlns" {
			declared[a.Name.Local] = a.Value
		}
	}
	for p, uri := range declared {
		if want, ok := known[p]; !ok || want != uri {
			t.Errorf("prefix %s declared as %q, want %q", p, uri, want)
		}
	}
	root.walk(func(n *node) {
		if n.prefix != "" && declared[n.prefix] == "" {
			t.Errorf("element %s uses an undeclared prefix", n.name())
		}
		for _, a := range n.attrs {
			if s := a.Name.Space; s != "" && s != "xmlns" && s != "xml" && declared[s] == "" {
				t.Errorf("attribute %s:%s uses an undeclared prefix", s, a.Name.Local)
			}
		}
		if n != root {
			for _, a := range n.attrs {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					t.Errorf("%s declares a namespace below the root", n.name())
				}
			}
		}
	})
}

func checkStylesheet(t *testing.T, pis []xml.ProcInst) {
	t.Helper()
	for _, pi := range pis {
		if pi.Target == "xml-stylesheet" {
			if s := string(pi.Inst); s != `type="text/xsl" href="/blog/feed.xsl"` {
				t.Errorf("xml-stylesheet %q", s)
			}
			return
		}
	}
	t.Error("no xml-stylesheet processing instruction")
}

func checkRSS(t *testing.T, doc, selfURL string) {
	root, pis := parseRaw(t, doc)
	checkStylesheet(t, pis)
	if root.name() != "rss" {
		t.Fatalf("root %s", root.name())
	}
	if v, _ := root.attr("version"); v != "2.0" {
		t.Errorf("version %q", v)
	}
	checkPrefixes(t, root, map[string]string{"content": nsContent, "atom": nsAtom, "dc": nsDC, "media": nsMedia})
	ch := root.one("channel")
	if ch == nil || len(root.children) != 1 {
		t.Fatal("want exactly one channel")
	}
	for _, name := range []string{"title", "link", "description", "language"} {
		if len(ch.all(name)) != 1 {
			t.Errorf("channel has %d %s (MissingElement/DuplicateElement)", len(ch.all(name)), name)
		}
	}
	if strings.TrimSpace(ch.one("title").text) == "" {
		t.Error("channel title is blank (NotBlank)")
	}
	checkAbsolute(t, "channel link", ch.one("link").text)
	self := false
	for _, l := range ch.all("atom:link") {
		rel, _ := l.attr("rel")
		typ, _ := l.attr("type")
		href, _ := l.attr("href")
		if rel == "self" && typ == MediaTypeRSS && href == selfURL {
			self = true
		}
	}
	if !self {
		t.Errorf(`no atom:link rel="self" type=%q href=%q (MissingAtomSelfLink)`, MediaTypeRSS, selfURL)
	}
	seenItem := false
	for _, c := range ch.children {
		if c.name() == "item" {
			seenItem = true
		} else if seenItem {
			t.Errorf("channel element %s after an item (MisplacedItem)", c.name())
		}
	}
	if me := ch.one("managingEditor"); me != nil {
		if !emailNameRe.MatchString(me.text) {
			t.Errorf("managingEditor %q is not \"email (name)\" (InvalidContact, MissingRealName)", me.text)
		}
		if ch.one("dc:creator") != nil {
			t.Error("managingEditor and dc:creator both given (DuplicateSemantics)")
		}
	}
	for _, name := range []string{"pubDate", "lastBuildDate"} {
		if d := ch.one(name); d != nil {
			checkRFC822(t, "channel "+name, d.text)
		}
	}
	if img := ch.one("image"); img != nil {
		if img.one("title").text != ch.one("title").text {
			t.Error("image title is not the channel title (ImageTitleDoesntMatch)")
		}
		if img.one("link").text != ch.one("link").text {
			t.Error("image link is not the channel link (ImageLinkDoesntMatch)")
		}
		u := img.one("url").text
		if ext := strings.ToLower(u[strings.LastIndexByte(u, '.')+1:]); ext != "png" && ext != "jpg" && ext != "jpeg" && ext != "gif" {
			t.Errorf("image url %q is not JPEG, PNG or GIF (ImageUrlFormat)", u)
		}
	}
	guids := map[string]bool{}
	for _, it := range ch.all("item") {
		where := "item"
		if g := it.one("guid"); g == nil {
			t.Error("item without guid (MissingGuid)")
		} else {
			where = "item " + g.text
			if guids[g.text] {
				t.Errorf("%s: duplicate guid (DuplicateValue)", where)
			}
			guids[g.text] = true
			perma, _ := g.attr("isPermaLink")
			link := it.one("link").text
			if (perma == "true") != (g.text == link) || (perma != "true" && perma != "false") {
				t.Errorf("%s: isPermaLink=%q with link %q (InvalidHttpGUID, InvalidPermalink)", where, perma, link)
			}
		}
		for _, c := range it.children {
			switch c.name() {
			case "title", "link", "description", "content:encoded", "author", "pubDate", "guid", "atom:updated", "dc:language", "enclosure", "dc:creator":
				if n := len(it.all(c.name())); n > 1 {
					t.Errorf("%s: %d %s (DuplicateElement, DuplicateEnclosure)", where, n, c.name())
				}
			}
		}
		if strings.TrimSpace(it.one("title").text) == "" {
			t.Errorf("%s: blank title (NotBlank)", where)
		}
		checkAbsolute(t, where+" link", it.one("link").text)
		checkRFC822(t, where+" pubDate", it.one("pubDate").text)
		if u := it.one("atom:updated"); u != nil {
			checkRFC3339(t, where+" atom:updated", u.text)
		}
		if it.one("atom:published") != nil {
			t.Errorf("%s: atom:published beside pubDate (DuplicateItemSemantics)", where)
		}
		desc, content := -1, -1
		for i, c := range it.children {
			switch c.name() {
			case "description":
				desc = i
			case "content:encoded":
				content = i
			}
		}
		if content >= 0 && (desc < 0 || desc > content) {
			t.Errorf("%s: content:encoded before description (NeedDescriptionBeforeContent)", where)
		}
		if content >= 0 {
			checkHTML(t, where+" content:encoded", it.children[content].text)
		}
		checkHTML(t, where+" description", it.one("description").text)
		if a := it.one("author"); a != nil {
			if !emailNameRe.MatchString(a.text) {
				t.Errorf("%s: author %q is not \"email (name)\" (InvalidContact)", where, a.text)
			}
			if it.one("dc:creator") != nil {
				t.Errorf("%s: author and dc:creator (DuplicateItemSemantics)", where)
			}
		}
		cats := map[string]bool{}
		for _, c := range it.all("category") {
			if strings.TrimSpace(c.text) == "" || cats[c.text] {
				t.Errorf("%s: blank or repeated category %q", where, c.text)
			}
			cats[c.text] = true
		}
		if e := it.one("enclosure"); e != nil {
			u, _ := e.attr("url")
			checkAbsolute(t, where+" enclosure", u)
			if !validatorHTTPURL(u) {
				t.Errorf("%s: enclosure url %q is not an http(s) URL with a dotted host or IPv4 address (InvalidURLAttribute)", where, u)
			}
			typ, _ := e.attr("type")
			if !mimeRe.MatchString(typ) {
				t.Errorf("%s: enclosure type %q (InvalidMIMEAttribute)", where, typ)
			}
			l, _ := e.attr("length")
			if !regexp.MustCompile(`^\d+$`).MatchString(l) {
				t.Errorf("%s: enclosure length %q (InvalidNonNegativeInteger)", where, l)
			}
		}
		for _, m := range it.all("media:content") {
			for _, a := range m.attrs {
				if !strings.Contains(" url type medium fileSize width height ", " "+a.Name.Local+" ") {
					t.Errorf("%s: media:content attribute %s (UnexpectedAttribute)", where, a.Name.Local)
				}
			}
			if med, ok := m.attr("medium"); ok && !strings.Contains(" image audio video document executable ", " "+med+" ") {
				t.Errorf("%s: medium %q (InvalidMediaMedium)", where, med)
			}
		}
	}
}

func checkAtom(t *testing.T, doc, selfURL string) {
	root, pis := parseRaw(t, doc)
	checkStylesheet(t, pis)
	if root.name() != "feed" {
		t.Fatalf("root %s", root.name())
	}
	if ns, _ := root.attr("xmlns"); ns != nsAtom {
		t.Errorf("default namespace %q", ns)
	}
	if lang, _ := root.attr("xml:lang"); lang == "" {
		t.Error("no xml:lang on the feed")
	}
	checkPrefixes(t, root, map[string]string{"media": nsMedia})
	for _, name := range []string{"id", "title", "updated"} {
		if len(root.all(name)) != 1 {
			t.Errorf("feed has %d %s (MissingElement)", len(root.all(name)), name)
		}
	}
	checkAbsolute(t, "feed id", root.one("id").text)
	checkRFC3339(t, "feed updated", root.one("updated").text)
	for _, name := range []string{"title", "subtitle", "rights"} {
		if n := root.one(name); n != nil && strings.TrimSpace(n.text) == "" {
			t.Errorf("feed %s is blank (NotBlank)", name)
		}
	}
	feedAuthor := root.one("author") != nil && strings.TrimSpace(root.one("author").one("name").text) != ""
	rels := map[string]string{}
	for _, l := range root.all("link") {
		rel, _ := l.attr("rel")
		typ, _ := l.attr("type")
		href, _ := l.attr("href")
		checkAbsolute(t, "feed link", href)
		if _, dup := rels[rel+" "+typ]; dup {
			t.Errorf("two feed links rel=%s type=%s (DuplicateAtomLink)", rel, typ)
		}
		rels[rel+" "+typ] = href
	}
	if rels["self "+MediaTypeAtom] != selfURL {
		t.Errorf(`no link rel="self" type=%q href=%q (MissingSelf)`, MediaTypeAtom, selfURL)
	}
	if rels["alternate text/html"] == "" {
		t.Error(`no link rel="alternate"`)
	}
	seenEntry := false
	ids := map[string]bool{}
	updated := map[string]string{}
	for _, c := range root.children {
		if c.name() != "entry" {
			if seenEntry {
				t.Errorf("feed element %s after an entry (MisplacedMetadata)", c.name())
			}
			continue
		}
		seenEntry = true
		id := c.one("id").text
		where := "entry " + id
		if ids[id] {
			t.Errorf("%s: duplicate id (DuplicateEntries)", where)
		}
		ids[id] = true
		checkAbsolute(t, where+" id", id)
		for _, name := range []string{"id", "title", "updated"} {
			if len(c.all(name)) != 1 {
				t.Errorf("%s: %d %s (MissingElement)", where, len(c.all(name)), name)
			}
		}
		if strings.TrimSpace(c.one("title").text) == "" {
			t.Errorf("%s: blank title (NotBlank)", where)
		}
		checkRFC3339(t, where+" updated", c.one("updated").text)
		if other, dup := updated[c.one("updated").text]; dup {
			t.Errorf("%s: same updated %s as entry %s (DuplicateUpdated)", where, c.one("updated").text, other)
		}
		updated[c.one("updated").text] = id
		if p := c.one("published"); p != nil {
			checkRFC3339(t, where+" published", p.text)
		}
		if !feedAuthor && c.one("author") == nil {
			t.Errorf("%s: no author in the entry nor the feed (MissingElement)", where)
		}
		alternate := false
		for _, l := range c.all("link") {
			rel, _ := l.attr("rel")
			href, _ := l.attr("href")
			checkAbsolute(t, where+" link", href)
			for _, a := range l.attrs {
				if !strings.Contains(" href rel type length title hreflang ", " "+a.Name.Local+" ") {
					t.Errorf("%s: link attribute %s (UnexpectedAttribute)", where, a.Name.Local)
				}
			}
			switch rel {
			case "alternate":
				alternate = true
			case "enclosure":
				if typ, _ := l.attr("type"); !mimeRe.MatchString(typ) {
					t.Errorf("%s: enclosure type %q (InvalidMIMEType)", where, typ)
				}
			}
		}
		if !alternate {
			t.Errorf("%s: no alternate link", where)
		}
		if s := c.one("summary"); s != nil {
			if typ, _ := s.attr("type"); typ != "text" || strings.TrimSpace(s.text) == "" {
				t.Errorf("%s: summary type %q, text %q (NotBlank)", where, typ, s.text)
			}
		}
		if ct := c.one("content"); ct != nil {
			if typ, _ := ct.attr("type"); typ != "html" {
				t.Errorf("%s: content type %q", where, typ)
			}
			checkHTML(t, where+" content", ct.text)
		} else if c.one("summary") == nil {
			t.Errorf("%s: neither content nor summary (MissingTextualContent)", where)
		}
		cats := map[string]bool{}
		for _, cat := range c.all("category") {
			term, _ := cat.attr("term")
			if strings.TrimSpace(term) == "" || cats[term] {
				t.Errorf("%s: blank or repeated category %q", where, term)
			}
			cats[term] = true
		}
	}
}

func TestValidatorRules(t *testing.T) {
	// Raw HTML whose editor closed a div too many, or never closed one, as
	// in the shared corpus.
	unbalanced := renderMarkdown(t, map[string]string{
		"extra-end":   "<div>\n<div>\n<h2>Titre</h2>\n</div>\n</div>\n</div>\n\nSuite.\n",
		"missing-end": "<section>\n<div class=\"fr-table\">\n<table>\n<tr><td>1</td></tr>\n</table>\n</section>\n\nSuite.\n",
	})
	tests := []struct {
		name   string
		modify func(*Options, []*publication.Publication)
	}{
		{"fixture", func(*Options, []*publication.Publication) {}},
		{"author without email, SVG logo, no description", func(o *Options, _ []*publication.Publication) {
			o.Author = publication.Author{Name: "Équipe"}
			o.Logo = "https://exemple.org/logo.svg"
			o.SiteDescription = ""
			o.Rights = ""
		}},
		{"no site author at all", func(o *Options, pubs []*publication.Publication) {
			o.Author = publication.Author{}
			for _, p := range pubs {
				p.Author = nil
			}
		}},
		{"no site title nor author: the host stands in", func(o *Options, pubs []*publication.Publication) {
			o.SiteTitle, o.Author = " ", publication.Author{}
			for _, p := range pubs {
				p.Author = nil
			}
		}},
		{"email-only authors", func(o *Options, pubs []*publication.Publication) {
			o.Author = publication.Author{Email: "site@exemple.org"}
			pubs[1].Author = &publication.Author{Email: "zoe@exemple.org"}
		}},
		{"entries dated by day only, all the same day", func(_ *Options, pubs []*publication.Publication) {
			for _, p := range pubs {
				p.Date, p.Updated = date("2024-05-10 00:00"), date("2024-05-10 00:00")
			}
		}},
		{"page without body nor description", func(_ *Options, pubs []*publication.Publication) {
			for _, p := range pubs {
				p.Content, p.Description = "", ""
			}
		}},
		{"raw HTML left unbalanced by its editor", func(_ *Options, pubs []*publication.Publication) {
			pubs[0].Content = unbalanced["extra-end"]
			pubs[3].Content = unbalanced["missing-end"]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, pubs := testOptions(), fixture()
			tt.modify(&opts, pubs)
			s, sink := generate(t, pubs, opts)
			n := 0
			for _, o := range s.Outputs() {
				switch o.Format {
				case FormatRSS:
					t.Run(o.Path, func(t *testing.T) { checkRSS(t, sink.files[o.Path].String(), o.URL) })
					n++
				case FormatAtom:
					t.Run(o.Path, func(t *testing.T) { checkAtom(t, sink.files[o.Path].String(), o.URL) })
					n++
				case FormatJSON:
					t.Run(o.Path, func(t *testing.T) { checkJSONFeed(t, sink.files[o.Path].Bytes(), o.URL) })
				}
			}
			if n != 18 {
				t.Errorf("checked %d feeds, want 18", n)
			}
			if strings.Contains(opts.Logo, ".svg") && !strings.Contains(sink.files["feed.xml"].String(), "<url>"+opts.Icon+"</url>") {
				t.Error("the RSS image is not the PNG icon standing for the SVG logo (ImageUrlFormat)")
			}
		})
	}
}

// checkJSONFeed checks the rules of JSON Feed 1.1 that a reader relies on:
// the version, feed_url, and items with a unique non-empty id, an absolute
// url, RFC 3339 dates, and content_html or content_text ("one or the other
// must be present").
func checkJSONFeed(t *testing.T, doc []byte, selfURL string) {
	t.Helper()
	var f struct {
		Version string `json:"version"`
		FeedURL string `json:"feed_url"`
		Items   []struct {
			ID          *string `json:"id"`
			URL         string  `json:"url"`
			ContentHTML *string `json:"content_html"`
			ContentText *string `json:"content_text"`
			Published   string  `json:"date_published"`
			Modified    string  `json:"date_modified"`
		} `json:"items"`
	}
	if err := json.Unmarshal(doc, &f); err != nil {
		t.Fatal(err)
	}
	if f.Version != "https://jsonfeed.org/version/1.1" || f.FeedURL != selfURL {
		t.Errorf("version %q, feed_url %q (want %q)", f.Version, f.FeedURL, selfURL)
	}
	ids := map[string]bool{}
	for i, it := range f.Items {
		where := fmt.Sprintf("item %d", i)
		if it.ID == nil || *it.ID == "" || ids[*it.ID] {
			t.Errorf("%s: missing, empty or repeated id", where)
		} else {
			ids[*it.ID] = true
		}
		if (it.ContentHTML == nil || *it.ContentHTML == "") && (it.ContentText == nil || *it.ContentText == "") {
			t.Errorf("%s: neither content_html nor content_text", where)
		}
		checkAbsolute(t, where+" url", it.URL)
		checkRFC3339(t, where+" date_published", it.Published)
		checkRFC3339(t, where+" date_modified", it.Modified)
	}
}

// TestEmptySiteFeeds: a site without publications still gets valid,
// deterministic feeds: no lastBuildDate in RSS (it is optional), and an
// Atom updated date validators find plausible (not 1970).
func TestEmptySiteFeeds(t *testing.T) {
	opts := testOptions()
	s, sink := generate(t, nil, opts)
	for _, o := range s.Outputs() {
		doc := sink.files[o.Path].String()
		switch o.Format {
		case FormatRSS:
			checkRSS(t, doc, o.URL)
			if strings.Contains(doc, "lastBuildDate") {
				t.Errorf("%s: lastBuildDate without items", o.Path)
			}
		case FormatAtom:
			checkAtom(t, doc, o.URL)
			if !strings.Contains(doc, "<updated>2000-01-01T00:00:00Z</updated>") {
				t.Errorf("%s: updated is not the fixed plausible date:\n%s", o.Path, doc)
			}
		case FormatJSON:
			checkJSONFeed(t, sink.files[o.Path].Bytes(), o.URL)
		}
	}
	_, again := generate(t, nil, opts)
	for p, b := range sink.files {
		if again.files[p].String() != b.String() {
			t.Errorf("%s differs between two builds", p)
		}
	}
}
