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
	DefaultMaxAttempts      = 5
)

// ErrSMTPUnavailable is the error (wrapped) that stops a run when the SMTP
// server keeps failing temporarily with nothing accepted in between (see
// Sender.OutageAfter): the deliveries not done stay pending for the next
// send.
var ErrSMTPUnavailable = errors.New("digest: the SMTP server is unreachable or keeps refusing messages")

// ErrLockLost stops a send whose lock another sender took over, after this
// process stalled for longer than the lock's TTL.
var ErrLockLost = errors.New("digest: another sender took the send lock over (this process stalled); it goes on with the deliveries")

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
	// MaxAttempts is the number of runs in which a delivery may fail
	// temporarily, each time after the mailer's own retries, before it is
	// failed for this digest (default 5). Until then it stays pending and
	// the next Send tries it again: five runs get past greylisting or a
	// full mailbox, yet a stuck address cannot keep the digest unfinished
	// for ever. A digest left with only such deliveries does not hold back
	// the next one (see store.CreateDigest).
	MaxAttempts int
	// OutageAfter is the number of temporary failures in a row, with no
	// message accepted or refused for good in between, after which the
	// SMTP server is taken as down and the run stops with
	// ErrSMTPUnavailable (default 2×Concurrency). The first Concurrency
	// failures may be a single blip hitting every message in flight; a
	// second round, each after its own retries, means the outage outlasted
	// the mailer's retry schedule twice. Only deliveries that never failed
	// before count, so that a few addresses stuck on their own cannot stop
	// every run.
	OutageAfter int
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
	// Deferred counts the deliveries this run left pending after a
	// temporary failure, for a later run to try again.
	Deferred int
	// Pending is the number of deliveries left for a later run.
	Pending int
	// Finished is true when the digest is done: no delivery is pending.
	Finished bool
	// Interrupted is true when ctx was cancelled before the end.
	Interrupted bool
	Elapsed     time.Duration
}

// maxPasses bounds the passes over the ledger of one run. One suffices: a
// second only runs if rows other than the deferred ones were still pending
// after a complete pass, and it leaves the deferred ones alone.
const maxPasses = 3

