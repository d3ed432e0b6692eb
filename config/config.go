// Package config reads bulletin.yaml, applies BULLETIN_* environment
// variables over it, and validates the result.
//
// Precedence is: defaults < file < environment < flags. Flags are applied by
// the caller (cmd/bulletin) after Load, then Validate is called once more.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
)

// DefaultFile is the configuration file looked for in the working directory
// when no --config flag is given.
const DefaultFile = "bulletin.yaml"

// DefaultSiteURL is used when no site URL is configured, so that feeds still
// carry absolute URLs; a warning is reported.
const DefaultSiteURL = "http://localhost:8080/"

// Config is the whole configuration of bulletin. Field tags give the YAML
// key; the environment variable is BULLETIN_<SECTION>_<KEY> in upper case
// (nested keys joined with "_"), unless an env tag names another one.
type Config struct {
	Site    Site    `yaml:"site"`
	Content Content `yaml:"content"`
	Feeds   Feeds   `yaml:"feeds"`
	Store   Store   `yaml:"store"`
	Digest  Digest  `yaml:"digest"`
	SMTP    SMTP    `yaml:"smtp"`
	Server  Server  `yaml:"server"`
	// Secret signs unsubscribe, preferences and confirmation tokens. When
	// empty, one is generated and kept in the database on first use.
	Secret string `yaml:"secret" env:"BULLETIN_SECRET" secret:"true"`

	// Dir is the folder relative paths in the file are resolved against:
	// the folder of the configuration file, or the working directory.
	Dir string `yaml:"-"`
	// File is the configuration file that was read, empty when none was.
	File string `yaml:"-"`
}

// Site describes the publishing site.
type Site struct {
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	// URL is the absolute base URL of the site, with a trailing slash.
	URL      string `yaml:"url"`
	Language string `yaml:"language"`
	// Timezone is the IANA zone dates without an offset are read in.
	Timezone string `yaml:"timezone"`
	Author   Author `yaml:"author"`
	// Logo and Icon are URLs (site-relative or absolute) of the feed images.
	Logo string `yaml:"logo"`
	Icon string `yaml:"icon"`
	// Rights is the licence or copyright statement of the content.
	Rights string `yaml:"rights"`
	// Labels are the names readers see for tags and types whose own name
	// is an identifier ("guideachat: Guides d’achat"), keyed by the tag or
	// type (compared by slug). Feed titles, digests and the subscription
	// pages show them; feed categories and subscribers' topics keep the tag.
	Labels map[string]string `yaml:"labels"`
}

// Author is the default author of the site and of its publications.
type Author struct {
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
	URL   string `yaml:"url"`
}

// Content says where the publications are and how to read them.
type Content struct {
	// Dir is the folder of Markdown publications.
	Dir string `yaml:"dir"`
	// DataDir holds global data files (Eleventy's _data), relative to Dir.
	DataDir string `yaml:"data_dir"`
	// Exclude lists glob patterns (relative to Dir, "**" allowed) of files
	// and folders that are not publications.
	Exclude []string `yaml:"exclude"`
	// IgnoreTags are collection-plumbing tags dropped from publications.
	IgnoreTags []string `yaml:"ignore_tags"`
	// Permalinks map folder patterns to permalink patterns, for sites whose
	// URLs are computed by JavaScript data files that bulletin cannot run.
	Permalinks []Permalink `yaml:"permalinks"`
	// MediaDirs are folders, relative to the config folder, that a
	// site-absolute media URL ("/audio/x.mp3") is looked up in to read its
	// size. The content folder is always looked in.
	MediaDirs []string `yaml:"media_dirs"`
	// MaxFileSize is the largest Markdown file read, in bytes.
	MaxFileSize int64 `yaml:"max_file_size"`
}

// Permalink maps the files matching Pattern to URLs built from Permalink,
// where :slug, :year, :month, :day, :path and :dir are replaced.
type Permalink struct {
	Pattern   string `yaml:"pattern"`
	Permalink string `yaml:"permalink"`
}

// Feeds says which feeds are written and where.
type Feeds struct {
	// Out is the output folder of `bulletin build`.
	Out string `yaml:"out"`
	// Limit is the number of items per feed; 0 means all.
	Limit int `yaml:"limit"`
	// RSS, Atom and JSON are the site feeds' paths, relative to Out.
	RSS  string `yaml:"rss"`
	Atom string `yaml:"atom"`
	JSON string `yaml:"json"`
	// Tags and Types turn on the per-tag and per-type feeds.
	Tags  bool `yaml:"tags"`
	Types bool `yaml:"types"`
	// TagPath and TypePath are the folders of those feeds; {slug} is
	// replaced by the tag's or type's slug.
	TagPath  string `yaml:"tag_path"`
	TypePath string `yaml:"type_path"`
	// OPML is the path of the OPML list of every feed ("" = none).
	OPML string `yaml:"opml"`
	// XSL is the path of the stylesheet linked from RSS and Atom ("" = none).
	XSL string `yaml:"xsl"`
	// TTL is the RSS ttl in minutes (0 = omitted).
	TTL int `yaml:"ttl"`
}

