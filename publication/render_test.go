package publication

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
)

const testPageURL = "https://example.org/blog/post/"

func TestRewriteHTML(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a href", `<a href="x">a</a><a href="/y">b</a><a href="https://o.org/">c</a><a href="#t">d</a><a href="mailto:a@b.c">e</a><a href="../z?q=1">f</a>`,
			`<a href="https://example.org/blog/post/x">a</a><a href="https://example.org/y">b</a><a href="https://o.org/">c</a><a href="https://example.org/blog/post/#t">d</a><a href="mailto:a@b.c">e</a><a href="https://example.org/blog/z?q=1">f</a>`},
		{"img src and srcset", `<img src="i.png" srcset="i.png 1x, /j.png 2x, https://c.org/k.png 3x" alt="x">`,
			`<img src="https://example.org/blog/post/i.png" srcset="https://example.org/blog/post/i.png 1x, https://example.org/j.png 2x, https://c.org/k.png 3x" alt="x">`},
		{"srcset with widths and odd spacing", `<img srcset="  a.png   480w ,b.png 800w">`,
			`<img srcset="https://example.org/blog/post/a.png 480w, https://example.org/blog/post/b.png 800w">`},
		{"video, poster, source, audio", `<video src="v.mp4" poster="p.jpg"><source src="s.webm" type="video/webm"></video><audio src="../a.mp3"></audio>`,
			`<video src="https://example.org/blog/post/v.mp4" poster="https://example.org/blog/post/p.jpg"><source src="https://example.org/blog/post/s.webm" type="video/webm"></video><audio src="https://example.org/blog/a.mp3"></audio>`},
		{"picture source srcset", `<picture><source srcset="a.avif" type="image/avif"><img src="a.jpg"></picture>`,
			`<picture><source srcset="https://example.org/blog/post/a.avif" type="image/avif"><img src="https://example.org/blog/post/a.jpg"></picture>`},
		{"blockquote cite", `<blockquote cite="src/">q</blockquote>`, `<blockquote cite="https://example.org/blog/post/src/">q</blockquote>`},
		{"iframe to a link with its title", `<iframe src="https://www.youtube.com/embed/X" title="Replay">fallback <a href="z">z</a></iframe>after`,
			`<a href="https://www.youtube.com/watch?v=X">Replay</a>after`},
		{"iframe with srcdoc only", `<iframe srcdoc="<script>alert(1)</script>"></iframe>after`, `after`},
		{"iframe with srcdoc and src", `<iframe srcdoc="<p>x</p>" src="/embed/y"></iframe>`, `<a href="https://example.org/embed/y">Voir le contenu intégré</a>`},
		{"iframe to javascript", `<iframe src="javascript:alert(1)"></iframe>x`, `x`},
		{"embed", `<embed src="/flash.swf">`, `<a href="https://example.org/flash.swf">Voir le contenu intégré</a>`},
		{"javascript links", `<a href="javascript:alert(1)">x</a><a href=" JaVaScRiPt:alert(1)">y</a><a href="java&#x09;script:alert(1)">z</a><a href="vbscript:x">v</a>`,
			`<a>x</a><a>y</a><a>z</a><a>v</a>`},
		{"javascript in srcset and poster", `<img srcset="javascript:alert(1) 1x, ok.png 2x"><video poster="javascript:x"></video>`,
			`<img srcset="https://example.org/blog/post/ok.png 2x"><video></video>`},
		// The policy checks src, not srcset: candidates that do not parse,
		// or are not http(s), are dropped here.
		{"srcset candidates that do not parse or are not http", `<img srcset="%0è 1x, ok.png 2x, data:image/svg+xml,x 3x, mailto:a@b.fr 4x, a%zz.png 5x">`,
			`<img srcset="https://example.org/blog/post/ok.png 2x">`},
		// Split as browsers do: a URL runs to the next space (so it may hold
		// a comma, escaped in the output), descriptors to the next comma.
		// Candidates with descriptors browsers drop are dropped.
		{"srcset split as browsers do", `<img srcset="a,b.png 1x,c.png, d.png (x, y) 2x,,e.png 1.5x 300h, f.png 2q, g.png 0x1x, h.png -3w">`,
			`<img srcset="https://example.org/blog/post/a%2Cb.png 1x, https://example.org/blog/post/c.png, https://example.org/blog/post/e.png 1.5x 300h">`},
		{"http URLs without a host", `<a href="https:0">x</a><img src="http:/x.png">`, `<a>x</a><img>`},
		{"data URLs", `<img src="data:image/png;base64,AAAA"><a href="data:text/html,x">d</a>`, `<img src="data:image/png;base64,AAAA"><a>d</a>`},
		{"event handlers", `<img src="x.png" onerror="alert(1)" ONLOAD="x">`, `<img src="https://example.org/blog/post/x.png">`},
		{"style and class", `<a href="x" style="color:red" class="btn">s</a>`, `<a href="https://example.org/blog/post/x">s</a>`},
		{"script and style content", `<p>a<script>alert("<a href=x>")</script>b<style>p{}</style>c</p>`, `<p>abc</p>`},
		{"comments", `<!-- <a href="x"> --><p>ok</p>`, `<p>ok</p>`},
		{"code language class kept", `<code class="language-go">x</code><span class="x">y</span>`, `<code class="language-go">x</code><span>y</span>`},
		{"object and form dropped with content", `<object data="x.swf"><a href="q">fallback</a></object>k<form action="/x"><input name="a"></form>k`, `kk`},
		{"English label", `<iframe src="/e"></iframe>`, `<a href="https://example.org/e">Voir le contenu intégré</a>`},
		{"void dropped elements keep what follows", `<link rel="stylesheet" href="s.css"><meta charset="utf-8"><base href="https://evil.example/"><p>after</p>`, `<p>after</p>`},
		// A self-closing raw-text element must not make the rest raw text.
		{"self-closing iframe", `<iframe src="https://o.org/e"/><a href="rel">x</a>`, `<a href="https://o.org/e">Voir le contenu intégré</a><a href="https://example.org/blog/post/rel">x</a>`},
		{"self-closing script", `<script/><a href="rel">x</a></script>`, `<a href="https://example.org/blog/post/rel">x</a>`},
		{"self-closing textarea", `<textarea/><img src="i.png">`, `<img src="https://example.org/blog/post/i.png">`},
	}
	base, _ := url.Parse(testPageURL)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			rewriteHTML(&b, []byte(tt.in), base, "", "fr")
			if b.String() != tt.want {
				t.Errorf("rewriteHTML(%s)\n got %s\nwant %s", tt.in, b.String(), tt.want)
			}
		})
	}
	var b bytes.Buffer
	rewriteHTML(&b, []byte(`<iframe src="/e"></iframe>`), base, "", "en-GB")
	if b.String() != `<a href="https://example.org/e">View the embedded content</a>` {
		t.Errorf("English label: %s", b.String())
	}
}

