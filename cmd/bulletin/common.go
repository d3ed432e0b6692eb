package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecoresponsable/bulletin/config"
	"github.com/ecoresponsable/bulletin/feed"
	"github.com/ecoresponsable/bulletin/publication"
)

// siteFlags are the flags every command that reads the content shares.
type siteFlags struct {
	config  string
	content string
	now     string
}

func (f *siteFlags) register(env *cliEnv, fs *flag.FlagSet, withContent bool) {
	fs.StringVar(&f.config, "config", "", env.t("fichier de configuration (défaut : bulletin.yaml s'il existe)", "configuration file (default: bulletin.yaml if present)"))
	if withContent {
		fs.StringVar(&f.content, "content", "", env.t("dossier des publications (défaut : content.dir)", "publications folder (default: content.dir)"))
		fs.StringVar(&f.now, "now", "", env.t("date et heure « maintenant », RFC 3339, pour tester ou prévisualiser", "the moment taken as now, RFC 3339, for tests and previews"))
	}
}

// loadConfig reads the configuration, applies the flags that override keys
// (each a config key → value pair, empty values skipped), validates it and
// prints its warnings.
func loadConfig(env *cliEnv, f *siteFlags, overrides map[string]string) (*config.Config, error) {
	cfg, err := config.Load(f.config, env.getenv)
	if err != nil {
		return nil, err
	}
	if env.environ != nil {
		// BULLETIN_LANG chooses the language of messages; BULLETIN_TEST_*
		// are the tests' own.
		for _, w := range config.UnknownEnv(env.environ(), "BULLETIN_LANG", "BULLETIN_TEST_*") {
			env.warn(string(w))
		}
	}
	if f.content != "" {
		abs, err := filepath.Abs(f.content)
		if err != nil {
			return nil, err
		}
		cfg.Content.Dir = abs
	}
	for k, v := range overrides {
		if v == "" {
			continue
		}
		if err := cfg.Set(k, v); err != nil {
			return nil, err
		}
	}
	warns, err := cfg.Validate()
	for _, w := range warns {
		env.warn(string(w))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", env.t("configuration invalide", "invalid configuration"), err)
	}
	return cfg, nil
}

// parseNow reads --now, or returns the current time.
func parseNow(s string) (time.Time, error) {
	if s == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--now %q: want RFC 3339, e.g. 2026-11-20T12:00:00+01:00", s)
	}
	return t, nil
}

// loadSite loads the content folder of cfg as it is at now and prints every
// diagnostic on stderr, one "path:line: message" per line.
//
// With renderAll, every published body is rendered while the files are
// read, for commands whose outputs include them all.
func loadSite(ctx context.Context, env *cliEnv, cfg *config.Config, now time.Time, renderAll bool) (*publication.Site, error) {
	dir, opts, err := siteOptions(cfg, now)
	if err != nil {
		return nil, err
	}
	opts.RenderBodies = renderAll
	site, err := publication.Load(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	for _, d := range site.Diagnostics {
		fmt.Fprintln(env.stderr, d.String())
	}
	for _, name := range unusedLabels(cfg.Site.Labels, site) {
		env.warn(fmt.Sprintf(env.t("site.labels : %q : aucune publication n’a cette étiquette ni ce type",
			"site.labels: %q: no publication has this tag or type"), name))
	}
	return site, nil
}

// warnMerged warns about each tag or type feed that gathers names
// differing by more than case and accents ("C", "C++", "C#" → tags/c/).
func warnMerged(env *cliEnv, set *feed.Set) {
	for _, m := range set.Merged() {
		quoted := make([]string, len(m.Names))
		for i, n := range m.Names {
			quoted[i] = strconv.Quote(n)
		}
		list := strings.Join(quoted, ", ")
		if m.Kind == feed.KindType {
			env.warn(fmt.Sprintf(env.t("les types %s partagent un flux (%s/) : renommez-en un pour les séparer",
				"types %s share one feed (%s/): rename one to keep them apart"), list, m.Dir))
			continue
		}
		env.warn(fmt.Sprintf(env.t("les étiquettes %s partagent un flux (%s/) : renommez-en une pour les séparer",
			"tags %s share one feed (%s/): rename one to keep them apart"), list, m.Dir))
	}
}

// unusedLabels are the keys of site.labels that no tag or type of the
// published or upcoming publications has (compared by slug): most likely a
// misspelt tag, whose label would never show.
func unusedLabels(labels map[string]string, site *publication.Site) []string {
	if len(labels) == 0 {
		return nil
	}
	used := map[string]bool{}
	for _, list := range [][]*publication.Publication{site.Publications, site.Upcoming} {
		for _, p := range list {
			for _, t := range p.Tags {
				used[publication.Slug(t)] = true
			}
			used[publication.Slug(p.Type)] = true
		}
	}
	var unused []string
	for name := range labels {
		if !used[publication.Slug(name)] {
			unused = append(unused, name)
		}
	}
	slices.Sort(unused)
	return unused
}

// siteOptions maps the configuration onto the loader's options.
func siteOptions(cfg *config.Config, now time.Time) (string, publication.Options, error) {
	loc, err := cfg.Location()
	if err != nil {
		return "", publication.Options{}, err
	}
	dir := cfg.Resolve(cfg.Content.Dir)
	rules := make([]publication.PermalinkRule, len(cfg.Content.Permalinks))
	for i, r := range cfg.Content.Permalinks {
		rules[i] = publication.PermalinkRule{Pattern: r.Pattern, Permalink: r.Permalink}
	}
	media := make([]string, len(cfg.Content.MediaDirs))
	for i, m := range cfg.Content.MediaDirs {
		media[i] = cfg.Resolve(m)
	}
	return dir, publication.Options{
		SiteURL:     cfg.Site.URL,
		Location:    loc,
		Now:         now,
		Lang:        cfg.Site.Language,
		DataDir:     cfg.Content.DataDir,
		Exclude:     cfg.Content.Exclude,
		IgnoreTags:  cfg.Content.IgnoreTags,
		Permalinks:  rules,
		MediaDirs:   media,
		MaxFileSize: cfg.Content.MaxFileSize,
		DisplayDir:  displayPath(dir),
	}, nil
}

// displayPath shows a path relative to the working directory when it is
// below it, as editors and CI logs expect.
func displayPath(p string) string {
	wd, err := filepath.Abs(".")
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") && len(rel) < len(p) {
		return rel
	}
	return p
}

// newLogger returns the logger of long-running commands: text on a
// terminal, JSON otherwise, on stderr.
func newLogger(env *cliEnv) *slog.Logger {
	if env.isTerminal {
		return slog.New(slog.NewTextHandler(env.stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(env.stderr, nil))
}

func itoa(n int) string { return strconv.Itoa(n) }