// Store says where subscribers and the delivery ledger are kept.
type Store struct {
	Database string `yaml:"database"`
}

// Digest configures the email digest.
type Digest struct {
	From    string `yaml:"from"`
	ReplyTo string `yaml:"reply_to"`
	// Subject is a template: {site}, {n} and {date} are replaced.
	Subject string `yaml:"subject"`
	// SubjectEN is the subject for subscribers who read English.
	SubjectEN string `yaml:"subject_en"`
	// FirstSince bounds the very first digest to recent publications.
	FirstSince Duration `yaml:"first_since"`
	// Schedule is a cron expression in the site's time zone.
	Schedule string `yaml:"schedule"`
	// CatchUp is how late a missed scheduled run may still run.
	CatchUp Duration `yaml:"catch_up"`
	// ListID is the List-Id header value (an RFC 2919 identifier).
	ListID string `yaml:"list_id"`
	// UnsubscribeMailto is the address of the List-Unsubscribe mailto.
	UnsubscribeMailto string `yaml:"unsubscribe_mailto"`
	// Templates is a folder whose files override the embedded templates.
	Templates string `yaml:"templates"`
	// MaxItems caps the number of publications in one digest (0 = all).
	MaxItems int `yaml:"max_items"`
}

// SMTP configures delivery. With no Host, messages go to Outbox.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password" secret:"true"`
	// TLS is starttls (mandatory STARTTLS), tls (implicit TLS) or none.
	TLS         string   `yaml:"tls"`
	Concurrency int      `yaml:"concurrency"`
	Rate        float64  `yaml:"rate"`
	Retries     int      `yaml:"retries"`
	BounceAfter int      `yaml:"bounce_after"`
	Timeout     Duration `yaml:"timeout"`
	// HELO is the name announced to the server (default: the site host).
	HELO string `yaml:"helo"`
	// Outbox is the folder .eml files are written to when Host is empty.
	Outbox string `yaml:"outbox"`
}

// Server configures `bulletin serve`.
type Server struct {
	Addr string `yaml:"addr"`
	// PublicURL is the public base URL of `bulletin serve` (subscription,
	// unsubscribe, preferences and archive links); empty means site.url.
	PublicURL       string   `yaml:"public_url"`
	RebuildInterval Duration `yaml:"rebuild_interval"`
	// SubscribeRate is the number of subscriptions per hour one IP may make.
	SubscribeRate int `yaml:"subscribe_rate"`
	// AdminToken enables the /admin/ API when set.
	AdminToken string `yaml:"admin_token" env:"BULLETIN_ADMIN_TOKEN" secret:"true"`
	// TrustProxy makes the client address come from X-Forwarded-For.
	TrustProxy bool `yaml:"trust_proxy"`
}

// Duration is a time.Duration written as "720h", "30m" in YAML and env.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML reads a duration string such as "24h".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n.Value)
	if err != nil {
		// A TypeError lets the decoder go on and report the other values.
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

func parseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err == nil {
			return Duration(time.Duration(n) * 24 * time.Hour), nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 24h, 30m, 7d)", s)
	}
	return Duration(v), nil
}

// Default returns the configuration used when no file sets a key.
func Default() *Config {
	return &Config{
		Site: Site{
			Title:    "Bulletin",
			Language: "fr",
			Timezone: "Europe/Paris",
		},
		Content: Content{
			Dir:         "content",
			DataDir:     "_data",
			Exclude:     []string{"_includes/**", "_layouts/**", "_site/**", "_drafts/**", "_sass/**", "node_modules/**", "README.md"},
			IgnoreTags:  []string{"posts", "all"},
			MaxFileSize: 10 << 20,
		},
		Feeds: Feeds{
			Out:      "public",
			Limit:    50,
			RSS:      "feed.xml",
			Atom:     "atom.xml",
			JSON:     "feed.json",
			Tags:     true,
			Types:    true,
			TagPath:  "tags/{slug}/",
			TypePath: "types/{slug}/",
			OPML:     "feeds.opml",
			XSL:      "feed.xsl",
		},
		Store: Store{Database: "bulletin.db"},
		Digest: Digest{
			Subject:    "{site} — {n} nouvelles publications ({date})",
			SubjectEN:  "{site} — {n} new publications ({date})",
			FirstSince: Duration(720 * time.Hour),
			Schedule:   "0 9 * * 1",
			CatchUp:    Duration(24 * time.Hour),
		},
		SMTP: SMTP{
			Port:        587,
			TLS:         "starttls",
			Concurrency: 4,
			Retries:     3,
			BounceAfter: 3,
			Timeout:     Duration(30 * time.Second),
			Outbox:      "outbox",
		},
		Server: Server{
			Addr:            "127.0.0.1:8080",
			RebuildInterval: Duration(30 * time.Second),
			SubscribeRate:   10,
		},
	}
}

