package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "bulletin.yaml", `
site:
  url: https://file.example.org/
  title: From file
feeds:
  limit: 20
  out: dist
content:
  ignore_tags: [posts]
digest:
  first_since: 7d
`)
	cfg, err := Load(p, envOf(map[string]string{
		"BULLETIN_FEEDS_LIMIT":         "30",
		"BULLETIN_CONTENT_IGNORE_TAGS": "posts, all ,",
		"BULLETIN_SECRET":              "s3cret-from-env-0123456789",
		"BULLETIN_ADMIN_TOKEN":         "admin",
		"BULLETIN_CONTENT_PERMALINKS":  "posts/**=/actualites/:slug/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	// file over defaults
	if cfg.Site.Title != "From file" || cfg.Site.URL != "https://file.example.org/" {
		t.Errorf("file values not applied: %+v", cfg.Site)
	}
	if cfg.Feeds.RSS != "feed.xml" {
		t.Errorf("default lost: feeds.rss = %q", cfg.Feeds.RSS)
	}
	// env over file
	if cfg.Feeds.Limit != 30 {
		t.Errorf("env did not win over file: limit = %d", cfg.Feeds.Limit)
	}
	if got := strings.Join(cfg.Content.IgnoreTags, "|"); got != "posts|all" {
		t.Errorf("env list = %q", got)
	}
	if cfg.Secret != "s3cret-from-env-0123456789" || cfg.Server.AdminToken != "admin" {
		t.Errorf("named env variables not applied")
	}
	if len(cfg.Content.Permalinks) != 1 || cfg.Content.Permalinks[0].Permalink != "/actualites/:slug/" {
		t.Errorf("permalinks from env = %+v", cfg.Content.Permalinks)
	}
	if cfg.Digest.FirstSince.D() != 7*24*time.Hour {
		t.Errorf("7d = %v", cfg.Digest.FirstSince)
	}
	// flags over env
	if err := cfg.Set("feeds.limit", "0"); err != nil {
		t.Fatal(err)
	}
	if cfg.Feeds.Limit != 0 {
		t.Errorf("flag did not win: %d", cfg.Feeds.Limit)
	}
	if got, want := cfg.Resolve(cfg.Feeds.Out), filepath.Join(dir, "dist"); got != want {
		t.Errorf("relative path resolved to %q, want %q", got, want)
	}
}

func TestUnknownKeyAndBadValues(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "a.yaml", "site:\n  ur1: https://typo.example.org/\n")
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "ur1") || !strings.Contains(err.Error(), "a.yaml") {
		t.Fatalf("unknown key not reported with file and key: %v", err)
	}
	p = writeFile(t, dir, "b.yaml", "digest:\n  first_since: soon\n")
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "soon") {
		t.Fatalf("bad duration not reported: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), nil); err == nil {
		t.Fatal("an explicit missing file must be an error")
	}
	p = writeFile(t, dir, "c.yaml", "")
	if _, err := Load(p, envOf(map[string]string{"BULLETIN_FEEDS_LIMIT": "many"})); err == nil || !strings.Contains(err.Error(), "BULLETIN_FEEDS_LIMIT") {
		t.Fatalf("bad env value not reported with its name: %v", err)
	}
}

func TestSecretKeysMapToDocumentedVariables(t *testing.T) {
	if EnvVar("secret") != "BULLETIN_SECRET" || EnvVar("server.admin_token") != "BULLETIN_ADMIN_TOKEN" || EnvVar("smtp.password") != "BULLETIN_SMTP_PASSWORD" {
		t.Fatal("secret keys do not map to their documented variables")
	}
}

func TestValidate(t *testing.T) {
	cfg := Default()
	warns, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || !strings.Contains(string(warns[0]), "site.url") || cfg.Site.URL != DefaultSiteURL {
		t.Fatalf("missing site URL: warns=%v url=%q", warns, cfg.Site.URL)
	}
	if cfg.Server.PublicURL != cfg.Site.URL {
		t.Fatalf("public_url defaults to site.url, got %q", cfg.Server.PublicURL)
	}
	cfg = Default()
	cfg.Site.Language = "en_GB"
	if _, err := cfg.Validate(); err != nil || cfg.Site.Language != "en-GB" {
		t.Fatalf("site.language en_GB: %q %v", cfg.Site.Language, err)
	}
	cfg = Default()
	cfg.Site.URL = "https://example.org/sub"
	if _, err := cfg.Validate(); err != nil || cfg.Site.URL != "https://example.org/sub/" {
		t.Fatalf("trailing slash: %q %v", cfg.Site.URL, err)
	}
	for _, bad := range []func(c *Config){
		func(c *Config) { c.Site.URL = "example.org" },
		func(c *Config) { c.Site.Timezone = "Mars/Olympus" },
		func(c *Config) { c.Feeds.Limit = -1 },
		func(c *Config) { c.SMTP.TLS = "maybe" },
		func(c *Config) { c.SMTP.Concurrency = 0 },
		func(c *Config) { c.Content.Permalinks = []Permalink{{Pattern: "x/**"}} },
		func(c *Config) { c.Server.PublicURL = "ftp://x" },
		func(c *Config) { c.Site.Language = "Français" },
		func(c *Config) { c.Site.Language = "" },
	} {
		c := Default()
		c.Site.URL = "https://example.org/"
		bad(c)
		if _, err := c.Validate(); err == nil {
			t.Errorf("invalid configuration accepted: %+v", c)
		}
	}
}

