package digest

import (
	"context"
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
	d, _, err := Next(ctx, st, r, pubs, now, "fr", 720*time.Hour, 0)
	if err != nil || d != nil {
		t.Fatalf("without subscribers: %v, %v", d, err)
	}
	if n, _ := st.CountDigests(ctx); n != 0 {
		t.Fatal("a digest was created for nobody")
	}

	if _, err := st.Add(ctx, store.NewSubscriber{Email: "a@example.org", Lang: "fr"}, now); err != nil {
		t.Fatal(err)
	}
	d, resumed, err := Next(ctx, st, r, pubs, now, "fr", 720*time.Hour, 0)
	if err != nil || d == nil || resumed || len(d.Items) != 2 || d.Deliveries.Pending != 1 {
		t.Fatalf("first digest: %+v resumed=%v err=%v", d, resumed, err)
	}
	// Unfinished: the same digest comes back, resumed.
	again, resumed, err := Next(ctx, st, r, pubs, now, "fr", 720*time.Hour, 0)
	if err != nil || again == nil || !resumed || again.ID != d.ID {
		t.Fatalf("unfinished digest not resumed: %+v %v %v", again, resumed, err)
	}
	// Once every delivery is recorded and the digest finished, nothing is
	// new any more.
	sub, _ := st.GetByEmail(ctx, "a@example.org")
	if err := st.MarkSent(ctx, d.ID, sub.ID, "m@example.org", now); err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(ctx, d.ID, now); err != nil {
		t.Fatal(err)
	}
	if d, _, err := Next(ctx, st, r, pubs, now.Add(time.Hour), "fr", 720*time.Hour, 0); err != nil || d != nil {
		t.Fatalf("after the digest: %+v %v", d, err)
	}
}