// Warning is a non-fatal remark about the configuration.
type Warning string

// Load reads the configuration. path is the file named by --config; when it
// is empty, DefaultFile is read if it exists in the working directory. getenv
// looks environment variables up (os.LookupEnv in production; nil means no
// environment). The returned configuration has relative paths resolved
// against the file's folder but is not validated: call Validate after flags.
func Load(path string, getenv func(string) (string, bool)) (*Config, error) {
	cfg := Default()
	explicit := path != ""
	if !explicit {
		path = DefaultFile
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := decodeYAML(path, data, cfg); err != nil {
			return nil, err
		}
		abs, aerr := filepath.Abs(path)
		if aerr != nil {
			abs = path
		}
		cfg.File = path
		cfg.Dir = filepath.Dir(abs)
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		wd, _ := os.Getwd()
		cfg.Dir = wd
	default:
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if getenv != nil {
		if err := applyEnv(cfg, getenv); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// Resolve returns p resolved against the configuration folder, unless it is
// empty or absolute.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// Location returns the site's time zone.
func (c *Config) Location() (*time.Location, error) {
	tz := c.Site.Timezone
	if tz == "" {
		tz = "Europe/Paris"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("config: site.timezone %q: %w", tz, err)
	}
	return loc, nil
}

// Validate checks the configuration after flags were applied, fills values
// that derive from others (the site URL's trailing slash) and returns the
// warnings that do not stop a run.
func (c *Config) Validate() ([]Warning, error) {
	var warns []Warning
	var errs []error
	if strings.TrimSpace(c.Site.URL) == "" {
		warns = append(warns, Warning("site.url is not set (BULLETIN_SITE_URL): feeds use "+DefaultSiteURL))
		c.Site.URL = DefaultSiteURL
	}
	u, err := url.Parse(c.Site.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("site.url %q must be an absolute http(s) URL", c.Site.URL))
	} else if !strings.HasSuffix(c.Site.URL, "/") {
		c.Site.URL += "/"
	}
	if _, err := c.Location(); err != nil {
		errs = append(errs, err)
	}
	// Feeds carry the language as a BCP 47 tag (xml:lang, JSON Feed):
	// "fr_FR" and "FR" are written "fr-FR" and "fr"; "Français" is refused.
	if tag, err := language.Parse(strings.TrimSpace(c.Site.Language)); err != nil || strings.TrimSpace(c.Site.Language) == "" {
		errs = append(errs, fmt.Errorf("site.language %q must be a language tag such as fr, en or fr-FR", c.Site.Language))
	} else {
		c.Site.Language = tag.String()
	}
	if c.Server.PublicURL == "" {
		c.Server.PublicURL = c.Site.URL
	} else if pu, err := url.Parse(c.Server.PublicURL); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
		errs = append(errs, fmt.Errorf("server.public_url %q must be an absolute http(s) URL", c.Server.PublicURL))
	} else if !strings.HasSuffix(c.Server.PublicURL, "/") {
		c.Server.PublicURL += "/"
	}
	if c.Feeds.Limit < 0 {
		errs = append(errs, fmt.Errorf("feeds.limit must be 0 (all) or more, not %d", c.Feeds.Limit))
	}
	for name, label := range c.Site.Labels {
		if strings.TrimSpace(name) == "" || strings.TrimSpace(label) == "" {
			errs = append(errs, fmt.Errorf("site.labels: %q: want a tag or type and a label, neither empty", name+": "+label))
		}
	}
	for i, p := range c.Content.Permalinks {
		if p.Pattern == "" || p.Permalink == "" {
			errs = append(errs, fmt.Errorf("content.permalinks[%d] needs both pattern and permalink", i))
		}
	}
	switch c.SMTP.TLS {
	case "starttls", "tls", "none":
	default:
		errs = append(errs, fmt.Errorf("smtp.tls must be starttls, tls or none, not %q", c.SMTP.TLS))
	}
	if c.SMTP.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("smtp.concurrency must be at least 1"))
	}
	if c.SMTP.Rate < 0 || c.SMTP.Retries < 0 || c.SMTP.BounceAfter < 0 {
		errs = append(errs, fmt.Errorf("smtp.rate, smtp.retries and smtp.bounce_after cannot be negative"))
	}
	if c.Content.MaxFileSize <= 0 {
		errs = append(errs, fmt.Errorf("content.max_file_size must be positive"))
	}
	if c.SMTP.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("smtp.timeout must be positive, not %s", c.SMTP.Timeout))
	}
	if c.Server.SubscribeRate < 1 {
		errs = append(errs, fmt.Errorf("server.subscribe_rate must be at least 1 subscription per hour, not %d", c.Server.SubscribeRate))
	}
	if c.Server.RebuildInterval < 0 {
		errs = append(errs, fmt.Errorf("server.rebuild_interval cannot be negative (0 reads the content once, at start)"))
	}
	if c.Digest.CatchUp < 0 {
		errs = append(errs, fmt.Errorf("digest.catch_up cannot be negative"))
	}
	// The digest's addresses are checked here, before any digest exists:
	// a sender that does not parse would fail every delivery.
	for _, a := range []struct{ key, value string }{
		{"digest.from", c.Digest.From},
		{"digest.unsubscribe_mailto", c.Digest.UnsubscribeMailto},
	} {
		if strings.TrimSpace(a.value) != "" && !validAddress(a.value) {
			errs = append(errs, fmt.Errorf("%s %q must be an email address, e.g. bulletin@example.org or Name <bulletin@example.org>", a.key, a.value))
		}
	}
	if strings.TrimSpace(c.Digest.ReplyTo) != "" {
		if list, err := mail.ParseAddressList(c.Digest.ReplyTo); err != nil || len(list) == 0 {
			if !validAddress(c.Digest.ReplyTo) {
				errs = append(errs, fmt.Errorf("digest.reply_to %q must be one email address or several separated by commas", c.Digest.ReplyTo))
			}
		}
	}
	if id := strings.TrimSpace(c.Digest.ListID); id != "" && !listIDPattern.MatchString(strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")) {
		errs = append(errs, fmt.Errorf("digest.list_id %q must be a dotted identifier such as bulletin.example.org (RFC 2919)", c.Digest.ListID))
	}
	if spec := strings.TrimSpace(c.Digest.Schedule); spec != "" {
		if sched, err := cron.ParseStandard(spec); err != nil {
			errs = append(errs, fmt.Errorf("digest.schedule %q must be a five-field cron expression such as \"0 9 * * 1\" (or empty, for no scheduled send): %v", spec, err))
		} else if sched.Next(time.Now()).IsZero() {
			errs = append(errs, fmt.Errorf("digest.schedule %q never comes (a day that no month has, such as the 30th of February)", spec))
		}
	}
	return warns, errors.Join(errs...)
}

