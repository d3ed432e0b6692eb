package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/store"
)

// Defaults of the Sender's optional fields.
const (
	DefaultConcurrency      = 4
	DefaultDrainTimeout     = time.Minute
	DefaultBatchSize        = 500
	DefaultProgressInterval = 250 * time.Millisecond
)

// Sender sends one digest to its pending recipients, recording each
// delivery in the ledger as soon as its outcome is known.
//
// The ledger row is the only checkpoint: a delivery leaves "pending" when
// the SMTP server accepted the message (or refused it for good), never when
// it was read from the database. So a send stopped at any moment, even by
// SIGKILL, resumes by calling Send again on the same digest: it sends to
// the rows still pending, and at most the Concurrency messages that were in
// flight are sent twice, with the same Message-ID.
type Sender struct {
	Store    store.Store
	Mailer   mailer.Sender
	Renderer *Renderer
	// Concurrency is the number of messages in flight (default 4); use the
	// mailer's number of connections.
	Concurrency int
	// BounceAfter is the number of consecutive permanent failures after
	// which a subscriber is marked bounced; 0 never bounces.
	BounceAfter int
	Logger      *slog.Logger // default slog.Default()
	// Progress, when set, is called from a single goroutine every
	// ProgressInterval while sending, and once at the end.
	Progress func(Progress)

	// Holder names this sender in the send lock, for the message another
	// sender gets (default "digest send").
	Holder string
	// DrainTimeout bounds how long the messages in flight may take to
	// finish once ctx is cancelled (default one minute).
	DrainTimeout time.Duration
	// BatchSize is how many pending deliveries are read at a time
	// (default 500); the recipients are never all in memory.
	BatchSize int
	// ProgressInterval is the period of Progress calls (default 250 ms).
	ProgressInterval time.Duration
	// Now is the clock of the ledger (default time.Now).
	Now func() time.Time
}

// Progress is a snapshot of a send. Counts cover the whole digest,
// earlier runs included; Processed and ToProcess cover this run.
type Progress struct {
	DigestID  int64
	Total     int // deliveries of the digest
	Sent      int
	Failed    int
	Skipped   int
	Pending   int           // not recorded yet
	Processed int           // deliveries recorded by this run
	ToProcess int           // deliveries pending when this run started
	Elapsed   time.Duration // since this run started
	Done      bool          // the last call of the run
}

// Rate is the number of deliveries this run records per second.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Processed) / p.Elapsed.Seconds()
}

// Result is what one call of Send did.
type Result struct {
	DigestID int64
	// Sent, Failed, Skipped and Bounced count this run's deliveries.
	Sent, Failed, Skipped, Bounced int
	// Pending is the number of deliveries left for a later run.
	Pending int
	// Finished is true when the digest is done: no delivery is pending.
	Finished bool
	// Interrupted is true when ctx was cancelled before the end.
	Interrupted bool
	Elapsed     time.Duration
}

// maxPasses bounds the passes over the ledger of one run. One suffices: a
// second only runs if rows were still pending after a complete pass.
const maxPasses = 3

