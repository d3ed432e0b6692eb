package digest

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
	"github.com/ecoresponsable/bulletin/token"
)

func TestNext(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "n.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	r := NewRenderer(tpl, signer, Settings{SiteTitle: "Site", SiteURL: "https://example.org/"})
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	pubs := []*publication.Publication{
		{ID: "https://example.org/a/", URL: "https://example.org/a/", Title: "A", Date: now.Add(-24 * time.Hour)},
		{ID: "https://example.org/b/", URL: "https://example.org/b/", Title: "B", Date: now.Add(-48 * time.Hour)},
	}

	// Nobody to send to: nothing is created, the publications wait.
	d, err := Next(ctx, st, r, pubs, now, "fr", 720*time.Hour, 0)
	if err != nil || d != nil {
		t.Fatalf("without subscribers: %v, %v", d, err)
	}
	if n, _ := st.CountDigests(ctx); n != 0 {
		t.Fatal("a digest was created for nobody")
	}

	a, err := st.Add(ctx, store.NewSubscriber{Email: "a@example.org", Lang: "fr"}, now)
	if err != nil {
		t.Fatal(err)
	}
	grey, err := st.Add(ctx, store.NewSubscriber{Email: "grey@example.org", Lang: "fr"}, now)
	if err != nil {
		t.Fatal(err)
	}
	d, err = Next(ctx, st, r, pubs[1:], now, "fr", 720*time.Hour, 0)
	if err != nil || d == nil || len(d.Items) != 1 || d.Deliveries.Pending != 2 {
		t.Fatalf("first digest: %+v err=%v", d, err)
	}
	// Its deliveries were never tried: no new digest yet.
	if again, err := Next(ctx, st, r, pubs, now, "fr", 720*time.Hour, 0); !errors.Is(err, store.ErrUnfinished) || again != nil {
		t.Fatalf("Next while a digest was never sent: %+v, %v; want store.ErrUnfinished", again, err)
	}
	// Sent to one, deferred for the other: it no longer holds back what
	// is new since.
	if err := st.MarkSent(ctx, d.ID, a.ID, "m@example.org", now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MarkDeferred(ctx, d.ID, grey.ID, "451 greylisted", DefaultMaxAttempts, now); err != nil {
		t.Fatal(err)
	}
	d2, err := Next(ctx, st, r, pubs, now, "fr", 720*time.Hour, 0)
	if err != nil || d2 == nil || len(d2.Items) != 1 || d2.Items[0].PublicationID != pubs[0].ID || d2.Deliveries.Pending != 2 {
		t.Fatalf("digest after one with a deferred delivery: %+v, %v; want one of %s to both", d2, err, pubs[0].ID)
	}
	// Once everything is announced, nothing is new any more.
	if d, err := Next(ctx, st, r, pubs, now.Add(time.Hour), "fr", 720*time.Hour, 0); err != nil || d != nil {
		t.Fatalf("after the digests: %+v %v", d, err)
	}
}
