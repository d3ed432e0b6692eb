package digest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

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

func TestSendTemporaryFailures(t *testing.T) {
	ctx := context.Background()
	st, _ := openStore(t)
	subs := addSubscribers(t, st, "r", 6)
	busy, stuck := subs[1].Email, subs[4].Email
	srv := smtpserver.Start(t, smtpserver.TempFail(busy, 2), smtpserver.TempFail(stuck, 100))
	d := createDigest(t, st, "a")

	res, err := newSender(t, st, newSMTP(t, srv, func(c *mailer.SMTPConfig) { c.Retries = 3 })).Send(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 5 || res.Failed != 1 || res.Bounced != 0 || !res.Finished {
		t.Errorf("Result = %+v, want 5 sent and 1 failed", res)
	}
	if n := srv.RcptAttempts(busy); n != 3 {
		t.Errorf("%s: %d attempts, want 3 (two 451 then accepted)", busy, n)
	}
	if n := srv.RcptAttempts(stuck); n != 4 {
		t.Errorf("%s: %d attempts, want 4 (the first and 3 retries)", stuck, n)
	}
	del, err := st.Delivery(ctx, d.ID, subs[4].ID)
	if err != nil {
		t.Fatal(err)
	}
	if del.Status != store.DeliveryFailed || !strings.Contains(del.LastError, "451") {
		t.Errorf("stuck delivery: %+v, want failed with the 451", del)
	}
	sub, err := st.Get(ctx, subs[4].ID)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != store.StatusActive || sub.ConsecutiveFailures != 0 {
		t.Errorf("a temporary failure must not count towards bouncing: %+v", sub)
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
