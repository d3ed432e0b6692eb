package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func sampleItems(ids ...string) []DigestItem {
	items := make([]DigestItem, len(ids))
	for i, id := range ids {
		items[i] = DigestItem{
			PublicationID: id,
			Title:         "Titre « " + id + " »",
			URL:           "https://example.org/" + id + "/",
			Description:   "Résumé de " + id,
			Date:          time.Date(2026, 2, i+1, 9, 30, 0, 0, time.FixedZone("CET", 3600)),
			Tags:          []string{"climat", "web"},
			Thumbnail:     "https://example.org/" + id + ".webp",
			Type:          "article",
		}
	}
	return items
}

func TestCreateDigest(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a1 := mustAdd(t, s, "a1@example.org")
	a2 := mustAdd(t, s, "a2@example.org")
	if _, _, err := s.CreatePending(ctx, NewSubscriber{Email: "pending@example.org"}, at(0)); err != nil {
		t.Fatal(err)
	}
	u := mustAdd(t, s, "unsub@example.org")
	bo := mustAdd(t, s, "bounced@example.org")
	if err := s.SetStatus(ctx, u.ID, StatusUnsubscribed, at(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, bo.ID, StatusBounced, at(1)); err != nil {
		t.Fatal(err)
	}
	a3 := mustAdd(t, s, "a3@example.org")

	if d, err := s.Unfinished(ctx); err != nil || len(d) != 0 {
		t.Fatalf("Unfinished on an empty base = %v, %v", d, err)
	}
	if d, err := s.LastDigest(ctx); err != nil || d != nil {
		t.Fatalf("LastDigest on an empty base = %v, %v", d, err)
	}
	if _, err := s.CreateDigest(ctx, "vide", nil, at(2)); err == nil {
		t.Error("CreateDigest accepted no items")
	}

	items := sampleItems("p1", "p2")
	d, err := s.CreateDigest(ctx, "Lettre n°1", items, at(10))
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == 0 || d.Status != DigestSending || d.Deliveries.Pending != 3 {
		t.Errorf("CreateDigest = %+v", d)
	}

	late := mustAdd(t, s, "late@example.org")

	got, err := s.GetDigest(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != len(items) {
		t.Fatalf("GetDigest items = %d, want %d", len(got.Items), len(items))
	}
	for i := range items {
		if !got.Items[i].Date.Equal(items[i].Date) {
			t.Errorf("item %d date %v, want %v", i, got.Items[i].Date, items[i].Date)
		}
		got.Items[i].Date = items[i].Date
	}
	if !reflect.DeepEqual(got.Items, items) {
		t.Errorf("snapshot differs:\n got %+v\nwant %+v", got.Items, items)
	}
	if got.Subject != "Lettre n°1" || !got.CreatedAt.Equal(at(10)) || got.Deliveries != (DeliveryCounts{Pending: 3}) {
		t.Errorf("GetDigest = %+v", got)
	}

	var recipients []int64
	for _, r := range mustPending(t, s, d.ID, 0, 100) {
		recipients = append(recipients, r.ID)
	}
	if fmt.Sprint(recipients) != fmt.Sprint([]int64{a1.ID, a2.ID, a3.ID}) {
		t.Errorf("recipients = %v, want the active subscribers %v (not %d, added later)",
			recipients, []int64{a1.ID, a2.ID, a3.ID}, late.ID)
	}

	sent, err := s.SentPublicationIDs(ctx)
	if err != nil || len(sent) != 2 || !sent["p1"] || !sent["p2"] {
		t.Errorf("SentPublicationIDs = %v, %v", sent, err)
	}

	_, err = s.CreateDigest(ctx, "Lettre n°2", sampleItems("p3"), at(20))
	var unfinished *UnfinishedError
	if !errors.Is(err, ErrUnfinished) || !errors.As(err, &unfinished) || unfinished.DigestID != d.ID {
		t.Fatalf("CreateDigest while sending error = %v, want ErrUnfinished naming digest %d", err, d.ID)
	}
	if u, err := s.Unfinished(ctx); err != nil || len(u) != 1 || u[0].ID != d.ID || len(u[0].Items) != 2 {
		t.Errorf("Unfinished = %+v, %v", u, err)
	}

	if err := s.Finish(ctx, d.ID, at(30)); !errors.Is(err, ErrPendingDeliveries) {
		t.Errorf("Finish with pending deliveries error = %v", err)
	}
	for _, id := range []int64{a1.ID, a2.ID} {
		if err := s.MarkSent(ctx, d.ID, id, fmt.Sprintf("<%d@bulletin>", id), at(31)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkSkipped(ctx, d.ID, a3.ID, "no matching topic", at(31)); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, d.ID, at(32)); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if err := s.Finish(ctx, d.ID, at(33)); err != nil {
		t.Errorf("second Finish: %v", err)
	}
	if err := s.Finish(ctx, 999, at(33)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Finish(unknown) error = %v", err)
	}
	if u, err := s.Unfinished(ctx); err != nil || len(u) != 0 {
		t.Errorf("Unfinished after Finish = %+v, %v", u, err)
	}

	_, err = s.CreateDigest(ctx, "Lettre n°2", sampleItems("p3", "p1"), at(40))
	if !errors.Is(err, ErrAlreadySent) {
		t.Fatalf("CreateDigest with an announced publication error = %v, want ErrAlreadySent", err)
	}
	if n, _ := s.CountDigests(ctx); n != 1 {
		t.Errorf("a refused CreateDigest left %d digests, want 1", n)
	}
	if sent, _ := s.SentPublicationIDs(ctx); sent["p3"] {
		t.Error("a refused CreateDigest left p3 marked as sent")
	}

	d2, err := s.CreateDigest(ctx, "Lettre n°2", sampleItems("p3"), at(40))
	if err != nil {
		t.Fatal(err)
	}
	if d2.Deliveries.Pending != 4 {
		t.Errorf("second digest has %d recipients, want 4 (with the late subscriber)", d2.Deliveries.Pending)
	}

	list, err := s.ListDigests(ctx, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListDigests = %+v, %v", list, err)
	}
	if list[0].ID != d2.ID || list[0].Deliveries != (DeliveryCounts{Pending: 4}) || list[0].Items != nil {
		t.Errorf("ListDigests[0] = %+v", list[0])
	}
	if list[1].ID != d.ID || list[1].Status != DigestDone || !list[1].FinishedAt.Equal(at(32)) ||
		list[1].Deliveries != (DeliveryCounts{Sent: 2, Skipped: 1}) {
		t.Errorf("ListDigests[1] = %+v", list[1])
	}
	if one, _ := s.ListDigests(ctx, 1); len(one) != 1 || one[0].ID != d2.ID {
		t.Errorf("ListDigests(1) = %+v", one)
	}
	last, err := s.LastDigest(ctx)
	if err != nil || last == nil || last.ID != d2.ID || len(last.Items) != 1 {
		t.Errorf("LastDigest = %+v, %v", last, err)
	}
	total, err := s.CountDeliveriesByStatus(ctx)
	if err != nil || total != (DeliveryCounts{Pending: 4, Sent: 2, Skipped: 1}) || total.Total() != 7 {
		t.Errorf("CountDeliveriesByStatus = %+v, %v", total, err)
	}
}

// A digest whose only pending deliveries are deferred does not hold back
// the next one: both stay sending, listed oldest first, and a digest with a
// delivery never tried still refuses another. A subscriber who leaves has
// their pending rows skipped in every digest still sending.
func TestDeferredDigestDoesNotBlockTheNext(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a, b := mustAdd(t, s, "a@example.org"), mustAdd(t, s, "grey@example.org")
	d1, err := s.CreateDigest(ctx, "first", sampleItems("p1"), at(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, d1.ID, a.ID, "m1@x", at(2)); err != nil {
		t.Fatal(err)
	}
	// Never tried yet: it blocks.
	if _, err := s.CreateDigest(ctx, "second", sampleItems("p2"), at(3)); !errors.Is(err, ErrUnfinished) {
		t.Fatalf("CreateDigest while a delivery was never tried: %v, want ErrUnfinished", err)
	}
	if failed, err := s.MarkDeferred(ctx, d1.ID, b.ID, "451 greylisted", 5, at(4)); err != nil || failed {
		t.Fatalf("MarkDeferred = %v, %v", failed, err)
	}
	got, err := s.GetDigest(ctx, d1.ID)
	if err != nil || got.Status != DigestSending || got.Deliveries != (DeliveryCounts{Pending: 1, Deferred: 1, Sent: 1}) {
		t.Fatalf("digest with a deferred delivery = %+v, %v", got, err)
	}

	d2, err := s.CreateDigest(ctx, "second", sampleItems("p2"), at(5))
	if err != nil {
		t.Fatalf("CreateDigest with only a deferred delivery left: %v", err)
	}
	if d2.Deliveries.Pending != 2 {
		t.Errorf("second digest has %d recipients, want 2", d2.Deliveries.Pending)
	}
	// d2 was never tried: a third waits for it.
	var unfinished *UnfinishedError
	if _, err := s.CreateDigest(ctx, "third", sampleItems("p3"), at(6)); !errors.As(err, &unfinished) || unfinished.DigestID != d2.ID {
		t.Fatalf("CreateDigest while d2 was never tried: %v, want ErrUnfinished naming %d", err, d2.ID)
	}
	list, err := s.Unfinished(ctx)
	if err != nil || len(list) != 2 || list[0].ID != d1.ID || list[1].ID != d2.ID ||
		list[0].Deliveries.Deferred != 1 || list[1].Deliveries.Deferred != 0 || len(list[1].Items) != 1 {
		t.Fatalf("Unfinished = %+v, %v; want d1 (1 deferred) then d2", list, err)
	}
	if total, err := s.CountDeliveriesByStatus(ctx); err != nil || total != (DeliveryCounts{Pending: 3, Deferred: 1, Sent: 1}) {
		t.Errorf("CountDeliveriesByStatus = %+v, %v", total, err)
	}

	if err := s.SetStatus(ctx, b.ID, StatusUnsubscribed, at(7)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{d1.ID, d2.ID} {
		if del, err := s.Delivery(ctx, id, b.ID); err != nil || del.Status != DeliverySkipped {
			t.Errorf("digest %d: delivery to the unsubscribed address %+v, %v; want skipped", id, del, err)
		}
	}
}

func mustPending(t *testing.T, s *SQLite, digestID, after int64, limit int) []Recipient {
	t.Helper()
	rs, err := s.PendingDeliveries(context.Background(), digestID, after, limit)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Two goroutines on two separate stores (two connection pools, as two
// processes would have) race to create a digest: exactly one wins.
func TestCreateDigestRaceConnections(t *testing.T) {
	ctx := context.Background()
	first, path := openTest(t)
	seedActive(t, first, "r", 500)
	stores := []*SQLite{first}
	for range 5 {
		stores = append(stores, openAt(t, path))
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created []int64
		refused int
	)
	start := make(chan struct{})
	for i, st := range stores {
		wg.Go(func() {
			<-start
			d, err := st.CreateDigest(ctx, "race", sampleItems(fmt.Sprintf("race-%d", i)), at(0))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created = append(created, d.ID)
			case errors.Is(err, ErrUnfinished):
				refused++
			default:
				t.Errorf("CreateDigest: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(created) != 1 || refused != len(stores)-1 {
		t.Fatalf("created %v, refused %d; want exactly one digest", created, refused)
	}
	if n, _ := first.CountDigests(ctx); n != 1 {
		t.Errorf("%d digests in the base, want 1", n)
	}
	if c, _ := first.CountDeliveriesByStatus(ctx); c.Pending != 500 {
		t.Errorf("%d pending deliveries, want 500", c.Pending)
	}
}

// Two real processes race to create a digest on the same file.
func TestCreateDigestRaceProcesses(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	seedActive(t, s, "r", 2000)
	start := fmt.Sprint(time.Now().Add(700 * time.Millisecond).UnixNano())
	var outs []*bufio.Reader
	var cmds []func() error
	for range 2 {
		cmd := helperCmd(t, "create-digest", path, startEnv+"="+start)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, bufio.NewReader(out))
		cmds = append(cmds, cmd.Wait)
	}
	var results []string
	for i, out := range outs {
		results = append(results, readLine(t, out))
		if err := cmds[i](); err != nil {
			t.Errorf("helper %d: %v", i, err)
		}
	}
	created := 0
	for _, r := range results {
		if strings.HasPrefix(r, "created ") {
			created++
		} else if r != "unfinished" {
			t.Errorf("helper said %q", r)
		}
	}
	if created != 1 {
		t.Errorf("helpers said %q; want exactly one digest created", results)
	}
	if n, _ := s.CountDigests(ctx); n != 1 {
		t.Errorf("%d digests in the base, want 1", n)
	}
	if c, _ := s.CountDeliveriesByStatus(ctx); c.Pending != 2000 {
		t.Errorf("%d pending deliveries, want 2000", c.Pending)
	}
}
