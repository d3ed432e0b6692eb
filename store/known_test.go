package store

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
)

func TestCreateDigestWithKnown(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	mustAdd(t, s, "a@example.org")

	d1, err := s.CreateDigestWithKnown(ctx, "first", sampleItems("new1", "new2"),
		[]string{"old1", "old2", "new1", "", "old1"}, at(1))
	if err != nil {
		t.Fatal(err)
	}
	seenIDs := func(st *SQLite) []string {
		t.Helper()
		seen, err := st.SeenPublicationIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Sorted(maps.Keys(seen))
	}
	if got, want := seenIDs(s), []string{"new1", "new2", "old1", "old2"}; !slices.Equal(got, want) {
		t.Errorf("SeenPublicationIDs = %v, want %v", got, want)
	}
	sent, err := s.SentPublicationIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 || !sent["new1"] || !sent["new2"] {
		t.Errorf("SentPublicationIDs = %v: known publications must not count as announced", sent)
	}
	if err := s.MarkSent(ctx, d1.ID, 1, "m@x", at(2)); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, d1.ID, at(2)); err != nil {
		t.Fatal(err)
	}

	// Known again or already sent: ignored, not an error; the digest's own
	// items are never recorded as known.
	if _, err := s.CreateDigestWithKnown(ctx, "second", sampleItems("new3"), []string{"old1", "new2", "old3"}, at(3)); err != nil {
		t.Fatal(err)
	}
	other := openAt(t, path)
	if got, want := seenIDs(other), []string{"new1", "new2", "new3", "old1", "old2", "old3"}; !slices.Equal(got, want) {
		t.Errorf("after the second digest SeenPublicationIDs = %v, want %v", got, want)
	}
}

func TestCreateDigestWithKnownIsAtomic(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	mustAdd(t, s, "a@example.org")
	d, err := s.CreateDigest(ctx, "first", sampleItems("p1"), at(1))
	if err != nil {
		t.Fatal(err)
	}
	// Refused while d has a delivery never tried: neither its items nor
	// its known publications may be recorded.
	_, err = s.CreateDigestWithKnown(ctx, "second", sampleItems("p2"), []string{"old"}, at(2))
	if !errors.Is(err, ErrUnfinished) {
		t.Fatalf("CreateDigestWithKnown during a send: %v, want ErrUnfinished", err)
	}
	seen, err := s.SeenPublicationIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || !seen["p1"] {
		t.Errorf("SeenPublicationIDs = %v after a refused digest, want only p1 of digest %d", seen, d.ID)
	}
}
