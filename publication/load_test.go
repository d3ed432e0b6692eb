package publication

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestLoadCascade(t *testing.T) {
	files := map[string]string{
		"_data/metadata.json":     `{"title": "Le site", "author": {"name": "Équipe"}, "n": 3, "f": 1.5}`,
		"_data/helpers.js":        "module.exports = {};",
		"blog/blog.json":          `{"tags": ["posts", "blog"], "type": "news", "layout": "post.njk", "lang": "fr", "shared": "from blog.json"}`,
		"blog/blog.11tydata.json": `{"tags": ["actu"], "type": "article"}`,
		"blog/blog.11tydata.js":   "module.exports = {};",
		"blog/2024/2024.json":     `{"tags": "annee-2024", "author": "Rédaction"}`,
		"blog/2024/post.json":     `{"description": "From template data", "type": "billet"}`,
		"blog/2024/post.md": "---\ntitle: Billet\ndate: 2024-03-01\ntags: [Blog, local, all]\n---\n" +
			"{{ metadata.title }} / {{ metadata.author.name }} / {{ metadata.n }} / {{ metadata.f }} / {{ layout }} / {{ author }} / {{ shared }}\n",
		"blog/other.md":  "---\ntitle: Autre\ndate: 2024-03-02\ntype: override\nlayout: custom.njk\n---\nx\n",
		"pages/about.md": "---\ntitle: À propos\ndate: 2024-01-01\n---\nx\n",
		// JSON files that are not data files are nobody's business.
		"assets/list.json":   `[1, 2]`,
		"assets/broken.json": `{`,
	}
	s := loadFiles(t, files, testOptions(t))
	wantDiags := []string{
		"site/_data/helpers.js: warning: JavaScript data files cannot be run: its variables are unknown",
		"site/blog/blog.11tydata.js: warning: JavaScript data files cannot be run: give what it computes in bulletin.yaml (content.permalinks, or the values in a .11tydata.json file)",
	}
	if got := diagStrings(s); !reflect.DeepEqual(got, wantDiags) {
		t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantDiags, "\n"))
	}
	pubs := bySource(s)
	post, other, about := pubs["blog/2024/post.md"], pubs["blog/other.md"], pubs["pages/about.md"]
	if post == nil || other == nil || about == nil {
		t.Fatalf("publications: %v", pubs)
	}
	if want := []string{"blog", "actu", "annee-2024", "local"}; !reflect.DeepEqual(post.Tags, want) {
		t.Errorf("post tags %q, want %q", post.Tags, want)
	}
	// Template data beats directory data; .11tydata.json beats dir.json.
	if post.Type != "billet" || post.Description != "From template data" {
		t.Errorf("post type %q description %q", post.Type, post.Description)
	}
	if post.Author == nil || post.Author.Name != "Rédaction" {
		t.Errorf("post author %+v", post.Author)
	}
	if other.Type != "override" || other.Data["layout"] != "custom.njk" {
		t.Errorf("front matter must win: type %q layout %v", other.Type, other.Data["layout"])
	}
	if want := []string{"blog", "actu"}; !reflect.DeepEqual(other.Tags, want) {
		t.Errorf("other tags %q, want %q", other.Tags, want)
	}
	if s, _ := pubs["blog/other.md"].Data["shared"].(string); s != "from blog.json" {
		t.Errorf("dir.json key not inherited: %q", s)
	}
	if len(about.Tags) != 0 || about.Type != "" || about.Data["layout"] != nil {
		t.Errorf("cascade leaked outside blog/: %+v", about)
	}
	if err := Render(context.Background(), s.Publications); err != nil {
		t.Fatal(err)
	}
	if want := "<p>Le site / Équipe / 3 / 1.5 / post.njk / Rédaction / from blog.json</p>"; post.Content != want {
		t.Errorf("post content %q, want %q", post.Content, want)
	}
	if s.Global["metadata"].(map[string]any)["title"] != "Le site" {
		t.Errorf("Global = %v", s.Global)
	}
}

// Eleventy's order: dir.11tydata.json over dir.json, x.11tydata.json over
// x.json, whatever order the files are read in.
func TestLoadDataFilePriority(t *testing.T) {
	files := map[string]string{
		"a/a.json":          `{"type": "from-json", "tags": ["j"], "only": "json"}`,
		"a/a.11tydata.json": `{"type": "from-11tydata", "tags": ["e"]}`,
		"a/p.json":          `{"description": "from p.json", "k": "p.json"}`,
		"a/p.11tydata.json": `{"description": "from p.11tydata.json"}`,
		"a/p.md":            "---\ntitle: P\ndate: 2024-01-01\n---\nx\n",
	}
	s := loadFiles(t, files, testOptions(t))
	p := bySource(s)["a/p.md"]
	if p == nil {
		t.Fatalf("diagnostics %v", diagStrings(s))
	}
	if p.Type != "from-11tydata" || p.Data["only"] != "json" {
		t.Errorf("type %q only %v", p.Type, p.Data["only"])
	}
	if !reflect.DeepEqual(p.Tags, []string{"j", "e"}) {
		t.Errorf("tags %q", p.Tags)
	}
	if p.Description != "from p.11tydata.json" || p.Data["k"] != "p.json" {
		t.Errorf("description %q k %v", p.Description, p.Data["k"])
	}
}

func TestLoadDataFileErrors(t *testing.T) {
	files := map[string]string{
		"bad/bad.json":        "{\n  \"a\": 1,\n}\n",
		"bad/p.md":            "---\ntitle: P\ndate: 2024-01-01\n---\nx\n",
		"arr/arr.json":        `["x"]`,
		"_data/metadata.json": "{\"a\": tru}",
		"ok.md":               "---\ntitle: OK\ndate: 2024-01-01\n---\nx\n",
	}
	s := loadFiles(t, files, testOptions(t))
	want := []string{
		"site/_data/metadata.json:1: error: invalid JSON: invalid character '}' in literal true (expecting 'e')",
		"site/arr/arr.json:1: error: data file must hold a JSON object",
		"site/bad/bad.json:3: error: invalid JSON: invalid character '}' looking for beginning of object key string",
	}
	if got := diagStrings(s); !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s.Errors() != 3 || len(s.Publications) != 2 {
		t.Errorf("errors %d publications %d", s.Errors(), len(s.Publications))
	}
}

