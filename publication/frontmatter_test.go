package publication

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestSplitFrontMatter(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		fm       string // "<nil>" when there is no front matter
		body     string
		bodyLine int
	}{
		{"no front matter", "# Title\n\ntext\n", "<nil>", "# Title\n\ntext\n", 1},
		{"empty file", "", "<nil>", "", 1},
		{"LF", "---\ntitle: a\ndate: 2022-06-02\n---\nbody\n", "title: a\ndate: 2022-06-02\n", "body\n", 5},
		{"CRLF", "---\r\ntitle: a\r\n---\r\nbody\r\n", "title: a\r\n", "body\r\n", 4},
		{"BOM", "\xef\xbb\xbf---\ntitle: a\n---\nbody", "title: a\n", "body", 4},
		{"BOM and CRLF", "\xef\xbb\xbf---\r\ntitle: a\r\n---\r\n", "title: a\r\n", "", 4},
		{"BOM without front matter", "\xef\xbb\xbfbody", "<nil>", "body", 1},
		{"dots terminator", "---\ntitle: a\n...\nbody\n", "title: a\n", "body\n", 4},
		{"trailing spaces on delimiters", "--- \t\ntitle: a\n---  \nbody", "title: a\n", "body", 4},
		{"empty front matter", "---\n---\nbody", "", "body", 3},
		{"closing line is the last, no newline", "---\ntitle: a\n---", "title: a\n", "", 4},
		{"thematic break in body stays", "---\na: 1\n---\ntext\n---\nmore\n", "a: 1\n", "text\n---\nmore\n", 4},
		{"four dashes is not front matter", "----\ntitle: a\n----\n", "<nil>", "----\ntitle: a\n----\n", 1},
		{"indented dashes is not front matter", " ---\ntitle: a\n---\n", "<nil>", " ---\ntitle: a\n---\n", 1},
		{"indented closing line does not close", "---\ntitle: |\n  ---\n---\nb", "title: |\n  ---\n", "b", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fm, body, line, err := SplitFrontMatter([]byte(tt.src))
			if err != nil {
				t.Fatalf("SplitFrontMatter: %v", err)
			}
			gotFM := "<nil>"
			if fm != nil {
				gotFM = string(fm)
			}
			if gotFM != tt.fm || string(body) != tt.body || line != tt.bodyLine {
				t.Errorf("got fm %q body %q line %d, want fm %q body %q line %d", gotFM, body, line, tt.fm, tt.body, tt.bodyLine)
			}
		})
	}
}

func TestSplitFrontMatterUnterminated(t *testing.T) {
	for _, src := range []string{"---", "---\n", "---\ntitle: a\n", "---\r\ntitle: a\r\n--\r\nbody", "\xef\xbb\xbf---\ntitle: a"} {
		_, _, _, err := SplitFrontMatter([]byte(src))
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("%q: got %v, want a *LineError", src, err)
			continue
		}
		if le.Line != 1 || !strings.Contains(le.Msg, "not closed") {
			t.Errorf("%q: got line %d %q, want line 1 'not closed'", src, le.Line, le.Msg)
		}
	}
}

