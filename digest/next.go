package digest

import (
	"context"
	"fmt"
	"time"

	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
)

// Next creates the digest of what is new among pubs and records it, frozen
// in the store with its recipients. It returns nil, nil when nothing is
// new, or when nobody is active to receive it (the new publications then
// wait for the first subscriber); no digest is created then. lang is the
// language of the stored subject (the site's).
//
// Next does not resume unfinished digests: a send resumes each of
// store.Unfinished first, oldest first, and calls Next once none of them
// stopped with an error. A digest left with only deferred deliveries does
// not hold the new one back; one with deliveries never tried (a send
// interrupted, or stopped by an outage) does: Next then fails with
// store.ErrUnfinished.
func Next(ctx context.Context, st store.Store, r *Renderer, pubs []*publication.Publication, now time.Time,
	lang string, firstSince time.Duration, maxItems int) (*store.Digest, error) {
	items, known, err := Select(ctx, st, pubs, now, firstSince, maxItems)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	counts, err := st.CountByStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("digest: next: %w", err)
	}
	if counts[store.StatusActive] == 0 {
		return nil, nil
	}
	created, err := st.CreateDigestWithKnown(ctx, r.Subject(lang, len(items), now), items, known, now)
	if err != nil {
		return nil, fmt.Errorf("digest: next: %w", err)
	}
	return &created, nil
}
