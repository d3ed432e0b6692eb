package publication

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// frontMatterSeeds are inputs that reach the corners of the front-matter
// parser; the fuzzers start from them.
var frontMatterSeeds = []string{
	"---\ntitle: a\ndate: 2022-06-02\n---\nbody\n",
	"\xef\xbb\xbf---\r\ntitle: a\r\n...\r\nbody",
	"---\ntitle: [a, b\n---\n",
	"---\na: &a [x, *a]\n---\n",
	"---\na: &a [1,2]\nb: &b [*a,*a]\nc: [*b,*b]\n<<: {k: 1}\n---\n",
	"---\ntitle: \"x\ndate: 2022\n---\n",
	"---\n- a\n---\n",
	"---\n? [a]\n: b\n---\n",
	"---\ntitle: !!binary aGVsbG8=\nn: !!int 0x1F\nf: !!float .inf\n---\n",
	"---\n",
	"no front matter\n",
}

// FuzzFrontMatter checks that splitting and parsing any bytes ends in a
// value or a located error, never a panic, and that lines stay in the file.
func FuzzFrontMatter(f *testing.F) {
	for _, s := range frontMatterSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		fmb, body, bodyLine, err := SplitFrontMatter(src)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) || le.Line != 1 {
				t.Fatalf("split error %v is not a LineError on line 1", err)
			}
			return
		}
		trimmed := bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
		if fmb == nil {
			if !bytes.Equal(body, trimmed) || bodyLine != 1 {
				t.Fatalf("no front matter but body %q line %d", body, bodyLine)
			}
			return
		}
		if bodyLine < 3 || len(fmb)+len(body) > len(trimmed) || !bytes.HasSuffix(trimmed, body) {
			t.Fatalf("fm %q body %q line %d out of %q", fmb, body, bodyLine, src)
		}
		if got := 2 + bytes.Count(fmb, []byte("\n")) + 1; got != bodyLine {
			t.Fatalf("body line %d, front matter has %d lines", bodyLine, got-3)
		}
		fm, err := ParseFrontMatter(fmb, 2)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("parse error %v is not a LineError", err)
			}
			if le.Line < 2 || le.Line >= bodyLine {
				t.Fatalf("error line %d outside the front matter (lines 2-%d): %v", le.Line, bodyLine-1, err)
			}
			return
		}
		for k, line := range fm.Lines {
			if line < 2 || line >= bodyLine {
				t.Fatalf("key %q on line %d outside the front matter", k, line)
			}
			if _, ok := fm.Data[k]; !ok {
				t.Fatalf("key %q has a line but no value", k)
			}
		}
	})
}

// fuzzLoader is the loader FuzzLoadFile parses with: the sample site's
// global data, no media lookup on disk.
func fuzzLoader(tb testing.TB) *loader {
	l := newTestLoader(tb, nil)
	l.dir = ""
	if v, diags := l.readJSONAny(filepath.Join(sampleDir, "_data", "metadata.json"), "_data/metadata.json"); len(diags) == 0 {
		l.global["metadata"] = v
	}
	return l
}

