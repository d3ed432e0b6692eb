package digest

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
)

// t0 is the "now" of the selection tests.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func openStore(t testing.TB) (*store.SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bulletin.db")
	st, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

// pub is a published publication dated daysAgo days before t0.
func pub(id string, daysAgo int, tags ...string) *publication.Publication {
	return &publication.Publication{
		ID:          "https://example.org/" + id + "/",
		URL:         "https://example.org/" + id + "/",
		Title:       "Titre " + id,
		Description: "Résumé de " + id,
		Date:        t0.AddDate(0, 0, -daysAgo),
		Tags:        tags,
		Thumbnail:   "https://example.org/" + id + ".webp",
		Type:        "article",
	}
}

func ids(items []store.DigestItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.PublicationID
	}
	return out
}

func mustSelect(t *testing.T, st store.Store, pubs []*publication.Publication, now time.Time, maxItems int) ([]store.DigestItem, []string) {
	t.Helper()
	items, known, err := Select(context.Background(), st, pubs, now, DefaultFirstSince, maxItems)
	if err != nil {
		t.Fatalf("Select: %v", err)
	}
	return items, known
}

// createAndFinish records a digest of items (with known) and marks it done,
// as a completed send would.
func createAndFinish(t *testing.T, st *store.SQLite, items []store.DigestItem, known []string, now time.Time) store.Digest {
	t.Helper()
	ctx := context.Background()
	d, err := st.CreateDigestWithKnown(ctx, "digest", items, known, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(ctx, d.ID, now); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSelectFirstDigestWindowAndKnownArchive(t *testing.T) {
	st, _ := openStore(t)
	old1, old2 := pub("old1", 400), pub("old2", 31)
	recent1, recent2 := pub("recent1", 29), pub("recent2", 1)
	future := pub("future", -3)
	pubs := []*publication.Publication{recent2, old1, future, recent1, old2}

	items, known := mustSelect(t, st, pubs, t0, 0)
	if got, want := ids(items), []string{recent2.ID, recent1.ID}; !slices.Equal(got, want) {
		t.Errorf("first digest items = %v, want %v (the last 30 days, newest first)", got, want)
	}
	if got, want := known, []string{old1.ID, old2.ID}; !slices.Equal(got, want) {
		t.Errorf("first digest known = %v, want %v (the older archive)", got, want)
	}
	it := items[0]
	if it.Title != recent2.Title || it.URL != recent2.URL || it.Description != recent2.Description ||
		!it.Date.Equal(recent2.Date) || it.Thumbnail != recent2.Thumbnail || it.Type != "article" {
		t.Errorf("item snapshot %+v does not match the publication", it)
	}
	createAndFinish(t, st, items, known, t0)

	// A week later: one new publication. The archive the first digest knew
	// about must not come back, nor what it sent.
	later := t0.AddDate(0, 0, 7)
	fresh := pub("fresh", -2)
	items, known = mustSelect(t, st, append(pubs, fresh), later, 0)
	if got, want := ids(items), []string{future.ID, fresh.ID}; !slices.Equal(got, want) {
		t.Errorf("second digest items = %v, want %v (what was future is published now)", got, want)
	}
	if len(known) != 0 {
		t.Errorf("second digest known = %v, want none (only the first digest has a window)", known)
	}
}

func TestSelectFirstDigestWithNothingRecent(t *testing.T) {
	st, _ := openStore(t)
	items, known := mustSelect(t, st, []*publication.Publication{pub("old", 100)}, t0, 0)
	if len(items) != 0 || len(known) != 1 {
		t.Fatalf("items %v known %v: want nothing new and one known", ids(items), known)
	}
	// Nothing was created, so the next run is still a first digest, whose
	// window has moved.
	if n, err := st.CountDigests(context.Background()); err != nil || n != 0 {
		t.Errorf("CountDigests = %d, %v; want 0", n, err)
	}
}

func TestSelectByStableID(t *testing.T) {
	st, _ := openStore(t)
	a, b := pub("a", 3), pub("b", 2)
	items, known := mustSelect(t, st, []*publication.Publication{a, b}, t0, 0)
	createAndFinish(t, st, items, known, t0)

	later := t0.AddDate(0, 0, 7)
	edited := pub("a", -1) // same id, new title and date
	edited.Title = "Titre corrigé"
	backdated := pub("backdated", 30) // dated long before the last digest, added since
	same := pub("b", 2)
	cases := []struct {
		name string
		pubs []*publication.Publication
		want []string
	}{
		{"nothing new", []*publication.Publication{a, b}, nil},
		{"edited title and date is not resent", []*publication.Publication{edited, b}, nil},
		{"already sent is never resent", []*publication.Publication{same}, nil},
		{"back-dated but added after the last digest", []*publication.Publication{edited, backdated, same}, []string{backdated.ID}},
		{"duplicate ids count once", []*publication.Publication{backdated, backdated}, []string{backdated.ID}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			items, known := mustSelect(t, st, c.pubs, later, 0)
			if got := ids(items); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Errorf("items = %v, want %v", got, c.want)
			}
			if len(known) != 0 {
				t.Errorf("known = %v, want none after the first digest", known)
			}
		})
	}
}

