package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestFileProblems checks that every problem of a configuration file is
// reported at once, by line and dotted key, and that a file with problems
// changes nothing.
func TestFileProblems(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string // the lines of the error, after "config: f.yaml:"
	}{
		{"typo in a section", "site:\n  titel: x\n", []string{"2: unknown key site.titel (did you mean site.title?)"}},
		{"wrong case", "Site:\n  title: x\n", []string{"1: unknown key Site (did you mean site?)"}},
		{"key of another section", "site:\n  limit: 3\n", []string{"2: unknown key site.limit (did you mean feeds.limit?)"}},
		{"no near key", "feeds:\n  colour: red\n", []string{"2: unknown key feeds.colour"}},
		{"in a list of sections", "content:\n  permalinks:\n    - pattern: a/**\n      permalnk: /a/\n",
			[]string{"4: unknown key content.permalinks[0].permalnk (did you mean content.permalinks[0].permalink?)"}},
		{"not an integer", "feeds:\n  limit: abc\n", []string{`2: feeds.limit: want an integer, not "abc"`}},
		{"a fraction for an integer", "smtp:\n  port: 2.5\n", []string{`2: smtp.port: want an integer, not "2.5"`}},
		{"not a boolean", "feeds:\n  tags: maybe\n", []string{`2: feeds.tags: want true or false, not "maybe"`}},
		{"not a number", "smtp:\n  rate: fast\n", []string{`2: smtp.rate: want a number, not "fast"`}},
		{"bad duration", "digest:\n  first_since: soon\n", []string{`2: digest.first_since: invalid duration "soon" (use e.g. 24h, 30m, 7d)`}},
		{"list for a value", "feeds:\n  rss: [a, b]\n", []string{"2: feeds.rss: want a single value, not a list"}},
		{"value for a list", "content:\n  exclude: README.md\n", []string{`2: content.exclude: want a list (one "- item" per line, or [a, b])`}},
		{"value for a section", "site: https://example.org/\n", []string{"1: site: want a section of keys (title, description, url, language, timezone, author, logo, icon, rights, labels)"}},
		{"a list as the file", "- a\n", []string{"1: the file: want a section of keys (site, content, feeds, store, digest, smtp, server, secret)"}},
		{"syntax", "site:\n  url: x\n   title: y\n", []string{"3: mapping values are not allowed in this context"}},
		{"unknown key in a merge", "smtp:\n  <<: [{port: 25}, {hots: x}]\n", []string{"2: unknown key smtp.hots (did you mean smtp.host?)"}},
		{"duplicate section", "site: {}\nsite: {}\n", []string{`2: mapping key "site" already defined at line 1`}},
		{"labels not a map", "site:\n  labels: [a, b]\n", []string{`2: site.labels: want a section of "name: value" lines`}},
		{"a label not text", "site:\n  labels:\n    tool: [a]\n", []string{"3: site.labels.tool: want a single value, not a list"}},
		{"secrets are not repeated", "smtp:\n  password: [hunter2]\n", []string{"2: smtp.password: want a single value, not a list"}},
		{"all at once, in file order", "feeds:\n  limit: abc\nsite:\n  titel: x\ndigest:\n  catch_up: later\n", []string{
			`2: feeds.limit: want an integer, not "abc"`,
			"4: unknown key site.titel (did you mean site.title?)",
			`6: digest.catch_up: invalid duration "later" (use e.g. 24h, 30m, 7d)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			err := decodeYAML("f.yaml", []byte(tt.file), cfg)
			if err == nil {
				t.Fatalf("no error for %q", tt.file)
			}
			var got []string
			for _, line := range strings.Split(err.Error(), "\n") {
				got = append(got, strings.TrimPrefix(line, "config: f.yaml:"))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("error lines\n got %q\nwant %q", got, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("a secret's value is in the error: %v", err)
			}
			if !reflect.DeepEqual(cfg, Default()) {
				t.Errorf("a file with problems changed the configuration")
			}
		})
	}
}

// TestFileAccepted checks what the checks must let through: anchors and
// merges, empty values that keep defaults, YAML 1.1 booleans, numbers in a
// text field.
func TestFileAccepted(t *testing.T) {
	file := `
smtp:
  port: &p 2525
  retries: *p
  <<: {host: mail.example.org}
site:
  title: 2026
  description:
feeds:
  tags: no
  limit: 0x10
server:
  trust_proxy: yes
`
	cfg := Default()
	if err := decodeYAML("f.yaml", []byte(file), cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.SMTP.Port != 2525 || cfg.SMTP.Retries != 2525 || cfg.SMTP.Host != "mail.example.org" {
		t.Errorf("smtp = %+v", cfg.SMTP)
	}
	if cfg.Site.Title != "2026" || cfg.Site.Description != "" {
		t.Errorf("site = %+v", cfg.Site)
	}
	if cfg.Feeds.Tags || cfg.Feeds.Limit != 16 || !cfg.Server.TrustProxy {
		t.Errorf("feeds.tags=%v feeds.limit=%d server.trust_proxy=%v", cfg.Feeds.Tags, cfg.Feeds.Limit, cfg.Server.TrustProxy)
	}
	for _, empty := range []string{"", "# only a comment\n", "---\n"} {
		cfg := Default()
		if err := decodeYAML("f.yaml", []byte(empty), cfg); err != nil || !reflect.DeepEqual(cfg, Default()) {
			t.Errorf("%q: err %v, or defaults changed", empty, err)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"title", "title", 0}, {"titel", "title", 1}, {"tite", "title", 1}, {"titles", "title", 1},
		{"url", "uri", 1}, {"limit", "ttl", 5}, {"", "abc", 3}, {"été", "ete", 2},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// FuzzDecodeYAML checks that no file makes the configuration reader panic,
// that every problem it reports names the file, and that a file with
// problems leaves the configuration as it was.
func FuzzDecodeYAML(f *testing.F) {
	for _, s := range []string{
		"site:\n  titel: x\n", "feeds:\n  limit: abc\n", "smtp:\n  port: 2.5\n",
		"digest:\n  first_since: 7d\n", "content:\n  permalinks:\n    - pattern: a\n      permalink: /a/\n",
		"a: &a [*a]\n", "site: {url: *x}\n", "<<: {site: {}}\n", "- 1\n", "site:\n  url: x\n   t: y\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Default()
		err := decodeYAML("f.yaml", data, cfg)
		if err == nil {
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "config: f.yaml:") {
				t.Errorf("problem without the file's name: %q", line)
			}
		}
		if !reflect.DeepEqual(cfg, Default()) {
			t.Errorf("a file with problems changed the configuration")
		}
	})
}

func TestLabelsFromFileAndEnv(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "bulletin.yaml", "site:\n  labels:\n    guideachat: Guides d’achat\n    tool: Outils\n")
	cfg, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"guideachat": "Guides d’achat", "tool": "Outils"}; !reflect.DeepEqual(cfg.Site.Labels, want) {
		t.Errorf("from the file: %v, want %v", cfg.Site.Labels, want)
	}
	cfg, err = Load(p, envOf(map[string]string{"BULLETIN_SITE_LABELS": " video = Vidéos ,, podcast=Balados"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"video": "Vidéos", "podcast": "Balados"}; !reflect.DeepEqual(cfg.Site.Labels, want) {
		t.Errorf("the environment replaces the file's: %v, want %v", cfg.Site.Labels, want)
	}
	if _, err := Load(p, envOf(map[string]string{"BULLETIN_SITE_LABELS": "video"})); err == nil || !strings.Contains(err.Error(), "name=label") {
		t.Errorf("a pair without = : %v", err)
	}
	p = writeFile(t, dir, "empty.yaml", "site:\n  labels:\n    tool: \"\"\n")
	cfg, err = Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "site.labels") {
		t.Errorf("an empty label: %v", err)
	}
}
