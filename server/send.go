package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ecoresponsable/bulletin/digest"
	"github.com/ecoresponsable/bulletin/publication"
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

// sendMode says what a send started by startSend covers.
type sendMode int

const (
	// sendDue resumes every unfinished digest, then sends a new digest of
	// what is new: a scheduled or admin send.
	sendDue sendMode = iota
	// resumeInterrupted resumes the unfinished digests but those left with
	// only deferred deliveries, and creates none, at start-up: a send
	// interrupted (or stopped by an outage) goes on, while deferred
	// deliveries wait for the next send, which counts an attempt.
	resumeInterrupted
)

// startSend begins the sends due now in the background and returns the id
// of the first digest it works on. It resumes each unfinished digest,
// oldest first, then, once all of them ended without an error (done, or
// with only deferred deliveries left), creates a digest of what is new and
// sends it, in the same run: a digest held up by a few addresses that fail
// temporarily does not hold back the next one. An error while resuming (an
// SMTP outage, the server stopping) ends the run before any new digest is
// created. With nothing unfinished the new digest is created before
// startSend returns. mode resumeInterrupted narrows this (see sendMode).
//
// It returns 0 and no error when there is nothing to send, errBusy when a
// send is running. The sends run under ctx: cancelling it lets the messages
// in flight finish and leaves the rest pending for the next start.
//
// When decided is not nil and startSend returns an id (mode sendDue), it
// receives once, and without blocking (give it room for one value),
// whether the new digest was created or it is known that nothing is new
// (true), or the run ended before that: a resume stopped (an SMTP outage,
// ctx cancelled) or the creation failed (false). The scheduler records its
// slot on that, not when the sends start.
func (s *Server) startSend(ctx context.Context, trigger string, mode sendMode, decided chan<- bool) (int64, error) {
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

	unfinished, err := s.opts.Store.Unfinished(ctx)
	if err != nil {
		return 0, fmt.Errorf("server: %w", err)
	}
	var resume []int64
	for _, d := range unfinished {
		if mode == sendDue || !d.Deliveries.OnlyDeferred() {
			resume = append(resume, d.ID)
		}
	}
	now := s.now()
	var pubs []*publication.Publication
	if mode == sendDue {
		site, err := s.opts.LoadSite(ctx, now)
		if err != nil {
			return 0, fmt.Errorf("server: load content: %w", err)
		}
		pubs = site.Publications
	}
	createNew := mode == sendDue
	if len(resume) == 0 && createNew {
		// Nothing to resume: create the digest now, so that the caller
		// learns its id (or that nothing is new).
		d, err := s.nextDigest(ctx, pubs, now)
		if err != nil {
			return 0, err
		}
		if d == nil {
			s.log.Info("nothing new: no digest", "trigger", trigger)
			return 0, nil
		}
		resume, createNew = []int64{d.ID}, false
		if decided != nil {
			decided <- true
		}
	}
	if len(resume) == 0 {
		return 0, nil
	}
	s.log.Info("sending digests", "digests", resume, "then_new", createNew, "trigger", trigger)
	started = true
	s.sends.mu.Lock()
	s.sends.current = resume[0]
	s.sends.mu.Unlock()
	s.sends.wg.Add(1)
	go func() {
		defer s.sends.wg.Done()
		defer func() {
			s.sends.mu.Lock()
			s.sends.running = false
			s.sends.mu.Unlock()
		}()
		decide := func(ok bool) {
			if createNew && decided != nil {
				decided <- ok
			}
		}
		for _, id := range resume {
			if !s.sendOne(ctx, trigger, id) {
				if createNew {
					s.log.Warn("no new digest: the send of an earlier one stopped", "digest", id)
				}
				decide(false)
				return
			}
		}
		if !createNew {
			return
		}
		d, err := s.nextDigest(ctx, pubs, now)
		switch {
		case err != nil:
			s.log.Error("new digest not created", "err", err, "trigger", trigger)
			decide(false)
		case d == nil:
			s.log.Info("nothing new: no new digest", "trigger", trigger)
			decide(true)
		default:
			decide(true)
			s.log.Info("sending digest", "digest", d.ID, "items", len(d.Items), "trigger", trigger)
			s.sendOne(ctx, trigger, d.ID)
		}
	}()
	return resume[0], nil
}

// nextDigest creates the digest of what is new among pubs (nil when
// nothing is); errBusy when another digest was never sent yet (another
// process created it meanwhile).
func (s *Server) nextDigest(ctx context.Context, pubs []*publication.Publication, now time.Time) (*store.Digest, error) {
	d, err := digest.Next(ctx, s.opts.Store, s.opts.Renderer, pubs, now,
		s.opts.Lang, s.opts.Digest.FirstSince, s.opts.Digest.MaxItems)
	if errors.Is(err, store.ErrUnfinished) {
		return nil, errBusy
	}
	return d, err
}

// sendOne sends digest id and logs the outcome. It reports whether the send
// ended without an error: done, or with only deferred deliveries left.
func (s *Server) sendOne(ctx context.Context, trigger string, id int64) bool {
	s.sends.mu.Lock()
	s.sends.current = id
	s.sends.mu.Unlock()
	sender := &digest.Sender{
		Store: s.opts.Store, Mailer: s.opts.Mailer, Renderer: s.opts.Renderer,
		Concurrency: s.opts.Digest.Concurrency, BounceAfter: s.opts.Digest.BounceAfter,
		Logger: s.log, Holder: "bulletin serve (" + trigger + ")", Now: s.now,
		ProgressInterval: time.Second,
		Progress:         func(p digest.Progress) { s.metrics.sendRate.Set(p.Rate()) },
	}
	res, err := sender.Send(ctx, id)
	s.metrics.sendRate.Set(0)
	switch {
	case res.Interrupted:
		s.log.Info("send interrupted: the rest stays pending for the next start", "digest", id, "sent", res.Sent, "pending", res.Pending)
	case err != nil:
		s.log.Error("send failed", "digest", id, "err", err, "sent", res.Sent, "pending", res.Pending)
	case !res.Finished:
		s.log.Warn("digest not finished: deliveries deferred after temporary failures; the next send tries them again",
			"digest", id, "sent", res.Sent, "failed", res.Failed, "skipped", res.Skipped,
			"deferred", res.Deferred, "pending", res.Pending, "duration", res.Elapsed.Round(time.Millisecond))
	default:
		s.log.Info("digest sent", "digest", id, "sent", res.Sent, "failed", res.Failed, "skipped", res.Skipped,
			"duration", res.Elapsed.Round(time.Millisecond))
	}
	return err == nil
}

// sendRunning reports whether this process is sending, and which digest.
func (s *Server) sendRunning() (bool, int64) {
	s.sends.mu.Lock()
	defer s.sends.mu.Unlock()
	return s.sends.running, s.sends.current
}