// render renders one Markdown body as a publication at testPageURL.
func render(t *testing.T, body string) string {
	t.Helper()
	p := &Publication{URL: testPageURL, Lang: "fr", body: []byte(body)}
	if err := Render(context.Background(), []*Publication{p}); err != nil {
		t.Fatal(err)
	}
	return p.Content
}

func TestRenderMarkdown(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"GFM table", "| a | b |\n|:--|--:|\n| 1 | 2 |\n",
			[]string{`<table>`, `<th align="left">a</th>`, `<td align="right">2</td>`}},
		{"autolinks", "www.example.com, https://a.org/x and a@b.co",
			[]string{`<a href="http://www.example.com">www.example.com</a>`, `<a href="https://a.org/x">https://a.org/x</a>`, `<a href="mailto:a@b.co">a@b.co</a>`}},
		{"strikethrough", "~~old~~ new", []string{`<p><del>old</del> new</p>`}},
		{"heading ids are slugs, unique", "# Séance d’été\n\n## Séance d’été\n\n## 日本\n\n## !!!\n",
			[]string{`<h1 id="seance-d-ete">Séance d’été</h1>`, `<h2 id="seance-d-ete-1">Séance d’été</h2>`, `<h2 id="日本">日本</h2>`, `<h2 id="section">!!!</h2>`}},
		{"relative Markdown links and images", "[rel](../x/) ![i](i.png \"T\") [top](#h)",
			[]string{`<a href="https://example.org/blog/x/">rel</a>`, `<img src="https://example.org/blog/post/i.png" alt="i" title="T">`, `<a href="https://example.org/blog/post/#h">top</a>`}},
		{"empty destination is the page", "[texte]() <a href=\"\">b</a>",
			[]string{`<a href="https://example.org/blog/post/">texte</a>`, `<a href="https://example.org/blog/post/">b</a>`}},
		{"unparseable destinations are unlinked", "[a](%) ![b](1:2) [c](100%)",
			[]string{`<p>a b c</p>`}},
		{"link with spaces", "[fiche](</guides/éco-conception/fiche outils/>)",
			[]string{`<a href="https://example.org/guides/%C3%A9co-conception/fiche%20outils/">fiche</a>`}},
		{"raw HTML kept then cleaned", "<div style=\"x\" onclick=\"y\">d</div>\n", []string{`<div>d</div>`}},
		{"task list", "- [ ] task\n- [x] done\n", []string{`<input disabled="" type="checkbox"> task`, `<input checked="" disabled="" type="checkbox"> done`}},
		{"fenced code keeps its language", "```go\nfmt.Println(\"<b>\")\n```\n", []string{`<pre><code class="language-go">fmt.Println(&quot;&lt;b&gt;&quot;)`}},
		{"iframe in Markdown", "Replay:\n\n<iframe src=\"https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ\" title=\"Replay\" allowfullscreen></iframe>\n",
			[]string{`<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">Replay</a>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, tt.body)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("content lacks %s\ncontent:\n%s", w, got)
				}
			}
			if err := checkSafeHTML(got); err != nil {
				t.Errorf("unsafe content: %v\n%s", err, got)
			}
		})
	}
}

// The policy is the last line of defence: what rewriteHTML lets through
// must still come out clean.
func TestRenderRemovesDangerousHTML(t *testing.T) {
	tests := []struct {
		name, body string
		absent     []string
		present    []string
	}{
		{"script content", "<script>alert('x')</script>\n\ntext", []string{"<script", "alert"}, []string{"<p>text</p>"}},
		{"img onerror", `<img src="x.png" onerror="alert(1)">`, []string{"onerror", "alert"}, []string{`<img src="https://example.org/blog/post/x.png">`}},
		{"a style", `<a href="x" style="color:red">s</a>`, []string{"style", "color"}, []string{`<a href="https://example.org/blog/post/x">s</a>`}},
		{"javascript link in Markdown", "[x](javascript:alert(1))", []string{"javascript", "href"}, []string{"x"}},
		{"javascript link in HTML", `<a href="JAVASCRIPT:alert(1)">x</a>`, []string{"javascript", "JAVASCRIPT", "href"}, []string{"x"}},
		{"iframe srcdoc", `<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;" src="/e"></iframe>`, []string{"srcdoc", "<iframe", "alert"}, []string{`<a href="https://example.org/e">`}},
		{"style element", "<style>body{display:none}</style>\n\nok", []string{"<style", "display"}, []string{"ok"}},
		{"form and button", "<form><button formaction=\"javascript:x\">b</button></form>ok", []string{"<form", "<button", "javascript"}, []string{"ok"}},
		// A button's label is text worth keeping (DSFR accordions); the
		// element and its attributes are not.
		{"button label kept", `<h2 class="fr-accordion__title"><button class="fr-accordion__btn" aria-expanded="false" onclick="x()" formaction="javascript:x">Transcription</button></h2>`,
			[]string{"<button", "onclick", "javascript", "aria-expanded"}, []string{"<h2>Transcription</h2>"}},
		{"svg with script", `<svg><script>alert(1)</script><a xlink:href="javascript:x">l</a></svg>`, []string{"<svg", "<script", "javascript", "alert"}, nil},
		{"meta refresh", `<meta http-equiv="refresh" content="0;url=javascript:x">ok`, []string{"<meta", "javascript"}, []string{"ok"}},
		{"base href", `<base href="https://evil.example/"><a href="x">x</a>`, []string{"evil"}, []string{`https://example.org/blog/post/x`}},
		{"self-closing iframe", `<iframe src="https://o.org/e"/><a href="rel">x</a>`, []string{"<iframe", `href="rel"`}, []string{`https://example.org/blog/post/rel`}},
		{"inline script", "text <script>alert(1)</script> more", []string{"<script", "alert"}, []string{"<p>text", "more</p>"}},
		{"inline style attribute", `a <span style="color:red" onclick="x">b</span> c`, []string{"style", "onclick"}, []string{"<span>b</span>"}},
		{"inline img onerror", "inline <img src=rel.png onerror=alert(1)> img", []string{"onerror", "alert"}, []string{`<img src="https://example.org/blog/post/rel.png">`}},
		{"script block holding Markdown", "<script>\n\n<a href=\"rel\">x</a> <img src=x onerror=alert(1)>\n\n</script>\n\nafter", []string{"<script", "alert", "onerror", "rel"}, []string{"<p>after</p>"}},
		{"javascript reference definition", "[x](<javascript:alert(1)>) [y][r] ![z][r]\n\n[r]: javascript:alert(1)", []string{"javascript", "href", "src"}, []string{"x y z"}},
		{"javascript autolink", "<javascript:alert(1)>", []string{"href"}, nil},
		{"relative reference definition", "[rel][r] ![img][r]\n\n[r]: ../up/ \"T\"", nil, []string{`<a href="https://example.org/blog/up/" title="T">rel</a>`, `<img src="https://example.org/blog/up/" alt="img" title="T">`}},
		{"raw HTML in a table cell and a heading", "## <a href=\"h\">H</a>\n\n| a | b |\n|---|---|\n| <a href=\"rel\">x</a> | <img src=\"i.png\" style=\"w\"> |",
			[]string{"style"}, []string{`<a href="https://example.org/blog/post/h">H</a>`, `<td><a href="https://example.org/blog/post/rel">x</a></td>`, `<td><img src="https://example.org/blog/post/i.png"></td>`}},
		{"tag split over lines", "<a href=\"rel\"\ntitle=\"t\" style=\"x\">multi line</a>", []string{"style"}, []string{`<a href="https://example.org/blog/post/rel" title="t">multi line</a>`}},
		{"Markdown inside raw HTML blocks", "<details><summary>s</summary>\n\n[in](rel)\n\n</details>", nil, []string{`<a href="https://example.org/blog/post/rel">in</a>`}},
		{"protocol-relative link", "[x](//cdn.example/x) <a href=\"//cdn.example/y\">y</a>", nil, []string{`href="https://cdn.example/x"`, `href="https://cdn.example/y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, tt.body)
			for _, a := range tt.absent {
				if strings.Contains(got, a) {
					t.Errorf("content contains %q:\n%s", a, got)
				}
			}
			for _, p := range tt.present {
				if !strings.Contains(got, p) {
					t.Errorf("content lacks %q:\n%s", p, got)
				}
			}
			if err := checkSafeHTML(got); err != nil {
				t.Errorf("unsafe content: %v\n%s", err, got)
			}
		})
	}
}

func TestRenderOnlyOnce(t *testing.T) {
	p := &Publication{URL: testPageURL, Lang: "fr", body: []byte("*a*")}
	q := &Publication{URL: testPageURL, Lang: "fr", body: []byte("**b**")}
	if err := Render(context.Background(), []*Publication{p}); err != nil {
		t.Fatal(err)
	}
	if p.Content != "<p><em>a</em></p>" {
		t.Fatalf("Content = %q", p.Content)
	}
	p.Content = "kept"
	if err := Render(context.Background(), []*Publication{p, q}); err != nil {
		t.Fatal(err)
	}
	if p.Content != "kept" || q.Content != "<p><strong>b</strong></p>" {
		t.Errorf("rendered twice or not at all: %q %q", p.Content, q.Content)
	}
	if err := Render(context.Background(), nil); err != nil {
		t.Errorf("empty list: %v", err)
	}
}

func TestRenderCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &Publication{URL: testPageURL, body: []byte("x")}
	err := Render(ctx, []*Publication{p})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// TestHeadingIDAttribute: "## Titre {#id}" (markdown-it-attrs, Pandoc)
// sets the heading's id; nothing else of such attributes goes through.
func TestHeadingIDAttribute(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{"## Contexte {#contexte}\n\n## Contexte\n", `<h2 id="contexte">Contexte</h2>` + "\n" + `<h2 id="contexte-1">Contexte</h2>`},
		{"## Titre {#sec-2 .rouge style=\"color:red\" onclick=\"x()\"}\n", `<h2 id="sec-2">Titre</h2>`},
		{"## Titre {.rouge style=\"color:red\"}\n", `<h2 id="titre">Titre</h2>`},
		{"## Titre {#2x}\n", `<h2 id="2x">Titre</h2>`},
		{"### 1. Remise en état\n", `<h3 id="1-remise-en-etat">1. Remise en état</h3>`},
		{"Texte {#pas-un-titre}\n", `<p>Texte {#pas-un-titre}</p>`},
	} {
		if got := render(t, tt.body); got != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.body, got, tt.want)
		}
	}
}