// listIDPattern is RFC 2919's list-id without its angle brackets: dot-atom
// text with at least one dot ("bulletin.example.org").
var listIDPattern = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)+$")

// validAddress reports whether s is an email address as the mailer reads
// it: what net/mail parses ("a@b", "Name <a@b>", "a@b (Name)"), or a name
// with characters RFC 5322 wants quoted followed by "<a@b>".
func validAddress(s string) bool {
	s = strings.TrimSpace(s)
	if _, err := mail.ParseAddress(s); err == nil {
		return true
	}
	open := strings.LastIndexByte(s, '<')
	if open < 0 || !strings.HasSuffix(s, ">") {
		return false
	}
	_, err := mail.ParseAddress(s[open+1 : len(s)-1])
	return err == nil
}

// EnvVar returns the environment variable of a dotted key ("site.url" →
// "BULLETIN_SITE_URL"), honouring the env tags of keys that have another name.
func EnvVar(key string) string {
	var name string
	walk(reflect.TypeOf(Config{}), "", func(k string, f reflect.StructField) {
		if k == key {
			name = envName(k, f)
		}
	})
	return name
}

// UnknownEnv returns a warning for every BULLETIN_* variable of environ
// ("NAME=value" pairs, as os.Environ gives them) that is neither a
// configuration key's variable nor one of also (names, or prefixes ending
// in "*"), with the variable nearest in spelling: a misspelt variable would
// otherwise be ignored without a word. Values are never repeated (they may
// be secrets).
func UnknownEnv(environ []string, also ...string) []Warning {
	known := map[string]bool{}
	for _, k := range Keys() {
		known[k[1]] = true
	}
	var prefixes []string
	for _, a := range also {
		if p, ok := strings.CutSuffix(a, "*"); ok {
			prefixes = append(prefixes, p)
		} else {
			known[a] = true
		}
	}
	var warns []Warning
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "BULLETIN_") || known[name] ||
			slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		best, bestDist := "", 0
		for k := range known {
			d := editDistance(name, k)
			if d <= max(1, (len(k)-len("BULLETIN_"))/3) && (best == "" || d < bestDist || d == bestDist && k < best) {
				best, bestDist = k, d
			}
		}
		msg := "environment variable " + name + " names no configuration key: ignored"
		if best != "" {
			msg += " (did you mean " + best + "?)"
		}
		warns = append(warns, Warning(oneLine.Replace(msg)))
	}
	slices.Sort(warns)
	return warns
}

