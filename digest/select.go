package digest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
)

// DefaultFirstSince is how far back the very first digest looks when the
// configuration does not say.
const DefaultFirstSince = 720 * time.Hour

// Select chooses what the next digest announces: the publications of pubs
// (already the published ones: no drafts, nothing dated after now) whose
// stable id no earlier digest announced nor recorded as known. The date of
// a publication does not matter, only its id: one back-dated before the
// last digest but added since is new; one already announced is never new
// again, whatever was edited in it. Ids are compared by ledgerKey: an id
// that is the publication's URL matches whatever the site's scheme and
// host were when it was announced.
//
// The very first digest takes only the publications dated within firstSince
// before now (every one when firstSince ≤ 0), and returns the older ones as
// known: pass them to store.CreateDigestWithKnown with the items, so that
// the second digest does not announce the whole archive. When no digest is
// created (no items), nothing is recorded and the next first digest decides
// again.
//
// maxItems > 0 caps the digest: the oldest new publications go first and
// the others wait for the next digest, so that a busy period delays
// publications without ever dropping one. Items are returned newest first,
// the order the email shows them in. No items and a nil error means nothing
// is new.
func Select(ctx context.Context, st store.Store, pubs []*publication.Publication, now time.Time,
	firstSince time.Duration, maxItems int) (items []store.DigestItem, known []string, err error) {
	seen, err := st.SeenPublicationIDs(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("digest: select: %w", err)
	}
	digests, err := st.CountDigests(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("digest: select: %w", err)
	}
	first := digests == 0
	seenKeys := make(map[string]bool, len(seen))
	for id := range seen {
		seenKeys[ledgerKey(id)] = true
	}

	var fresh []*publication.Publication
	taken := make(map[string]bool, len(pubs))
	for _, p := range pubs {
		if p == nil || p.ID == "" || p.Date.After(now) || seen[p.ID] || seenKeys[ledgerKey(p.ID)] || taken[p.ID] {
			continue
		}
		taken[p.ID] = true
		if first && firstSince > 0 && p.Date.Before(now.Add(-firstSince)) {
			known = append(known, p.ID)
			continue
		}
		fresh = append(fresh, p)
	}

	slices.SortStableFunc(fresh, func(a, b *publication.Publication) int {
		return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.ID, b.ID))
	})
	if maxItems > 0 && len(fresh) > maxItems {
		fresh = fresh[:maxItems]
	}
	items = make([]store.DigestItem, 0, len(fresh))
	for i := len(fresh) - 1; i >= 0; i-- {
		items = append(items, Item(fresh[i]))
	}
	slices.Sort(known)
	return items, known, nil
}

// ledgerKey is what two publication ids must share to be one publication
// for the ledger of what was announced. An http(s) id (a permalink, the
// default id) is taken without its scheme and host, so that the same site
// under another origin ("www.", https instead of http, a BULLETIN_SITE_URL
// set in the service's environment only) does not announce its whole
// archive again. Any other id (a front-matter "tag:" or "urn:" id) is
// compared as it is.
func ledgerKey(id string) string {
	scheme, rest, ok := strings.Cut(id, "://")
	if !ok || !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") {
		return id
	}
	i := strings.IndexAny(rest, "/?#")
	if i <= 0 {
		return "//"
	}
	return "//" + rest[i:]
}

// Item is the frozen snapshot of a publication that a digest keeps.
func Item(p *publication.Publication) store.DigestItem {
	return store.DigestItem{
		PublicationID: p.ID,
		Title:         p.Title,
		URL:           p.URL,
		Description:   p.Description,
		Date:          p.Date,
		Tags:          slices.Clone(p.Tags),
		Thumbnail:     p.Thumbnail,
		Type:          p.Type,
		Lang:          p.Lang,
	}
}

// ItemsFor returns the items of a digest that a subscriber with these topics
// receives: every item when topics is empty, else those having at least one
// tag among the topics, compared by slug (so "Éco-conception" matches
// "eco-conception").
func ItemsFor(items []store.DigestItem, topics []string) []store.DigestItem {
	want := topicSlugs(topics)
	if len(want) == 0 {
		return items
	}
	var out []store.DigestItem
	for _, it := range items {
		if meets(tagSlugs(it.Tags), want) {
			out = append(out, it)
		}
	}
	return out
}

// topicSlugs returns the slugs of a subscriber's topics; none means every
// topic. Topics and tags are compared by slug, so that case and accents do
// not matter ("Réemploi" meets "reemploi").
func topicSlugs(topics []string) []string {
	want := make([]string, 0, len(topics))
	for _, t := range topics {
		if s := publication.Slug(t); s != "" {
			want = append(want, s)
		}
	}
	return want
}

// tagSlugs returns the slugs of an item's tags.
func tagSlugs(tags []string) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = publication.Slug(t)
	}
	return out
}

// meets reports whether an item's tag slugs meet a subscriber's topic
// slugs: one in common is enough.
func meets(slugs, want []string) bool {
	for _, s := range slugs {
		for _, w := range want {
			if s == w {
				return true
			}
		}
	}
	return false
}
