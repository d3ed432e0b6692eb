package publication

import (
	"strings"
	"testing"
)

func TestTooComplex(t *testing.T) {
	links := func(n int, link string) string { return strings.Repeat(link, n) }
	lines := func(n int, line string) string { return strings.Repeat(line+"\n", n) }
	tests := []struct {
		name string
		body string
		line int // 0: within the limits
		why  string
	}{
		{"ordinary body", "# Titre\n\nUn [lien](https://example.org/) et ![image](a.png).\n\n> cité\n> - liste\n", 0, ""},
		{"block quotes 100 deep", strings.Repeat(">", 100) + " a\n", 0, ""},
		{"block quotes 101 deep", "a\n\n" + strings.Repeat(">", 101) + " a\n", 3, "nested 101 deep"},
		{"quoted lists", strings.Repeat("> - ", 60) + "a\n", 1, "nested 120 deep"},
		{"ordered lists", strings.Repeat("1. ", 150) + "a\n", 1, "nested 150 deep"},
		{"empty items", strings.Repeat("- ", 150) + "\n", 0, ""}, // a thematic break
		{"long thematic break", strings.Repeat("* ", 500) + "\n", 0, ""},
		{"mixed markers are lists", strings.Repeat("* - ", 60) + "\n", 1, "nested 120 deep"},
		{"deep quote in a code block", "```\n" + strings.Repeat(">", 500) + "\n```\n", 0, ""},
		{"deep quote after a code block", "~~~~\n~~~\n~~~~\n" + strings.Repeat(">", 500) + "\n", 4, "nested 500 deep"},
		{"many links on one line", links(5000, "[a](https://example.org/x) "), 0, ""},
		{"many links without spaces", links(5000, "[a](https://example.org/x)"), 0, ""},
		{"tight list of links", lines(5000, "- [a](https://example.org/x)"), 0, ""},
		{"link destinations that never end", links(5000, "[a]("), 1, "never ends"},
		{"angle destinations that never end", links(5000, "[a](<"), 1, "never ends"},
		{"closers without openers", links(20000, "a]("), 0, ""},
		{"escaped brackets", links(30000, `\[a\](`), 0, ""},
		{"reference-like lines in one paragraph", lines(25000, "[a]"), 20001, "20001 links or bracketed texts"},
		{"the same lines in paragraphs", lines(25000, "[a]\n"), 0, ""},
		{"nested brackets", strings.Repeat("[", 30000) + "a" + strings.Repeat("]", 30000), 1, "in one paragraph"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, why := tooComplex([]byte(tt.body))
			if line != tt.line || !strings.Contains(why, tt.why) || (tt.line == 0) != (why == "") {
				t.Errorf("tooComplex = %d, %q; want %d, %q", line, why, tt.line, tt.why)
			}
		})
	}
}

func TestDestinationScan(t *testing.T) {
	tests := []struct {
		s     string
		limit int
		want  int
	}{
		{"https://x.org/a) suite", 100, 15},
		{"a(b)c) suite", 100, 5},
		{"a b", 100, 1},
		{"  \n  <a b>", 100, 9},
		{"<a b\nc>", 100, 4},
		{`a\)b) c`, 100, 4},
		{strings.Repeat("x", 50), 10, 10},
		{"", 10, 0},
	}
	for _, tt := range tests {
		if got := destinationScan([]byte(tt.s), tt.limit); got != tt.want {
			t.Errorf("destinationScan(%q, %d) = %d, want %d", tt.s, tt.limit, got, tt.want)
		}
	}
}