// Keys lists every configuration key with its environment variable, in the
// order of the Config struct. It feeds docs and `bulletin config`.
func Keys() [][2]string {
	var out [][2]string
	walk(reflect.TypeOf(Config{}), "", func(k string, f reflect.StructField) {
		out = append(out, [2]string{k, envName(k, f)})
	})
	return out
}

func envName(key string, f reflect.StructField) string {
	if e := f.Tag.Get("env"); e != "" {
		return e
	}
	return "BULLETIN_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// walk calls fn for every leaf field of t with its dotted YAML key.
func walk(t reflect.Type, prefix string, fn func(key string, f reflect.StructField)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := yamlKey(f)
		if name == "" {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(Duration(0)) {
			walk(f.Type, key, fn)
			continue
		}
		fn(key, f)
	}
}

// applyEnv sets every field whose environment variable is present.
func applyEnv(cfg *Config, getenv func(string) (string, bool)) error {
	var errs []error
	root := reflect.ValueOf(cfg).Elem()
	walk(root.Type(), "", func(key string, f reflect.StructField) {
		name := envName(key, f)
		val, ok := getenv(name)
		if !ok {
			return
		}
		fv := fieldByKey(root, key)
		if err := setFromString(fv, val); err != nil {
			if f.Tag.Get("secret") != "" {
				errs = append(errs, fmt.Errorf("config: %s: invalid value", name))
				return
			}
			errs = append(errs, fmt.Errorf("config: %s=%q: %w", name, val, err))
		}
	})
	return errors.Join(errs...)
}

func fieldByKey(v reflect.Value, key string) reflect.Value {
	for _, part := range strings.Split(key, ".") {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if yamlKey(t.Field(i)) == part {
				v = v.Field(i)
				break
			}
		}
	}
	return v
}

// Set assigns a configuration key from its string form, as flags and env do.
func (c *Config) Set(key, val string) error {
	found := false
	walk(reflect.TypeOf(*c), "", func(k string, _ reflect.StructField) {
		if k == key {
			found = true
		}
	})
	if !found {
		return fmt.Errorf("config: unknown key %q", key)
	}
	if err := setFromString(fieldByKey(reflect.ValueOf(c).Elem(), key), val); err != nil {
		return fmt.Errorf("config: %s: %w", key, err)
	}
	return nil
}

func setFromString(v reflect.Value, s string) error {
	switch {
	case v.Type() == reflect.TypeOf(Duration(0)):
		d, err := parseDuration(s)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(d))
		return nil
	case v.Type() == reflect.TypeOf(map[string]string(nil)):
		// "key=value,key=value"
		m := map[string]string{}
		for _, part := range splitList(s) {
			k, val, ok := strings.Cut(part, "=")
			if !ok {
				return fmt.Errorf("want name=label pairs separated by commas")
			}
			m[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
		v.Set(reflect.ValueOf(m))
		return nil
	case v.Type() == reflect.TypeOf([]Permalink(nil)):
		// "pattern=permalink,pattern=permalink"
		var ps []Permalink
		for _, part := range splitList(s) {
			pat, perm, ok := strings.Cut(part, "=")
			if !ok {
				return fmt.Errorf("want pattern=permalink pairs separated by commas")
			}
			ps = append(ps, Permalink{Pattern: strings.TrimSpace(pat), Permalink: strings.TrimSpace(perm)})
		}
		v.Set(reflect.ValueOf(ps))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return fmt.Errorf("want an integer")
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("want a number")
		}
		v.SetFloat(f)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type")
		}
		v.Set(reflect.ValueOf(splitList(s)))
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
