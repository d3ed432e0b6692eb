package publication

import (
	"context"
	"strings"
	"testing"
)

func TestBalancedHTML(t *testing.T) {
	tests := []struct {
		html string
		want bool
	}{
		{`<p>a</p><div><p>b</p></div>`, true},
		{`<ul><li>a<li>b</ul>`, true},
		{`<table><tr><td>x</td></tr></table>`, true},
		{`<img src="x" alt=""><p>b`, true},
		{`<p>a<br/></p><hr>`, true},
		{`<p>a<div>b</div>`, true}, // the div closes the paragraph
		{`<div><div>x</div></div></div>`, false},
		{`<section><div><table><tr><td>x</td></tr></table></section>`, false},
		{`<p>a<div>b</div></p>`, false},
		{`<p><em>a</p>b</em>`, false},
		{`<p><em>a<div>b</div></em></p>`, false},
		{`<div>a`, false},
		{`<p>x</br></p>`, false},
		{`<div/>a`, false},
	}
	for _, tt := range tests {
		if got := balancedHTML(tt.html); got != tt.want {
			t.Errorf("balancedHTML(%q) = %v, want %v", tt.html, got, tt.want)
		}
	}
}

func TestBalanceHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<div><div><h2>T</h2></div></div></div><p>Suite</p>`, `<div><div><h2>T</h2></div></div><p>Suite</p>`},
		{"<section><div><table><tbody><tr><td>1</td></tr></tbody></table></section><p>x</p>",
			"<section><div><table><tbody><tr><td>1</td></tr></tbody></table></div></section><p>x</p>"},
		{`<p>a<div>b</div></p>`, `<p>a</p><div>b</div><p></p>`},
	}
	for _, tt := range tests {
		got := balanceHTML(tt.in)
		if got != tt.want {
			t.Errorf("balanceHTML(%q) =\n%q, want\n%q", tt.in, got, tt.want)
		}
		if !balancedHTML(got) {
			t.Errorf("balanceHTML(%q) = %q, still unbalanced", tt.in, got)
		}
	}
}

// TestRenderBalancesRawHTML renders bodies through Render: raw HTML left
// unbalanced by its editor comes out balanced, and balanced bodies come out
// exactly as before (only broken ones are rebuilt).
func TestRenderBalancesRawHTML(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // "" when only balance is checked
	}{
		{"extra end tag", "<div>\n<div>\n<h2>Titre</h2>\n</div>\n</div>\n</div>\n\nSuite.\n", ""},
		{"missing end tag", "<section>\n<div class=\"fr-table\">\n<table>\n<tr><td>1</td></tr>\n</table>\n</section>\n\nSuite.\n", ""},
		{"balanced raw HTML", "<div>\n<p>Un <em>bloc</em>.</p>\n</div>\n\nSuite.\n", "<div>\n<p>Un <em>bloc</em>.</p>\n</div>\n<p>Suite.</p>"},
		{"Markdown only", "Un *texte* & un [lien](/x).\n", `<p>Un <em>texte</em> &amp; un <a href="https://exemple.org/x">lien</a>.</p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Publication{URL: "https://exemple.org/blog/p/", Lang: "fr", body: []byte(tt.body)}
			if err := Render(context.Background(), []*Publication{p}); err != nil {
				t.Fatal(err)
			}
			if !balancedHTML(p.Content) {
				t.Errorf("unbalanced: %q", p.Content)
			}
			if !strings.Contains(p.Content, "Suite.") && tt.want == "" {
				t.Errorf("text after the block lost: %q", p.Content)
			}
			if tt.want != "" && p.Content != tt.want {
				t.Errorf("got %q, want %q", p.Content, tt.want)
			}
		})
	}
}

func TestSelfContained(t *testing.T) {
	for _, tt := range []struct {
		frag   string
		inline bool
		want   bool
	}{
		{"", true, true},
		{"text only", false, true},
		{"<br>", true, true},
		{`<img src="x" alt="y">`, true, true},
		{"<!-- c -->", true, true},
		{"<sup>", true, false},  // closed by a later fragment
		{"</sup>", true, false}, // closes an earlier one
		{"<hr>", true, false},   // ends the paragraph
		{"<li>", true, false},
		{`<figure><img src="a"><figcaption>x</figcaption></figure>`, false, true},
		{"<div>\n<p>a</p>\n</div>", false, true},
		{"<div>", false, false},
		{"</div>", false, false},
		{"<p>left open", false, false},
		{"<div/>", false, false},
		{"<table><tr><td>a</td></tr></table>", false, true},
		{"<ul><li>a<li>b</ul>", false, true},
		{"<li>a</li>", false, false}, // would close a list item around it
		{"<div><li>a</li></div>", false, false},
		{"<td>a</td>", false, false},
	} {
		if got := selfContained([]byte(tt.frag), tt.inline); got != tt.want {
			t.Errorf("selfContained(%q, inline %v) = %v, want %v", tt.frag, tt.inline, got, tt.want)
		}
	}
}

func TestMayOpenSkipped(t *testing.T) {
	for _, frag := range []string{"<script>", "<SCRIPT src=x>", "a <iframe/>", "<style", "x <b>y</b> <Form action=x>", "<textarea>"} {
		if !mayOpenSkipped([]byte(frag)) {
			t.Errorf("mayOpenSkipped(%q) = false", frag)
		}
		if skippedAtEnd([]byte(frag)) == "" && !strings.Contains(frag, "/>") && !strings.Contains(frag, "<style") {
			t.Errorf("skippedAtEnd(%q) = \"\": the test case is wrong", frag)
		}
	}
	for _, frag := range []string{"", "<b>", "</script>", "<scripts>", "< script>", "<img src=script>", "<a href=\"<iframe\">"} {
		if skippedAtEnd([]byte(frag)) != "" {
			continue // the tokenizer finds one: the cheap test must too
		}
		if frag == "<scripts>" || frag == `<a href="<iframe">` {
			continue // a false positive is allowed
		}
		if mayOpenSkipped([]byte(frag)) {
			t.Errorf("mayOpenSkipped(%q) = true, want false", frag)
		}
	}
}
