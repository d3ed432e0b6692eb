package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestMarkSentAndFailed(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ok := mustAdd(t, s, "ok@example.org")
	flaky := mustAdd(t, s, "flaky@example.org")
	gone := mustAdd(t, s, "gone@example.org")
	const bounceAfter = 3

	// One digest per round; gone fails permanently each time, flaky fails
	// permanently twice then succeeds, which resets its count.
	for round := range 4 {
		d, err := s.CreateDigest(ctx, "", sampleItems(fmt.Sprint("r", round)), at(round*100))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		now := at(round*100 + 1)
		if err := s.MarkSent(ctx, d.ID, ok.ID, "<ok>", now); err != nil {
			t.Fatal(err)
		}
		if round < 3 {
			bounced, err := s.MarkFailed(ctx, d.ID, gone.ID, "550 5.1.1 no such user", true, bounceAfter, now)
			if err != nil {
				t.Fatal(err)
			}
			if want := round == bounceAfter-1; bounced != want {
				t.Errorf("round %d: bounced = %v, want %v", round, bounced, want)
			}
		} else if rs := mustPending(t, s, d.ID, 0, 10); len(rs) != 1 || rs[0].ID != flaky.ID {
			t.Errorf("round %d: the bounced subscriber is still a recipient: %+v", round, rs)
		}
		switch round {
		case 0, 1:
			if _, err := s.MarkFailed(ctx, d.ID, flaky.ID, "550 mailbox disabled", true, bounceAfter, now); err != nil {
				t.Fatal(err)
			}
		case 2:
			if err := s.MarkSent(ctx, d.ID, flaky.ID, "<flaky>", now); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Get(ctx, flaky.ID); got.ConsecutiveFailures != 0 {
				t.Errorf("a success left %d consecutive failures", got.ConsecutiveFailures)
			}
		case 3:
			if _, err := s.MarkFailed(ctx, d.ID, flaky.ID, "421 try later", false, bounceAfter, now); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Finish(ctx, d.ID, now); err != nil {
			t.Fatalf("round %d: Finish: %v", round, err)
		}
	}

	g, _ := s.Get(ctx, gone.ID)
	if g.Status != StatusBounced || g.ConsecutiveFailures != bounceAfter {
		t.Errorf("gone after %d permanent failures: %+v", bounceAfter, g)
	}
	f, _ := s.Get(ctx, flaky.ID)
	if f.Status != StatusActive || f.ConsecutiveFailures != 0 {
		t.Errorf("flaky after a success and a temporary failure: %+v", f)
	}

	del, err := s.Delivery(ctx, 1, ok.ID)
	if err != nil || del.Status != DeliverySent || del.MessageID != "<ok>" || del.Attempts != 1 || !del.UpdatedAt.Equal(at(1)) {
		t.Errorf("Delivery = %+v, %v", del, err)
	}
	del, _ = s.Delivery(ctx, 1, gone.ID)
	if del.Status != DeliveryFailed || del.LastError != "550 5.1.1 no such user" || del.Attempts != 1 {
		t.Errorf("failed Delivery = %+v", del)
	}
	if err := s.MarkSent(ctx, 1, ok.ID, "<again>", at(500)); !errors.Is(err, ErrNotPending) {
		t.Errorf("MarkSent twice error = %v, want ErrNotPending", err)
	}
	if _, err := s.MarkFailed(ctx, 1, ok.ID, "x", true, 1, at(500)); !errors.Is(err, ErrNotPending) {
		t.Errorf("MarkFailed of a sent delivery error = %v, want ErrNotPending", err)
	}
	if err := s.MarkSkipped(ctx, 1, 999, "x", at(500)); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkSkipped of an unknown delivery error = %v, want ErrNotFound", err)
	}
	if _, err := s.Delivery(ctx, 1, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delivery(unknown) error = %v", err)
	}
}