func TestLoadExclusionsAndStats(t *testing.T) {
	fm := func(title, date, extra string) string {
		return "---\ntitle: " + title + "\ndate: " + date + "\n" + extra + "---\nbody\n"
	}
	files := map[string]string{
		"a.md":                       fm("A", "2024-01-01", ""),
		"c.md":                       fm("C", "2024-01-01", ""),
		"b.markdown":                 fm("B", "2023-05-01", ""),
		"old.md":                     fm("Old", "2020-01-01", ""),
		"now.md":                     fm("Now", "2024-06-01T12:00:00+02:00", ""),
		"draft.md":                   fm("Draft", "2024-01-01", "draft: true\n"),
		"draft-str.md":               fm("Draft", "2024-01-01", "draft: \"yes\"\n"),
		"drafts/drafts.json":         `{"draft": true}`,
		"drafts/x.md":                fm("X", "2024-01-01", ""),
		"hidden.md":                  fm("Hidden", "2024-01-01", "eleventyExcludeFromCollections: true\n"),
		"nolink.md":                  fm("No link", "2024-01-01", "permalink: false\n"),
		"future.md":                  fm("Future", "2031-03-15", ""),
		"future2.md":                 fm("Future 2", "2030-01-01", ""),
		"soon.md":                    fm("Soon", "2024-06-01T12:00:01+02:00", ""),
		"listing.md":                 "---\ntitle: Tags\npagination: {data: collections}\n---\n\n  \n",
		"README.md":                  "# Not a publication\n",
		"_includes/partial.md":       "{% nope %}",
		"node_modules/pkg/readme.md": "# x",
		".hidden/x.md":               "# x",
		".dot.md":                    "# x",
		"notes.txt":                  "x",
		"skip/me.md":                 "# x",
	}
	opts := testOptions(t)
	opts.Exclude = []string{"README.md", "skip/**", "_includes/**"}
	s := loadFiles(t, files, opts)
	if len(s.Diagnostics) != 0 {
		t.Errorf("diagnostics: %v", diagStrings(s))
	}
	want := Stats{Files: 14, Published: 5, Drafts: 3, Excluded: 2, Future: 3, Listings: 1, Failed: 0}
	if s.Stats != want {
		t.Errorf("Stats = %+v, want %+v", s.Stats, want)
	}
	var got []string
	for _, p := range s.Publications {
		got = append(got, p.Source)
	}
	if want := []string{"now.md", "a.md", "c.md", "b.markdown", "old.md"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Publications %v, want %v (newest first, then by id)", got, want)
	}
	got = nil
	for _, p := range s.Upcoming {
		got = append(got, p.Source)
	}
	if want := []string{"soon.md", "future2.md", "future.md"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Upcoming %v, want %v (soonest first)", got, want)
	}
}

func TestLoadNowDefaultsToTheCurrentTime(t *testing.T) {
	opts := testOptions(t)
	opts.Now = time.Time{}
	next := time.Now().AddDate(1, 0, 0).Format("2006-01-02")
	s := loadFiles(t, map[string]string{
		"past.md": "---\ntitle: P\ndate: 2001-01-01\n---\nx",
		"next.md": "---\ntitle: N\ndate: " + next + "\n---\nx",
	}, opts)
	if s.Stats.Published != 1 || s.Stats.Future != 1 || s.Upcoming[0].Source != "next.md" {
		t.Errorf("Stats %+v", s.Stats)
	}
}

func TestLoadDuplicates(t *testing.T) {
	files := map[string]string{
		"a.md": "---\ntitle: A\ndate: 2024-01-01\npermalink: /same/\n---\nx",
		"b.md": "---\ntitle: B\ndate: 2024-01-02\n\npermalink: /same/\n---\nx",
		"c.md": "---\ntitle: C\ndate: 2024-01-01\nid: urn:x\n---\nx",
		"d.md": "---\ntitle: D\nid: urn:x\ndate: 2024-01-01\n---\nx",
		// An id that equals another publication's URL is a duplicate id.
		"h.md": "---\ntitle: H\ndate: 2024-01-01\nid: /same2/\n---\nx",
		"i.md": "---\ntitle: I\ndate: 2024-01-01\npermalink: /same2/\n---\nx",
		// Drafts take no URL.
		"j.md": "---\ntitle: J\ndate: 2024-01-01\npermalink: /same/\ndraft: true\n---\nx",
		// A future publication keeps its URL.
		"k.md": "---\ntitle: K\ndate: 2030-01-01\npermalink: /later/\n---\nx",
		"l.md": "---\ntitle: L\ndate: 2024-01-01\npermalink: /later/\n---\nx",
	}
	s := loadFiles(t, files, testOptions(t))
	want := []string{
		"site/b.md:5: error: duplicate permalink /same/ (already used by a.md): file skipped",
		"site/d.md:3: error: duplicate id urn:x (already used by c.md): file skipped",
		"site/i.md:1: error: duplicate id https://example.org/same2/ (already used by h.md): file skipped",
		"site/l.md:4: error: duplicate permalink /later/ (already used by k.md): file skipped",
	}
	if got := diagStrings(s); !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	pubs := bySource(s)
	for _, kept := range []string{"a.md", "c.md", "h.md", "k.md"} {
		if pubs[kept] == nil {
			t.Errorf("%s was skipped", kept)
		}
	}
	if s.Stats.Failed != 4 || s.Stats.Published != 3 || s.Stats.Drafts != 1 || s.Stats.Future != 1 {
		t.Errorf("Stats %+v", s.Stats)
	}
}

