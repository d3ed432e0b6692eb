package publication

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// testLookup resolves variables as a publication at blog/post.md would.
func testLookup(t *testing.T) vars {
	t.Helper()
	l := newTestLoader(t, map[string]any{
		"metadata": map[string]any{
			"title":  "Le site",
			"author": map[string]any{"name": "Équipe", "email": "contact@example.org"},
		},
	})
	p := &Publication{Source: "blog/post.md", Path: "/blog/post/", Date: time.Date(2022, 6, 2, 0, 0, 0, 0, paris(t))}
	data := map[string]any{"name": "Ada", "title": "L’été à Paris", "count": int64(3), "image": "/img/a.png", "tags": []any{"a"}}
	return l.lookup(p, data)
}

func TestExpandTemplates(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		video  videoLink
		want   string
		issues []templateIssue
	}{
		{"no template", "plain { text } here", videoLink{}, "plain { text } here", nil},
		{"front-matter variable", "Hello {{ name }}!", videoLink{}, "Hello Ada!", nil},
		{"number variable", "{{count}} items", videoLink{}, "3 items", nil},
		{"global data", "{{ metadata.title }} par {{ metadata.author.name }}", videoLink{}, "Le site par Équipe", nil},
		{"page variables", "{{ page.fileSlug }} {{ page.url }} {{ page.inputPath }} {{ page.filePathStem }}", videoLink{}, "post /blog/post/ ./blog/post.md /blog/post", nil},
		{"whitespace control", "a {{- name -}} b", videoLink{}, "a Ada b", nil},
		{"neutral filters", "{{ image | url }}|{{ name | safe | trim }}", videoLink{}, "/img/a.png|Ada", nil},
		{"slug upper lower", "{{ title | slug }} {{ name | upper }} {{ name | lower }}", videoLink{}, "l-ete-a-paris ADA ada", nil},
		{"string literal", `{{ "texte" | upper }} {{ 'b' }}`, videoLink{}, "TEXTE b", nil},
		{"unknown filter", "{{ name | truncate(2) }}", videoLink{}, "Ada",
			[]templateIssue{{1, `filter "truncate" in {{ name | truncate(2) }} cannot be run: value used as it is`}}},
		{"unknown variable", "x {{ nope }} y", videoLink{}, "x  y", []templateIssue{{1, "unknown variable {{ nope }}: removed"}}},
		{"unknown nested variable", "{{ metadata.nope.deeper }}", videoLink{}, "", []templateIssue{{1, "unknown variable {{ metadata.nope.deeper }}: removed"}}},
		{"not a text value", "{{ metadata }}{{ tags }}", videoLink{}, "",
			[]templateIssue{{1, "{{ metadata }} is not a text value: removed"}, {1, "{{ tags }} is not a text value: removed"}}},
		{"empty expression", "a{{ }}b", videoLink{}, "ab", []templateIssue{{1, "empty {{ }}: removed"}}},
		{"comment", "a{# note #}b", videoLink{}, "ab", nil},
		// A comment block goes with what it holds (an editor's note).
		{"comment block", "a{% comment %}\nNOTE INTERNE : {{ name }} ne pas publier\n{% endcomment %}b", videoLink{}, "ab", nil},
		{"nested comment blocks and whitespace control", "a{%- comment -%}x{% comment %}y{% endcomment %}z{%- endcomment -%}b", videoLink{}, "ab", nil},
		{"unterminated comment block", "a{% comment %}secret\nmore", videoLink{}, "a",
			[]templateIssue{{1, "{% comment %} without {% endcomment %}: the rest of the body is left out"}}},
		{"raw block", "{% raw %}{{ name }} {% include x %}{% endraw %}!", videoLink{}, "{{ name }} {% include x %}!", nil},
		{"verbatim block", "{% verbatim %}{{ name }}{% endverbatim %}", videoLink{}, "{{ name }}", nil},
		{"include", `a {% include "partials/x.njk" %} b`, videoLink{}, "a  b",
			[]templateIssue{{1, `template tag {% include "partials/x.njk" %} cannot be run: removed`}}},
		{"block tags keep their content", "{% if x %}yes{% endif %}", videoLink{}, "yes",
			[]templateIssue{{1, "template tag {% if x %} cannot be run: removed"}, {1, "template tag {% endif %} cannot be run: removed"}}},
		{"unterminated expression", "a {{ name", videoLink{}, "a  name", []templateIssue{{1, `unterminated "{{": removed`}}},
		{"unterminated tag", "a {% include", videoLink{}, "a  include", []templateIssue{{1, `unterminated "{%": removed`}}},
		{"lone brace at the end", "a {", videoLink{}, "a {", nil},
		{"youtube without thumbnail", `{% youtube "dQw4w9WgXcQ" %}`, videoLink{title: "Épisode 1", lang: "fr"},
			`<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">Regarder la vidéo : Épisode 1</a>`, nil},
		{"youtube in English", `{% youtube 'dQw4w9WgXcQ' %}`, videoLink{title: "Episode 1", lang: "en"},
			`<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">Watch the video: Episode 1</a>`, nil},
		{"dailymotion with thumbnail", `{%- dailymotion "x8abc" -%}`, videoLink{thumbnail: "/img/t.jpg", title: `A "B" & C`, lang: "fr"},
			`<a href="https://www.dailymotion.com/video/x8abc"><img src="/img/t.jpg" alt="Regarder la vidéo : A &#34;B&#34; &amp; C"></a>`, nil},
		{"vimeo with a URL", `{% vimeo "https://player.vimeo.com/video/76979871" %}`, videoLink{lang: "fr"},
			`<a href="https://vimeo.com/76979871">Regarder la vidéo</a>`, nil},
		{"youtube without id", `{% youtube %}`, videoLink{}, "", []templateIssue{{1, "{% youtube %} without a video id: removed"}}},
	}
	lookup := testLookup(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, issues := expandTemplates([]byte(tt.src), 1, lookup, tt.video)
			if string(out) != tt.want {
				t.Errorf("output %q, want %q", out, tt.want)
			}
			if !reflect.DeepEqual(issues, tt.issues) {
				t.Errorf("issues %v, want %v", issues, tt.issues)
			}
		})
	}
}

