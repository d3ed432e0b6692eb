package server

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/internal/testutil/smtpserver"
	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/prometheus/client_golang/prometheus"
)

// scheduleEnv is a server sending on the schedule "* * * * *" through a
// real SMTP server, with the scheduler's timer in the test's hands and
// publications the test can add to the sample site.
type scheduleEnv struct {
	*pageEnv
	timer *fakeTimer
	added atomic.Pointer[[]*publication.Publication]
}

func newScheduleEnv(t *testing.T, catchUp time.Duration, smtpOpts ...smtpserver.Option) *scheduleEnv {
	t.Helper()
	srv := smtpserver.Start(t, smtpOpts...)
	m, err := mailer.NewSMTP(mailer.SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: mailer.TLSNone,
		HELO: "bulletin.test", Concurrency: 2, Retries: -1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e := &scheduleEnv{timer: &fakeTimer{fire: make(chan time.Time)}}
	load := sampleLoader("../content")
	e.pageEnv = newPageEnv(t, testPublicURL, func(o *Options) {
		o.Mailer = m
		o.Schedule, o.CatchUp = "* * * * *", catchUp
		o.Digest = DigestOptions{FirstSince: 3650 * 24 * time.Hour, Concurrency: 2, BounceAfter: 3}
		o.LoadSite = func(ctx context.Context, now time.Time) (*publication.Site, error) {
			site, err := load(ctx, now)
			if err == nil && e.added.Load() != nil {
				site.Publications = append(site.Publications, *e.added.Load()...)
			}
			return site, err
		}
	})
	e.smtp = srv
	e.srv.after = e.timer.after
	return e
}

// addPublication adds a publication to the site, dated now.
func (e *scheduleEnv) addPublication(title string) string {
	id := "http://localhost:8080/actualites/" + strings.ToLower(title) + "/"
	list := []*publication.Publication{{ID: id, URL: id, Title: title, Date: e.clock.now().Add(-time.Minute), Lang: "fr"}}
	if old := e.added.Load(); old != nil {
		list = append(list, *old...)
	}
	e.added.Store(&list)
	return id
}

func (e *scheduleEnv) subscribe(emails ...string) {
	for _, email := range emails {
		if _, err := e.st.Add(context.Background(), store.NewSubscriber{Email: email, Lang: "fr"}, e.clock.now()); err != nil {
			e.t.Fatal(err)
		}
	}
}

// start runs the background sends and the schedule until the test ends.
func (e *scheduleEnv) start() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	e.t.Cleanup(func() { cancel(); wg.Wait(); e.srv.WaitSends() })
	if err := e.srv.startBackgroundSends(ctx, &wg); err != nil {
		e.t.Fatal(err)
	}
}

// slot lets the clock reach slot and ends the scheduler's wait; once the
// scheduler waits again (the send it started is under way), it waits for
// that send to end.
func (e *scheduleEnv) slot(slot time.Time) {
	e.t.Helper()
	e.timer.mu.Lock()
	n := len(e.timer.waits)
	e.timer.mu.Unlock()
	at(e.clock, slot)
	e.timer.fire <- slot
	waitForWaits(e.t, e.timer, n+1)
	e.srv.WaitSends()
}

// mailsTo returns the raw messages each address got, in order.
func (e *scheduleEnv) mailsTo() map[string][]string {
	out := map[string][]string{}
	for _, m := range e.smtp.Messages() {
		out[m.To[0]] = append(out[m.To[0]], string(m.Data))
	}
	return out
}

