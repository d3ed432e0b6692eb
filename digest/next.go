package digest

import (
	"context"
	"fmt"
	"time"

	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
)

// Next returns the digest that goes out now and records it: the unfinished
// one when a send was interrupted (resumed = true), else a new digest of
// what is new among pubs, frozen in the store with its recipients. It
// returns nil, false, nil when nothing is new, or when nobody is active to
// receive it (the new publications then wait for the first subscriber); no
// digest is created then. lang is the language of the stored subject (the
// site's).
func Next(ctx context.Context, st store.Store, r *Renderer, pubs []*publication.Publication, now time.Time,
	lang string, firstSince time.Duration, maxItems int) (d *store.Digest, resumed bool, err error) {
	if d, err = st.Unfinished(ctx); err != nil {
		return nil, false, fmt.Errorf("digest: next: %w", err)
	}
	if d != nil {
		return d, true, nil
	}
	items, known, err := Select(ctx, st, pubs, now, firstSince, maxItems)
	if err != nil || len(items) == 0 {
		return nil, false, err
	}
	counts, err := st.CountByStatus(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("digest: next: %w", err)
	}
	if counts[store.StatusActive] == 0 {
		return nil, false, nil
	}
	created, err := st.CreateDigestWithKnown(ctx, r.Subject(lang, len(items), now), items, known, now)
	if err != nil {
		return nil, false, fmt.Errorf("digest: next: %w", err)
	}
	return &created, false, nil
}
