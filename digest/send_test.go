package digest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/ecoresponsable/bulletin/internal/testutil/smtpserver"
	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/store"
)

func TestSendFullDigest(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	srv := smtpserver.Start(t)
	all := addSubscribers(t, st, "all", 12)
	climat := addSubscribers(t, st, "climat", 3, "Climat")
	other := addSubscribers(t, st, "other", 3, "podcast")
	if _, _, err := st.CreatePending(ctx, store.NewSubscriber{Email: "pending@example.net"}, t0); err != nil {
		t.Fatal(err)
	}
	for _, status := range []store.Status{store.StatusUnsubscribed, store.StatusBounced} {
		sub := addSubscribers(t, st, string(status), 1)[0]
		if err := st.SetStatus(ctx, sub.ID, status, t0); err != nil {
			t.Fatal(err)
		}
	}
	d := createDigest(t, st, "a", "b")

	var (
		mu    sync.Mutex
		snaps []Progress
	)
	s := newSender(t, st, newSMTP(t, srv, nil))
	s.ProgressInterval = time.Millisecond
	s.Progress = func(p Progress) {
		mu.Lock()
		snaps = append(snaps, p)
		mu.Unlock()
	}
	res, err := s.Send(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Finished || res.Sent != 15 || res.Skipped != 3 || res.Failed != 0 || res.Pending != 0 || res.Interrupted {
		t.Errorf("Result = %+v, want 15 sent, 3 skipped, finished", res)
	}

	count, ids := received(srv)
	for _, sub := range append(all, climat...) {
		if count[sub.Email] != 1 {
			t.Errorf("%s got %d messages, want 1", sub.Email, count[sub.Email])
		}
		del, err := st.Delivery(ctx, d.ID, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if del.Status != store.DeliverySent || len(ids[sub.Email]) != 1 || del.MessageID != ids[sub.Email][0] {
			t.Errorf("%s: ledger %+v, received Message-IDs %q", sub.Email, del, ids[sub.Email])
		}
	}
	for _, sub := range other {
		if count[sub.Email] != 0 {
			t.Errorf("%s (no matching topic) got %d messages", sub.Email, count[sub.Email])
		}
		if del, _ := st.Delivery(ctx, d.ID, sub.ID); del.Status != store.DeliverySkipped {
			t.Errorf("%s: delivery %s, want skipped", sub.Email, del.Status)
		}
	}
	if n := srv.Count(); n != 15 {
		t.Errorf("server accepted %d messages, want 15 (nothing to pending, unsubscribed or bounced)", n)
	}
	h := srv.Messages()[0].Header
	mustHeader(t, h, "From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post")

	got, err := st.GetDigest(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.DeliveryCounts{Sent: 15, Skipped: 3}
	if got.Status != store.DigestDone || got.Deliveries != want {
		t.Errorf("digest after the send: %s %+v, want done %+v", got.Status, got.Deliveries, want)
	}
	mu.Lock()
	last := snaps[len(snaps)-1]
	mu.Unlock()
	if !last.Done || last.Sent != 15 || last.Skipped != 3 || last.Pending != 0 || last.Processed != 18 || last.ToProcess != 18 || last.Total != 18 {
		t.Errorf("last progress %+v", last)
	}

	// Sending a finished digest again sends nothing.
	res, err = s.Send(ctx, d.ID)
	if err != nil || !res.Finished || res.Sent != 0 || srv.Count() != 15 {
		t.Errorf("second Send of a done digest: %+v, %v; server count %d", res, err, srv.Count())
	}
}

// A recipient whose server keeps answering 451 stays pending from run to
// run, and is failed (not bounced) at the attempt limit, which lets the
// digest finish.
func TestSendTemporaryFailures(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 6)
	busy, stuck := subs[1].Email, subs[4].Email
	srv := smtpserver.Start(t, smtpserver.TempFail(busy, 2), smtpserver.TempFail(stuck, 100))
	d := createDigest(t, st, "a")
	s := newSender(t, st, newSMTP(t, srv, func(c *mailer.SMTPConfig) { c.Retries = 3 }))

	for run := 1; run <= DefaultMaxAttempts; run++ {
		res, err := s.Send(ctx, d.ID)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		last := run == DefaultMaxAttempts
		want := Result{DigestID: d.ID, Deferred: 1, Pending: 1}
		if run == 1 {
			want.Sent = 5
		}
		if last {
			want.Deferred, want.Failed, want.Pending, want.Finished = 0, 1, 0, true
		}
		res.Elapsed = 0
		if res != want {
			t.Errorf("run %d: Result = %+v, want %+v", run, res, want)
		}
		// Each run tries the stuck address once, with the mailer's retries,
		// and not again.
		if n := srv.RcptAttempts(stuck); n != 4*run {
			t.Errorf("run %d: %s: %d attempts, want %d (4 a run: the first and 3 retries)", run, stuck, n, 4*run)
		}
		del, err := st.Delivery(ctx, d.ID, subs[4].ID)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus := store.DeliveryPending
		if last {
			wantStatus = store.DeliveryFailed
		}
		if del.Status != wantStatus || del.Attempts != run || !strings.Contains(del.LastError, "451") {
			t.Errorf("run %d: stuck delivery %+v, want %s after %d attempts with the 451", run, del, wantStatus, run)
		}
		got, err := st.GetDigest(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if wantDone := last; (got.Status == store.DigestDone) != wantDone {
			t.Errorf("run %d: digest %s, want done only after the last run", run, got.Status)
		}
	}
	if n := srv.RcptAttempts(busy); n != 3 {
		t.Errorf("%s: %d attempts, want 3 (two 451 then accepted)", busy, n)
	}
	count, _ := received(srv)
	for i, sub := range subs {
		if want := map[bool]int{true: 0, false: 1}[i == 4]; count[sub.Email] != want {
			t.Errorf("%s got %d messages, want %d", sub.Email, count[sub.Email], want)
		}
	}
	sub, err := st.Get(ctx, subs[4].ID)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != store.StatusActive || sub.ConsecutiveFailures != 0 {
		t.Errorf("a temporary failure must not count towards bouncing: %+v", sub)
	}
}

// Addresses stuck on their own, once deferred, do not count as an outage:
// a later run of only them must not trip the breaker (which would leave
// their attempts uncounted and the digest unfinished for ever).
func TestSendStuckAddressesAreNotAnOutage(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 6)
	var opts []smtpserver.Option
	for i := 1; i < len(subs); i += 2 {
		opts = append(opts, smtpserver.TempFail(subs[i].Email, 100))
	}
	srv := smtpserver.Start(t, opts...)
	d := createDigest(t, st, "a")
	s := newSender(t, st, newSMTP(t, srv, func(c *mailer.SMTPConfig) { c.Retries = -1 }))
	// One worker, so that the stuck addresses alternate with accepted ones
	// in the first run; the breaker trips at 2 in a row.
	s.Concurrency, s.MaxAttempts = 1, 3

	want := []Result{
		{DigestID: d.ID, Sent: 3, Deferred: 3, Pending: 3},
		{DigestID: d.ID, Deferred: 3, Pending: 3},
		{DigestID: d.ID, Failed: 3, Finished: true},
	}
	for run, w := range want {
		res, err := s.Send(ctx, d.ID)
		res.Elapsed = 0
		if err != nil || res != w {
			t.Errorf("run %d: Send = %+v, %v; want %+v", run+1, res, err, w)
		}
	}
}

// closedPort returns a port of 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// The relay is down for a small list (the outage breaker never trips): the
// deliveries are deferred, not failed, and go out once it is back.
func TestSendRelayDownDefers(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 2)
	srv := smtpserver.Start(t)
	d := createDigest(t, st, "a")

	// However many times it is tried while the relay is down, a small
	// list (fewer deliveries than OutageAfter) loses nothing: each run
	// stops with ErrSMTPUnavailable and counts no attempt.
	down := newSMTP(t, srv, func(c *mailer.SMTPConfig) { c.Port = closedPort(t) })
	for range DefaultMaxAttempts + 1 {
		res, err := newSender(t, st, down).Send(ctx, d.ID)
		if !errors.Is(err, ErrSMTPUnavailable) {
			t.Fatalf("Send with the relay down: %v, want ErrSMTPUnavailable", err)
		}
		if res.Finished || res.Failed != 0 || res.Deferred != 0 || res.Pending != 2 {
			t.Errorf("Send with the relay down = %+v, want both pending and the digest unfinished", res)
		}
	}
	got, err := st.GetDigest(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.DigestSending || got.Deliveries != (store.DeliveryCounts{Pending: 2}) {
		t.Errorf("digest after the outage: %s %+v, want sending with 2 pending", got.Status, got.Deliveries)
	}
	for _, sub := range subs {
		if del, _ := st.Delivery(ctx, d.ID, sub.ID); del.Status != store.DeliveryPending || del.Attempts != 0 {
			t.Errorf("%s: %+v, want pending with no attempt counted", sub.Email, del)
		}
	}

	res, err := newSender(t, st, newSMTP(t, srv, nil)).Send(ctx, d.ID)
	if err != nil || !res.Finished || res.Sent != 2 {
		t.Errorf("Send with the relay back = %+v, %v; want 2 sent and finished", res, err)
	}
	count, _ := received(srv)
	for _, sub := range subs {
		if count[sub.Email] != 1 {
			t.Errorf("%s got %d messages, want 1", sub.Email, count[sub.Email])
		}
	}
}

// countMailer counts the calls of Send, whatever their outcome.
type countMailer struct {
	mailer.Sender
	calls atomic.Int64
}

func (c *countMailer) Send(ctx context.Context, m *mailer.Message) error {
	c.calls.Add(1)
	return c.Sender.Send(ctx, m)
}

// The relay is down for a large list: the breaker stops the run after a
// few messages, leaving every delivery pending with no attempt counted,
// and the next run, with the relay back, sends each exactly once.
func TestSendRelayDownStopsRun(t *testing.T) {
	ctx := context.Background()
	st, path := openStore(t)
	const n = 300
	subs := seedSubscribers(t, st, path, "r", n)
	srv := smtpserver.Start(t)
	d := createDigest(t, st, "a")

	down := &countMailer{Sender: newSMTP(t, srv, func(c *mailer.SMTPConfig) { c.Port = closedPort(t) })}
	s := newSender(t, st, down)
	res, err := s.Send(ctx, d.ID)
	if !errors.Is(err, ErrSMTPUnavailable) || !mailer.IsTemporary(err) {
		t.Fatalf("Send with the relay down: %v, want ErrSMTPUnavailable wrapping the last failure", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("%d deliveries left pending", n)) {
		t.Errorf("the error does not say how many deliveries are left: %v", err)
	}
	// 2×4 failures in a row trip the breaker; at most 3 more were in flight.
	if calls := down.calls.Load(); calls < 8 || calls > 11 {
		t.Errorf("%d messages tried with the relay down, want 8 to 11", calls)
	}
	if res.Finished || res.Failed != 0 || res.Deferred != 0 || res.Pending != n {
		t.Errorf("Result = %+v, want all %d pending", res, n)
	}
	got, err := st.GetDigest(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.DigestSending || got.Deliveries != (store.DeliveryCounts{Pending: n}) {
		t.Errorf("digest after the outage: %s %+v, want sending with %d pending", got.Status, got.Deliveries, n)
	}
	for _, sub := range subs[:12] {
		if del, _ := st.Delivery(ctx, d.ID, sub.ID); del.Attempts != 0 {
			t.Errorf("%s: %d attempts counted for an outage", sub.Email, del.Attempts)
		}
	}

	res, err = newSender(t, st, newSMTP(t, srv, nil)).Send(ctx, d.ID)
	if err != nil || !res.Finished || res.Sent != n {
		t.Fatalf("Send with the relay back = %+v, %v; want %d sent and finished", res, err, n)
	}
	count, _ := received(srv)
	for _, sub := range subs {
		if count[sub.Email] != 1 {
			t.Errorf("%s got %d messages, want 1", sub.Email, count[sub.Email])
		}
	}
}

func TestSendPermanentFailureBounces(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 4)
	gone := subs[2]
	srv := smtpserver.Start(t, smtpserver.PermFail(gone.Email))
	s := newSender(t, st, newSMTP(t, srv, nil))
	s.BounceAfter = 2

	for i, name := range []string{"first", "second"} {
		d := createDigest(t, st, name)
		res, err := s.Send(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.Sent != 3 || res.Failed != 1 || res.Bounced != i || !res.Finished {
			t.Errorf("digest %d: %+v, want 3 sent, 1 failed, %d bounced", i+1, res, i)
		}
		del, _ := st.Delivery(ctx, d.ID, gone.ID)
		if del.Status != store.DeliveryFailed || !strings.Contains(del.LastError, "550") {
			t.Errorf("digest %d: delivery to %s: %+v", i+1, gone.Email, del)
		}
		sub, _ := st.Get(ctx, gone.ID)
		wantStatus := []store.Status{store.StatusActive, store.StatusBounced}[i]
		if sub.Status != wantStatus || sub.ConsecutiveFailures != i+1 {
			t.Errorf("after digest %d: %s with %d failures, want %s with %d", i+1, sub.Status, sub.ConsecutiveFailures, wantStatus, i+1)
		}
	}
	if n := srv.RcptAttempts(gone.Email); n != 2 {
		t.Errorf("%d attempts to %s, want 2: a 550 is not retried", n, gone.Email)
	}
	d := createDigest(t, st, "third")
	if d.Deliveries.Pending != 3 {
		t.Errorf("third digest has %d recipients, want 3: the bounced address is left out", d.Deliveries.Pending)
	}
}

func TestSendConnectionDropped(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 20)
	srv := smtpserver.Start(t, smtpserver.DropAfter(4), smtpserver.DropInData(9))
	d := createDigest(t, st, "a")
	res, err := newSender(t, st, newSMTP(t, srv, nil)).Send(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 20 || !res.Finished {
		t.Errorf("Result = %+v, want all 20 sent", res)
	}
	count, _ := received(srv)
	for _, sub := range subs {
		if count[sub.Email] != 1 {
			t.Errorf("%s got %d messages, want exactly 1", sub.Email, count[sub.Email])
		}
	}
	if srv.Connections() < 2 {
		t.Errorf("%d connections: the drops should have forced reconnections", srv.Connections())
	}
}

func TestSendResumeAfterCancel(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 40)
	srv := smtpserver.Start(t, smtpserver.Delay(10*time.Millisecond))
	d := createDigest(t, st, "a")

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	hook := &hookMailer{Sender: newSMTP(t, srv, nil), after: func(n int64) {
		if n == 10 {
			cancel()
		}
	}}
	res, err := newSender(t, st, hook).Send(runCtx, d.ID)
	if !errors.Is(err, context.Canceled) || !res.Interrupted || res.Finished {
		t.Fatalf("interrupted Send = %+v, %v; want Interrupted and context.Canceled", res, err)
	}
	// The messages in flight at the cancel finished and were recorded: the
	// ledger agrees with the server, so the resume duplicates nothing.
	mid, err := st.GetDigest(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if mid.Status != store.DigestSending || mid.Deliveries.Sent != srv.Count() || mid.Deliveries.Sent < 10 ||
		mid.Deliveries.Pending != 40-mid.Deliveries.Sent || res.Pending != mid.Deliveries.Pending {
		t.Errorf("after the cancel: digest %s %+v, server %d, result %+v", mid.Status, mid.Deliveries, srv.Count(), res)
	}
	if _, err := st.CreateDigest(ctx, "next", testItems("b"), t0); !errors.Is(err, store.ErrUnfinished) {
		t.Errorf("CreateDigest while unfinished: %v, want ErrUnfinished", err)
	}

	res, err = newSender(t, st, newSMTP(t, srv, nil)).Send(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Finished || res.Sent != 40-mid.Deliveries.Sent {
		t.Errorf("resumed Send = %+v, want the %d left", res, 40-mid.Deliveries.Sent)
	}
	count, _ := received(srv)
	for _, sub := range subs {
		if count[sub.Email] != 1 {
			t.Errorf("%s got %d messages, want exactly 1", sub.Email, count[sub.Email])
		}
	}
}

func TestSendSecondSenderRefused(t *testing.T) {
	ctx := context.Background()
	st, path := openStore(t)
	addSubscribers(t, st, "r", 10)
	srv := smtpserver.Start(t, smtpserver.Delay(30*time.Millisecond))
	d := createDigest(t, st, "a")

	first := newSender(t, st, newSMTP(t, srv, nil))
	first.Holder = "first sender"
	first.Concurrency = 1
	done := make(chan error, 1)
	go func() {
		_, err := first.Send(ctx, d.ID)
		done <- err
	}()
	srv.WaitFor(1, 10*time.Second)

	other, err := store.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	res, err := newSender(t, other, newSMTP(t, srv, nil)).Send(ctx, d.ID)
	var locked *store.LockedError
	if !errors.Is(err, store.ErrLocked) || !errors.As(err, &locked) || locked.Holder != "first sender" ||
		!strings.Contains(err.Error(), "first sender") {
		t.Errorf("second Send: %v, want the lock error naming the first sender", err)
	}
	if res.Sent != 0 {
		t.Errorf("second Send sent %d messages", res.Sent)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := srv.Count(); n != 10 {
		t.Errorf("server got %d messages, want 10", n)
	}
}

func TestSendSubscriberAddedDuringSend(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	addSubscribers(t, st, "r", 8)
	srv := smtpserver.Start(t)
	d := createDigest(t, st, "a")

	var late store.Subscriber
	hook := &hookMailer{Sender: newSMTP(t, srv, nil), after: func(n int64) {
		if n == 1 {
			var err error
			late, err = st.Add(ctx, store.NewSubscriber{Email: "late@example.net"}, t0)
			if err != nil {
				t.Error(err)
			}
		}
	}}
	res, err := newSender(t, st, hook).Send(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 8 || !res.Finished {
		t.Errorf("Result = %+v, want the 8 subscribers of the digest", res)
	}
	if count, _ := received(srv); count["late@example.net"] != 0 {
		t.Error("a subscriber added during the send got the digest")
	}
	if _, err := st.Delivery(ctx, d.ID, late.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delivery of the late subscriber: %v, want none", err)
	}
	next := createDigest(t, st, "b")
	if next.Deliveries.Pending != 9 {
		t.Errorf("next digest has %d recipients, want 9 with the late one", next.Deliveries.Pending)
	}
}

func TestSendFatalErrorLeavesPending(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	addSubscribers(t, st, "r", 6)
	srv := smtpserver.Start(t, smtpserver.WithAuth("bulletin", "right"))
	d := createDigest(t, st, "a")

	bad := newSMTP(t, srv, func(c *mailer.SMTPConfig) { c.Username, c.Password = "bulletin", "wrong" })
	res, err := newSender(t, st, bad).Send(ctx, d.ID)
	if err == nil || res.Finished || res.Failed != 0 {
		t.Fatalf("Send with bad credentials = %+v, %v; want an error and nothing failed", res, err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("the error shows the password: %v", err)
	}
	got, _ := st.GetDigest(ctx, d.ID)
	if got.Deliveries.Pending != 6 || got.Status != store.DigestSending {
		t.Errorf("after a fatal error: %s %+v, want all 6 pending", got.Status, got.Deliveries)
	}

	good := newSMTP(t, srv, func(c *mailer.SMTPConfig) { c.Username, c.Password = "bulletin", "right" })
	res, err = newSender(t, st, good).Send(ctx, d.ID)
	if err != nil || !res.Finished || res.Sent != 6 {
		t.Errorf("resume with good credentials = %+v, %v", res, err)
	}
}

// A message that cannot be built (here an invalid From, as a bad
// digest.from gives) is a local fault: the send stops with an error naming
// it, no server is asked, every delivery stays pending with no attempt,
// nobody is failed or nearer to bouncing, and the digest goes out once the
// address is fixed.
func TestSendInvalidMessageFailsNobody(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 5)
	srv := smtpserver.Start(t)
	d := createDigest(t, st, "a")

	for _, bad := range []func(*Settings){
		func(s *Settings) { s.From = "Numérique responsable bulletin@exemple.gouv.fr" },
		func(s *Settings) { s.ReplyTo = "a@x.fr b@x.fr" },
	} {
		settings := sendSettings()
		bad(&settings)
		s := newSender(t, st, newSMTP(t, srv, nil))
		r, err := newRendererWith(settings)
		if err != nil {
			t.Fatal(err)
		}
		s.Renderer, s.BounceAfter = r, 1
		res, err := s.Send(ctx, d.ID)
		if err == nil || !mailer.IsInvalid(err) || !strings.Contains(err.Error(), "cannot be built") {
			t.Fatalf("Send with From %q, Reply-To %q: error %v, want one saying the message cannot be built", settings.From, settings.ReplyTo, err)
		}
		if res.Finished || res.Failed != 0 || res.Bounced != 0 || res.Pending != len(subs) {
			t.Errorf("Send with an invalid message = %+v, want nothing failed and all %d pending", res, len(subs))
		}
	}
	if c := srv.Connections(); c != 0 {
		t.Errorf("%d SMTP connections for messages that cannot be built", c)
	}
	got, err := st.GetDigest(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.DigestSending || got.Deliveries != (store.DeliveryCounts{Pending: len(subs)}) {
		t.Errorf("digest after the stopped sends: %s %+v, want sending with all pending", got.Status, got.Deliveries)
	}
	for _, sub := range subs {
		del, err := st.Delivery(ctx, d.ID, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		now, err := st.Get(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if del.Status != store.DeliveryPending || del.Attempts != 0 || now.Status != store.StatusActive || now.ConsecutiveFailures != 0 {
			t.Errorf("%s: delivery %+v, subscriber %s with %d failures; want pending, no attempt, active, none",
				sub.Email, del, now.Status, now.ConsecutiveFailures)
		}
	}

	res, err := newSender(t, st, newSMTP(t, srv, nil)).Send(ctx, d.ID)
	if err != nil || !res.Finished || res.Sent != len(subs) {
		t.Errorf("Send once fixed = %+v, %v; want all %d sent", res, err, len(subs))
	}
}

func TestSendSkipsSubscriberWhoLeft(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 5)
	srv := smtpserver.Start(t)
	d := createDigest(t, st, "a")
	// Unsubscribed after the digest was frozen, before the send reached them.
	if err := st.SetStatus(ctx, subs[3].ID, store.StatusUnsubscribed, t0); err != nil {
		t.Fatal(err)
	}
	res, err := newSender(t, st, newSMTP(t, srv, nil)).Send(ctx, d.ID)
	if err != nil || res.Sent != 4 || !res.Finished {
		t.Errorf("Send = %+v, %v; want 4 sent", res, err)
	}
	if count, _ := received(srv); count[subs[3].Email] != 0 {
		t.Error("an unsubscribed address got the digest")
	}
}

// gateMailer holds the first Send until release is closed, telling started.
type gateMailer struct {
	mailer.Sender
	once             sync.Once
	started, release chan struct{}
}

func (g *gateMailer) Send(ctx context.Context, m *mailer.Message) error {
	g.once.Do(func() {
		close(g.started)
		<-g.release
	})
	return g.Sender.Send(ctx, m)
}

// Subscribers who unsubscribe or are removed while the send is under way,
// after their row was read in a batch, are not mailed.
func TestSendLeavingDuringSend(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 4)
	leaves, removed := subs[2], subs[3]
	srv := smtpserver.Start(t)
	d := createDigest(t, st, "a")

	gate := &gateMailer{Sender: newSMTP(t, srv, nil), started: make(chan struct{}), release: make(chan struct{})}
	s := newSender(t, st, gate)
	s.Concurrency = 1
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := s.Send(ctx, d.ID)
		done <- outcome{res, err}
	}()
	<-gate.started
	if err := st.SetStatus(ctx, leaves.ID, store.StatusUnsubscribed, t0); err != nil {
		t.Error(err)
	}
	if err := st.Remove(ctx, removed.ID); err != nil {
		t.Error(err)
	}
	close(gate.release)
	out := <-done
	if out.err != nil || !out.res.Finished || out.res.Sent != 2 {
		t.Errorf("Send = %+v, %v; want 2 sent and finished", out.res, out.err)
	}
	count, _ := received(srv)
	for _, sub := range subs {
		want := 1
		if sub.ID == leaves.ID || sub.ID == removed.ID {
			want = 0
		}
		if count[sub.Email] != want {
			t.Errorf("%s got %d messages, want %d", sub.Email, count[sub.Email], want)
		}
	}
	if del, _ := st.Delivery(ctx, d.ID, leaves.ID); del.Status != store.DeliverySkipped {
		t.Errorf("delivery to the unsubscribed: %+v, want skipped", del)
	}
	if _, err := st.Delivery(ctx, d.ID, removed.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delivery to the removed subscriber: %v, want none", err)
	}
}

// A one-subscriber list whose address the live server keeps refusing for
// now (451): the server answered, so it is not an outage; the delivery is
// deferred run after run and failed at MaxAttempts, and the digest ends.
// A resume of a digest whose only pending delivery is deferred, with the
// relay down, is an outage like any other: the run stops with
// ErrSMTPUnavailable (so that no new digest is started after it) and the
// delivery keeps its attempts.
func TestSendResumeOfDeferredDuringOutage(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 3)
	grey := subs[1]
	srv := smtpserver.Start(t, smtpserver.TempFail(grey.Email, 100))
	d := createDigest(t, st, "a")
	up := newSMTP(t, srv, func(c *mailer.SMTPConfig) { c.Retries = -1 })
	res, err := newSender(t, st, up).Send(ctx, d.ID)
	if err != nil || res.Sent != 2 || res.Deferred != 1 {
		t.Fatalf("first run = %+v, %v; want 2 sent, 1 deferred", res, err)
	}

	down := newSMTP(t, srv, func(c *mailer.SMTPConfig) { c.Port, c.Retries = closedPort(t), -1 })
	res, err = newSender(t, st, down).Send(ctx, d.ID)
	if !errors.Is(err, ErrSMTPUnavailable) || res.Deferred != 0 || res.Failed != 0 || res.Pending != 1 {
		t.Fatalf("resume with the relay down = %+v, %v; want ErrSMTPUnavailable and the delivery pending", res, err)
	}
	if del, _ := st.Delivery(ctx, d.ID, grey.ID); del.Status != store.DeliveryPending || del.Attempts != 1 {
		t.Errorf("deferred delivery after the outage: %+v, want pending with its 1 attempt", del)
	}

	res, err = newSender(t, st, up).Send(ctx, d.ID)
	if err != nil || res.Deferred != 1 || res.Pending != 1 {
		t.Fatalf("resume with the relay back = %+v, %v; want the delivery deferred again", res, err)
	}
	if del, _ := st.Delivery(ctx, d.ID, grey.ID); del.Attempts != 2 {
		t.Errorf("deferred delivery after a real try: %+v, want 2 attempts", del)
	}
}

func TestSendOneStuckAddressIsNotAnOutage(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "solo", 1)
	srv := smtpserver.Start(t, smtpserver.TempFail(subs[0].Email, 100))
	d := createDigest(t, st, "a")
	s := newSender(t, st, newSMTP(t, srv, func(c *mailer.SMTPConfig) { c.Retries = 0 }))
	for run := 1; run <= DefaultMaxAttempts; run++ {
		res, err := s.Send(ctx, d.ID)
		if err != nil {
			t.Fatalf("run %d: %v (a 451 is not an outage)", run, err)
		}
		if last := run == DefaultMaxAttempts; res.Finished != last || (res.Failed == 1) != last {
			t.Errorf("run %d: %+v", run, res)
		}
	}
}

// A resume of a digest whose only pending delivery is deferred, with the
// SMTP server up but failing that one address without a 45x reply (a 421,
// a dropped connection, no answer within smtp.timeout): the server answers
// a new session, so it is not an outage. Each run counts an attempt, the
// run ends without an error (the caller may go on with the next digest),
// and at MaxAttempts the delivery is failed and the digest done.
func TestSendResumeOfDeferredWithServerUp(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 3)
	stuck := subs[2]
	var mode atomic.Value
	mode.Store("451")
	srv := smtpserver.Start(t, smtpserver.RcptHook(stuck.Email, func() error {
		switch mode.Load() {
		case "451":
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		case "421":
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Too busy"}
		case "drop":
			return smtpserver.ErrDrop
		case "slow":
			time.Sleep(time.Second)
		}
		return nil
	}))
	d := createDigest(t, st, "a")
	s := newSender(t, st, newSMTP(t, srv, func(c *mailer.SMTPConfig) {
		c.Retries, c.Timeout = -1, 300*time.Millisecond
	}))
	res, err := s.Send(ctx, d.ID)
	if err != nil || res.Sent != 2 || res.Deferred != 1 {
		t.Fatalf("first run = %+v, %v; want 2 sent, 1 deferred", res, err)
	}

	for i, m := range []string{"421", "drop", "slow", "421"} {
		mode.Store(m)
		attempts := i + 2
		res, err := s.Send(ctx, d.ID)
		if err != nil {
			t.Fatalf("resume with %s to one address: %v, want no error (the server is up)", m, err)
		}
		del, derr := st.Delivery(ctx, d.ID, stuck.ID)
		if derr != nil {
			t.Fatal(derr)
		}
		if attempts < DefaultMaxAttempts {
			if res.Deferred != 1 || res.Finished || del.Status != store.DeliveryPending || del.Attempts != attempts {
				t.Errorf("resume with %s: %+v, delivery %+v; want it deferred after %d attempts", m, res, del, attempts)
			}
			continue
		}
		if res.Failed != 1 || !res.Finished || del.Status != store.DeliveryFailed {
			t.Errorf("resume with %s at the last attempt: %+v, delivery %+v; want it failed and the digest done", m, res, del)
		}
	}
	if sub, _ := st.Get(ctx, stuck.ID); sub.Status != store.StatusActive || sub.ConsecutiveFailures != 0 {
		t.Errorf("subscriber after temporary failures: %+v, want active with no failure counted", sub)
	}
}

// A subscriber whose To header cannot be built (a name of one 901-byte
// word, stored before names were limited) fails their own delivery, with
// the reason recorded and nothing counted towards bouncing; everyone else
// gets the digest, which ends, so the next one is not held back.
func TestSendRecipientThatCannotBeBuiltFailsAlone(t *testing.T) {
	ctx := context.Background()
	st, path := openStore(t)
	subs := addSubscribers(t, st, "r", 4)
	long := subs[1]
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE subscribers SET name = ? WHERE id = ?`, strings.Repeat("A", 901), long.ID); err != nil {
		t.Fatal(err)
	}
	srv := smtpserver.Start(t)
	d := createDigest(t, st, "a")
	s := newSender(t, st, newSMTP(t, srv, nil))
	s.BounceAfter = 1
	res, err := s.Send(ctx, d.ID)
	if err != nil || !res.Finished || res.Sent != 3 || res.Failed != 1 || res.Bounced != 0 {
		t.Fatalf("Send = %+v, %v; want 3 sent, the long name failed, finished", res, err)
	}
	del, err := st.Delivery(ctx, d.ID, long.ID)
	if err != nil {
		t.Fatal(err)
	}
	if del.Status != store.DeliveryFailed || !strings.Contains(del.LastError, "cannot be built") {
		t.Errorf("delivery to the long name: %+v, want failed with the reason", del)
	}
	if sub, _ := st.Get(ctx, long.ID); sub.Status != store.StatusActive || sub.ConsecutiveFailures != 0 {
		t.Errorf("subscriber with the long name: %s, %d failures; want active, none counted", sub.Status, sub.ConsecutiveFailures)
	}
	if count, _ := received(srv); count[long.Email] != 0 || len(count) != 3 {
		t.Errorf("received: %v, want the 3 others once each", count)
	}
	if _, err := st.CreateDigest(ctx, "next", testItems("b"), t0.Add(time.Hour)); err != nil {
		t.Errorf("the next digest: %v", err)
	}
}