// Send sends digest digestID to every pending recipient and marks the digest
// done when none is left. It takes the send lock first: while another
// sender holds it, Send fails at once with an error that is store.ErrLocked
// and names the holder.
//
// Each worker renders a recipient's message, sends it and records the
// outcome: sent (with its Message-ID), skipped (no item matches the
// subscriber's topics, or they are no longer active) or failed (refused
// for good, or a temporary failure that outlasted the mailer's retries;
// permanent failures count towards bouncing). A fatal mailer error (TLS,
// authentication, the sender refused) or a rendering or database error
// stops the run: the error is returned and the deliveries not done stay
// pending.
//
// When ctx is cancelled, no new delivery starts, the messages in flight
// finish (within DrainTimeout) and are recorded, and Send returns an error
// wrapping ctx.Err() with Result.Interrupted set: the digest stays
// unfinished, and a later Send resumes it.
func (s *Sender) Send(ctx context.Context, digestID int64) (Result, error) {
	start := time.Now()
	res := Result{DigestID: digestID}
	if s.Store == nil || s.Mailer == nil || s.Renderer == nil {
		return res, errors.New("digest: send: Sender needs a Store, a Mailer and a Renderer")
	}
	release, err := s.Store.AcquireSendLock(ctx, s.holder())
	if err != nil {
		return res, fmt.Errorf("digest: send digest %d: %w", digestID, err)
	}
	defer release()

	d, err := s.Store.GetDigest(ctx, digestID)
	if err != nil {
		return res, fmt.Errorf("digest: send: %w", err)
	}
	if d.Status == store.DigestDone {
		res.Finished = true
		return res, nil
	}

	r := &run{
		s:       s,
		digest:  d,
		log:     s.logger().With("digest", d.ID),
		halt:    make(chan struct{}),
		start:   start,
		initial: d.Deliveries,
		keep:    context.WithoutCancel(ctx),
	}
	// work carries the sends: it outlives ctx by DrainTimeout so that the
	// messages in flight when ctx is cancelled can finish.
	work, cancelWork := context.WithCancel(r.keep)
	defer cancelWork()
	go func() {
		select {
		case <-ctx.Done():
			r.stop(nil)
			t := time.NewTimer(s.drainTimeout())
			defer t.Stop()
			select {
			case <-t.C:
				r.log.Warn("digest: messages in flight did not finish in time; they stay pending",
					"drain_timeout", s.drainTimeout())
				cancelWork()
			case <-work.Done():
			}
		case <-work.Done():
		}
	}()

	progressDone := make(chan struct{})
	progressStopped := make(chan struct{})
	go r.reportProgress(progressDone, progressStopped)

	r.log.Info("digest: sending", "pending", d.Deliveries.Pending, "items", len(d.Items),
		"concurrency", s.concurrency())
	for pass := 1; pass <= maxPasses && !r.halted(); pass++ {
		before := r.processed()
		r.pass(work)
		if r.halted() {
			break
		}
		counts, err := s.deliveryCounts(r.keep, d.ID)
		if err != nil {
			r.stop(err)
			break
		}
		if counts.Pending == 0 {
			if err := s.Store.Finish(r.keep, d.ID, s.now()); err != nil {
				r.stop(fmt.Errorf("digest: finish digest %d: %w", d.ID, err))
				break
			}
			res.Finished = true
			break
		}
		if r.processed() == before {
			r.log.Warn("digest: deliveries still pending after a full pass", "pending", counts.Pending)
			break
		}
	}
	close(progressDone)
	<-progressStopped

	res.Sent = int(r.sent.Load())
	res.Failed = int(r.failed.Load())
	res.Skipped = int(r.skipped.Load())
	res.Bounced = int(r.bounced.Load())
	res.Elapsed = time.Since(start)
	if counts, err := s.deliveryCounts(r.keep, d.ID); err == nil {
		res.Pending = counts.Pending
	} else {
		res.Pending = d.Deliveries.Pending - int(r.processed())
	}
	r.log.Info("digest: send over", "sent", res.Sent, "failed", res.Failed, "skipped", res.Skipped,
		"bounced", res.Bounced, "pending", res.Pending, "finished", res.Finished,
		"elapsed", res.Elapsed.Round(time.Millisecond).String())
	if err := r.err(); err != nil {
		return res, fmt.Errorf("digest: send digest %d stopped, %d deliveries left pending: %w", d.ID, res.Pending, err)
	}
	if !res.Finished && ctx.Err() != nil {
		res.Interrupted = true
		return res, fmt.Errorf("digest: send digest %d interrupted, %d deliveries left pending: %w", d.ID, res.Pending, ctx.Err())
	}
	return res, nil
}

// run is the state of one Send call.
type run struct {
	s       *Sender
	digest  store.Digest
	log     *slog.Logger
	start   time.Time
	initial store.DeliveryCounts
	// keep is the caller's context without its cancellation: recording an
	// outcome must not be cut short by Ctrl-C, or the message would be sent
	// again.
	keep context.Context

	halt     chan struct{} // closed when no new delivery may start
	haltOnce sync.Once
	haltErr  error // why, when it is an error; read after halt is closed

	sent, failed, skipped, bounced atomic.Int64
}

// stop halts the run; err is the reason when it is an error (nil for an
// interruption). Only the first call counts.
func (r *run) stop(err error) {
	r.haltOnce.Do(func() {
		r.haltErr = err
		close(r.halt)
	})
}

func (r *run) halted() bool {
	select {
	case <-r.halt:
		return true
	default:
		return false
	}
}

// err is the error that stopped the run, if any.
func (r *run) err() error {
	if !r.halted() {
		return nil
	}
	return r.haltErr
}

func (r *run) processed() int64 {
	return r.sent.Load() + r.failed.Load() + r.skipped.Load()
}

// pass streams the pending deliveries by keyset pagination to the workers
// and waits for them. Rows recorded meanwhile drop out of later batches;
// rows left pending by a halt stay for the next run.
func (r *run) pass(work context.Context) {
	batch := r.s.batchSize()
	// One batch of buffer lets the next one be read while the workers
	// drain this one; a halted worker leaves what it did not take pending.
	jobs := make(chan store.Recipient, batch)
	var wg sync.WaitGroup
	for range r.s.concurrency() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rc := range jobs {
				if r.halted() {
					continue
				}
				r.deliver(work, rc)
			}
		}()
	}

	after := int64(0)
produce:
	for !r.halted() {
		rows, err := r.s.Store.PendingDeliveries(r.keep, r.digest.ID, after, batch)
		if err != nil {
			r.stop(fmt.Errorf("read pending deliveries: %w", err))
			break
		}
		if len(rows) == 0 {
			break
		}
		for _, rc := range rows {
			select {
			case <-r.halt:
				break produce
			case jobs <- rc:
			}
		}
		after = rows[len(rows)-1].ID
	}
	close(jobs)
	wg.Wait()
}

