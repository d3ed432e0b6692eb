package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ecoresponsable/bulletin/config"
	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden files of the sample site")

// runCLI runs one command line in-process and returns its exit status,
// stdout and stderr.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &cliEnv{
		stdout: &out, stderr: &errb, stdin: strings.NewReader(""),
		getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		environ: func() []string {
			var kv []string
			for k, v := range env {
				kv = append(kv, k+"="+v)
			}
			return kv
		},
		lang: "en",
	}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

// sampleNow is the moment the sample site's golden feeds are built at.
const sampleNow = "2026-11-27T12:00:00+01:00"

// TestBuildSample builds the bundled sample site with its configuration and
// compares the three site feeds with the golden files; a second build must
// change nothing.
func TestBuildSample(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(t, nil, "build", "--config", "../../bulletin.yaml", "--out", out, "--now", sampleNow)
	if code != 0 {
		t.Fatalf("build exited %d:\n%s", code, stderr)
	}
	for _, name := range []string{"feed.xml", "atom.xml", "feed.json"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "sample", name+".golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./cmd/bulletin -run TestBuildSample -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s", name, golden)
		}
	}

	before := snapshot(t, out)
	time.Sleep(10 * time.Millisecond)
	code, _, stderr = runCLI(t, nil, "build", "--config", "../../bulletin.yaml", "--out", out, "--now", sampleNow)
	if code != 0 {
		t.Fatalf("second build exited %d:\n%s", code, stderr)
	}
	after := snapshot(t, out)
	if len(before) != len(after) {
		t.Fatalf("second build changed the file set: %d → %d files", len(before), len(after))
	}
	for p, b := range before {
		a := after[p]
		if !bytes.Equal(a.data, b.data) {
			t.Errorf("%s is not byte-identical after a rebuild of unchanged content", p)
		}
		if !a.mod.Equal(b.mod) {
			t.Errorf("%s was rewritten although it did not change", p)
		}
	}
	if !strings.Contains(stderr, "0 written") {
		t.Errorf("second build should write nothing: %s", stderr)
	}
}

type fileState struct {
	data []byte
	mod  time.Time
}