func TestKeysCoverEveryLeaf(t *testing.T) {
	keys := Keys()
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k[0]] {
			t.Errorf("key %s listed twice", k[0])
		}
		seen[k[0]] = true
		if !strings.HasPrefix(k[1], "BULLETIN_") {
			t.Errorf("key %s has env %q", k[0], k[1])
		}
	}
	for _, want := range []string{"site.url", "site.author.name", "feeds.limit", "store.database", "digest.first_since", "smtp.password", "server.public_url", "secret"} {
		if !seen[want] {
			t.Errorf("key %s missing from Keys()", want)
		}
	}
	c := Default()
	if err := c.Set("nope.nothing", "1"); err == nil {
		t.Error("Set accepted an unknown key")
	}
}

// TestSampleConfig keeps the bundled bulletin.yaml loadable and complete:
// every key is present in it.
func TestSampleConfig(t *testing.T) {
	cfg, err := Load("../bulletin.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../bulletin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if !strings.Contains(string(raw), k[1]) {
			t.Errorf("bulletin.yaml does not document %s (%s)", k[0], k[1])
		}
	}
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		if !strings.Contains(string(doc), "`"+k[0]+"`") || !strings.Contains(string(doc), k[1]) {
			t.Errorf("docs/configuration.md does not document %s (%s)", k[0], k[1])
		}
	}
}