func TestSelectMaxItemsDefersTheNewest(t *testing.T) {
	st, _ := openStore(t)
	first, _ := mustSelect(t, st, []*publication.Publication{pub("seed", 1)}, t0, 0)
	createAndFinish(t, st, first, nil, t0)

	pubs := []*publication.Publication{pub("p1", -1), pub("p2", -2), pub("p3", -3), pub("p4", -4), pub("p5", -5)}
	later := t0.AddDate(0, 0, 7)
	items, _ := mustSelect(t, st, slices.Concat(pubs[3:], pubs[:3]), later, 2)
	if got, want := ids(items), []string{pubs[1].ID, pubs[0].ID}; !slices.Equal(got, want) {
		t.Fatalf("capped digest = %v, want the two oldest, newest first: %v", got, want)
	}
	createAndFinish(t, st, items, nil, later)
	items, _ = mustSelect(t, st, pubs, later, 2)
	if got, want := ids(items), []string{pubs[3].ID, pubs[2].ID}; !slices.Equal(got, want) {
		t.Errorf("next digest = %v, want %v: the deferred ones come next", got, want)
	}
}

func TestItemsFor(t *testing.T) {
	items := []store.DigestItem{
		{PublicationID: "a", Tags: []string{"Éco-conception", "mesure"}},
		{PublicationID: "b", Tags: []string{"achats"}},
		{PublicationID: "c"},
	}
	cases := []struct {
		topics []string
		want   []string
	}{
		{nil, []string{"a", "b", "c"}},
		{[]string{"eco-conception"}, []string{"a"}},
		{[]string{"ACHATS", "mesure"}, []string{"a", "b"}},
		{[]string{"podcast"}, nil},
		{[]string{" "}, []string{"a", "b", "c"}},
	}
	for _, c := range cases {
		if got := ids(ItemsFor(items, c.topics)); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
			t.Errorf("ItemsFor(%q) = %v, want %v", c.topics, got, c.want)
		}
	}
}

// TestSelectSameSiteOtherOrigin: publications announced under one origin
// are not new under another ("www.", https, a staging host): the archive
// is not sent again when only site.url's scheme or host changed. Paths
// still tell publications apart, and ids that are not URLs are compared
// as they are.
func TestSelectSameSiteOtherOrigin(t *testing.T) {
	st, _ := openStore(t)
	a, b := pub("a", 3), pub("b", 2)
	tagged := pub("t", 1)
	tagged.ID = "tag:example.org,2026:t"
	items, known := mustSelect(t, st, []*publication.Publication{a, b, tagged}, t0, 0)
	if len(items) != 3 {
		t.Fatalf("first digest: %v", ids(items))
	}
	createAndFinish(t, st, items, known, t0)

	moved := func(p *publication.Publication, origin string) *publication.Publication {
		q := *p
		if strings.HasPrefix(q.ID, "https://example.org/") {
			q.ID = origin + strings.TrimPrefix(q.ID, "https://example.org")
		}
		q.URL = origin + strings.TrimPrefix(q.URL, "https://example.org")
		return &q
	}
	fresh := moved(pub("c", -1), "http://www.example.org")
	for _, origin := range []string{"https://www.example.org", "http://example.org", "HTTPS://staging.example.net"} {
		pubs := []*publication.Publication{moved(a, origin), moved(b, origin), moved(tagged, origin), fresh}
		later := t0.AddDate(0, 0, 7)
		items, _ := mustSelect(t, st, pubs, later, 0)
		if got := ids(items); !slices.Equal(got, []string{fresh.ID}) {
			t.Errorf("site moved to %s: new = %v, want only %s", origin, got, fresh.ID)
		}
	}
	for _, tt := range []struct{ id, key string }{
		{"https://example.org/a/", "///a/"},
		{"http://www.example.org/a/", "///a/"},
		{"https://example.org", "//"},
		{"https://example.org?x", "//?x"},
		{"tag:example.org,2026:a", "tag:example.org,2026:a"},
		{"urn:uuid:1", "urn:uuid:1"},
		{"ftp://example.org/a/", "ftp://example.org/a/"},
	} {
		if got := ledgerKey(tt.id); got != tt.key {
			t.Errorf("ledgerKey(%q) = %q, want %q", tt.id, got, tt.key)
		}
	}
}