// The front matter of the issue must be taken as it is.
func TestParseFrontMatterIssueExample(t *testing.T) {
	src := "---\n" +
		"layout: layouts/publications/video.njk\n" +
		"title: \"Épisode #4 : Les engagements de l’État pour un numérique écoresponsable\"\n" +
		"description: Face aux défis climatique et environnemental, …\n" +
		"date: 2022-06-02\n" +
		"image: /img/videos/vignettes/apercu-episode4.jpg\n" +
		"apercu: /img/videos/apercu-episode4.jpg\n" +
		"embedVideoUrl: https://www.dailymotion.com/embed/video/k2Wc7zFvIkZpB6y1dzq\n" +
		"tags: [\"video\"]\n" +
		"type: video\n" +
		"---\n"
	fmb, body, bodyLine, err := SplitFrontMatter([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(body) != 0 || bodyLine != 12 {
		t.Errorf("body %q line %d, want empty body at line 12", body, bodyLine)
	}
	fm, err := ParseFrontMatter(fmb, 2)
	if err != nil {
		t.Fatalf("ParseFrontMatter: %v", err)
	}
	want := map[string]any{
		"layout":        "layouts/publications/video.njk",
		"title":         "Épisode #4 : Les engagements de l’État pour un numérique écoresponsable",
		"description":   "Face aux défis climatique et environnemental, …",
		"date":          "2022-06-02",
		"image":         "/img/videos/vignettes/apercu-episode4.jpg",
		"apercu":        "/img/videos/apercu-episode4.jpg",
		"embedVideoUrl": "https://www.dailymotion.com/embed/video/k2Wc7zFvIkZpB6y1dzq",
		"tags":          []any{"video"},
		"type":          "video",
	}
	if !reflect.DeepEqual(fm.Data, want) {
		t.Errorf("Data = %#v\nwant %#v", fm.Data, want)
	}
	wantLines := map[string]int{"layout": 2, "title": 3, "description": 4, "date": 5, "image": 6, "apercu": 7, "embedVideoUrl": 8, "tags": 9, "type": 10}
	if !reflect.DeepEqual(fm.Lines, wantLines) {
		t.Errorf("Lines = %v, want %v", fm.Lines, wantLines)
	}
}

func TestParseFrontMatterValues(t *testing.T) {
	fm := "" +
		"n: 42\n" +
		"f: 1.5\n" +
		"yes: true\n" +
		"nothing: ~\n" +
		"d: 2022-06-02T10:00:00+02:00\n" +
		"quoted: \"2022-06-02\"\n" +
		"list:\n  - a\n  - 2\n" +
		"flow: [a, b]\n" +
		"map: {src: /x.png, alt: X}\n" +
		"base: &b {k: 1, j: 2}\n" +
		"merged:\n  <<: *b\n  j: 3\n" +
		"block: |\n  line 1\n  line 2\n" +
		"huge: 123456789012345678901234567890\n"
	got, err := ParseFrontMatter([]byte(fm), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"n": int64(42), "f": 1.5, "yes": true, "nothing": nil,
		"d": "2022-06-02T10:00:00+02:00", "quoted": "2022-06-02",
		"list": []any{"a", int64(2)}, "flow": []any{"a", "b"},
		"map":    map[string]any{"src": "/x.png", "alt": "X"},
		"base":   map[string]any{"k": int64(1), "j": int64(2)},
		"merged": map[string]any{"k": int64(1), "j": int64(3)},
		"block":  "line 1\nline 2\n",
		"huge":   1.2345678901234568e+29,
	}
	if !reflect.DeepEqual(got.Data, want) {
		t.Errorf("Data =\n%#v\nwant\n%#v", got.Data, want)
	}
	if got.Lines["merged"] != 14 || got.Lines["block"] != 17 || got.Lines["huge"] != 20 {
		t.Errorf("Lines = %v", got.Lines)
	}
}

func TestParseFrontMatterCRLF(t *testing.T) {
	fmb, _, _, err := SplitFrontMatter([]byte("---\r\ntitle: Bonjour\r\ntags:\r\n  - a\r\n  - b\r\n---\r\nbody"))
	if err != nil {
		t.Fatal(err)
	}
	fm, err := ParseFrontMatter(fmb, 2)
	if err != nil {
		t.Fatal(err)
	}
	if fm.Data["title"] != "Bonjour" || !reflect.DeepEqual(fm.Data["tags"], []any{"a", "b"}) {
		t.Errorf("Data = %#v", fm.Data)
	}
	if fm.Lines["tags"] != 3 {
		t.Errorf("tags line %d, want 3", fm.Lines["tags"])
	}
}

// yaml.v3 also ends lines at a lone CR, NEL, LS and PS; file lines count
// only "\n", like every other diagnostic.
func TestParseFrontMatterUnusualLineBreaks(t *testing.T) {
	for _, brk := range []string{"\r", "\u0085", "\u2028", "\u2029"} {
		fm, err := ParseFrontMatter([]byte("a: 'x"+brk+"y'\nb: 1\nc: \"p"+brk+"q\"\nd: 2\n"), 2)
		if err != nil {
			t.Errorf("%q: %v", brk, err)
			continue
		}
		if want := map[string]int{"a": 2, "b": 3, "c": 4, "d": 5}; !reflect.DeepEqual(fm.Lines, want) {
			t.Errorf("%q: Lines %v, want %v", brk, fm.Lines, want)
		}
		_, err = ParseFrontMatter([]byte("a: 'x"+brk+"y'\nb: 1\nc: d: e\n"), 2)
		var le *LineError
		if !errors.As(err, &le) || le.Line != 4 {
			t.Errorf("%q: error %v, want one on line 4", brk, err)
		}
	}
	// An error at the very end is on the closing line, not past it.
	_, err := ParseFrontMatter([]byte("\"0\r0\n"), 2)
	var le *LineError
	if !errors.As(err, &le) || le.Line != 3 {
		t.Errorf("error %v, want one on line 3", err)
	}
}

func TestParseFrontMatterEmpty(t *testing.T) {
	for _, fm := range []string{"", "\n\n", "# only a comment\n"} {
		got, err := ParseFrontMatter([]byte(fm), 2)
		if err != nil || got == nil || len(got.Data) != 0 {
			t.Errorf("%q: got %+v, %v; want empty data", fm, got, err)
		}
	}
}

// The front matter starts on file line 2 (after "---"); errors name file lines.
func TestParseFrontMatterErrors(t *testing.T) {
	tests := []struct {
		name string
		fm   string
		line int
		msg  string
	}{
		{"mapping value in a plain scalar", "title: a\ndescription: b: c\n", 3, "invalid YAML: mapping values are not allowed in this context"},
		{"tab indentation", "title: a\ntags:\n\t- x\n", 4, "invalid YAML: found character that cannot start any token"},
		{"unclosed flow sequence", "title: a\ndate: 2022-06-02\ntags: [a, b\ntype: x\n", 4, "invalid YAML: did not find expected ',' or ']'"},
		{"unclosed flow mapping", "title: a\ndate: 2022-06-02\ntype: x\nimage: {src: a\n", 5, "invalid YAML: did not find expected ',' or '}'"},
		{"bad indentation", "title: a\nauthor:\n  name: b\n email: c\n", 5, "invalid YAML: did not find expected key"},
		{"dash after a mapping", "title: a\ndate: 2022-06-02\ntype: x\n- y\n", 5, "invalid YAML: did not find expected key"},
		// yaml.v3 locates this one where it stops: the closing "---" line.
		{"unclosed on the first line", "title: [a\n", 3, "invalid YAML: did not find expected ',' or ']'"},
		{"unclosed quote", "title: a\ndescription: \"abc\ntype: x\n", 3, "invalid YAML: found unexpected end of stream"},
		{"reserved character", "title: a\ndate: 2022-06-02\ntype: @x\n", 4, "invalid YAML: found character that cannot start any token"},
		{"a list", "- a\n- b\n", 2, "front matter must be a YAML mapping (key: value lines)"},
		{"a scalar", "\n\njust text\n", 4, "front matter must be a YAML mapping (key: value lines)"},
		{"a complex key", "title: a\n? [x]\n: y\n", 3, "front matter keys must be plain strings"},
		{"unknown anchor", "title: *nope\n", 2, "invalid YAML: unknown anchor 'nope' referenced"},
		{"nested complex key", "title: a\nmap:\n  ? [x]\n  : y\n", 4, "map: mapping keys must be plain strings"},
		// YAML forbids a key twice, and Eleventy's parser refuses it.
		{"a key twice", "title: a\ndate: 2022-06-02\ntitle: b\n", 4, `key "title" is given twice (first on line 2)`},
		{"a key twice, not flat", "title: a\ntags: [x]\nmap: {k: 1}\ntitle: b\n", 5, `key "title" is given twice (first on line 2)`},
		{"a nested key twice", "title: a\nauthor:\n  name: b\n  name: c\n", 4, `author: key "name" is given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFrontMatter([]byte(tt.fm), 2)
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *LineError", err)
			}
			if le.Line != tt.line || le.Msg != tt.msg {
				t.Errorf("got line %d %q, want line %d %q", le.Line, le.Msg, tt.line, tt.msg)
			}
		})
	}
}

// A "billion laughs" front matter must fail quickly instead of expanding.
func TestParseFrontMatterAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt.Fprintf(&b, "%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", name, name, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = name
	}
	b.WriteString("title: boom\n")
	_, err := ParseFrontMatter([]byte(b.String()), 2)
	var le *LineError
	if !errors.As(err, &le) || !strings.Contains(le.Msg, "too many values") {
		t.Fatalf("got %v, want a 'too many values' error", err)
	}
	if le.Line < 2 || le.Line > 11 {
		t.Errorf("line %d is outside the front matter", le.Line)
	}

	// A moderate use of aliases stays accepted.
	fm, err := ParseFrontMatter([]byte("base: &b [x, y]\nc1: *b\nc2: *b\n"), 2)
	if err != nil || !reflect.DeepEqual(fm.Data["c2"], []any{"x", "y"}) {
		t.Errorf("small aliases: %v, %#v", err, fm)
	}
}

func TestParseFrontMatterDepth(t *testing.T) {
	deep := "x: " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n"
	_, err := ParseFrontMatter([]byte(deep), 2)
	if err == nil || !strings.Contains(err.Error(), "nesting is too deep") {
		t.Errorf("deep nesting: got %v", err)
	}
	self := "x: &a [*a]\n"
	if _, err := ParseFrontMatter([]byte(self), 2); err == nil {
		t.Errorf("self-referencing alias accepted")
	}
}

func TestLineErrorString(t *testing.T) {
	if got := (&LineError{Line: 7, Msg: "bad"}).Error(); got != "line 7: bad" {
		t.Errorf("got %q", got)
	}
}