// Send sends digest digestID to every pending recipient and marks the digest
// done when none is left. It takes the send lock first: while another
// sender holds it, Send fails at once with an error that is store.ErrLocked
// and names the holder.
//
// Each worker re-reads a delivery just before sending it (so that nobody
// who unsubscribed or was removed since the batch was read is mailed),
// renders the recipient's message, sends it and records the outcome: sent
// (with its Message-ID), skipped (no item matches the subscriber's topics,
// or they are no longer active), failed (refused for good, which counts
// towards bouncing) or deferred.
//
// A temporary failure that outlasted the mailer's retries defers the
// delivery: it stays pending with one more attempt recorded, this run does
// not try it again, and the digest stays unfinished (Result.Finished false
// and Result.Deferred set, without an error) so that the next Send retries
// it; at MaxAttempts it is failed instead, without counting towards
// bouncing. Such a digest does not hold back the next one: once Send
// returned no error, the caller may create a new digest. When OutageAfter
// temporary failures come in a row, or a run ends with temporary failures,
// nothing accepted and the server not answering a new session either
// (mailer.Sender.Probe), the SMTP server is taken as down: the run stops
// with an error wrapping ErrSMTPUnavailable, and every delivery not done
// stays pending, the failed ones without an attempt counted against them.
//
// Before any delivery, the message is built once for a recipient with no
// name: when a field every message shares cannot be (mailer.IsInvalid: an
// invalid From or Reply-To), Send returns that error and touches nothing.
// A message that cannot be built for one recipient only (a name too long
// for the To header) fails that delivery, which does not count towards
// bouncing, and the run goes on.
//
// A fatal mailer error (TLS, authentication, the sender refused), or a
// rendering or database error stops the run: the error is returned and
// the deliveries not done stay pending, no attempt counted and nobody's
// failures counted towards bouncing.
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
	lock, err := s.Store.HoldSendLock(ctx, s.holder())
	if err != nil {
		return res, fmt.Errorf("digest: send digest %d: %w", digestID, err)
	}
	defer lock.Release()

	d, err := s.Store.GetDigest(ctx, digestID)
	if err != nil {
		return res, fmt.Errorf("digest: send: %w", err)
	}
	if d.Status == store.DigestDone {
		res.Finished = true
		return res, nil
	}
	if err := s.checkMessage(d); err != nil {
		res.Pending = d.Deliveries.Pending
		return res, fmt.Errorf("digest: send digest %d stopped before any delivery, %d left pending: %w", d.ID, res.Pending, err)
	}

	r := &run{
		s:       s,
		digest:  d,
		log:     s.logger().With("digest", d.ID),
		halt:    make(chan struct{}),
		start:   start,
		initial: d.Deliveries,
		keep:    context.WithoutCancel(ctx),
		temp:    tempFailures{tried: make(map[int64]bool)},
	}
	// work carries the sends: it outlives ctx by DrainTimeout so that the
	// messages in flight when ctx is cancelled can finish.
	work, cancelWork := context.WithCancel(r.keep)
	defer cancelWork()
	// Another sender took the lock over (this process stalled past its
	// TTL): it works on the same deliveries, so no new one starts here.
	go func() {
		select {
		case <-lock.Lost():
			r.stop(ErrLockLost)
		case <-work.Done():
		}
	}()
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
		if counts.Pending <= int(r.deferred.Load()) {
			r.log.Warn("digest: deliveries deferred after temporary failures; the next send tries them again",
				"pending", counts.Pending)
			break
		}
		// Deferring is not progress: the next pass skips deferred rows.
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
	res.Deferred = int(r.deferred.Load())
	res.Elapsed = time.Since(start)
	if counts, err := s.deliveryCounts(r.keep, d.ID); err == nil {
		res.Pending = counts.Pending
	} else {
		res.Pending = d.Deliveries.Pending - int(r.processed())
	}
	r.log.Info("digest: send over", "sent", res.Sent, "failed", res.Failed, "skipped", res.Skipped,
		"bounced", res.Bounced, "deferred", res.Deferred, "pending", res.Pending, "finished", res.Finished,
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
	deferred                       atomic.Int64 // left pending after a temporary failure
	// answered is set once the SMTP server accepted a message or refused
	// one for good in this run: it is up.
	answered atomic.Bool
	temp     tempFailures
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
			if r.temp.wasTried(rc.ID) {
				continue // deferred by this run: the next run tries it
			}
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
	r.endPass(work)
}

// deliver renders, sends and records one delivery. The worker records the
// outcome before it takes another delivery: that bounds the messages
// accepted but not recorded by the number of workers.
func (r *run) deliver(work context.Context, rc store.Recipient) {
	// The batch may be minutes old: read the row again just before sending,
	// so that whoever unsubscribed (their row is skipped) or was removed
	// (their row is deleted) meanwhile is not mailed. What is left is the
	// moment between this read and the server's answer.
	cur, err := r.s.Store.PendingRecipient(r.keep, r.digest.ID, rc.ID)
	switch {
	case errors.Is(err, store.ErrNotPending) || errors.Is(err, store.ErrNotFound):
		r.log.Info("digest: delivery changed since the batch was read; not sent", "subscriber", rc.ID, "error", err)
		return
	case err != nil:
		r.stop(fmt.Errorf("read the delivery to subscriber %d again: %w", rc.ID, err))
		return
	}
	sub := cur.Subscriber
	if sub.Status != store.StatusActive {
		r.record(cur, "skip", r.s.Store.MarkSkipped(r.keep, r.digest.ID, sub.ID, "subscriber "+string(sub.Status), r.s.now()), &r.skipped)
		return
	}
	m, ok, err := r.s.Renderer.Message(r.digest, sub)
	if err != nil {
		r.stop(fmt.Errorf("render the digest for subscriber %d: %w", sub.ID, err))
		return
	}
	if !ok {
		r.record(cur, "skip", r.s.Store.MarkSkipped(r.keep, r.digest.ID, sub.ID, "no item matches the subscriber's topics", r.s.now()), &r.skipped)
		return
	}

	err = r.s.Mailer.Send(work, m)
	switch {
	case err == nil:
		r.answered.Store(true)
		r.record(cur, "sent", r.s.Store.MarkSent(r.keep, r.digest.ID, sub.ID, m.MessageID, r.s.now()), &r.sent)
		r.settle()
	case mailer.IsInvalid(err):
		// checkMessage built the parts every message shares before the run:
		// what fails now is this recipient's own (a name too long for the
		// To header, say). Their delivery fails, without counting towards
		// bouncing, and the others go on.
		_, merr := r.s.Store.MarkFailed(r.keep, r.digest.ID, sub.ID,
			"the message to this subscriber cannot be built: "+err.Error(), false, r.s.BounceAfter, r.s.now())
		r.log.Warn("digest: delivery failed: the message to this subscriber cannot be built", "subscriber", sub.ID,
			"email", sub.Email, "error", err)
		r.record(cur, "fail", merr, &r.failed)
	case mailer.IsPermanent(err):
		r.answered.Store(true)
		bounced, merr := r.s.Store.MarkFailed(r.keep, r.digest.ID, sub.ID, err.Error(), true, r.s.BounceAfter, r.s.now())
		r.log.Warn("digest: delivery failed", "subscriber", sub.ID, "email", sub.Email,
			"permanent", true, "bounced", bounced, "error", err)
		if bounced {
			r.bounced.Add(1)
		}
		r.record(cur, "fail", merr, &r.failed)
		r.settle()
	case mailer.IsTemporary(err):
		// A 45x reply is the server up and refusing this message for now
		// (greylisting, a full mailbox): it answered. 421 and errors
		// without a reply (refused connection, timeout) may be it down.
		var me *mailer.Error
		if errors.As(err, &me) && me.Code >= 450 && me.Code < 460 {
			r.answered.Store(true)
		}
		r.temporary(cur, err)
	case work.Err() != nil:
		// The drain timeout ran out: the message may or may not have gone;
		// the row stays pending and the next run sends it (same Message-ID).
	default:
		// Fatal (TLS, authentication, sender refused), the mailer closed, or
		// an error no message can get past: stop before failing everyone.
		r.stop(err)
	}
}