// TestUnknownEnv: a BULLETIN_* variable that names no key is reported once,
// with the nearest variable when one is close, and never with its value;
// known variables, other programs' variables and the names and prefixes
// given as also are not.
func TestUnknownEnv(t *testing.T) {
	environ := []string{
		"BULLETIN_SITE_URL=https://example.org/",
		"BULLETIN_FEEDS_LIMT=3",
		"BULLETIN_SMTP_PASWORD=hunter2",
		"BULLETIN_SECRETS=s3cr3t-value",
		"BULLETIN_WHATEVER=1",
		"BULLETIN_LANG=fr",
		"BULLETIN_TEST_MAILPIT_SMTP=127.0.0.1:1025",
		"HOME=/root",
		"bulletin_site_url=lower",
		"BULLETIN_",
	}
	got := UnknownEnv(environ, "BULLETIN_LANG", "BULLETIN_TEST_*")
	want := []Warning{
		"environment variable BULLETIN_ names no configuration key: ignored",
		"environment variable BULLETIN_FEEDS_LIMT names no configuration key: ignored (did you mean BULLETIN_FEEDS_LIMIT?)",
		"environment variable BULLETIN_SECRETS names no configuration key: ignored (did you mean BULLETIN_SECRET?)",
		"environment variable BULLETIN_SMTP_PASWORD names no configuration key: ignored (did you mean BULLETIN_SMTP_PASSWORD?)",
		"environment variable BULLETIN_WHATEVER names no configuration key: ignored",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	for _, w := range got {
		if strings.Contains(string(w), "hunter2") || strings.Contains(string(w), "s3cr3t") {
			t.Errorf("a value is repeated: %s", w)
		}
	}
	for _, k := range Keys() {
		if w := UnknownEnv([]string{k[1] + "=x"}); len(w) != 0 {
			t.Errorf("%s (the variable of %s) reported: %q", k[1], k[0], w)
		}
	}
}

// TestValidateDigestAndServer: the digest's addresses, List-Id and
// schedule, and the server's and SMTP's numbers, are checked before any
// command runs, so that a typo fails "check" rather than every delivery.
func TestValidateDigestAndServer(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(c *Config)
		want string // "" = accepted; else a part of the error
	}{
		{"from with name", func(c *Config) { c.Digest.From = "Numérique responsable <bulletin@example.org>" }, ""},
		{"from with unquoted specials", func(c *Config) { c.Digest.From = "Numérique responsable (MTE), lettre <bulletin@example.org>" }, ""},
		{"from without brackets", func(c *Config) { c.Digest.From = "Numérique responsable bulletin@example.org" }, "digest.from"},
		{"from not an address", func(c *Config) { c.Digest.From = "bulletin" }, "digest.from"},
		{"reply-to list", func(c *Config) { c.Digest.ReplyTo = "contact@example.org, presse@example.org" }, ""},
		{"reply-to broken", func(c *Config) { c.Digest.ReplyTo = "contact@" }, "digest.reply_to"},
		{"mailto", func(c *Config) { c.Digest.UnsubscribeMailto = "desabonnement@example.org" }, ""},
		{"mailto broken", func(c *Config) { c.Digest.UnsubscribeMailto = "desabonnement" }, "digest.unsubscribe_mailto"},
		{"list id", func(c *Config) { c.Digest.ListID = "bulletin.example.org" }, ""},
		{"list id in brackets", func(c *Config) { c.Digest.ListID = "<bulletin.example.org>" }, ""},
		{"list id with spaces", func(c *Config) { c.Digest.ListID = "bad id" }, "digest.list_id"},
		{"list id without a dot", func(c *Config) { c.Digest.ListID = "bulletin" }, "digest.list_id"},
		{"schedule", func(c *Config) { c.Digest.Schedule = "30 8 1 * *" }, ""},
		{"no schedule", func(c *Config) { c.Digest.Schedule = "" }, ""},
		{"schedule in words", func(c *Config) { c.Digest.Schedule = "every monday" }, "digest.schedule"},
		{"schedule out of range", func(c *Config) { c.Digest.Schedule = "0 25 * * 1" }, "digest.schedule"},
		{"schedule never", func(c *Config) { c.Digest.Schedule = "0 9 30 2 *" }, "never comes"},
		{"schedule in leap years", func(c *Config) { c.Digest.Schedule = "0 9 29 2 *" }, ""},
		{"subscribe rate 0", func(c *Config) { c.Server.SubscribeRate = 0 }, "server.subscribe_rate"},
		{"rebuild never", func(c *Config) { c.Server.RebuildInterval = 0 }, ""},
		{"rebuild negative", func(c *Config) { c.Server.RebuildInterval = Duration(-time.Second) }, "server.rebuild_interval"},
		{"smtp timeout 0", func(c *Config) { c.SMTP.Timeout = 0 }, "smtp.timeout"},
		{"catch-up negative", func(c *Config) { c.Digest.CatchUp = Duration(-time.Hour) }, "digest.catch_up"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			c.Site.URL = "https://example.org/"
			tt.set(c)
			_, err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one naming %s", err, tt.want)
			}
		})
	}
}

// TestKeyWithoutValueKeepsDefault: "key:" with no value keeps the key's
// default whatever its type (a list was emptied, a text kept); "" and []
// empty a key; an unknown key with no value is still reported.
func TestKeyWithoutValueKeepsDefault(t *testing.T) {
	dir := t.TempDir()
	def := Default()
	p := writeFile(t, dir, "null.yaml", "feeds:\n  xsl:\n  opml: ~\ncontent:\n  exclude:\ndigest:\n")
	cfg, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Feeds.XSL != def.Feeds.XSL || cfg.Feeds.OPML != def.Feeds.OPML || !slices.Equal(cfg.Content.Exclude, def.Content.Exclude) || cfg.Digest.Schedule != def.Digest.Schedule {
		t.Errorf("keys without value: xsl %q opml %q exclude %v schedule %q; want the defaults", cfg.Feeds.XSL, cfg.Feeds.OPML, cfg.Content.Exclude, cfg.Digest.Schedule)
	}
	p = writeFile(t, dir, "empty.yaml", "feeds:\n  xsl: \"\"\ncontent:\n  exclude: []\n")
	if cfg, err = Load(p, nil); err != nil || cfg.Feeds.XSL != "" || len(cfg.Content.Exclude) != 0 {
		t.Errorf("explicit empty values: xsl %q exclude %v, %v", cfg.Feeds.XSL, cfg.Content.Exclude, err)
	}
	p = writeFile(t, dir, "unknown.yaml", "feeds:\n  xls:\n")
	if _, err := Load(p, nil); err == nil || !strings.Contains(err.Error(), "xls") {
		t.Errorf("unknown key without value not reported: %v", err)
	}
}