// FuzzLoadFile runs the whole loader of one file (parseSource, then Render)
// on any bytes. Whatever the input, nothing panics and, when a publication
// results, what a reader gets is safe: no script, no style or event-handler
// attribute, no javascript: URL, only absolute URLs.
func FuzzLoadFile(f *testing.F) {
	for _, s := range frontMatterSeeds {
		f.Add([]byte(s))
	}
	extra := []string{
		"---\ntitle: t\ndate: 2022-06-02\n---\n<iframe src=\"https://o.org/e\"/><a href=\"rel\">x</a>",
		"---\ntitle: t\ndate: 2022-06-02\n---\n<script/><a href=rel>x</a></script><link rel=x href=y><p style=x>z</p>",
		"---\ntitle: t\ndate: 2022-06-02\nembedVideoUrl: javascript:alert(1)\napercu: java\tscript:x\n---\n{% youtube \"a\" %}",
		"---\ntitle: t\ndate: 2022-06-02\npermalink: /a b/%2e%2e/é/\n---\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>",
		"---\ntitle: \"{{ metadata.title }}\"\ndate: 2022-06-02\nid: x y\n---\n{% raw %}{{ x }}{% endraw %}{% include 'a' %}",
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
	_ = filepath.WalkDir(sampleDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
		return nil
	})
	l := fuzzLoader(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		p, issues, state, err := parseSource("dossier/page.md", src, l)
		lines := 1 + bytes.Count(src, []byte("\n"))
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a LineError", err)
			}
			if le.Line < 1 || le.Line > lines {
				t.Fatalf("error on line %d of a %d-line file: %v", le.Line, lines, err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error message spans lines: %q", err)
			}
			if p != nil {
				t.Fatalf("publication returned with an error")
			}
			return
		}
		for _, is := range issues {
			if is.line < 1 || is.line > lines {
				t.Fatalf("warning on line %d of a %d-line file: %s", is.line, lines, is.msg)
			}
			if !utf8.ValidString(is.msg) {
				t.Fatalf("warning is not valid UTF-8: %q", is.msg)
			}
			if strings.ContainsAny(is.msg, "\r\n") {
				t.Fatalf("warning spans lines: %q", is.msg)
			}
		}
		if state != statePublished {
			if p != nil {
				t.Fatalf("state %d with a publication", state)
			}
			return
		}
		if err := checkAbsURL(p.URL); err != nil {
			t.Fatalf("URL: %v", err)
		}
		if u, err := url.Parse(p.ID); err != nil || u.Scheme == "" {
			t.Fatalf("ID %q is not an absolute URI", p.ID)
		}
		if p.Title == "" && p.Date.IsZero() {
			t.Fatalf("published without title or date")
		}
		if err := Render(context.Background(), []*Publication{p}); err != nil {
			t.Fatal(err)
		}
		// "javascript:" or "style=" may be text; checkSafeHTML looks at
		// what the browser would read as elements and attributes.
		if err := checkSafeHTML(p.Content); err != nil {
			t.Fatalf("%v\ncontent: %s", err, p.Content)
		}
	})
}

// renderAlwaysLinkified is render with goldmark's Linkify on every body,
// as bulletin rendered before it parsed without Linkify first.
func renderAlwaysLinkified(r *renderer, p *Publication) string {
	r.mdBuf.Reset()
	r.raw.base, _ = url.Parse(p.URL)
	r.raw.lang = p.Lang
	r.raw.unsure = false
	doc := r.parse(r.mdLinkify, p.body)
	if err := r.mdLinkify.Renderer().Render(&r.mdBuf, p.body, doc); err != nil {
		return ""
	}
	out := strings.TrimSpace(r.mdBuf.String())
	if r.raw.unsure && !balancedHTML(out) {
		out = balanceHTML(out)
	}
	return out
}

// trailingBlanks are spaces, tabs and carriage returns at the end of a
// line, before a hard line break or before an end tag.
var trailingBlanks = regexp.MustCompile(`[ \t\r]+(\n|<br>|</)`)

// FuzzLinkifyChoice checks that parsing without Linkify first, and with it
// only when a text holds what it reads, renders every body as Linkify on
// every body does.
func FuzzLinkifyChoice(f *testing.F) {
	for _, s := range []string{
		"Voir [le guide](https://example.org/guide) et ![x](https://example.org/x.png).",
		"Voir https://example.org/guide ou www.example.org, écrire à contact@example.org.",
		"*http://x.org/a_b_c* et _www.x.org_ ~https://y.org~ (http://z.org)",
		"`https://code.example` <https://auto.example> <a href=\"http://raw.example\">x</a>",
		"[https://label.example](/dest) [a]: http://ref.example\n\n[a]",
		"| a | https://cell.example |\n|---|---|\n| www.b.org | c@d.fr |",
		"https\\://escaped.example www\\.x.org a\\@b.fr &#58;// h&#116;tp://x.org",
		"# Titre https://titre.example\n\n- item ftp://ftp.example/x",
	} {
		f.Add(s)
	}
	r := newRenderer(newPolicy())
	f.Fuzz(func(t *testing.T, body string) {
		if !utf8.ValidString(body) {
			return // Load refuses invalid UTF-8
		}
		p := &Publication{URL: "https://example.org/a/b/", Lang: "fr", body: []byte(body)}
		// With Linkify, goldmark keeps some blanks that end a line of text
		// ("0\t \n0", "0\r \n0", "0    \n0" before its <br>), which CommonMark
		// strips: bodies without a URL were always rendered without
		// Linkify, so that difference is not the fallback's.
		got := trailingBlanks.ReplaceAllString(r.render(p), "$1")
		want := trailingBlanks.ReplaceAllString(renderAlwaysLinkified(r, p), "$1")
		if got != want {
			t.Errorf("body %q\nrendered %q\nwith Linkify %q", body, got, want)
		}
	})
}