// Warnings name the line of the tag in the file, across multi-line tags,
// comments and CRLF line ends.
func TestExpandTemplatesLineNumbers(t *testing.T) {
	body := "Intro {{ name }}\n" + // 5
		"\n" + // 6
		"{{ nope }}\n" + // 7
		"{% include \"a.njk\" %} x {% include\n" + // 8
		"\"b.njk\" %} {% if y %}\n" + // 9
		"{# a comment\n" + // 10
		"on two lines #}\n" + // 11
		"{% endif %}\r\n" + // 12
		"{% raw %}\n{% nope %}\n{% endraw %}\n" + // 13-15
		"{% comment %}\nnote\n{% endcomment %}{{ nope }}\n" + // 16-18
		"last {{ broken\n" // 19
	_, issues := expandTemplates([]byte(body), 5, testLookup(t), videoLink{})
	want := []templateIssue{
		{7, "unknown variable {{ nope }}: removed"},
		{8, `template tag {% include "a.njk" %} cannot be run: removed`},
		{8, `template tag {% include "b.njk" %} cannot be run: removed`},
		{9, "template tag {% if y %} cannot be run: removed"},
		{12, "template tag {% endif %} cannot be run: removed"},
		{18, "unknown variable {{ nope }}: removed"},
		{19, `unterminated "{{": removed`},
	}
	if !reflect.DeepEqual(issues, want) {
		t.Errorf("issues:\n%v\nwant\n%v", issues, want)
	}
}

func TestExpandTemplatesLongTagMessage(t *testing.T) {
	src := `{% include 'a` + strings.Repeat("é", 60) + `' %}`
	_, issues := expandTemplates([]byte(src), 1, testLookup(t), videoLink{})
	if len(issues) != 1 {
		t.Fatalf("issues %v", issues)
	}
	if !utf8.ValidString(issues[0].msg) {
		t.Errorf("message is not valid UTF-8: %q", issues[0].msg)
	}
	if !strings.Contains(issues[0].msg, "...") || len(issues[0].msg) > 120 {
		t.Errorf("message not shortened: %q", issues[0].msg)
	}
}

func TestWatchURL(t *testing.T) {
	tests := []struct{ kind, in, want string }{
		{"youtube", "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
		{"youtube", " dQw4w9WgXcQ ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
		{"dailymotion", "x8abc", "https://www.dailymotion.com/video/x8abc"},
		{"vimeo", "76979871", "https://vimeo.com/76979871"},
		{"youtube", "a&b=c", "https://www.youtube.com/watch?v=a%26b%3Dc"},
		{"", "dQw4w9WgXcQ", ""},
		{"", "", ""},
		{"", "https://www.youtube.com/embed/dQw4w9WgXcQ?autoplay=1", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
		{"", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
		{"", "//www.youtube.com/embed/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
		{"", "https://youtu.be/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
		{"youtube", "https://youtu.be/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
		{"", "https://www.dailymotion.com/embed/video/k2Wc7zFvIkZpB6y1dzq", "https://www.dailymotion.com/video/k2Wc7zFvIkZpB6y1dzq"},
		{"", "https://geo.dailymotion.com/player.html?video=x8abc", "https://www.dailymotion.com/video/x8abc"},
		{"", "https://player.vimeo.com/video/76979871?h=abc", "https://vimeo.com/76979871"},
		{"", "https://www.youtube.com/watch?v=dQw4w9WgXcQ&autoplay=1", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
		{"", "https://example.org/player.html?autoplay=1&x=2", "https://example.org/player.html?x=2"},
		{"", "/local/player.html", "/local/player.html"},
	}
	for _, tt := range tests {
		if got := watchURL(tt.kind, tt.in); got != tt.want {
			t.Errorf("watchURL(%q, %q) = %q, want %q", tt.kind, tt.in, got, tt.want)
		}
	}
}

func TestScalarString(t *testing.T) {
	tests := []struct {
		in   any
		want string
		ok   bool
	}{
		{"a", "a", true}, {int64(-3), "-3", true}, {7, "7", true}, {1.5, "1.5", true},
		{true, "true", true}, {nil, "", true}, {[]any{"a"}, "", false}, {map[string]any{}, "", false},
	}
	for _, tt := range tests {
		got, ok := scalarString(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("scalarString(%#v) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
