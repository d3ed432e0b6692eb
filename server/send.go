package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ecoresponsable/bulletin/digest"
	"github.com/ecoresponsable/bulletin/store"
)

// errBusy means a send is already running, here or in another process.
var errBusy = errors.New("a digest is being sent")

// sends runs the server's digest sends, one at a time, in the background,
// so that the scheduler and the admin API share one rule: never two sends
// at once (the store's lock covers other processes, such as the CLI).
type sends struct {
	mu      sync.Mutex
	running bool
	current int64
	wg      sync.WaitGroup
}

// startSend begins the digest due now in the background and returns its
// id: the unfinished one if a send was interrupted, else a new one of what
// is new. It returns 0 and no error when nothing is new, errBusy when a send
// is running. The send runs under ctx: cancelling it lets the messages in
// flight finish and leaves the rest pending for the next start.
func (s *Server) startSend(ctx context.Context, trigger string) (int64, error) {
	if s.opts.Store == nil || s.opts.Renderer == nil || s.opts.Mailer == nil {
		return 0, errors.New("server: sending is not configured")
	}
	s.sends.mu.Lock()
	if s.sends.running {
		s.sends.mu.Unlock()
		return 0, errBusy
	}
	s.sends.running = true
	s.sends.mu.Unlock()
	started := false
	defer func() {
		if !started {
			s.sends.mu.Lock()
			s.sends.running = false
			s.sends.mu.Unlock()
		}
	}()

	// Another process (bulletin digest send) may hold the lock: say so now
	// rather than after creating a digest.
	release, err := s.opts.Store.AcquireSendLock(ctx, "bulletin serve ("+trigger+")")
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return 0, errBusy
		}
		return 0, err
	}
	release()

	now := s.now()
	site, err := s.opts.LoadSite(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("server: load content: %w", err)
	}
	d, resumed, err := digest.Next(ctx, s.opts.Store, s.opts.Renderer, site.Publications, now,
		s.opts.Lang, s.opts.Digest.FirstSince, s.opts.Digest.MaxItems)
	if err != nil {
		if errors.Is(err, store.ErrUnfinished) {
			return 0, errBusy
		}
		return 0, err
	}
	if d == nil {
		s.log.Info("nothing new: no digest", "trigger", trigger)
		return 0, nil
	}
	s.log.Info("sending digest", "digest", d.ID, "items", len(d.Items), "resumed", resumed, "trigger", trigger)
	started = true
	s.sends.mu.Lock()
	s.sends.current = d.ID
	s.sends.mu.Unlock()
	s.sends.wg.Add(1)
	go func() {
		defer s.sends.wg.Done()
		defer func() {
			s.sends.mu.Lock()
			s.sends.running = false
			s.sends.mu.Unlock()
		}()
		sender := &digest.Sender{
			Store: s.opts.Store, Mailer: s.opts.Mailer, Renderer: s.opts.Renderer,
			Concurrency: s.opts.Digest.Concurrency, BounceAfter: s.opts.Digest.BounceAfter,
			Logger: s.log, Holder: "bulletin serve (" + trigger + ")", Now: s.now,
			ProgressInterval: time.Second,
			Progress:         func(p digest.Progress) { s.metrics.sendRate.Set(p.Rate()) },
		}
		res, err := sender.Send(ctx, d.ID)
		s.metrics.sendRate.Set(0)
		switch {
		case res.Interrupted:
			s.log.Info("send interrupted: the rest stays pending for the next start", "digest", d.ID, "sent", res.Sent, "pending", res.Pending)
		case err != nil:
			s.log.Error("send failed", "digest", d.ID, "err", err, "sent", res.Sent, "pending", res.Pending)
		case !res.Finished:
			s.log.Warn("digest not finished: deliveries deferred after temporary failures; the next send tries them again",
				"digest", d.ID, "sent", res.Sent, "failed", res.Failed, "skipped", res.Skipped,
				"deferred", res.Deferred, "pending", res.Pending, "duration", res.Elapsed.Round(time.Millisecond))
		default:
			s.log.Info("digest sent", "digest", d.ID, "sent", res.Sent, "failed", res.Failed, "skipped", res.Skipped,
				"duration", res.Elapsed.Round(time.Millisecond))
		}
	}()
	return d.ID, nil
}

// sendRunning reports whether this process is sending, and which digest.
func (s *Server) sendRunning() (bool, int64) {
	s.sends.mu.Lock()
	defer s.sends.mu.Unlock()
	return s.sends.running, s.sends.current
}