func (e *scheduleEnv) lastSlot() time.Time {
	e.t.Helper()
	v, ok, err := e.st.GetSetting(context.Background(), lastRunKey)
	if err != nil || !ok {
		e.t.Fatalf("no recorded slot: %v", err)
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

// One address the SMTP server keeps answering 451 must not hold back the
// next digest: at the slot after a publication is added, the digest left
// with only that deferred delivery is resumed (its attempt counted) and
// the new digest is created and sent to everyone else in the same run.
func TestScheduledSendDoesNotWaitForADeferredAddress(t *testing.T) {
	const grey = "grey@example.org"
	e := newScheduleEnv(t, time.Hour, smtpserver.TempFail(grey, 1000))
	e.subscribe("alice@example.org", grey, "carol@example.org")
	t0 := time.Date(2026, 11, 27, 12, 0, 30, 0, time.UTC)
	at(e.clock, t0)
	e.start()
	waitForWaits(t, e.timer, 1)

	first := t0.Truncate(time.Minute).Add(time.Minute)
	e.slot(first)
	d1, err := e.st.LastDigest(context.Background())
	if err != nil || d1 == nil || d1.Deliveries.Sent != 2 || d1.Deliveries.Deferred != 1 {
		t.Fatalf("first digest: %+v, %v; want 2 sent and the grey address deferred", d1, err)
	}

	e.addPublication("Nouveaute")
	second := first.Add(time.Minute)
	e.slot(second)
	list, err := e.st.ListDigests(context.Background(), 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("after the slot following a new publication: %d digest(s), %v; want 2", len(list), err)
	}
	d2 := list[0]
	if d2.Deliveries.Sent != 2 || d2.Deliveries.Deferred != 1 {
		t.Errorf("second digest: %+v, want 2 sent and the grey address deferred", d2.Deliveries)
	}
	mails := e.mailsTo()
	for _, who := range []string{"alice@example.org", "carol@example.org"} {
		if len(mails[who]) != 2 || !strings.Contains(mails[who][1], "Nouveaute") {
			t.Errorf("%s got %d message(s), want the first digest then the one with the new publication", who, len(mails[who]))
		}
	}
	if len(mails[grey]) != 0 {
		t.Errorf("%s got %d message(s), want none", grey, len(mails[grey]))
	}
	sub, err := e.st.GetByEmail(context.Background(), grey)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		digest   int64
		attempts int
	}{{d1.ID, 2}, {d2.ID, 1}} {
		del, err := e.st.Delivery(context.Background(), c.digest, sub.ID)
		if err != nil || del.Status != store.DeliveryPending || del.Attempts != c.attempts {
			t.Errorf("digest %d to %s: %+v, %v; want pending after %d attempt(s)", c.digest, grey, del, err, c.attempts)
		}
	}
	if got := e.lastSlot(); !got.Equal(second) {
		t.Errorf("recorded slot %v, want %v", got, second)
	}
	// /metrics tells the deferred deliveries apart from the pending ones.
	reg := prometheus.NewRegistry()
	reg.MustRegister(&storeCollector{st: e.st})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	deferred := -1.0
	for _, f := range families {
		if f.GetName() == "bulletin_deliveries_deferred" {
			deferred = f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if deferred != 2 {
		t.Errorf("bulletin_deliveries_deferred = %v, want 2 (the grey address in both digests)", deferred)
	}
}

// A slot whose send cannot start (the CLI holds the send lock) is not
// recorded as done; the next slot that can start sends what is new.
func TestScheduledSlotNotRecordedWhenBusy(t *testing.T) {
	e := newScheduleEnv(t, time.Hour)
	e.subscribe("alice@example.org")
	t0 := time.Date(2026, 11, 27, 12, 0, 30, 0, time.UTC)
	at(e.clock, t0)
	e.start()
	waitForWaits(t, e.timer, 1)

	release, err := e.st.AcquireSendLock(context.Background(), "bulletin digest send (test)")
	if err != nil {
		t.Fatal(err)
	}
	busy := t0.Truncate(time.Minute).Add(time.Minute)
	e.slot(busy)
	if n, _ := e.st.CountDigests(context.Background()); n != 0 {
		t.Fatalf("%d digest(s) created while another process held the send lock", n)
	}
	if got := e.lastSlot(); !got.Before(busy) {
		t.Fatalf("the slot that could not start was recorded as done (%v)", got)
	}
	release()

	next := busy.Add(time.Minute)
	e.slot(next)
	if n, _ := e.st.CountDigests(context.Background()); n != 1 || e.smtp.Count() != 1 {
		t.Errorf("after the lock was released: %d digest(s), %d message(s); want 1 and 1", n, e.smtp.Count())
	}
	if got := e.lastSlot(); !got.Equal(next) {
		t.Errorf("recorded slot %v, want %v", got, next)
	}
}

// At start-up, a send left interrupted and a missed slot within catch_up:
// the slot's run resumes the interrupted digest and then sends the new one;
// the slot is neither lost to a "send already running" nor recorded before
// its send started.
func TestStartUpCatchUpResumesThenSendsTheNew(t *testing.T) {
	e := newScheduleEnv(t, time.Hour)
	e.subscribe("alice@example.org", "carol@example.org")
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	at(e.clock, t0)
	interrupted, err := e.st.CreateDigest(ctx, "interrompue", []store.DigestItem{{PublicationID: "http://localhost:8080/ancienne/",
		Title: "Ancienne", URL: "http://localhost:8080/ancienne/", Date: t0.Add(-time.Hour)}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetSetting(ctx, lastRunKey, t0.Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	missed := t0.Add(3 * time.Minute)
	at(e.clock, missed.Add(30*time.Second))
	e.start()
	waitForWaits(t, e.timer, 1)
	e.srv.WaitSends()

	list, err := e.st.ListDigests(ctx, 10)
	if err != nil || len(list) != 2 || list[1].ID != interrupted.ID {
		t.Fatalf("after start-up: %d digest(s), %v; want the interrupted one and a new one", len(list), err)
	}
	for _, d := range list {
		if d.Status != store.DigestDone || d.Deliveries.Sent != 2 {
			t.Errorf("digest %d: %s %+v, want done and sent to both", d.ID, d.Status, d.Deliveries)
		}
	}
	if got := e.lastSlot(); !got.Equal(missed) {
		t.Errorf("recorded slot %v, want the caught-up %v", got, missed)
	}
}

// At start-up without a missed slot, a digest left with only a deferred
// delivery is not resumed (that would count an attempt outside any send);
// the next slot retries it.
func TestStartUpLeavesDeferredDeliveriesForTheNextSend(t *testing.T) {
	const grey = "grey@example.org"
	e := newScheduleEnv(t, time.Hour, smtpserver.TempFail(grey, 1000))
	e.subscribe("alice@example.org", grey)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 12, 0, 30, 0, time.UTC)
	at(e.clock, t0)
	d, err := e.st.CreateDigest(ctx, "ancienne", []store.DigestItem{{PublicationID: "http://localhost:8080/ancienne/",
		Title: "Ancienne", URL: "http://localhost:8080/ancienne/", Date: t0.Add(-time.Hour)}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := e.st.GetByEmail(ctx, "alice@example.org")
	sub, _ := e.st.GetByEmail(ctx, grey)
	if err := e.st.MarkSent(ctx, d.ID, alice.ID, "m@x", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.MarkDeferred(ctx, d.ID, sub.ID, "451", 5, t0); err != nil {
		t.Fatal(err)
	}
	e.start()
	waitForWaits(t, e.timer, 1)
	e.srv.WaitSends()
	if n := e.smtp.RcptAttempts(grey); n != 0 {
		t.Errorf("start-up tried the deferred address %d time(s), want none", n)
	}

	e.slot(t0.Truncate(time.Minute).Add(time.Minute))
	if del, err := e.st.Delivery(ctx, d.ID, sub.ID); err != nil || del.Attempts != 2 || e.smtp.RcptAttempts(grey) == 0 {
		t.Errorf("after the slot: %+v, %v; want the deferred delivery tried again (2 attempts)", del, err)
	}
}

// relay forwards TCP connections to an SMTP server, or, while down, closes
// them at once: the SMTP server unreachable, then back on the same port.
type relay struct {
	ln    net.Listener
	down  atomic.Bool
	mu    sync.Mutex
	conns map[net.Conn]bool
}

// setDown takes the relay down, cutting the connections open through it,
// or brings it back.
func (r *relay) setDown(down bool) {
	r.down.Store(down)
	if !down {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		c.Close()
	}
}

func startRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if r.down.Load() {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns[c] = true
			r.mu.Unlock()
			go func() {
				defer func() {
					c.Close()
					r.mu.Lock()
					delete(r.conns, c)
					r.mu.Unlock()
				}()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c); up.Close() }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return r
}

// A slot whose resume of an earlier digest stops because the SMTP server
// is down is not recorded: no new digest was created, so the slot stays
// due and its retry (a minute later) resumes the earlier digest and sends
// the new one to everyone, instead of the new publication waiting a whole
// period.
func TestScheduledSlotRetriedAfterAnOutageWhileResuming(t *testing.T) {
	const grey = "grey@example.org"
	e := newScheduleEnv(t, time.Hour, smtpserver.TempFail(grey, 1000))
	r := startRelay(t, e.smtp.Addr())
	m, err := mailer.NewSMTP(mailer.SMTPConfig{Host: "127.0.0.1", Port: r.ln.Addr().(*net.TCPAddr).Port, TLS: mailer.TLSNone,
		HELO: "bulletin.test", Concurrency: 2, Retries: -1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e.srv.opts.Mailer = m
	e.subscribe("alice@example.org", grey, "carol@example.org")
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 12, 0, 30, 0, time.UTC)
	at(e.clock, t0)
	e.start()
	waitForWaits(t, e.timer, 1)

	first := t0.Truncate(time.Minute).Add(time.Minute)
	e.slot(first)
	d1, err := e.st.LastDigest(ctx)
	if err != nil || d1 == nil || d1.Deliveries.Sent != 2 || d1.Deliveries.Deferred != 1 {
		t.Fatalf("first digest: %+v, %v; want 2 sent and the grey address deferred", d1, err)
	}

	e.addPublication("Nouveaute")
	r.setDown(true)
	second := first.Add(time.Minute)
	e.slot(second)
	if n, _ := e.st.CountDigests(ctx); n != 1 {
		t.Fatalf("%d digests after a slot whose resume met an outage, want 1", n)
	}
	if got := e.lastSlot(); !got.Equal(first) {
		t.Errorf("recorded slot %v after the outage, want still %v", got, first)
	}

	r.setDown(false)
	e.slot(second.Add(30 * time.Second)) // the retry, before the next slot
	list, err := e.st.ListDigests(ctx, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("after the retry: %d digest(s), %v; want 2", len(list), err)
	}
	mails := e.mailsTo()
	for _, who := range []string{"alice@example.org", "carol@example.org"} {
		if len(mails[who]) != 2 || !strings.Contains(mails[who][1], "Nouveaute") {
			t.Errorf("%s got %d message(s), want the first digest then the one with the new publication", who, len(mails[who]))
		}
	}
	sub, _ := e.st.GetByEmail(ctx, grey)
	if del, err := e.st.Delivery(ctx, d1.ID, sub.ID); err != nil || del.Attempts != 2 {
		t.Errorf("first digest to %s: %+v, %v; want 2 attempts (none for the outage)", grey, del, err)
	}
	if got := e.lastSlot(); !got.Equal(second) {
		t.Errorf("recorded slot %v, want %v", got, second)
	}
}

// While a slot resumes an earlier digest, the slot is not recorded yet: a
// crash then leaves it to the catch-up at the next start, which resumes
// and creates the new digest, instead of losing it. It is recorded once
// the new digest exists.
func TestScheduledSlotNotRecordedWhileResuming(t *testing.T) {
	const grey = "grey@example.org"
	var blocking atomic.Bool
	entered, release := make(chan struct{}, 1), make(chan struct{})
	e := newScheduleEnv(t, time.Hour, smtpserver.TempFail(grey, 1000), smtpserver.RcptHook(grey, func() error {
		if blocking.Load() {
			entered <- struct{}{}
			<-release
		}
		return nil
	}))
	e.subscribe("alice@example.org", grey)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 12, 0, 30, 0, time.UTC)
	at(e.clock, t0)
	e.start()
	waitForWaits(t, e.timer, 1)
	first := t0.Truncate(time.Minute).Add(time.Minute)
	e.slot(first)

	e.addPublication("Nouveaute")
	blocking.Store(true)
	second := first.Add(time.Minute)
	e.timer.mu.Lock()
	n := len(e.timer.waits)
	e.timer.mu.Unlock()
	at(e.clock, second)
	e.timer.fire <- second
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the slot did not resume the first digest")
	}
	if got := e.lastSlot(); !got.Equal(first) {
		t.Errorf("slot recorded as %v while it resumes the first digest, want still %v", got, first)
	}
	blocking.Store(false)
	close(release)
	waitForWaits(t, e.timer, n+1)
	e.srv.WaitSends()
	if c, _ := e.st.CountDigests(ctx); c != 2 {
		t.Errorf("%d digests after the slot, want 2", c)
	}
	if got := e.lastSlot(); !got.Equal(second) {
		t.Errorf("recorded slot %v, want %v", got, second)
	}
}