// tempFailures holds a run's temporary failures. Those since the SMTP
// server last answered (accepted a message, or refused one for good) are
// kept in streak, unrecorded, until it is known whether they were the
// recipients' trouble or the server's: a later answer or the end of the
// pass records them as deferred, while an outage (OutageAfter of them in a
// row) leaves them pending untouched, so that a server down during several
// runs never uses up anybody's attempts.
type tempFailures struct {
	mu      sync.Mutex
	streak  []deferral
	fresh   int            // failures in streak of deliveries that never failed before
	tripped bool           // the outage stopped the run
	tried   map[int64]bool // subscribers whose delivery failed temporarily in this run
}

// deferral is a temporary failure not recorded yet.
type deferral struct {
	rc  store.Recipient
	err error
}

// wasTried reports whether the delivery to this subscriber already failed
// temporarily in this run.
func (t *tempFailures) wasTried(subscriberID int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tried[subscriberID]
}

// take empties the streak and returns what it held, or nothing once the
// outage stopped the run.
func (t *tempFailures) take() []deferral {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tripped {
		return nil
	}
	out := t.streak
	t.streak, t.fresh = nil, 0
	return out
}

// temporary notes a temporary failure that outlasted the mailer's retries,
// and stops the run when the SMTP server looks down.
func (r *run) temporary(rc store.Recipient, err error) {
	r.temp.mu.Lock()
	r.temp.tried[rc.ID] = true
	if r.temp.tripped {
		r.temp.mu.Unlock()
		return
	}
	r.temp.streak = append(r.temp.streak, deferral{rc: rc, err: err})
	if rc.Attempts == 0 {
		r.temp.fresh++
	}
	n := len(r.temp.streak)
	if r.temp.fresh >= r.s.outageAfter() {
		// Halt under the lock: a worker failing meanwhile must not start
		// another delivery.
		r.temp.tripped = true
		r.stop(fmt.Errorf("%w: %d temporary failures in a row, no message accepted in between (last: %w)",
			ErrSMTPUnavailable, n, err))
		r.temp.mu.Unlock()
		r.log.Warn("digest: the SMTP server keeps failing; stopping the run", "in_a_row", n, "error", err)
		return
	}
	r.temp.mu.Unlock()
	r.log.Info("digest: temporary failure", "subscriber", rc.ID, "in_a_row", n, "error", err)
}

