// Package server is bulletin's long-running HTTP process: it serves the
// feeds with conditional GET, the subscription pages, the digest archive,
// the admin API, health and metrics, and runs the digest schedule.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecoresponsable/bulletin/digest"
	"github.com/ecoresponsable/bulletin/feed"
	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
	"github.com/ecoresponsable/bulletin/token"
)

// Options configure a Server. Zero values get the defaults noted.
type Options struct {
	// Addr is the listen address (default 127.0.0.1:8080).
	Addr string
	// ContentDir is watched (by periodic scan) to rebuild the feeds.
	ContentDir string
	// LoadSite loads the content as it is at now.
	LoadSite func(ctx context.Context, now time.Time) (*publication.Site, error)
	// Feeds are the feed writer's options (paths, titles, limit).
	Feeds feed.Options
	// RebuildInterval is how often the content folder is scanned for
	// changes (default 30 s; negative: never).
	RebuildInterval time.Duration
	// CacheMaxAge is the Cache-Control max-age of feeds (default 5 min).
	CacheMaxAge time.Duration
	// Logger receives the request and operation logs.
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time

	// PublicURL is the public base URL of this server (links in emails and
	// pages), with a trailing slash.
	PublicURL string
	// SiteTitle and Lang ("fr" or "en") name the site and its default
	// language on pages.
	SiteTitle string
	Lang      string
	// Location is the site's time zone (dates on pages, the schedule).
	Location *time.Location

	// Store, Templates, Signer, Mailer and Renderer are what the
	// subscription pages, the archive, the admin API and the schedule use;
	// with Store nil, only feeds, health and metrics are served.
	Store     store.Store
	Templates *templates.Set
	Signer    *token.Signer
	Mailer    mailer.Sender
	Renderer  *digest.Renderer

	// SubscribeRate is how many subscriptions one client address may make
	// per hour (default 10).
	SubscribeRate int
	// TrustProxy takes the client address from X-Forwarded-For.
	TrustProxy bool
	// AdminToken enables the /admin/ API; empty, those routes do not exist.
	AdminToken string

	// Schedule is the digest's cron expression in Location ("" = no
	// scheduled sends); CatchUp is how late a missed run may still run.
	Schedule string
	CatchUp  time.Duration
	// Digest configures selection and sending for scheduled and admin sends.
	Digest DigestOptions
}

// DigestOptions are the digest settings the server's sends use.
type DigestOptions struct {
	FirstSince  time.Duration
	MaxItems    int
	Concurrency int
	BounceAfter int
}

// Server is the HTTP process. Build it with New, run it with Run, or use
// Handler in tests.
type Server struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	assets  atomic.Pointer[assetSet]
	fprint  atomic.Value // string: the content fingerprint of the last build
	nextDue atomic.Int64 // unix time of the soonest upcoming publication, 0 if none
	metrics *metrics
	handler http.Handler
	// pages renders every page: the feeds' for browsers, and with a store
	// the subscription pages and the archive.
	pages *pages

	rebuildMu sync.Mutex
	sends     sends
	// sendCtx is the context background sends run under: Serve's, so that
	// shutting down stops them cleanly (Background before Serve).
	sendCtx atomic.Pointer[context.Context]
	// after is the scheduler's timer (time.After; tests inject their own).
	after func(time.Duration) <-chan time.Time

	// tags are the site's tags at the last build: the topics one may
	// subscribe to (set by Rebuild, read by the subscription pages).
	tags atomic.Pointer[[]string]
}

