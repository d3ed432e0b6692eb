package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/ecoresponsable/bulletin/config"
	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/server"
	"github.com/ecoresponsable/bulletin/templates"
)

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet(env, "serve", "", "")
	var sf siteFlags
	fs.StringVar(&sf.config, "config", "", env.t("fichier de configuration (défaut : bulletin.yaml s'il existe)", "configuration file (default: bulletin.yaml if present)"))
	fs.StringVar(&sf.content, "content", "", env.t("dossier des publications (défaut : content.dir)", "publications folder (default: content.dir)"))
	addr := fs.String("addr", "", env.t("adresse d'écoute (défaut : server.addr, 127.0.0.1:8080)", "listen address (default: server.addr, 127.0.0.1:8080)"))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	sess, err := openDigest(ctx, env, &sf)
	if err != nil {
		return err
	}
	defer sess.Close()
	cfg := sess.cfg
	if *addr != "" {
		cfg.Server.Addr = *addr
	}
	if _, _, err := net.SplitHostPort(cfg.Server.Addr); err != nil {
		return fmt.Errorf("server.addr %q: %w", cfg.Server.Addr, err)
	}
	logger := newLogger(env)
	m, outbox, err := newMailer(cfg, logger)
	if err != nil {
		return err
	}
	defer m.Close()
	if outbox != "" {
		logger.Warn("no smtp.host: emails are written to the outbox folder", "outbox", outbox)
	}
	tpl, err := templates.Load(cfg.Resolve(cfg.Digest.Templates))
	if err != nil {
		return err
	}
	dir, _, err := siteOptions(cfg, time.Now())
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, server.Options{
		Addr:       cfg.Server.Addr,
		ContentDir: dir,
		LoadSite: func(ctx context.Context, now time.Time) (*publication.Site, error) {
			dir, opts, err := siteOptions(cfg, now)
			if err != nil {
				return nil, err
			}
			opts.RenderBodies = cfg.Feeds.Limit == 0 // every body is in a feed
			site, err := publication.Load(ctx, dir, opts)
			if err != nil {
				return nil, err
			}
			for _, name := range unusedLabels(cfg.Site.Labels, site) {
				logger.Warn("site.labels: no publication has this tag or type", "label", name)
			}
			return site, nil
		},
		Feeds:           feedOptions(cfg),
		RebuildInterval: rebuildInterval(cfg),
		Logger:          logger,
		PublicURL:       cfg.Server.PublicURL,
		SiteTitle:       cfg.Site.Title,
		Lang:            cfg.Site.Language,
		Location:        sess.loc,
		Store:           sess.st,
		Templates:       tpl,
		Signer:          sess.signer,
		Mailer:          m,
		Renderer:        sess.renderer,
		SubscribeRate:   cfg.Server.SubscribeRate,
		TrustProxy:      cfg.Server.TrustProxy,
		AdminToken:      cfg.Server.AdminToken,
		Schedule:        cfg.Digest.Schedule,
		CatchUp:         cfg.Digest.CatchUp.D(),
		Digest: server.DigestOptions{
			FirstSince:  cfg.Digest.FirstSince.D(),
			MaxItems:    cfg.Digest.MaxItems,
			Concurrency: cfg.SMTP.Concurrency,
			BounceAfter: cfg.SMTP.BounceAfter,
		},
	})
	if err != nil {
		return err
	}
	if cfg.Server.AdminToken == "" {
		logger.Info("admin API off (set BULLETIN_ADMIN_TOKEN to enable /admin/)")
	}
	return srv.Run(ctx)
}

// rebuildInterval is server.rebuild_interval for the server, where 0 means
// its default: in the configuration, 0 reads the content once, at start.
func rebuildInterval(cfg *config.Config) time.Duration {
	if d := cfg.Server.RebuildInterval.D(); d > 0 {
		return d
	}
	return -1
}