// endPass settles the temporary failures left at the end of a pass. When
// the SMTP server answered nothing in this run (no message accepted or
// refused for good, no 45x about one address), the failures may be an
// outage however few they are (a small list never makes OutageAfter in a
// row), or a few addresses the server fails on its own (a 421, a timeout
// or a dropped connection at RCPT, say, for one domain behind it): the
// mailer's Probe tells which. When the server does not answer a new
// session, the run stops with ErrSMTPUnavailable and the failures stay
// pending, no attempt counted, so that an outage never uses anybody's
// attempts up and the caller knows not to start a new digest. When it
// answers, they are the recipients' trouble and are recorded as deferred,
// each an attempt towards MaxAttempts, so that an address stuck on its own
// neither stops every run nor stays pending for ever.
func (r *run) endPass(ctx context.Context) {
	r.temp.mu.Lock()
	n := len(r.temp.streak)
	suspect := !r.temp.tripped && !r.answered.Load() && n > 0
	var last error
	if suspect {
		last = r.temp.streak[n-1].err
		if r.halted() {
			// Stopped for another reason: nothing is known about these.
			r.temp.tripped = true
			suspect = false
		}
	}
	r.temp.mu.Unlock()
	if !suspect {
		r.settle()
		return
	}
	perr := r.s.Mailer.Probe(ctx)
	if perr == nil {
		r.log.Info("digest: the SMTP server answers; the temporary failures are the recipients'", "failures", n)
		r.settle()
		return
	}
	r.temp.mu.Lock()
	r.temp.tripped = true
	r.stop(fmt.Errorf("%w: %d temporary failures, no message accepted and no new session (%v) (last: %w)",
		ErrSMTPUnavailable, n, perr, last))
	r.temp.mu.Unlock()
	r.log.Warn("digest: the SMTP server accepted nothing and does not answer; stopping the run",
		"failures", n, "error", last, "probe", perr)
}

// settle records the temporary failures held in the streak as deferred,
// unless the run stopped for an outage. It runs when the server answers,
// which shows that they were the recipients' trouble, and at the end of
// each pass.
func (r *run) settle() {
	r.recordDeferred(r.temp.take())
}

// recordDeferred records temporary failures: each delivery stays pending
// with one more attempt, or fails when that makes MaxAttempts.
func (r *run) recordDeferred(ds []deferral) {
	maxAttempts := r.s.maxAttempts()
	for _, d := range ds {
		sub := d.rc.Subscriber
		failed, err := r.s.Store.MarkDeferred(r.keep, r.digest.ID, sub.ID, d.err.Error(), maxAttempts, r.s.now())
		switch {
		case err != nil:
			r.record(d.rc, "defer", err, nil)
		case failed:
			r.log.Warn("digest: delivery failed", "subscriber", sub.ID, "email", sub.Email,
				"permanent", false, "attempts", maxAttempts, "error", d.err)
			r.failed.Add(1)
		default:
			r.log.Warn("digest: delivery deferred to the next send", "subscriber", sub.ID, "email", sub.Email,
				"attempts", d.rc.Attempts+1, "max_attempts", maxAttempts, "error", d.err)
			r.deferred.Add(1)
		}
	}
}

// record accounts for a Mark call, adding one to counter (when not nil) on
// success. A row that is not pending any more (the subscriber left or was
// removed during the send, which skips or deletes their row) is not an
// error; a database failure stops the run.
func (r *run) record(rc store.Recipient, what string, err error, counter *atomic.Int64) {
	switch {
	case err == nil:
		if counter != nil {
			counter.Add(1)
		}
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

// checkMessage builds the message of d for a recipient with no name in
// each language, so that a field every message shares (From, Reply-To,
// the subject, List-Id) that cannot be built stops the send before any
// delivery is touched; after it, a message that cannot be built fails
// only its own recipient.
func (s *Sender) checkMessage(d store.Digest) error {
	for _, lang := range []string{"fr", "en"} {
		sub := store.Subscriber{ID: 1, Email: "check@example.org", Lang: lang, Status: store.StatusActive}
		m, ok, err := s.Renderer.Message(d, sub)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := mailer.Validate(m); err != nil {
			return fmt.Errorf("the message cannot be built (check the sender and Reply-To addresses and the subject): %w", err)
		}
	}
	return nil
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

func (s *Sender) maxAttempts() int {
	if s.MaxAttempts > 0 {
		return s.MaxAttempts
	}
	return DefaultMaxAttempts
}

func (s *Sender) outageAfter() int {
	if s.OutageAfter > 0 {
		return s.OutageAfter
	}
	return 2 * s.concurrency()
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