// New prepares a server and builds the feeds once, so that it answers as
// soon as it listens.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.RebuildInterval == 0 {
		opts.RebuildInterval = 30 * time.Second
	}
	if opts.CacheMaxAge == 0 {
		opts.CacheMaxAge = 5 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LoadSite == nil {
		return nil, errors.New("server: LoadSite is required")
	}
	s := &Server{opts: opts, log: opts.Logger, now: opts.Now, metrics: newMetrics(opts.Store), after: time.After}
	s.fprint.Store("")
	p, err := newPages(s)
	if err != nil {
		return nil, err
	}
	s.pages = p
	if err := s.Rebuild(ctx); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the server's HTTP handler (every route and middleware).
func (s *Server) Handler() http.Handler { return s.handler }

// Rebuild loads the content and regenerates every feed in memory, then
// swaps them in at once. Files whose bytes did not change keep their
// Last-Modified date.
func (s *Server) Rebuild(ctx context.Context) error {
	fp, err := publication.Fingerprint(s.opts.ContentDir)
	if err != nil {
		return fmt.Errorf("server: scan %s: %w", s.opts.ContentDir, err)
	}
	return s.rebuild(ctx, fp)
}

// rebuild is Rebuild for content whose fingerprint fp is already known.
func (s *Server) rebuild(ctx context.Context, fp string) error {
	s.rebuildMu.Lock()
	defer s.rebuildMu.Unlock()
	start := time.Now()
	now := s.now()
	site, err := s.opts.LoadSite(ctx, now)
	if err != nil {
		return fmt.Errorf("server: load content: %w", err)
	}
	for _, d := range site.Diagnostics {
		s.log.Warn("content problem", "problem", d.String())
	}
	set := feed.Plan(site.Publications, s.opts.Feeds)
	for _, m := range set.Merged() {
		s.log.Warn("names that differ by more than case and accents share one feed: rename one to keep them apart",
			"kind", m.Kind, "names", m.Names, "feed", m.Dir+"/")
	}
	if err := publication.Render(ctx, set.Publications()); err != nil {
		return err
	}
	assets, err := buildAssets(ctx, set, s.assets.Load(), now, s.pages.feedPage)
	if err != nil {
		return err
	}
	s.assets.Store(assets)
	tags := siteTags(site.Publications)
	s.tags.Store(&tags)
	s.fprint.Store(fp)
	s.nextDue.Store(0)
	if len(site.Upcoming) > 0 {
		s.nextDue.Store(site.Upcoming[0].Date.Unix())
	}
	s.log.Info("feeds built", "files", len(assets.byPath), "publications", len(site.Publications),
		"errors", site.Errors(), "duration", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// rebuildIfChanged rebuilds when the content folder's fingerprint changed
// or when a publication dated in the future became due.
func (s *Server) rebuildIfChanged(ctx context.Context, due bool) {
	fp, err := publication.Fingerprint(s.opts.ContentDir)
	if err != nil {
		s.log.Error("scan content", "err", err)
		return
	}
	if fp == s.fprint.Load().(string) && !due {
		return
	}
	if err := s.rebuild(ctx, fp); err != nil {
		s.log.Error("rebuild feeds", "err", err)
	}
}

func (s *Server) sendContext() context.Context {
	if c := s.sendCtx.Load(); c != nil {
		return *c
	}
	return context.Background()
}

// WaitSends waits for the digest send running in the background, if any.
func (s *Server) WaitSends() { s.sends.wg.Wait() }

// startBackgroundSends resumes a send left interrupted by an earlier run
// (unless the schedule catches up a missed slot, which does that too) and
// starts the schedule; sends run under ctx, so that shutting down lets the
// messages in flight finish and leaves the rest pending.
func (s *Server) startBackgroundSends(ctx context.Context, wg *sync.WaitGroup) error {
	resume := func(ctx context.Context) {
		if _, err := s.startSend(ctx, "resume", resumeInterrupted, nil); err != nil {
			s.log.Error("resume the interrupted digest", "err", err)
		}
	}
	if s.opts.Schedule == "" {
		resume(ctx)
		return nil
	}
	sc, err := parseSchedule(s.opts.Schedule, s.opts.Location, s.opts.CatchUp)
	if err != nil {
		return err
	}
	sched := &scheduler{sc: sc, st: s.opts.Store, now: s.now, after: s.after, log: s.log, start: resume,
		run: func(ctx context.Context, slot time.Time) bool {
			decided := make(chan bool, 1)
			id, err := s.startSend(ctx, "schedule", sendDue, decided)
			switch {
			case errors.Is(err, errBusy):
				s.log.Warn("scheduled digest not started yet: a send is already running; trying again later", "slot", slot)
				return false
			case err != nil:
				s.log.Error("scheduled digest not started; trying again later", "slot", slot, "err", err)
				return false
			case id == 0:
				s.log.Info("scheduled digest: nothing new", "slot", slot)
				return true
			}
			// The earlier digests are resumed first: the slot is done only
			// once its new digest exists (or nothing is new), so that an
			// outage during the resumes, or a crash, leaves it due.
			select {
			case ok := <-decided:
				if !ok {
					s.log.Warn("scheduled digest not created: the send stopped before it; trying again later", "slot", slot)
				}
				return ok
			case <-ctx.Done():
				return false
			}
		}}
	wg.Add(1)
	go func() {
		defer wg.Done()
		sched.loop(ctx)
	}()
	return nil
}

// Run listens on Options.Addr and serves until ctx is cancelled, then shuts
// down gracefully: it stops accepting, lets in-flight requests finish, and
// returns.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	var wg sync.WaitGroup
	bg, stopBg := context.WithCancel(ctx)
	defer stopBg()
	s.sendCtx.Store(&bg)
	if s.opts.RebuildInterval > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(s.opts.RebuildInterval)
			defer t.Stop()
			for {
				select {
				case <-bg.Done():
					return
				case <-t.C:
					due := s.nextDue.Load()
					s.rebuildIfChanged(bg, due != 0 && s.now().Unix() >= due)
				}
			}
		}()
	}
	if s.opts.Store != nil && s.opts.Mailer != nil && s.opts.Renderer != nil {
		if err := s.startBackgroundSends(bg, &wg); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		stopBg()
		wg.Wait()
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests and messages in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	stopBg()
	wg.Wait()
	s.sends.wg.Wait()
	if err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}