// deliver renders, sends and records one delivery. The worker records the
// outcome before it takes another delivery: that bounds the messages
// accepted but not recorded by the number of workers.
func (r *run) deliver(work context.Context, rc store.Recipient) {
	sub := rc.Subscriber
	if sub.Status != store.StatusActive {
		r.record(rc, "skip", r.s.Store.MarkSkipped(r.keep, r.digest.ID, sub.ID, "subscriber "+string(sub.Status), r.s.now()), &r.skipped)
		return
	}
	m, ok, err := r.s.Renderer.Message(r.digest, sub)
	if err != nil {
		r.stop(fmt.Errorf("render the digest for subscriber %d: %w", sub.ID, err))
		return
	}
	if !ok {
		r.record(rc, "skip", r.s.Store.MarkSkipped(r.keep, r.digest.ID, sub.ID, "no item matches the subscriber's topics", r.s.now()), &r.skipped)
		return
	}

	err = r.s.Mailer.Send(work, m)
	switch {
	case err == nil:
		r.record(rc, "sent", r.s.Store.MarkSent(r.keep, r.digest.ID, sub.ID, m.MessageID, r.s.now()), &r.sent)
	case mailer.IsPermanent(err) || mailer.IsTemporary(err):
		permanent := mailer.IsPermanent(err)
		bounced, merr := r.s.Store.MarkFailed(r.keep, r.digest.ID, sub.ID, err.Error(), permanent, r.s.BounceAfter, r.s.now())
		r.log.Warn("digest: delivery failed", "subscriber", sub.ID, "email", sub.Email,
			"permanent", permanent, "bounced", bounced, "error", err)
		if bounced {
			r.bounced.Add(1)
		}
		r.record(rc, "fail", merr, &r.failed)
	case work.Err() != nil:
		// The drain timeout ran out: the message may or may not have gone;
		// the row stays pending and the next run sends it (same Message-ID).
	default:
		// Fatal (TLS, authentication, sender refused), the mailer closed, or
		// an error no message can get past: stop before failing everyone.
		r.stop(err)
	}
}

// record accounts for a Mark call. A row that is not pending any more (the
// subscriber left or was removed during the send, which skips or deletes
// their row) is not an error; a database failure stops the run.
func (r *run) record(rc store.Recipient, what string, err error, counter *atomic.Int64) {
	switch {
	case err == nil:
		counter.Add(1)
	case errors.Is(err, store.ErrNotPending) || errors.Is(err, store.ErrNotFound):
		r.log.Warn("digest: delivery changed during the send", "subscriber", rc.ID, "outcome", what, "error", err)
	default:
		r.stop(fmt.Errorf("record delivery to subscriber %d: %w", rc.ID, err))
	}
}

// reportProgress calls the Progress callback periodically until done is
// closed, then once more, and closes stopped.
func (r *run) reportProgress(done <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	if r.s.Progress == nil {
		<-done
		return
	}
	t := time.NewTicker(r.s.progressInterval())
	defer t.Stop()
	for {
		select {
		case <-t.C:
			r.s.Progress(r.snapshot(false))
		case <-done:
			r.s.Progress(r.snapshot(true))
			return
		}
	}
}

func (r *run) snapshot(done bool) Progress {
	sent, failed, skipped := int(r.sent.Load()), int(r.failed.Load()), int(r.skipped.Load())
	processed := sent + failed + skipped
	return Progress{
		DigestID:  r.digest.ID,
		Total:     r.initial.Total(),
		Sent:      r.initial.Sent + sent,
		Failed:    r.initial.Failed + failed,
		Skipped:   r.initial.Skipped + skipped,
		Pending:   max(0, r.initial.Pending-processed),
		Processed: processed,
		ToProcess: r.initial.Pending,
		Elapsed:   time.Since(r.start),
		Done:      done,
	}
}

func (s *Sender) deliveryCounts(ctx context.Context, id int64) (store.DeliveryCounts, error) {
	d, err := s.Store.GetDigest(ctx, id)
	if err != nil {
		return store.DeliveryCounts{}, err
	}
	return d.Deliveries, nil
}

func (s *Sender) holder() string {
	if s.Holder != "" {
		return s.Holder
	}
	return "digest send"
}

func (s *Sender) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Sender) concurrency() int {
	if s.Concurrency > 0 {
		return s.Concurrency
	}
	return DefaultConcurrency
}

func (s *Sender) drainTimeout() time.Duration {
	if s.DrainTimeout > 0 {
		return s.DrainTimeout
	}
	return DefaultDrainTimeout
}

func (s *Sender) batchSize() int {
	if s.BatchSize > 0 {
		return s.BatchSize
	}
	return DefaultBatchSize
}

func (s *Sender) progressInterval() time.Duration {
	if s.ProgressInterval > 0 {
		return s.ProgressInterval
	}
	return DefaultProgressInterval
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
