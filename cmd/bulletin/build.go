package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/ecoresponsable/bulletin/config"
	"github.com/ecoresponsable/bulletin/feed"
	"github.com/ecoresponsable/bulletin/publication"
)

func runBuild(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "build", "", "")
	var sf siteFlags
	sf.register(env, fs, true)
	out := fs.String("out", "", env.t("dossier de sortie (défaut : feeds.out)", "output folder (default: feeds.out)"))
	baseURL := fs.String("base-url", "", env.t("URL absolue du site (défaut : site.url)", "absolute URL of the site (default: site.url)"))
	limit := fs.String("limit", "", env.t("nombre d'éléments par flux, 0 = tous (défaut : feeds.limit)", "items per feed, 0 = all (default: feeds.limit)"))
	printLinks := fs.Bool("print-links", false, env.t("affiche le bloc <link rel=\"alternate\"> à coller dans le <head> du site", "print the <link rel=\"alternate\"> block to paste in the site's <head>"))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	if *limit != "" {
		if n, err := strconv.Atoi(*limit); err != nil || n < 0 {
			return fmt.Errorf("--limit %q: %s", *limit, env.t("un entier positif ou 0 est attendu", "want 0 or a positive integer"))
		}
	}
	start := time.Now()
	batchGC(env)
	cfg, err := loadConfig(env, &sf, map[string]string{"site.url": *baseURL, "feeds.limit": *limit})
	if err != nil {
		return err
	}
	outDir := cfg.Resolve(cfg.Feeds.Out)
	if *out != "" {
		if outDir, err = filepath.Abs(*out); err != nil {
			return err
		}
	}
	now, err := parseNow(sf.now)
	if err != nil {
		return err
	}
	// Without an item limit, the site's feed lists every publication.
	site, err := loadSite(ctx, env, cfg, now, cfg.Feeds.Limit == 0)
	if err != nil {
		return err
	}
	set := feed.Plan(site.Publications, feedOptions(cfg))
	warnMerged(env, set)
	if err := publication.Render(ctx, set.Publications()); err != nil {
		return err
	}
	res, err := feed.Build(ctx, outDir, set)
	if err != nil {
		return err
	}
	if *printLinks {
		fmt.Fprint(env.stdout, feed.Links(set))
	}
	fmt.Fprintf(env.stderr, env.t(
		"%d publications, %d fichiers dans %s (%d écrits, %d inchangés, %d supprimés) en %s\n",
		"%d publications, %d files in %s (%d written, %d unchanged, %d removed) in %s\n"),
		len(site.Publications), len(set.Outputs()), displayPath(outDir), len(res.Written), len(res.Unchanged), len(res.Removed),
		time.Since(start).Round(time.Millisecond))
	return exitOnErrors(env, site)
}

func runCheck(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "check", "", "")
	var sf siteFlags
	sf.register(env, fs, true)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	batchGC(env)
	cfg, err := loadConfig(env, &sf, nil)
	if err != nil {
		return err
	}
	now, err := parseNow(sf.now)
	if err != nil {
		return err
	}
	site, err := loadSite(ctx, env, cfg, now, true)
	if err != nil {
		return err
	}
	// Render and generate everything, into nothing, so that any problem an
	// output would meet shows up here too.
	if err := publication.Render(ctx, site.Publications); err != nil {
		return err
	}
	set := feed.Plan(site.Publications, feedOptions(cfg))
	warnMerged(env, set)
	if err := set.Generate(ctx, discardSink{}); err != nil {
		return err
	}
	warnings := len(site.Diagnostics) - site.Errors() + env.warnings
	fmt.Fprintf(env.stderr, env.t(
		"%d fichiers lus : %d publiées, %d à venir, %d brouillons, %d exclues ; %d erreurs, %d avertissements\n",
		"%d files read: %d published, %d upcoming, %d drafts, %d excluded; %d errors, %d warnings\n"),
		site.Stats.Files, site.Stats.Published, site.Stats.Future, site.Stats.Drafts, site.Stats.Excluded+site.Stats.Listings,
		site.Errors(), warnings)
	return exitOnErrors(env, site)
}

// batchGC lets the heap grow to three times the live data between
// collections (GOGC=200) for one-shot commands: a build holds every
// publication until the feeds are written, and collecting half as often
// saves about a fifth of its CPU for a third more memory. GOGC set in the
// environment wins.
func batchGC(env *cliEnv) {
	if _, set := env.getenv("GOGC"); !set {
		debug.SetGCPercent(200)
	}
}

// exitOnErrors makes build and check fail when any error was reported, so
// that CI notices; warnings alone do not.
func exitOnErrors(env *cliEnv, site *publication.Site) error {
	if n := site.Errors(); n > 0 {
		fmt.Fprintf(env.stderr, env.t("%d erreur(s) : les fichiers en cause ont été ignorés\n", "%d error(s): the files concerned were skipped\n"), n)
		return exitError{code: 1}
	}
	return nil
}

// feedOptions maps the configuration onto the feed writer's options.
func feedOptions(cfg *config.Config) feed.Options {
	abs := func(ref string) string { return publication.SiteRef(cfg.Site.URL, ref) }
	return feed.Options{
		SiteTitle:       cfg.Site.Title,
		SiteDescription: cfg.Site.Description,
		SiteURL:         cfg.Site.URL,
		Language:        cfg.Site.Language,
		Author:          publication.Author{Name: cfg.Site.Author.Name, Email: cfg.Site.Author.Email, URL: abs(cfg.Site.Author.URL)},
		Logo:            abs(cfg.Site.Logo),
		Icon:            abs(cfg.Site.Icon),
		Rights:          cfg.Site.Rights,
		Generator:       "bulletin " + version,
		Limit:           cfg.Feeds.Limit,
		RSSPath:         cfg.Feeds.RSS,
		AtomPath:        cfg.Feeds.Atom,
		JSONPath:        cfg.Feeds.JSON,
		Tags:            cfg.Feeds.Tags,
		Types:           cfg.Feeds.Types,
		Labels:          publication.NewLabels(cfg.Site.Labels),
		TagPath:         cfg.Feeds.TagPath,
		TypePath:        cfg.Feeds.TypePath,
		OPMLPath:        cfg.Feeds.OPML,
		XSLPath:         cfg.Feeds.XSL,
		TTL:             cfg.Feeds.TTL,
	}
}

// discardSink accepts output files and throws them away (for check).
type discardSink struct{}

func (discardSink) Create(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