func TestLeavingDuringSend(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	stays := mustAdd(t, s, "stays@example.org")
	leaves := mustAdd(t, s, "leaves@example.org")
	removed := mustAdd(t, s, "removed@example.org")
	d, err := s.CreateDigest(ctx, "", sampleItems("p"), at(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, leaves.ID, StatusUnsubscribed, at(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, removed.ID); err != nil {
		t.Fatal(err)
	}
	rs := mustPending(t, s, d.ID, 0, 10)
	if len(rs) != 1 || rs[0].ID != stays.ID {
		t.Fatalf("pending after an unsubscribe and a removal: %+v", rs)
	}
	del, _ := s.Delivery(ctx, d.ID, leaves.ID)
	if del.Status != DeliverySkipped || !strings.Contains(del.LastError, "unsubscribed") {
		t.Errorf("delivery of the unsubscribed: %+v", del)
	}
	// The message to the leaver was already on its way: recording it is
	// refused and says why, the ledger keeps "skipped".
	if err := s.MarkSent(ctx, d.ID, leaves.ID, "<late>", at(2)); !errors.Is(err, ErrNotPending) ||
		!strings.Contains(err.Error(), "skipped") {
		t.Errorf("MarkSent of a skipped delivery error = %v, want ErrNotPending saying skipped", err)
	}
	if _, err := s.Delivery(ctx, d.ID, removed.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delivery of the removed subscriber still there: %v", err)
	}
	if err := s.MarkSent(ctx, d.ID, stays.ID, "<m>", at(2)); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, stays.ID); err != nil {
		t.Fatal(err)
	}
	if del, err := s.Delivery(ctx, d.ID, stays.ID); err != nil || del.Status != DeliverySent {
		t.Errorf("Remove dropped a recorded delivery: %+v, %v", del, err)
	}
	if err := s.Finish(ctx, d.ID, at(3)); err != nil {
		t.Errorf("Finish: %v", err)
	}
}

// The sender's shape: one goroutine pages through pending rows while four
// workers mark them; every subscriber is delivered exactly once.
func TestPendingPaginationWithConcurrentMarks(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const n = 2000
	seedActive(t, s, "u", n)
	d, err := s.CreateDigest(ctx, "", sampleItems("p"), at(0))
	if err != nil {
		t.Fatal(err)
	}

	work := make(chan Recipient, 64)
	var (
		mu    sync.Mutex
		seen  = make(map[int64]int)
		wg    sync.WaitGroup
		pages int
	)
	for w := range 4 {
		wg.Go(func() {
			for r := range work {
				mu.Lock()
				seen[r.ID]++
				mu.Unlock()
				var err error
				if r.ID%10 == 0 {
					err = s.MarkSkipped(ctx, d.ID, r.ID, "no matching topic", at(1))
				} else {
					err = s.MarkSent(ctx, d.ID, r.ID, fmt.Sprintf("<%d.%d@bulletin>", r.ID, w), at(1))
				}
				if err != nil {
					t.Errorf("mark %d: %v", r.ID, err)
				}
			}
		})
	}
	var after int64
	for {
		batch, err := s.PendingDeliveries(ctx, d.ID, after, 97)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		pages++
		for _, r := range batch {
			if r.ID <= after {
				t.Fatalf("page out of order: %d after %d", r.ID, after)
			}
			after = r.ID
			work <- r
		}
	}
	close(work)
	wg.Wait()

	if len(seen) != n {
		t.Errorf("%d distinct recipients, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("subscriber %d handed out %d times", id, c)
		}
	}
	if pages < n/97 {
		t.Errorf("only %d pages", pages)
	}
	counts, err := s.CountDeliveriesByStatus(ctx)
	if err != nil || counts != (DeliveryCounts{Sent: n - n/10, Skipped: n / 10}) {
		t.Errorf("counts = %+v, %v", counts, err)
	}
	if err := s.Finish(ctx, d.ID, at(2)); err != nil {
		t.Errorf("Finish: %v", err)
	}
}

// After a crash halfway, paging from the start again yields exactly the
// subscribers not yet recorded.
func TestResumeSeesOnlyUnrecorded(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	seedActive(t, s, "u", 300)
	d, err := s.CreateDigest(ctx, "", sampleItems("p"), at(0))
	if err != nil {
		t.Fatal(err)
	}
	first := mustPending(t, s, d.ID, 0, 300)
	done := make(map[int64]bool)
	for _, r := range first[:170] {
		if err := s.MarkSent(ctx, d.ID, r.ID, "<m>", at(1)); err != nil {
			t.Fatal(err)
		}
		done[r.ID] = true
	}

	resumed := openAt(t, path)
	var got []int64
	var after int64
	for {
		batch, err := resumed.PendingDeliveries(ctx, d.ID, after, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		for _, r := range batch {
			if done[r.ID] {
				t.Errorf("subscriber %d already sent is pending again", r.ID)
			}
			if r.Attempts != 0 || r.Status != StatusActive || !strings.HasSuffix(r.Email, "@example.org") {
				t.Errorf("recipient %+v", r)
			}
			got = append(got, r.ID)
			after = r.ID
		}
	}
	if len(got) != 130 {
		t.Errorf("resume found %d pending, want 130", len(got))
	}
}

// A temporary failure keeps the delivery pending with one more attempt,
// until the attempt limit fails it; it never counts towards bouncing.
func TestMarkDeferred(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	stuck := mustAdd(t, s, "stuck@example.org")
	patient := mustAdd(t, s, "patient@example.org")
	d, err := s.CreateDigest(ctx, "", sampleItems("p"), at(0))
	if err != nil {
		t.Fatal(err)
	}
	const maxAttempts = 3
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		msg := fmt.Sprintf("451 4.7.1 try later (%d)", attempt)
		failed, err := s.MarkDeferred(ctx, d.ID, stuck.ID, msg, maxAttempts, at(attempt))
		if err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		if want := attempt == maxAttempts; failed != want {
			t.Errorf("attempt %d: failed = %v, want %v", attempt, failed, want)
		}
		del, err := s.Delivery(ctx, d.ID, stuck.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus := DeliveryPending
		if attempt == maxAttempts {
			wantStatus = DeliveryFailed
		}
		if del.Status != wantStatus || del.Attempts != attempt || del.LastError != msg || !del.UpdatedAt.Equal(at(attempt)) {
			t.Errorf("attempt %d: delivery %+v, want %s with %d attempts and the error", attempt, del, wantStatus, attempt)
		}
		if attempt < maxAttempts {
			if rs := mustPending(t, s, d.ID, 0, 10); len(rs) != 2 || rs[0].ID != stuck.ID || rs[0].Attempts != attempt {
				t.Errorf("attempt %d: the deferred delivery is not pending with its attempts: %+v", attempt, rs)
			}
		}
	}
	if _, err := s.MarkDeferred(ctx, d.ID, stuck.ID, "451", maxAttempts, at(9)); !errors.Is(err, ErrNotPending) ||
		!strings.Contains(err.Error(), "failed") {
		t.Errorf("MarkDeferred of a failed delivery: %v, want ErrNotPending saying failed", err)
	}
	if _, err := s.MarkDeferred(ctx, d.ID, 999, "451", maxAttempts, at(9)); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkDeferred of an unknown delivery: %v, want ErrNotFound", err)
	}
	sub, err := s.Get(ctx, stuck.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != StatusActive || sub.ConsecutiveFailures != 0 {
		t.Errorf("temporary failures counted against the subscriber: %+v", sub)
	}

	// With no limit the delivery stays pending however many runs fail.
	for i := range 10 {
		if failed, err := s.MarkDeferred(ctx, d.ID, patient.ID, "421 busy", 0, at(10+i)); err != nil || failed {
			t.Fatalf("MarkDeferred without a limit: %v, %v", failed, err)
		}
	}
	if err := s.Finish(ctx, d.ID, at(30)); !errors.Is(err, ErrPendingDeliveries) {
		t.Errorf("Finish with a deferred delivery: %v, want ErrPendingDeliveries", err)
	}
	if err := s.MarkSent(ctx, d.ID, patient.ID, "<m>", at(31)); err != nil {
		t.Fatal(err)
	}
	if del, _ := s.Delivery(ctx, d.ID, patient.ID); del.Attempts != 11 || del.LastError != "" {
		t.Errorf("sent after 10 deferrals: %+v, want 11 attempts and no error", del)
	}
	if err := s.Finish(ctx, d.ID, at(32)); err != nil {
		t.Errorf("Finish: %v", err)
	}
	got, err := s.GetDigest(ctx, d.ID)
	if err != nil || got.Deliveries != (DeliveryCounts{Sent: 1, Failed: 1}) {
		t.Errorf("digest counts %+v, %v; want 1 sent, 1 failed", got.Deliveries, err)
	}
}

// PendingRecipient sees what happened after the batch was read: a change of
// preferences, an unsubscribe, a removal, a recorded delivery.
func TestPendingRecipient(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	changes := mustAdd(t, s, "changes@example.org")
	leaves := mustAdd(t, s, "leaves@example.org")
	removed := mustAdd(t, s, "removed@example.org")
	sent := mustAdd(t, s, "sent@example.org")
	d, err := s.CreateDigest(ctx, "", sampleItems("p"), at(0))
	if err != nil {
		t.Fatal(err)
	}
	if batch := mustPending(t, s, d.ID, 0, 10); len(batch) != 4 {
		t.Fatalf("batch %+v", batch)
	}

	if _, err := s.MarkDeferred(ctx, d.ID, changes.ID, "451", 5, at(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdatePreferences(ctx, changes.ID, "en", []string{"climat"}, at(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, leaves.ID, StatusUnsubscribed, at(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, removed.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, d.ID, sent.ID, "<m>", at(1)); err != nil {
		t.Fatal(err)
	}

	r, err := s.PendingRecipient(ctx, d.ID, changes.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != changes.ID || r.Email != changes.Email || r.Status != StatusActive || r.Lang != "en" ||
		len(r.Topics) != 1 || r.Topics[0] != "climat" || r.Attempts != 1 {
		t.Errorf("PendingRecipient = %+v, want the new preferences and 1 attempt", r)
	}
	if _, err := s.PendingRecipient(ctx, d.ID, leaves.ID); !errors.Is(err, ErrNotPending) || !strings.Contains(err.Error(), "skipped") {
		t.Errorf("PendingRecipient of an unsubscribed subscriber: %v, want ErrNotPending saying skipped", err)
	}
	if _, err := s.PendingRecipient(ctx, d.ID, removed.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("PendingRecipient of a removed subscriber: %v, want ErrNotFound", err)
	}
	if _, err := s.PendingRecipient(ctx, d.ID, sent.ID); !errors.Is(err, ErrNotPending) || !strings.Contains(err.Error(), "sent") {
		t.Errorf("PendingRecipient of a sent delivery: %v, want ErrNotPending saying sent", err)
	}
	if _, err := s.PendingRecipient(ctx, d.ID+1, changes.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("PendingRecipient of an unknown digest: %v, want ErrNotFound", err)
	}
}