func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	m := map[string]fileState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m[rel] = fileState{b, fi.ModTime()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSampleFeedsParse parses every feed of the sample site back with gofeed
// and checks what readers rely on.
func TestSampleFeedsParse(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(t, nil, "build", "--config", "../../bulletin.yaml", "--out", out, "--now", sampleNow)
	if code != 0 {
		t.Fatalf("build exited %d:\n%s", code, stderr)
	}
	feeds := 0
	parser := gofeed.NewParser()
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !strings.HasSuffix(p, ".xml") && !strings.HasSuffix(p, ".json") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		feed, err := parser.Parse(f)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			return nil
		}
		feeds++
		if feed.Language != "fr" {
			t.Errorf("%s: language %q", p, feed.Language)
		}
		if feed.UpdatedParsed == nil {
			t.Errorf("%s: no updated date", p)
		}
		ids := map[string]bool{}
		for _, it := range feed.Items {
			if it.GUID == "" || ids[it.GUID] {
				t.Errorf("%s: empty or duplicate id %q", p, it.GUID)
			}
			ids[it.GUID] = true
			if !strings.HasPrefix(it.Link, "http://127.0.0.1:8080/") {
				t.Errorf("%s: item link %q is not absolute on the site", p, it.Link)
			}
			if it.PublishedParsed == nil {
				t.Errorf("%s: item %q has no date", p, it.Title)
			}
			if strings.Contains(it.Link, "brouillon") || strings.Contains(it.Link, "2031") || strings.Contains(it.Link, "a-propos") {
				t.Errorf("%s: a draft, future or excluded page is listed: %s", p, it.Link)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 3 site feeds + 3 per tag (11) + 3 per type (5).
	if feeds != 3*(1+11+5) {
		t.Errorf("parsed %d feeds, want %d", feeds, 3*(1+11+5))
	}

	// The podcast episode carries its audio file with the file's real size.
	rss, err := os.Open(filepath.Join(out, "feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer rss.Close()
	feed, err := parser.Parse(rss)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat("../../content/podcasts/audio/episode-1.mp3")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, it := range feed.Items {
		for _, e := range it.Enclosures {
			if strings.HasSuffix(e.URL, "/podcasts/audio/episode-1.mp3") {
				found = true
				if e.Type != "audio/mpeg" || e.Length != itoa(int(fi.Size())) {
					t.Errorf("enclosure %+v, want audio/mpeg of %d bytes", e, fi.Size())
				}
			}
		}
		if it.Title == "Épisode #4 : Les engagements de l’État pour un numérique écoresponsable" && len(it.Categories) != 1 {
			t.Errorf("video categories = %v", it.Categories)
		}
	}
	if !found {
		t.Error("the podcast episode's enclosure is missing from feed.xml")
	}
}

// TestCorpus builds the shared real-world corpus: zero errors, and no
// output carries template syntax, an iframe, inline style, a script or a
// relative URL.
func TestCorpus(t *testing.T) {
	corpus := filepath.Join("..", "..", "..", "shared", "corpus", "minumeco-2023")
	if _, err := os.Stat(corpus); err != nil {
		t.Skip("shared corpus not present")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bulletin.yaml")
	if err := os.WriteFile(cfg, []byte("site:\n  url: https://ecoresponsable.numerique.gouv.fr/\n  title: Numérique écoresponsable\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "public")
	code, _, stderr := runCLI(t, nil, "build", "--config", cfg, "--content", corpus, "--out", out, "--limit", "0")
	if code != 0 || strings.Contains(stderr, "error:") {
		t.Fatalf("corpus build exited %d with errors:\n%s", code, stderr)
	}
	files := 0
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".xsl") || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		text := string(b)
		for _, bad := range []string{"{{", "{%", "<iframe", "style=", "<script"} {
			if strings.Contains(html.UnescapeString(text), bad) {
				t.Errorf("%s contains %q", p, bad)
			}
		}
		checkContentURLs(t, p, b)
		if strings.HasSuffix(p, ".json") {
			// JSON Feed 1.1: content_html or content_text, one or the other
			// (the corpus has quiz pages with neither body nor description).
			var f struct {
				Items []struct {
					ID          string `json:"id"`
					ContentHTML string `json:"content_html"`
					ContentText string `json:"content_text"`
				} `json:"items"`
			}
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			for _, it := range f.Items {
				if it.ContentHTML == "" && it.ContentText == "" {
					t.Errorf("%s: item %s has neither content_html nor content_text", p, it.ID)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("only %d output files", files)
	}
}

// checkContentURLs parses the HTML of every item of a feed and checks that
// every href and src is absolute.
func checkContentURLs(t *testing.T, path string, data []byte) {
	t.Helper()
	if strings.HasSuffix(path, ".opml") {
		return
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(data))
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	for _, it := range feed.Items {
		z := html.NewTokenizer(strings.NewReader(it.Content + it.Description))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				break
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			for _, a := range z.Token().Attr {
				if a.Key == "href" || a.Key == "src" || a.Key == "poster" {
					if !strings.HasPrefix(a.Val, "https://") && !strings.HasPrefix(a.Val, "http://") && !strings.HasPrefix(a.Val, "mailto:") && !strings.HasPrefix(a.Val, "tel:") {
						t.Errorf("%s: item %q has a relative %s=%q", path, it.Title, a.Key, a.Val)
					}
				}
			}
		}
	}
}

// TestBuildExitStatus: errors make build and check exit 1 while the good
// files are still built; warnings alone exit 0; nothing panics.
func TestBuildExitStatus(t *testing.T) {
	content := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(content, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("good.md", "---\ntitle: Bon\ndate: 2024-05-01\ntags: [a]\n---\nTexte {% include \"x.njk\" %}\n")
	out := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "bulletin.yaml")
	if err := os.WriteFile(cfg, []byte("site:\n  url: https://example.org/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, nil, "build", "--config", cfg, "--content", content, "--out", out)
	if code != 0 || !strings.Contains(stderr, "good.md:6: warning:") {
		t.Fatalf("warnings only: exit %d, stderr:\n%s", code, stderr)
	}
	write("broken.md", "---\ntitle: Cassé\ndate: pas une date\n---\n")
	code, _, stderr = runCLI(t, nil, "build", "--config", cfg, "--content", content, "--out", out)
	if code != 1 || !strings.Contains(stderr, "broken.md:3: error:") {
		t.Fatalf("an error must exit 1 and name file:line: exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "feed.xml")); err != nil {
		t.Fatal("the good file was not built")
	}
	code, _, stderr = runCLI(t, nil, "check", "--config", cfg, "--content", content)
	if code != 1 || !strings.Contains(stderr, "1 errors") {
		t.Fatalf("check: exit %d, stderr:\n%s", code, stderr)
	}
	if code, _, _ := runCLI(t, nil, "build", "--nope"); code != 2 {
		t.Fatalf("an unknown flag must exit 2, got %d", code)
	}
	if code, _, _ := runCLI(t, nil, "frobnicate"); code != 2 {
		t.Fatalf("an unknown command must exit 2, got %d", code)
	}
}

// TestZeroConfig runs build in a folder with no bulletin.yaml: defaults are
// used and the missing site URL is reported as a warning.
func TestZeroConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "content"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "content", "a.md"), []byte("---\ntitle: A\ndate: 2024-01-01\n---\nx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	code, _, stderr := runCLI(t, nil, "build")
	if code != 0 || !strings.Contains(stderr, "site.url is not set") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "public", "feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "http://localhost:8080/a/") {
		t.Fatalf("feed does not use the default site URL:\n%s", b)
	}
}

// TestPrintLinksAndEnv: --print-links prints the <link> block; env
// variables override the file and flags override env.
func TestPrintLinksAndEnv(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, map[string]string{"BULLETIN_SITE_URL": "https://env.example.org/", "BULLETIN_FEEDS_RSS": "flux/rss.xml"},
		"build", "--config", "../../bulletin.yaml", "--out", out, "--now", sampleNow, "--print-links")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `<link rel="alternate" type="application/rss+xml"`) || !strings.Contains(stdout, "https://env.example.org/flux/rss.xml") {
		t.Fatalf("links block:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(out, "flux", "rss.xml")); err != nil {
		t.Fatal("BULLETIN_FEEDS_RSS was not applied")
	}
	code, stdout, _ = runCLI(t, map[string]string{"BULLETIN_SITE_URL": "https://env.example.org/"},
		"build", "--config", "../../bulletin.yaml", "--out", out, "--now", sampleNow, "--print-links", "--base-url", "https://flag.example.org/")
	if code != 0 || !strings.Contains(stdout, "https://flag.example.org/feed.xml") {
		t.Fatalf("--base-url did not win over the env: %s", stdout)
	}
}

// TestUnknownEnvVariable: a misspelt BULLETIN_* variable is named, with
// the one meant, and counted in check's summary; the run goes on.
func TestUnknownEnvVariable(t *testing.T) {
	code, _, stderr := runCLI(t, map[string]string{"BULLETIN_FEEDS_LIMT": "3", "BULLETIN_SITE_URL": "https://example.org/"},
		"check", "--config", "../../bulletin.yaml", "--now", sampleNow)
	if code != 0 {
		t.Fatalf("check exited %d:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "warning: environment variable BULLETIN_FEEDS_LIMT names no configuration key: ignored (did you mean BULLETIN_FEEDS_LIMIT?)\n") ||
		!strings.Contains(stderr, "; 0 errors, 2 warnings\n") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if strings.Contains(stderr, "BULLETIN_SITE_URL names") {
		t.Errorf("a known variable was reported:\n%s", stderr)
	}
}

// TestUnusedLabels: a label whose tag or type no publication has is most
// likely a misspelt tag; build and check say so, and still succeed.
func TestUnusedLabels(t *testing.T) {
	env := map[string]string{"BULLETIN_SITE_LABELS": "sobriete=Sobriété,Vidéo=Vidéos,news=Actualités,sobreite=Typo,inconnu=X"}
	for _, args := range [][]string{
		{"build", "--config", "../../bulletin.yaml", "--out", t.TempDir(), "--now", sampleNow},
		{"check", "--config", "../../bulletin.yaml", "--now", sampleNow},
	} {
		code, _, stderr := runCLI(t, env, args...)
		if code != 0 {
			t.Fatalf("%s exited %d:\n%s", args[0], code, stderr)
		}
		want := "warning: site.labels: \"inconnu\": no publication has this tag or type\nwarning: site.labels: \"sobreite\": no publication has this tag or type\n"
		if !strings.Contains(stderr, want) {
			t.Errorf("%s: stderr lacks\n%s\ngot:\n%s", args[0], want, stderr)
		}
		if strings.Count(stderr, "site.labels") != 2 {
			t.Errorf("%s: labels of used tags (sobriete, vidéo) or types (news) reported:\n%s", args[0], stderr)
		}
		// check's summary counts them with the content's warnings (the
		// sample has one: its JavaScript data file).
		if args[0] == "check" && !strings.Contains(stderr, "; 0 errors, 3 warnings\n") {
			t.Errorf("check's summary does not count the label warnings:\n%s", stderr)
		}
	}
}

// TestMergedTagsWarned: tags that end up in one feed although they differ
// by more than case and accents are named, in check's count too.
func TestMergedTagsWarned(t *testing.T) {
	dir := t.TempDir()
	for i, tag := range []string{"C", "C++", "C#", "Vidéo", "video"} {
		body := fmt.Sprintf("---\ntitle: T%d\ndate: 2024-01-0%d\ntags: [%q]\n---\nx\n", i, i+1, tag)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("p%d.md", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr := runCLI(t, map[string]string{"BULLETIN_SITE_URL": "https://example.org/"}, "check", "--content", dir)
	if code != 0 {
		t.Fatalf("check exited %d:\n%s", code, stderr)
	}
	want := `warning: tags "C", "C#", "C++" share one feed (tags/c/): rename one to keep them apart` + "\n"
	if !strings.Contains(stderr, want) || strings.Count(stderr, "share one feed") != 1 || !strings.Contains(stderr, "0 errors, 1 warnings") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// TestJekyllFolders builds with the default content.exclude: Jekyll's
// _posts are published, drafts, Eleventy's output and includes are not,
// and the data folder is read as data.
func TestJekyllFolders(t *testing.T) {
	content := t.TempDir()
	files := map[string]string{
		"_posts/2026-01-01-hello.md": "---\ntitle: Hello {{ metadata.name }}\n---\nx\n",
		"_drafts/x.md":               "---\ntitle: X\ndate: 2026-01-01\n---\nx\n",
		"_site/y.md":                 "---\ntitle: Y\ndate: 2026-01-01\n---\nx\n",
		"_includes/z.md":             "---\ntitle: Z\ndate: 2026-01-01\n---\nx\n",
		"_sass/s.md":                 "---\ntitle: S\ndate: 2026-01-01\n---\nx\n",
		"_layouts/l.md":              "---\ntitle: L\ndate: 2026-01-01\n---\nx\n",
		"_data/metadata.json":        `{"name": "Site"}`,
		"_data/d.md":                 "---\ntitle: D\ndate: 2026-01-01\n---\nx\n",
	}
	for name, body := range files {
		p := filepath.Join(content, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(t.TempDir(), "bulletin.yaml")
	if err := os.WriteFile(cfg, []byte("site:\n  url: https://example.org/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, _, stderr := runCLI(t, nil, "build", "--config", cfg, "--content", content, "--out", out, "--now", sampleNow)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "feed.json"))
	if err != nil {
		t.Fatal(err)
	}
	var feed struct {
		Items []struct {
			URL   string `json:"url"`
			Title string `json:"title"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &feed); err != nil {
		t.Fatal(err)
	}
	if len(feed.Items) != 1 || feed.Items[0].URL != "https://example.org/_posts/2026-01-01-hello/" || feed.Items[0].Title != "Hello Site" {
		t.Errorf("items %+v, want only _posts/2026-01-01-hello.md, titled Hello Site", feed.Items)
	}
}

// TestSiteUnderPathConfigLinks: with a site under a path, the logo, icon
// and author page given as site-absolute paths go under that path in the
// feeds, as content links do.
func TestSiteUnderPathConfigLinks(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(t, nil, "build", "--config", "../../bulletin.yaml", "--out", out, "--now", sampleNow,
		"--base-url", "https://example.org/sub/")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	atom, err := os.ReadFile(filepath.Join(out, "atom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<logo>https://example.org/sub/", "<icon>https://example.org/sub/", "<uri>https://example.org/sub/"} {
		if !strings.Contains(string(atom), want) {
			t.Errorf("atom.xml has no %s", want)
		}
	}
	if strings.Contains(string(atom), "<logo>https://example.org/img") || strings.Contains(string(atom), "<icon>https://example.org/img") {
		t.Error("a configured link lost the site's path")
	}
}

// TestHelpSummaries: "--help" of every command and subcommand prints that
// command's own summary, capitalised as valid UTF-8, in both languages.
func TestHelpSummaries(t *testing.T) {
	type entry struct {
		args    []string
		summary [2]string
	}
	var all []entry
	for _, c := range commands() {
		all = append(all, entry{[]string{c.name}, c.summary})
	}
	for _, s := range digestSubcommands() {
		all = append(all, entry{[]string{"digest", s.name}, s.summary})
	}
	for _, s := range subscribersSubcommands() {
		all = append(all, entry{[]string{"subscribers", s.name}, s.summary})
	}
	for _, lang := range []string{"fr", "en"} {
		for _, e := range all {
			if len(e.args) == 1 && (e.args[0] == "digest" || e.args[0] == "subscribers") {
				continue // they list their subcommands
			}
			var out bytes.Buffer
			env := &cliEnv{stdout: &out, stderr: &out, stdin: strings.NewReader(""),
				getenv: func(string) (string, bool) { return "", false }, lang: lang}
			run(context.Background(), env, append(e.args, "--help"))
			want := env.pick(e.summary)
			r, n := utf8.DecodeRuneInString(want)
			want = string(unicode.ToUpper(r)) + want[n:] + "."
			if !strings.Contains(out.String(), want) || !utf8.Valid(out.Bytes()) {
				t.Errorf("%s %v --help: want %q in\n%s", lang, e.args, want, out.String())
			}
		}
	}
}

// TestRebuildIntervalZero: server.rebuild_interval 0 reads the content once
// (the server takes a negative interval as never), not its 30 s default.
func TestRebuildIntervalZero(t *testing.T) {
	cfg := config.Default()
	if got := rebuildInterval(cfg); got != cfg.Server.RebuildInterval.D() {
		t.Errorf("default: %s", got)
	}
	cfg.Server.RebuildInterval = 0
	if got := rebuildInterval(cfg); got >= 0 {
		t.Errorf("0 gives %s, want never (negative)", got)
	}
}
