package publication

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Raw HTML is cleaned fragment by fragment (one HTML block or inline tag at
// a time), so a body whose editor left an element unclosed or closed one
// too many ("<div>…</div></div>", a "<div>" never closed) comes out with
// unbalanced tags: readers' parsers then nest the rest of the page in the
// wrong element, and the feed validator rejects the content as invalid HTML
// (NotHtml). Markdown's own output is balanced, so only bodies with raw HTML
// are checked, and only those found unbalanced are rebuilt.

// htmlVoid are the elements that have no end tag.
var htmlVoid = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true,
	"hr": true, "img": true, "input": true, "link": true, "meta": true, "param": true,
	"source": true, "track": true, "wbr": true}

// htmlOptionalEnd are the elements whose end tag HTML lets the parser imply
// (the "generate implied end tags" list).
var htmlOptionalEnd = map[string]bool{"p": true, "li": true, "dt": true, "dd": true, "option": true,
	"optgroup": true, "rb": true, "rp": true, "rt": true, "rtc": true, "tbody": true, "thead": true,
	"tfoot": true, "tr": true, "td": true, "th": true, "caption": true, "colgroup": true}

// closesP are the start tags that end an open <p> (HTML's "close a p
// element" list, restricted to what the sanitizer lets through).
var closesP = map[string]bool{"address": true, "article": true, "aside": true, "blockquote": true,
	"details": true, "div": true, "dl": true, "figcaption": true, "figure": true, "footer": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "header": true,
	"hr": true, "ol": true, "p": true, "pre": true, "section": true, "table": true, "ul": true,
	"summary": true}

// listParents are, for the start tags that make the HTML parser close or
// restructure elements around them (list items, table parts, options),
// the elements each may stand in without that happening. Inside a
// paragraph, any of them does.
var listParents = map[string]string{"li": " ul ol menu ", "dd": " dl ", "dt": " dl ",
	"tr": " table tbody thead tfoot ", "td": " tr ", "th": " tr ", "tbody": " table ", "thead": " table ",
	"tfoot": " table ", "caption": " table ", "colgroup": " table ", "col": " colgroup table ",
	"option": " select datalist optgroup ", "optgroup": " select "}

// balancedHTML reports whether the fragment s parses as HTML without the
// tree builder having to drop, close or reopen an element: every end tag
// closes the current element or one whose end tag may be implied, nothing
// but such elements is left open, and no block opens inside a paragraph
// that has other elements open.
func balancedHTML(s string) bool {
	return checkBalance(html.NewTokenizer(strings.NewReader(s)), false, false)
}

// selfContained reports whether a cleaned fragment of raw HTML leaves the
// document around it as balanced as it was: it closes every element it
// opens, closes none it did not open, and, inline (the fragment stands in
// a paragraph), opens no element that would end that paragraph. Markdown's
// own output is balanced, so a body whose fragments are all self-contained
// needs no whole-document check.
func selfContained(frag []byte, inline bool) bool {
	if bytes.IndexByte(frag, '<') < 0 {
		return true
	}
	return checkBalance(html.NewTokenizer(bytes.NewReader(frag)), true, inline)
}

// checkBalance is balancedHTML on a tokenizer; strict also wants every
// element closed at the end, and inline refuses the start tags that end a
// paragraph.
func checkBalance(z *html.Tokenizer, strict, inline bool) bool {
	var open []string
	top := func() string {
		if len(open) == 0 {
			return ""
		}
		return open[len(open)-1]
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if strict {
				return len(open) == 0
			}
			for _, name := range open {
				if !htmlOptionalEnd[name] {
					return false
				}
			}
			return true
		case html.StartTagToken, html.SelfClosingTagToken:
			b, _ := z.TagName()
			name := string(b)
			if inline && (closesP[name] || listParents[name] != "") {
				return false
			}
			if htmlVoid[name] {
				continue
			}
			if tt == html.SelfClosingTagToken {
				return false // "<div/>" opens a div in HTML
			}
			if closesP[name] {
				for i := len(open) - 1; i >= 0; i-- {
					if open[i] == "p" {
						if i != len(open)-1 {
							return false
						}
						open = open[:i]
						break
					}
				}
			}
			if (name == "li" || name == "dt" || name == "dd" || name == "option") && top() == name {
				open = open[:len(open)-1]
			}
			if strict && listParents[name] != "" && !strings.Contains(listParents[name], " "+top()+" ") {
				return false // "<li>" outside a list closes the list item around it
			}
			open = append(open, name)
		case html.EndTagToken:
			b, _ := z.TagName()
			name := string(b)
			if htmlVoid[name] {
				return false
			}
			i := len(open) - 1
			for i >= 0 && open[i] != name {
				if !htmlOptionalEnd[open[i]] {
					return false
				}
				i--
			}
			if i < 0 {
				return false // a stray end tag
			}
			open = open[:i]
		}
	}
}

// balanceHTML returns s parsed as the content of a <body> and serialised
// again: the HTML parser's recovery closes what was left open and drops
// stray end tags, as a browser would.
func balanceHTML(s string) string {
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), ctx)
	if err != nil {
		return s // only reader errors, which a strings.Reader has none of
	}
	var b strings.Builder
	b.Grow(len(s) + 64)
	for _, n := range nodes {
		if err := html.Render(&b, n); err != nil {
			return s
		}
	}
	return b.String()
}