// Each kind of bad input gives exactly one diagnostic naming file and line,
// and the good file beside it still loads.
func TestLoadDiagnostics(t *testing.T) {
	const good = "---\ntitle: Good\ndate: 2024-01-01\n---\nok\n"
	tests := []struct {
		name    string
		bad     string
		max     int64
		diag    string
		skipped bool
	}{
		{"unterminated front matter", "---\ntitle: x\ndate: 2024-01-01\n\nbody\n", 0,
			"site/bad.md:1: error: front matter is not closed: add a line with --- after it: file skipped", true},
		{"YAML scanner error", "---\ntitle: a\ndescription: b: c\ndate: 2024-01-01\n---\n", 0,
			"site/bad.md:3: error: invalid YAML: mapping values are not allowed in this context: file skipped", true},
		{"YAML parser error", "---\ntitle: a\ndate: 2024-01-01\ntags: [a, b\ntype: x\n---\nbody", 0,
			"site/bad.md:4: error: invalid YAML: did not find expected ',' or ']': file skipped", true},
		{"YAML bad indentation", "---\ntitle: a\nauthor:\n  name: b\n email: c\ndate: 2024-01-01\n---\nbody", 0,
			"site/bad.md:5: error: invalid YAML: did not find expected key: file skipped", true},
		{"YAML tab", "---\ntitle: a\ndate: 2024-01-01\ntags:\n\t- a\n---\nbody", 0,
			"site/bad.md:5: error: invalid YAML: found character that cannot start any token: file skipped", true},
		{"YAML error in a CRLF file", "---\r\ntitle: a\r\ndescription: b: c\r\n---\r\n", 0,
			"site/bad.md:3: error: invalid YAML: mapping values are not allowed in this context: file skipped", true},
		{"not a mapping", "---\n- a\n---\nbody", 0,
			"site/bad.md:2: error: front matter must be a YAML mapping (key: value lines): file skipped", true},
		{"unparseable date", "---\ntitle: a\ndate: 2024-13-45\n---\nb", 0,
			`site/bad.md:3: error: unparseable date "2024-13-45" (use 2006-01-02, 2006-01-02T15:04:05 or RFC 3339): file skipped`, true},
		{"date as a number", "---\ntitle: a\n\ndate: 2024\n---\nb", 0,
			"site/bad.md:4: error: unparseable date 2024 (use 2006-01-02): file skipped", true},
		{"unparseable updated", "---\ntitle: a\ndate: 2024-01-01\nupdated: demain\n---\nb", 0,
			`site/bad.md:4: error: updated: unparseable date "demain" (use 2006-01-02, 2006-01-02T15:04:05 or RFC 3339): file skipped`, true},
		{"missing title", "---\ndate: 2024-01-01\n---\nbody", 0, "site/bad.md:1: error: missing title: file skipped", true},
		{"empty title", "---\ndate: 2024-01-01\ntitle: \"  \"\n---\nbody", 0, "site/bad.md:3: error: missing title: file skipped", true},
		{"no front matter", "# Hello\n\ntext\n", 0, "site/bad.md:1: error: missing title: file skipped", true},
		{"missing date", "---\ntitle: a\n---\nbody", 0, "site/bad.md:1: error: missing date (add date: YYYY-MM-DD to the front matter): file skipped", true},
		{"invalid UTF-8", "---\ntitle: a\ndate: 2024-01-01\n---\nok\nbad \xff here\n", 0,
			"site/bad.md:6: error: invalid UTF-8 (save the file as UTF-8): file skipped", true},
		{"over the size limit", strings.Repeat("x", 300), 200,
			"site/bad.md: error: file is 300 bytes, over the 200-byte limit: file skipped", true},
		{"Markdown nested too deep", "---\ntitle: a\ndate: 2024-01-01\n---\n\nok\n" + strings.Repeat("> ", 150) + "x\n", 0,
			"site/bad.md:7: error: Markdown blocks nested 150 deep on one line (at most 100 can be rendered in reasonable time): file skipped", true},
		// The line is the file's, though a multi-line comment before it
		// is gone from the body that goldmark would read.
		{"nested too deep after a comment", "---\ntitle: a\ndate: 2024-01-01\n---\n{# one\ntwo\nthree #}\nok\n" + strings.Repeat("> ", 150) + "x\n", 0,
			"site/bad.md:9: error: Markdown blocks nested 150 deep on one line (at most 100 can be rendered in reasonable time): file skipped", true},
		{"permalink not a path", "---\ntitle: a\ndate: 2024-01-01\npermalink: 42\n---\nb", 0,
			"site/bad.md:4: error: permalink must be a path or false: file skipped", true},
		{"permalink with dot segments", "---\ntitle: a\ndate: 2024-01-01\npermalink: /a/../b/\n---\nb", 0,
			`site/bad.md:4: error: permalink "/a/../b/" must not contain . or .. segments: file skipped`, true},
		{"permalink with a query", "---\ntitle: a\ndate: 2024-01-01\npermalink: /a/?x=1\n---\nb", 0,
			`site/bad.md:4: error: permalink "/a/?x=1" must not contain ? or #: file skipped`, true},
		{"empty id", "---\ntitle: a\ndate: 2024-01-01\nid: \"\"\n---\nb", 0,
			"site/bad.md:4: error: id must be a non-empty text: file skipped", true},
		{"unknown template tag", "---\ntitle: a\ndate: 2024-01-01\n---\n\nline 6\n{% include \"x.njk\" %}\n", 0,
			`site/bad.md:7: warning: template tag {% include "x.njk" %} cannot be run: removed`, false},
		{"unknown template tag after a BOM, CRLF", "\xef\xbb\xbf---\r\ntitle: a\r\ndate: 2024-01-01\r\n---\r\n\r\n{% if x %}\r\n", 0,
			"site/bad.md:6: warning: template tag {% if x %} cannot be run: removed", false},
		{"unknown variable in the title", "---\ndate: 2024-01-01\ntitle: \"{{ nope }} x\"\n---\nb", 0,
			"site/bad.md:3: warning: unknown variable {{ nope }}: removed", false},
		{"updated before date", "---\ntitle: a\ndate: 2024-01-02\nupdated: 2024-01-01\n---\nb", 0,
			"site/bad.md:4: warning: updated is before date: date used", false},
		{"tags with a map", "---\ntitle: a\ndate: 2024-01-01\ntags: [a, {b: c}]\n---\nb", 0,
			"site/bad.md:4: warning: tags must be words or a list of words: a value was ignored", false},
		{"type not a word", "---\ntitle: a\ndate: 2024-01-01\ntype: [a]\n---\nb", 0,
			"site/bad.md:4: warning: type must be a single word: ignored", false},
		{"image list", "---\ntitle: a\ndate: 2024-01-01\nimage: [a.png]\n---\nb", 0,
			"site/bad.md:4: warning: image must be a URL or a map with src and alt: ignored", false},
		{"audio length not a number", "---\ntitle: a\ndate: 2024-01-01\naudio: {url: /a.mp3, length: abc}\n---\nb", 0,
			`site/bad.md:4: warning: audio length "abc" is not a number of bytes: ignored`, false},
		{"enclosure without url", "---\ntitle: a\ndate: 2024-01-01\nenclosure: {type: audio/mpeg}\n---\nb", 0,
			"site/bad.md:4: warning: enclosure needs a url: ignored", false},
		{"embedVideoUrl without a URL", "---\ntitle: a\ndate: 2024-01-01\nembedVideoUrl: k2Wc7zFvIkZpB6y1dzq\n---\nb", 0,
			`site/bad.md:4: warning: embedVideoUrl "k2Wc7zFvIkZpB6y1dzq" is not the URL of a video: ignored`, false},
		{"embedVideoUrl to javascript", "---\ntitle: a\ndate: 2024-01-01\nembedVideoUrl: \" javascript:alert(1)\"\n---\nb", 0,
			`site/bad.md:4: warning: embedVideoUrl "javascript:alert(1)" is not the URL of a video: ignored`, false},
		{"remote audio without length", "---\ntitle: a\ndate: 2024-01-01\naudio: https://cdn.example/a.mp3\n---\nb", 0,
			"site/bad.md:4: warning: audio https://cdn.example/a.mp3: size unknown (no local file; add length: in bytes)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(t)
			opts.MaxFileSize = tt.max
			s := loadFiles(t, map[string]string{"bad.md": tt.bad, "good.md": good}, opts)
			got := diagStrings(s)
			if len(got) != 1 || got[0] != tt.diag {
				t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(got, "\n"), tt.diag)
			}
			pubs := bySource(s)
			if pubs["good.md"] == nil {
				t.Errorf("good.md was not loaded")
			}
			if (pubs["bad.md"] == nil) != tt.skipped {
				t.Errorf("bad.md loaded: %v, want skipped: %v", pubs["bad.md"] != nil, tt.skipped)
			}
			if p := pubs["bad.md"]; p != nil && p.VideoURL != "" {
				if err := checkAbsURL(p.VideoURL); err != nil {
					t.Errorf("VideoURL: %v", err)
				}
			}
			wantErrors, wantFailed := 0, 0
			if tt.skipped {
				wantErrors, wantFailed = 1, 1
			}
			if s.Errors() != wantErrors || s.Stats.Failed != wantFailed {
				t.Errorf("Errors() %d Failed %d, want %d", s.Errors(), s.Stats.Failed, wantErrors)
			}
			if err := Render(context.Background(), s.Publications); err != nil {
				t.Fatal(err)
			}
			for _, p := range s.Publications {
				if strings.Contains(p.Content, "{%") || strings.Contains(p.Content, "{{") {
					t.Errorf("%s: template syntax left: %s", p.Source, p.Content)
				}
			}
		})
	}
}

func TestLoadDisplayDirDefaultsToDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"x.md": "# no front matter"})
	opts := testOptions(t)
	opts.DisplayDir = ""
	s, err := Load(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "x.md") + ":1: error: missing title: file skipped"
	if got := diagStrings(s); len(got) != 1 || got[0] != want {
		t.Errorf("got %v, want %q", got, want)
	}
}

func TestLoadFields(t *testing.T) {
	media := t.TempDir()
	writeFiles(t, media, map[string]string{"extra/x.ogg": strings.Repeat("o", 42)})
	files := map[string]string{
		"_data/metadata.json": `{"title": "Le site"}`,
		"media/ep.mp3":        strings.Repeat("m", 1234),
		"fields.md": "---\n" +
			"title: \"  Titre {{ sub }}  \"\n" +
			"sub: complet\n" +
			"description: \"Résumé de {{ metadata.title }}\"\n" +
			"date: 2024-03-10T09:30:00\n" +
			"updated: \"2024-03-12\"\n" +
			"tags: solo\n" +
			"type: video\n" +
			"lang: en\n" +
			"image:\n  path: img/cover.png\n  alt: Couverture\n" +
			"thumbnail: /img/thumb.png\n" +
			"author:\n  name: Ada\n  email: ada@example.org\n  url: /equipe/ada/\n" +
			"custom: {nested: [1, 2]}\n" +
			"layout: x.njk\n" +
			"---\nbody\n",
		"img-src.md":   "---\ntitle: I\ndate: 2024-01-01\nimage: {src: /a.png, alt: A}\napercu: /t.png\n---\n",
		"img-str.md":   "---\ntitle: I\ndate: 2024-01-01\nimage: /a.png\nimageAlt: Texte\nauthor: Nadia\n---\n",
		"json-tags.md": "---\ntitle: T\ndate: 2024-01-01\ntags: [\"a\", \"b\", \"A\", \"posts\", \" \", 2024]\n---\n",
		"id-uri.md":    "---\ntitle: T\ndate: 2024-01-01\nid: tag:example.org,2024:1\n---\n",
		"id-space.md":  "---\ntitle: T\ndate: 2024-01-01\nid: \"tag:example.org,2024:mon épisode <1>\"\n---\n",
		"id-rel.md":    "---\ntitle: T\ndate: 2024-01-01\nid: episodes/4\n---\n",
		"id-num.md":    "---\ntitle: T\ndate: 2024-01-01\nid: 42\n---\n",
		"video.md":     "---\ntitle: V\ndate: 2024-01-01\nembedVideoUrl: https://www.youtube.com/embed/abc?autoplay=1\napercu: /t.jpg\n---\nTexte.\n",
		"video-en.md":  "---\ntitle: V\ndate: 2024-01-01\nlang: en\nembedVideoUrl: https://player.vimeo.com/video/7\n---\n",
		"video-md.md": "---\ntitle: \"L'*éco* [conception] & <b>_x_</b> \\\\ `c` \"\ndate: 2024-01-01\n" +
			"embedVideoUrl: https://www.youtube.com/embed/abc\napercu: /t.jpg\n---\n",
		"video-amp.md": "---\ntitle: \"L'*éco* [conception] & <b>_x_</b> \\\\ `c` \"\ndate: 2024-01-01\n" +
			"embedVideoUrl: https://www.youtube.com/embed/abc\napercu: /t.jpg?a=1&b=2\n---\n",
		"pod.md": "---\ntitle: P\ndate: 2024-01-01\n" +
			"audio: {url: /media/ep.mp3, length: 5}\n" +
			"enclosure:\n  - {url: https://cdn.example/e.mp4, length: 999}\n  - {url: /missing.bin, type: application/x-thing, length: \"500\"}\n" +
			"video: /extra/x.ogg\n" +
			"---\n",
	}
	opts := testOptions(t)
	opts.MediaDirs = []string{media}
	s := loadFiles(t, files, opts)
	if len(s.Diagnostics) != 0 {
		t.Errorf("diagnostics: %v", diagStrings(s))
	}
	pubs := bySource(s)
	loc := paris(t)

	f := pubs["fields.md"]
	if f == nil {
		t.Fatal("fields.md not loaded")
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"Title", f.Title, "Titre complet"},
		{"Description", f.Description, "Résumé de Le site"},
		{"Date", f.Date, time.Date(2024, 3, 10, 9, 30, 0, 0, loc)},
		{"Updated", f.Updated, time.Date(2024, 3, 12, 0, 0, 0, 0, loc)},
		{"Tags", f.Tags, []string{"solo"}},
		{"Type", f.Type, "video"},
		{"Lang", f.Lang, "en"},
		{"Image", *f.Image, Image{URL: "https://example.org/fields/img/cover.png", Alt: "Couverture"}},
		{"Thumbnail", f.Thumbnail, "https://example.org/img/thumb.png"},
		{"Author", *f.Author, Author{Name: "Ada", Email: "ada@example.org", URL: "https://example.org/equipe/ada/"}},
		{"Data.custom", f.Data["custom"], map[string]any{"nested": []any{int64(1), int64(2)}}},
		{"Data.layout", f.Data["layout"], "x.njk"},
		{"URL", f.URL, "https://example.org/fields/"},
		{"ID", f.ID, "https://example.org/fields/"},
		{"Path", f.Path, "/fields/"},

		{"img-src Image", *pubs["img-src.md"].Image, Image{URL: "https://example.org/a.png", Alt: "A"}},
		{"img-src Thumbnail", pubs["img-src.md"].Thumbnail, "https://example.org/t.png"},
		{"img-str Image", *pubs["img-str.md"].Image, Image{URL: "https://example.org/a.png", Alt: "Texte"}},
		{"img-str Thumbnail", pubs["img-str.md"].Thumbnail, "https://example.org/a.png"},
		{"img-str Author", *pubs["img-str.md"].Author, Author{Name: "Nadia"}},
		{"img-str Lang", pubs["img-str.md"].Lang, "fr"},
		{"json-tags Tags", pubs["json-tags.md"].Tags, []string{"a", "b", "2024"}},
		{"json-tags Author", pubs["json-tags.md"].Author, (*Author)(nil)},
		{"json-tags Image", pubs["json-tags.md"].Image, (*Image)(nil)},
		{"id-uri ID", pubs["id-uri.md"].ID, "tag:example.org,2024:1"},
		// Atom ids are IRIs: what a URI cannot hold is percent-encoded.
		{"id-space ID", pubs["id-space.md"].ID, "tag:example.org,2024:mon%20%C3%A9pisode%20%3C1%3E"},
		{"id-uri URL", pubs["id-uri.md"].URL, "https://example.org/id-uri/"},
		{"id-rel ID", pubs["id-rel.md"].ID, "https://example.org/episodes/4"},
		{"id-num ID", pubs["id-num.md"].ID, "https://example.org/42"},
		{"video VideoURL", pubs["video.md"].VideoURL, "https://www.youtube.com/watch?v=abc"},
		{"video Thumbnail", pubs["video.md"].Thumbnail, "https://example.org/t.jpg"},
		{"video-en VideoURL", pubs["video-en.md"].VideoURL, "https://vimeo.com/7"},
		// audio, video, then enclosure, whatever the order in the file; a
		// local file's size wins over the written length.
		{"pod Enclosures", pubs["pod.md"].Enclosures, []Enclosure{
			{URL: "https://example.org/media/ep.mp3", Type: "audio/mpeg", Length: 1234},
			{URL: "https://example.org/extra/x.ogg", Type: "audio/ogg", Length: 42},
			{URL: "https://cdn.example/e.mp4", Type: "video/mp4", Length: 999},
			{URL: "https://example.org/missing.bin", Type: "application/x-thing", Length: 500},
		}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
	if f.Date.Location().String() != "Europe/Paris" || f.Updated.Location().String() != "Europe/Paris" {
		t.Errorf("dates not in the site zone: %v %v", f.Date.Location(), f.Updated.Location())
	}

	if err := Render(context.Background(), s.Publications); err != nil {
		t.Fatal(err)
	}
	if want := `<p><a href="https://www.youtube.com/watch?v=abc"><img src="https://example.org/t.jpg" alt="Regarder la vidéo : V"></a></p>` + "\n<p>Texte.</p>"; pubs["video.md"].Content != want {
		t.Errorf("video content:\n%s\nwant\n%s", pubs["video.md"].Content, want)
	}
	if want := `<p><a href="https://vimeo.com/7">Watch the video: V</a></p>`; pubs["video-en.md"].Content != want {
		t.Errorf("video-en content:\n%s\nwant\n%s", pubs["video-en.md"].Content, want)
	}
	// Markdown punctuation in the title stays text; a thumbnail URL with
	// "&" takes the raw HTML path, with the same text.
	title := `L'*éco* [conception] &amp; &lt;b&gt;_x_&lt;/b&gt; \ ` + "`c`"
	if want := `<p><a href="https://www.youtube.com/watch?v=abc"><img src="https://example.org/t.jpg" alt="Regarder la vidéo : ` + title + `"></a></p>`; pubs["video-md.md"].Content != want {
		t.Errorf("video-md content:\n%s\nwant\n%s", pubs["video-md.md"].Content, want)
	}
	title = strings.Replace(title, "'", "&#39;", 1)
	if want := `<p><a href="https://www.youtube.com/watch?v=abc"><img src="https://example.org/t.jpg?a=1&amp;b=2" alt="Regarder la vidéo : ` + title + `"></a></p>`; pubs["video-amp.md"].Content != want {
		t.Errorf("video-amp content:\n%s\nwant\n%s", pubs["video-amp.md"].Content, want)
	}
}

func TestLoadURLs(t *testing.T) {
	files := map[string]string{
		"a/b/c.md":                              "---\ntitle: C\ndate: 2024-01-01\n---\n[up](../)\n",
		"a/b/index.md":                          "---\ntitle: B\ndate: 2024-01-01\n---\n[c](c/)\n",
		"index.md":                              "---\ntitle: Home\ndate: 2024-01-01\n---\n",
		"guides/éco-conception/fiche outils.md": "---\ntitle: F\ndate: 2024-01-01\n---\n![i](img.png)\n",
		"actualites/2024/x.md":                  "---\ntitle: X\ndate: 2024-01-01\n---\n",
		"actualites/y.md":                       "---\ntitle: Y\ndate: 2024-01-01\npermalink: /special/\n---\n",
		"blog/z.md":                             "---\ntitle: Mon Titre\ndate: 2024-01-01\npermalink: \"/blog/{{ page.fileSlug }}-{{ title | slug }}/index.html\"\n---\n",
		"rel.md":                                "---\ntitle: R\ndate: 2024-01-01\npermalink: relative/path/\n---\n",
		"dated.md":                              "---\ntitle: D\ndate: 2024-03-05\n---\n",
		"media/a.mp3":                           "123",
		"pod.md":                                "---\ntitle: P\ndate: 2024-01-01\naudio: /sub/media/a.mp3\n---\n",
	}
	opts := testOptions(t)
	opts.SiteURL = "https://example.org/sub" // no trailing slash
	opts.Permalinks = []PermalinkRule{
		{Pattern: "actualites/**", Permalink: "/actualites/:slug/"},
		{Pattern: "actualites/2024/**", Permalink: "/never/"}, // the first match wins
		{Pattern: "dated.md", Permalink: "/:year/:month/:title/"},
	}
	s := loadFiles(t, files, opts)
	if len(s.Diagnostics) != 0 {
		t.Errorf("diagnostics: %v", diagStrings(s))
	}
	want := map[string]string{
		"a/b/c.md":                              "https://example.org/sub/a/b/c/",
		"a/b/index.md":                          "https://example.org/sub/a/b/",
		"index.md":                              "https://example.org/sub/",
		"guides/éco-conception/fiche outils.md": "https://example.org/sub/guides/%C3%A9co-conception/fiche%20outils/",
		"actualites/2024/x.md":                  "https://example.org/sub/actualites/x/",
		"actualites/y.md":                       "https://example.org/sub/special/",
		"blog/z.md":                             "https://example.org/sub/blog/z-mon-titre/",
		"rel.md":                                "https://example.org/sub/relative/path/",
		"dated.md":                              "https://example.org/sub/2024/03/d/",
		"pod.md":                                "https://example.org/sub/pod/",
	}
	pubs := bySource(s)
	for src, u := range want {
		p := pubs[src]
		if p == nil {
			t.Errorf("%s not loaded", src)
			continue
		}
		if p.URL != u || p.ID != u || !strings.HasSuffix(u, p.Path) {
			t.Errorf("%s: URL %q ID %q Path %q, want %q", src, p.URL, p.ID, p.Path, u)
		}
		if err := checkAbsURL(p.URL); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
	if e := pubs["pod.md"].Enclosures; len(e) != 1 || e[0].Length != 3 {
		t.Errorf("enclosure under a site sub-path: %+v", e)
	}
	if err := Render(context.Background(), s.Publications); err != nil {
		t.Fatal(err)
	}
	contents := map[string]string{
		"a/b/c.md":                              `<a href="https://example.org/sub/a/b/">up</a>`,
		"a/b/index.md":                          `<a href="https://example.org/sub/a/b/c/">c</a>`,
		"guides/éco-conception/fiche outils.md": `<img src="https://example.org/sub/guides/%C3%A9co-conception/fiche%20outils/img.png" alt="i">`,
	}
	for src, w := range contents {
		if !strings.Contains(pubs[src].Content, w) {
			t.Errorf("%s content %q lacks %q", src, pubs[src].Content, w)
		}
	}
}

func TestSiteTagsAndErrors(t *testing.T) {
	s := &Site{
		Publications: []*Publication{
			{Tags: []string{"Vidéo", "Podcast"}},
			{Tags: []string{"video", "éco"}},
			{},
		},
		Upcoming: []*Publication{{Tags: []string{"futur"}}},
		Diagnostics: []Diagnostic{
			{Path: "a", Severity: Warning}, {Path: "b", Severity: Error}, {Path: "c", Severity: Error},
		},
	}
	if got, want := s.Tags(), []string{"éco", "Podcast", "Vidéo"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Tags() = %q, want %q", got, want)
	}
	if s.Errors() != 2 {
		t.Errorf("Errors() = %d", s.Errors())
	}
	if got := (&Site{}).Tags(); len(got) != 0 {
		t.Errorf("empty site tags %q", got)
	}
}

func TestLoadSiteTags(t *testing.T) {
	files := map[string]string{
		"a.md": "---\ntitle: A\ndate: 2024-01-02\ntags: [Vidéo, posts]\n---\n",
		"b.md": "---\ntitle: B\ndate: 2024-01-01\ntags: [video, Achats]\n---\n",
		"c.md": "---\ntitle: C\ndate: 2030-01-01\ntags: [futur]\n---\n",
		"d.md": "---\ntitle: D\ndate: 2024-01-01\ntags: [brouillon]\ndraft: true\n---\n",
	}
	s := loadFiles(t, files, testOptions(t))
	if got, want := s.Tags(), []string{"Achats", "Vidéo"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Tags() = %q, want %q", got, want)
	}
}

func TestDiagnosticString(t *testing.T) {
	tests := []struct {
		d    Diagnostic
		want string
	}{
		{Diagnostic{Path: "c/a.md", Line: 3, Severity: Error, Message: "bad"}, "c/a.md:3: error: bad"},
		{Diagnostic{Path: "c/a.md", Line: 0, Severity: Warning, Message: "meh"}, "c/a.md: warning: meh"},
		// One diagnostic, one line, nothing a terminal would act on; tabs
		// and non-ASCII letters stay as they are.
		{Diagnostic{Path: "c/a\nb.md", Line: 2, Severity: Error, Message: "x"}, `c/a\nb.md:2: error: x`},
		{Diagnostic{Path: "c/\x1b[31mé\tè.md", Line: 1, Severity: Warning, Message: "y\r\nz"}, "c/\\x1b[31mé\tè.md:1: warning: y\\r\\nz"},
		{Diagnostic{Path: "c/\xff\xfe.md", Severity: Error, Message: "\u2028\u0085"}, `c/\xff\xfe.md: error: \u2028\u0085`},
		{Diagnostic{Path: "c/\u202edm.exe", Severity: Error, Message: "\u2066ok\u2069 \ufffd"}, `c/\u202edm.exe: error: \u2066ok\u2069 �`},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestLoadFailures(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"f.md": "x"})
	opts := testOptions(t)
	if _, err := Load(context.Background(), filepath.Join(dir, "missing"), opts); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing folder: %v", err)
	}
	if _, err := Load(context.Background(), filepath.Join(dir, "f.md"), opts); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("file instead of folder: %v", err)
	}
	bad := opts
	for _, u := range []string{"example.org/", `https://"/`, "https:///x/"} {
		bad.SiteURL = u
		if _, err := Load(context.Background(), dir, bad); err == nil || !strings.Contains(err.Error(), "not an absolute URL with a host name") {
			t.Errorf("site URL %q: %v", u, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, dir, opts); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.md": "---\ntitle: A\ndate: 2024-01-01\n---\n", "b.md": "x"})
	if err := os.Chmod(filepath.Join(dir, "b.md"), 0); err != nil {
		t.Fatal(err)
	}
	s, err := Load(context.Background(), dir, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := diagStrings(s); len(got) != 1 || !strings.HasPrefix(got[0], "site/b.md: error: cannot read: permission denied") {
		t.Errorf("diagnostics %v", got)
	}
}

// Loading is parallel; its result must not depend on scheduling.
func TestLoadIsDeterministic(t *testing.T) {
	files := map[string]string{}
	for i := 0; i < 60; i++ {
		name := string(rune('a'+i%26)) + strings.Repeat("x", i/26) + ".md"
		files[name] = "---\ntitle: T\ndate: 2024-01-0" + string(rune('1'+i%5)) + "\npermalink: /p" + string(rune('0'+i%7)) + "/\n---\n{% nope %}"
	}
	dir := t.TempDir()
	writeFiles(t, dir, files)
	var first []string
	for run := 0; run < 5; run++ {
		s, err := Load(context.Background(), dir, testOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		got := diagStrings(s)
		for _, p := range s.Publications {
			got = append(got, p.Source)
		}
		if run == 0 {
			first = got
		} else if !reflect.DeepEqual(got, first) {
			t.Fatalf("run %d differs:\n%v\n%v", run, got, first)
		}
	}
}

// TestLoadRenderBodies checks that rendering while loading gives what
// Render gives afterwards, and leaves upcoming publications unrendered.
func TestLoadRenderBodies(t *testing.T) {
	files := map[string]string{
		"a.md":       "---\ntitle: A\ndate: 2024-01-01\n---\n# Titre\n\n[lien](../b/) <figure><img src=\"x.png\"></figure>\n",
		"b.md":       "---\ntitle: B\ndate: 2024-01-02\nembedVideoUrl: https://www.youtube.com/embed/abc\n---\n<div>ouvert\n",
		"later.md":   "---\ntitle: L\ndate: 2999-01-01\n---\nPlus tard.\n",
		"draft.md":   "---\ntitle: D\ndate: 2024-01-01\ndraft: true\n---\nBrouillon.\n",
		"listing.md": "---\ntitle: Liste\n---\n",
	}
	plain := loadFiles(t, files, testOptions(t))
	if err := Render(context.Background(), plain.Publications); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t)
	opts.RenderBodies = true
	eager := loadFiles(t, files, opts)
	want, got := bySource(plain), bySource(eager)
	if len(got) != 3 || len(want) != 3 {
		t.Fatalf("loaded %d and %d publications, want 3", len(got), len(want))
	}
	for _, src := range []string{"a.md", "b.md"} {
		if !got[src].rendered || got[src].Content == "" || got[src].body != nil {
			t.Errorf("%s: rendered %v, content %q, body kept %v", src, got[src].rendered, got[src].Content, got[src].body != nil)
		}
		if got[src].Content != want[src].Content {
			t.Errorf("%s: content while loading\n%s\nwant\n%s", src, got[src].Content, want[src].Content)
		}
	}
	if got["later.md"].rendered {
		t.Error("an upcoming publication was rendered")
	}
}

// TestLoadLanguageTags: lang is written as a BCP 47 tag, as feeds need it
// (xml:lang, JSON Feed); what is not one is a warning, and the site's
// language stands in.
func TestLoadLanguageTags(t *testing.T) {
	page := func(lang string) string { return "---\ntitle: T\ndate: 2024-01-01\nlang: " + lang + "\n---\nx\n" }
	s := loadFiles(t, map[string]string{
		"a.md": page("fr_FR"), "b.md": page("EN-gb"), "c.md": page("Français"), "d.md": page("en"),
	}, testOptions(t))
	got := map[string]string{}
	for _, p := range s.Publications {
		got[p.Source] = p.Lang
	}
	want := map[string]string{"a.md": "fr-FR", "b.md": "en-GB", "c.md": "fr", "d.md": "en"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("langs %v, want %v", got, want)
	}
	if d := diagStrings(s); len(d) != 1 || d[0] != `site/c.md:4: warning: lang "Français" is not a language tag (e.g. fr, en, fr-FR): the site's language is used` {
		t.Errorf("diagnostics %q", d)
	}
}

// Folders named with "_" are read unless excluded (Jekyll's _posts are
// publications); the data folder, however it is written, is read as data
// and never as publications.
func TestLoadUnderscoreFolders(t *testing.T) {
	files := map[string]string{
		"_posts/2024-01-01-hello.md": "---\ntitle: Hello {{ metadata.name }}\n---\nx",
		"_drafts/x.md":               "---\ntitle: X\ndate: 2024-01-01\n---\nx",
		"_site/y.md":                 "---\ntitle: Y\ndate: 2024-01-01\n---\nx",
		"_includes/z.md":             "{% nope %}",
		"_data/metadata.json":        `{"name": "Site"}`,
		"_data/notes.md":             "---\ntitle: N\ndate: 2024-01-01\n---\nx",
		"_data/sub/n.md":             "---\ntitle: N2\ndate: 2024-01-01\n---\nx",
		".git/a.md":                  "---\ntitle: G\ndate: 2024-01-01\n---\nx",
	}
	for _, dataDir := range []string{"_data", "./_data/"} {
		opts := testOptions(t)
		opts.DataDir = dataDir
		opts.Exclude = []string{"_includes/**", "_site/**", "_drafts/**"}
		s := loadFiles(t, files, opts)
		if len(s.Diagnostics) != 0 {
			t.Errorf("data_dir %q: diagnostics: %v", dataDir, diagStrings(s))
		}
		if len(s.Publications) != 1 || len(s.Upcoming) != 0 {
			t.Fatalf("data_dir %q: published %v, want only _posts/2024-01-01-hello.md", dataDir, bySource(s))
		}
		p := s.Publications[0]
		if p.Source != "_posts/2024-01-01-hello.md" || p.Title != "Hello Site" || p.Path != "/_posts/2024-01-01-hello/" {
			t.Errorf("data_dir %q: got %s %q at %s", dataDir, p.Source, p.Title, p.Path)
		}
		if s.Stats.Files != 1 {
			t.Errorf("data_dir %q: Stats %+v, want 1 file", dataDir, s.Stats)
		}
	}
}

// A file named as its folder is that folder's index, as in Eleventy: its
// URL is the folder's, which an index.md beside it would share.
func TestLoadFileNamedAsItsFolder(t *testing.T) {
	fm := func(title string) string { return "---\ntitle: " + title + "\ndate: 2024-01-01\n---\nx" }
	s := loadFiles(t, map[string]string{
		"a/a.md":                  fm("A"),
		"a/index.md":              fm("A index"),
		"guides/guides/guides.md": fm("Guides"),
		"b/b/index.md":            fm("B index"),
		"b/b.md":                  fm("B"),
	}, testOptions(t))
	want := []string{"site/a/index.md:1: error: duplicate permalink /a/ (already used by a/a.md): file skipped"}
	if got := diagStrings(s); !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	paths := map[string]string{}
	for src, p := range bySource(s) {
		paths[src] = p.Path
	}
	wantPaths := map[string]string{"a/a.md": "/a/", "guides/guides/guides.md": "/guides/guides/", "b/b/index.md": "/b/b/", "b/b.md": "/b/"}
	if !reflect.DeepEqual(paths, wantPaths) {
		t.Errorf("paths %v, want %v", paths, wantPaths)
	}
}

// A file without a date in its data takes the first YYYY-MM-DD of its path,
// in the site's time zone; page.fileSlug and :slug drop a date before the
// name, the default URL keeps it (as Eleventy does).
func TestLoadDateFromFileName(t *testing.T) {
	files := map[string]string{
		"blog/2024-01-02-hello.md":  "---\ntitle: \"{{ page.fileSlug }}\"\ndescription: \"{{ page.filePathStem }} {{ page.date }}\"\n---\nx",
		"blog/2024-01-03-front.md":  "---\ntitle: Front\ndate: 2024-03-04\n---\nx",
		"blog/2024-01-05-null.md":   "---\ntitle: Empty date\ndate:\n---\nx",
		"2024-02-01/index.md":       "---\ntitle: Folder\n---\nx",
		"news/2024-05-06-launch.md": "---\ntitle: Launch\n---\nx",
		"blog/nodate.md":            "---\ntitle: No date\n---\nx",
		"blog/2024-02-30-bad.md":    "---\ntitle: Bad\n---\nx",
	}
	opts := testOptions(t)
	opts.Permalinks = []PermalinkRule{{Pattern: "news/**", Permalink: "/actualites/:slug/"}}
	s := loadFiles(t, files, opts)
	want := []string{
		`site/blog/2024-02-30-bad.md:1: error: date in the file's path: unparseable date "2024-02-30" (use 2006-01-02, 2006-01-02T15:04:05 or RFC 3339): file skipped`,
		"site/blog/nodate.md:1: error: missing date (add date: YYYY-MM-DD to the front matter): file skipped",
	}
	if got := diagStrings(s); !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, paris(t)) }
	pubs := bySource(s)
	tests := []struct {
		source, title, path string
		date                time.Time
	}{
		{"blog/2024-01-02-hello.md", "hello", "/blog/2024-01-02-hello/", day(2024, 1, 2)},
		{"blog/2024-01-03-front.md", "Front", "/blog/2024-01-03-front/", day(2024, 3, 4)},
		{"blog/2024-01-05-null.md", "Empty date", "/blog/2024-01-05-null/", day(2024, 1, 5)},
		{"2024-02-01/index.md", "Folder", "/2024-02-01/", day(2024, 2, 1)},
		{"news/2024-05-06-launch.md", "Launch", "/actualites/launch/", day(2024, 5, 6)},
	}
	for _, tt := range tests {
		p := pubs[tt.source]
		if p == nil {
			t.Errorf("%s was not published", tt.source)
			continue
		}
		if p.Title != tt.title || p.Path != tt.path || !p.Date.Equal(tt.date) || p.Date.Location().String() != "Europe/Paris" {
			t.Errorf("%s: %q at %s dated %v; want %q at %s dated %v", tt.source, p.Title, p.Path, p.Date, tt.title, tt.path, tt.date)
		}
	}
	if p := pubs["blog/2024-01-02-hello.md"]; p != nil && p.Description != "/blog/hello 2024-01-02T00:00:00+01:00" {
		t.Errorf("description %q, want page.filePathStem without the date and page.date from the file name", p.Description)
	}
}

// TestLoadEnclosureTypes: an enclosure's type must be a MIME type; a word
// such as "audio" is a warning, and the file's extension decides.
func TestLoadEnclosureTypes(t *testing.T) {
	s := loadFiles(t, map[string]string{
		"a.md": "---\ntitle: A\ndate: 2024-01-01\naudio: {url: https://cdn.example/e.mp3, type: audio, length: 9}\n---\n",
		"b.md": "---\ntitle: B\ndate: 2024-01-01\naudio: {url: https://cdn.example/e.ogg, type: \"Audio/OGG; codecs=opus\", length: 9}\n---\n",
	}, testOptions(t))
	got := map[string]string{}
	for _, p := range s.Publications {
		got[p.Source] = p.Enclosures[0].Type
	}
	if want := map[string]string{"a.md": "audio/mpeg", "b.md": "audio/ogg; codecs=opus"}; !reflect.DeepEqual(got, want) {
		t.Errorf("types %v, want %v", got, want)
	}
	if d := diagStrings(s); len(d) != 1 || !strings.Contains(d[0], `site/a.md:4: warning: audio https://cdn.example/e.mp3: type "audio" is not a media type`) {
		t.Errorf("diagnostics %q", d)
	}
}

// TestLoadDataDeepMerge: the data cascade merges as Eleventy's deep merge
// does: maps key by key, lists concatenated, "override:" replacing.
func TestLoadDataDeepMerge(t *testing.T) {
	s := loadFiles(t, map[string]string{
		"news/news.json": `{"author": {"name": "Équipe", "url": "/equipe/"}, "tags": "actu", "sources": ["a"], "extra": {"k": 1}}`,
		"news/a.md":      "---\ntitle: A\ndate: 2024-01-01\nauthor:\n  email: a@example.org\ntags: [x]\nsources: [b]\n---\n",
		"news/b.md":      "---\ntitle: B\ndate: 2024-01-01\noverride:tags: [seul]\noverride:author: Zoé\n---\n",
	}, testOptions(t))
	pubs := bySource(s)
	a, b := pubs["news/a.md"], pubs["news/b.md"]
	if a == nil || b == nil {
		t.Fatalf("not loaded: %v", diagStrings(s))
	}
	if want := (Author{Name: "Équipe", Email: "a@example.org", URL: "https://example.org/equipe/"}); a.Author == nil || *a.Author != want {
		t.Errorf("a's author %+v, want %+v", a.Author, want)
	}
	if !reflect.DeepEqual(a.Tags, []string{"actu", "x"}) || !reflect.DeepEqual(a.Data["sources"], []any{"a", "b"}) {
		t.Errorf("a's tags %q, sources %v: lists are concatenated", a.Tags, a.Data["sources"])
	}
	if !reflect.DeepEqual(b.Tags, []string{"seul"}) || b.Author == nil || b.Author.Name != "Zoé" || b.Author.URL != "" {
		t.Errorf("b's tags %q, author %+v: override: replaces", b.Tags, b.Author)
	}
}

// TestLoadDataDirForms: the global data folder may be given relative to
// the content folder, with "./", absolute, or outside it ("../_data"); a
// data folder that is not there is a warning (unless it is the default).
func TestLoadDataDirForms(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"site/p.md":                  "---\ntitle: P\ndate: 2024-01-01\n---\n{{ metadata.title }}\n",
		"site/_data/metadata.json":   `{"title": "Dedans"}`,
		"shared/_data/metadata.json": `{"title": "Dehors"}`,
	})
	site := filepath.Join(root, "site")
	for _, tt := range []struct{ dataDir, want, diag string }{
		{"_data", "Dedans", ""},
		{"./_data/", "Dedans", ""},
		{filepath.Join(site, "_data"), "Dedans", ""},
		{"../shared/_data", "Dehors", ""},
		{"nope", "", "site: warning: data folder nope: not found (content.data_dir, relative to the content folder): no global data"},
	} {
		opts := testOptions(t)
		opts.DataDir = tt.dataDir
		opts.RenderBodies = true
		s, err := Load(context.Background(), site, opts)
		if err != nil {
			t.Fatal(err)
		}
		var diags []string
		for _, d := range diagStrings(s) {
			if !strings.Contains(d, "unknown variable") {
				diags = append(diags, d)
			}
		}
		if len(s.Publications) != 1 || !strings.Contains(s.Publications[0].Content, tt.want) ||
			(tt.diag == "") != (len(diags) == 0) || tt.diag != "" && diags[0] != tt.diag {
			var content string
			if len(s.Publications) > 0 {
				content = s.Publications[0].Content
			}
			t.Errorf("data_dir %q: %d publications, content %q, diagnostics %q", tt.dataDir, len(s.Publications), content, diags)
		}
	}
}

// TestLoadSiteUnderAPath: with a site URL that has a path
// (https://example.org/sub/), site-absolute URLs in front matter, Markdown
// and raw HTML go under it, as the pages' own URLs do (Eleventy's HTML
// base plugin); one already under it, protocol-relative and relative ones
// are kept; a local media file is still found for its size.
func TestLoadSiteUnderAPath(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"b.md":         "---\ntitle: B\ndate: 2024-01-01\npermalink: /special/\n---\nx\n",
		"media/ep.mp3": "12345",
		"a.md": "---\ntitle: A\ndate: 2024-01-02\nimage: /img/a.png\naudio: /media/ep.mp3\n---\n" +
			"[B](/special/) [déjà](/sub/guides/) [cdn](//cdn.example/x) [rel](c/)\n\n" +
			"<a href=\"/special/#top\">b</a> <img src=\"/img/b.png\" srcset=\"/img/b2.png 2x\">\n",
	})
	opts := testOptions(t)
	opts.SiteURL = "https://example.org/sub/"
	opts.RenderBodies = true
	s, err := Load(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	pubs := bySource(s)
	a, b := pubs["a.md"], pubs["b.md"]
	if a == nil || b == nil {
		t.Fatalf("not loaded: %v", diagStrings(s))
	}
	if b.URL != "https://example.org/sub/special/" {
		t.Fatalf("B's URL %s", b.URL)
	}
	for _, want := range []string{
		`<a href="https://example.org/sub/special/">B</a>`,
		`<a href="https://example.org/sub/guides/">déjà</a>`,
		`<a href="https://cdn.example/x">cdn</a>`,
		`<a href="https://example.org/sub/a/c/">rel</a>`,
		`<a href="https://example.org/sub/special/#top">b</a>`,
		`<img src="https://example.org/sub/img/b.png" srcset="https://example.org/sub/img/b2.png 2x">`,
	} {
		if !strings.Contains(a.Content, want) {
			t.Errorf("content lacks %s:\n%s", want, a.Content)
		}
	}
	if a.Image == nil || a.Image.URL != "https://example.org/sub/img/a.png" {
		t.Errorf("image %+v", a.Image)
	}
	if len(a.Enclosures) != 1 || a.Enclosures[0].URL != "https://example.org/sub/media/ep.mp3" || a.Enclosures[0].Length != 5 {
		t.Errorf("enclosures %+v", a.Enclosures)
	}
}

// TestLoadHeadingIDNotAComment: "{#id}" with no "#}" after it is no
// Nunjucks comment: it reaches Markdown, which makes it the heading's id,
// without a warning.
func TestLoadHeadingIDNotAComment(t *testing.T) {
	opts := testOptions(t)
	opts.RenderBodies = true
	s := loadFiles(t, map[string]string{"a.md": "---\ntitle: A\ndate: 2024-01-01\n---\n## Contexte {#contexte}\n\nTexte {# note #}.\n"}, opts)
	if len(s.Publications) != 1 || len(s.Diagnostics) != 0 {
		t.Fatalf("%d publications, diagnostics %q", len(s.Publications), diagStrings(s))
	}
	if c := s.Publications[0].Content; !strings.Contains(c, `<h2 id="contexte">Contexte</h2>`) || strings.Contains(c, "note") {
		t.Errorf("content:\n%s", c)
	}
}
