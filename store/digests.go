package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// CreateDigest freezes a new digest in one transaction: the digest row, the
// snapshot of its items, the publications marked as announced, and one
// pending delivery for every subscriber active at this moment (so those who
// join during the send wait for the next digest). It fails with an
// *UnfinishedError (errors.Is ErrUnfinished) while a digest has a pending
// delivery never tried (a send interrupted, or stopped by an SMTP outage),
// and with ErrAlreadySent if an item was in an earlier digest. A digest
// whose only pending deliveries are deferred (DeliveryCounts.Deferred) does
// not hold the next one back: it stays sending, for the next send to retry
// them.
func (s *SQLite) CreateDigest(ctx context.Context, subject string, items []DigestItem, now time.Time) (Digest, error) {
	return s.CreateDigestWithKnown(ctx, subject, items, nil, now)
}

// CreateDigestWithKnown is CreateDigest that also records known: the ids of
// publications that exist when the digest is decided but are deliberately
// not announced (the archive older than the first digest's window), so that
// SeenPublicationIDs counts them and no later digest sends the whole archive.
// Both are committed together: a crash cannot leave a first digest without
// its known archive. Ids already announced or known, or among the items,
// are ignored.
func (s *SQLite) CreateDigestWithKnown(ctx context.Context, subject string, items []DigestItem, known []string, now time.Time) (Digest, error) {
	if len(items) == 0 {
		return Digest{}, errors.New("store: create digest: no items")
	}
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		if it.PublicationID == "" {
			return Digest{}, fmt.Errorf("store: create digest: item %d (%q) has no publication id", i, it.Title)
		}
		if seen[it.PublicationID] {
			return Digest{}, fmt.Errorf("store: create digest: publication %q listed twice", it.PublicationID)
		}
		seen[it.PublicationID] = true
	}

	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return Digest{}, fmt.Errorf("store: create digest: %w", err)
	}
	defer tx.Rollback()

	// The write lock is held from BEGIN (immediate), so this check and the
	// insert below cannot interleave with another process doing the same.
	var (
		sendingID      int64
		sendingCreated sql.NullInt64
	)
	err = tx.QueryRowContext(ctx, `SELECT d.id, d.created_at FROM digests d WHERE d.status = 'sending'
		AND EXISTS (SELECT 1 FROM deliveries l
			WHERE l.digest_id = d.id AND l.status = 'pending' AND l.attempts = 0)
		ORDER BY d.id LIMIT 1`).Scan(&sendingID, &sendingCreated)
	switch {
	case err == nil:
		return Digest{}, &UnfinishedError{DigestID: sendingID, CreatedAt: unixTime(sendingCreated)}
	case !errors.Is(err, sql.ErrNoRows):
		return Digest{}, fmt.Errorf("store: create digest: %w", err)
	}

	d := Digest{Status: DigestSending, Subject: subject, CreatedAt: time.Unix(now.Unix(), 0).UTC(),
		Items: slices.Clone(items)}
	if err := tx.QueryRowContext(ctx, `INSERT INTO digests (status, subject, created_at) VALUES ('sending', ?, ?)
		RETURNING id`, subject, now.Unix()).Scan(&d.ID); err != nil {
		return Digest{}, fmt.Errorf("store: create digest: %w", err)
	}

	for i, it := range items {
		var earlier int64
		err := tx.QueryRowContext(ctx, `SELECT digest_id FROM sent_publications WHERE publication_id = ?`,
			it.PublicationID).Scan(&earlier)
		if err == nil {
			return Digest{}, fmt.Errorf("store: create digest: publication %q was in digest %d: %w",
				it.PublicationID, earlier, ErrAlreadySent)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Digest{}, fmt.Errorf("store: create digest: %w", err)
		}
		snapshot, err := json.Marshal(it)
		if err != nil {
			return Digest{}, fmt.Errorf("store: create digest: item %q: %w", it.PublicationID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO digest_items (digest_id, position, publication_id, item)
			VALUES (?, ?, ?, ?)`, d.ID, i, it.PublicationID, string(snapshot)); err != nil {
			return Digest{}, fmt.Errorf("store: create digest: item %q: %w", it.PublicationID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sent_publications (publication_id, digest_id) VALUES (?, ?)`,
			it.PublicationID, d.ID); err != nil {
			return Digest{}, fmt.Errorf("store: create digest: item %q: %w", it.PublicationID, err)
		}
	}

	if len(known) > 0 {
		if err := insertKnown(ctx, tx, d.ID, known, seen, now); err != nil {
			return Digest{}, fmt.Errorf("store: create digest: %w", err)
		}
	}

	res, err := tx.ExecContext(ctx, `INSERT INTO deliveries
		(digest_id, subscriber_id, status, attempts, last_error, message_id, updated_at)
		SELECT ?, id, 'pending', 0, '', '', ? FROM subscribers WHERE status = 'active' ORDER BY id`,
		d.ID, now.Unix())
	if err != nil {
		return Digest{}, fmt.Errorf("store: create digest: deliveries: %w", err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return Digest{}, fmt.Errorf("store: create digest: deliveries: %w", err)
	}
	d.Deliveries.Pending = int(n)

	if err := tx.Commit(); err != nil {
		return Digest{}, fmt.Errorf("store: create digest: commit: %w", err)
	}
	return d, nil
}

// insertKnown records the known publications of digest id, skipping its
// own items and those already announced or known.
func insertKnown(ctx context.Context, tx *sql.Tx, digestID int64, known []string, items map[string]bool, now time.Time) error {
	st, err := tx.PrepareContext(ctx, `INSERT INTO known_publications (publication_id, digest_id, known_at)
		SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM sent_publications WHERE publication_id = ?)
		ON CONFLICT (publication_id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("known publications: %w", err)
	}
	defer st.Close()
	for _, id := range known {
		if id == "" || items[id] {
			continue
		}
		if _, err := st.ExecContext(ctx, id, digestID, now.Unix(), id); err != nil {
			return fmt.Errorf("known publication %q: %w", id, err)
		}
	}
	return nil
}

const digestColumns = `id, status, subject, created_at, finished_at, sent_count, failed_count, skipped_count`

// scanDigest reads a digest row; its counts are those frozen by Finish, to
// be replaced by live ones while it is sending (see withCounts).
func scanDigest(row scanner) (Digest, error) {
	var (
		d                 Digest
		status            string
		created, finished sql.NullInt64
	)
	if err := row.Scan(&d.ID, &status, &d.Subject, &created, &finished,
		&d.Deliveries.Sent, &d.Deliveries.Failed, &d.Deliveries.Skipped); err != nil {
		return Digest{}, err
	}
	d.Status = DigestStatus(status)
	d.CreatedAt = unixTime(created)
	d.FinishedAt = unixTime(finished)
	return d, nil
}

// withCounts fills in the live delivery counts of a digest still sending.
func (s *SQLite) withCounts(ctx context.Context, d *Digest) error {
	if d.Status != DigestSending {
		return nil
	}
	var err error
	d.Deliveries, err = s.deliveryCounts(ctx, d.ID)
	return err
}

// loadDigest reads a digest with its items and delivery counts from the
// read pool; where is a constant condition on digests.
func (s *SQLite) loadDigest(ctx context.Context, where string, args ...any) (Digest, error) {
	d, err := scanDigest(s.read.QueryRowContext(ctx,
		`SELECT `+digestColumns+` FROM digests WHERE `+where+` ORDER BY id DESC LIMIT 1`, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return Digest{}, ErrNotFound
	}
	if err != nil {
		return Digest{}, err
	}
	if d.Items, err = s.digestItems(ctx, d.ID); err != nil {
		return Digest{}, err
	}
	if err := s.withCounts(ctx, &d); err != nil {
		return Digest{}, err
	}
	return d, nil
}

func (s *SQLite) digestItems(ctx context.Context, digestID int64) ([]DigestItem, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT item FROM digest_items WHERE digest_id = ? ORDER BY position`, digestID)
	if err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	defer rows.Close()
	var items []DigestItem
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		var it DigestItem
		if err := json.Unmarshal([]byte(raw), &it); err != nil {
			return nil, fmt.Errorf("item of digest %d: %w", digestID, err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	return items, nil
}

// deliveryCounts counts a digest's ledger rows by status in one pass.
func (s *SQLite) deliveryCounts(ctx context.Context, digestID int64) (DeliveryCounts, error) {
	var c DeliveryCounts
	if err := s.read.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'skipped' THEN 1 ELSE 0 END), 0)
		FROM deliveries WHERE digest_id = ?`, digestID).Scan(&c.Pending, &c.Deferred, &c.Sent, &c.Failed, &c.Skipped); err != nil {
		return c, fmt.Errorf("delivery counts: %w", err)
	}
	return c, nil
}

// GetDigest returns a digest with its items and delivery counts, or ErrNotFound.
func (s *SQLite) GetDigest(ctx context.Context, id int64) (Digest, error) {
	d, err := s.loadDigest(ctx, `id = ?`, id)
	if err != nil {
		return Digest{}, fmt.Errorf("store: digest %d: %w", id, err)
	}
	return d, nil
}

// Unfinished returns the digests still sending, oldest first, with their
// items and counts: at most one with deliveries never tried (see
// CreateDigest), and those whose only pending deliveries are deferred.
func (s *SQLite) Unfinished(ctx context.Context) ([]Digest, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM digests WHERE status = 'sending' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: unfinished digests: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: unfinished digests: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unfinished digests: %w", err)
	}
	out := make([]Digest, 0, len(ids))
	for _, id := range ids {
		d, err := s.loadDigest(ctx, `id = ?`, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("store: unfinished digest %d: %w", id, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// LastDigest returns the most recent digest, with its items and counts, or
// nil when none was ever created.
func (s *SQLite) LastDigest(ctx context.Context) (*Digest, error) {
	d, err := s.loadDigest(ctx, `1 = 1`)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: last digest: %w", err)
	}
	return &d, nil
}

// Finish marks a digest done once none of its deliveries is pending
// (ErrPendingDeliveries otherwise), and freezes its delivery counts: with
// nothing pending, no Mark can change them any more. Finishing a done
// digest changes nothing.
func (s *SQLite) Finish(ctx context.Context, id int64, now time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE digests SET status = 'done', finished_at = ?,
		sent_count = (SELECT COUNT(*) FROM deliveries WHERE digest_id = ? AND status = 'sent'),
		failed_count = (SELECT COUNT(*) FROM deliveries WHERE digest_id = ? AND status = 'failed'),
		skipped_count = (SELECT COUNT(*) FROM deliveries WHERE digest_id = ? AND status = 'skipped')
		WHERE id = ? AND status = 'sending'
		AND NOT EXISTS (SELECT 1 FROM deliveries WHERE digest_id = ? AND status = 'pending')`,
		now.Unix(), id, id, id, id, id)
	if err != nil {
		return fmt.Errorf("store: finish digest %d: %w", id, err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return fmt.Errorf("store: finish digest %d: %w", id, err)
	}
	if n == 1 {
		return nil
	}
	var status string
	err = s.write.QueryRowContext(ctx, `SELECT status FROM digests WHERE id = ?`, id).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: finish digest %d: %w", id, ErrNotFound)
	case err != nil:
		return fmt.Errorf("store: finish digest %d: %w", id, err)
	case DigestStatus(status) == DigestDone:
		return nil
	}
	var pending int
	if err := s.write.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM deliveries WHERE digest_id = ? AND status = 'pending'`, id).Scan(&pending); err != nil {
		return fmt.Errorf("store: finish digest %d: %w", id, err)
	}
	return fmt.Errorf("store: finish digest %d: %d left: %w", id, pending, ErrPendingDeliveries)
}

// ListDigests returns up to limit digests, newest first, each with its
// delivery counts but without items.
func (s *SQLite) ListDigests(ctx context.Context, limit int) ([]Digest, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+digestColumns+` FROM digests ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: list digests: %w", err)
	}
	defer rows.Close()
	var out []Digest
	for rows.Next() {
		d, err := scanDigest(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list digests: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list digests: %w", err)
	}
	rows.Close()
	for i := range out {
		if err := s.withCounts(ctx, &out[i]); err != nil {
			return nil, fmt.Errorf("store: list digests: %w", err)
		}
	}
	return out, nil
}

// CountDigests returns how many digests were ever created.
func (s *SQLite) CountDigests(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM digests`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count digests: %w", err)
	}
	return n, nil
}

// SentPublicationIDs returns the ids of every publication an earlier digest
// announced, to choose what is new.
func (s *SQLite) SentPublicationIDs(ctx context.Context) (map[string]bool, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT publication_id FROM sent_publications`)
	if err != nil {
		return nil, fmt.Errorf("store: sent publications: %w", err)
	}
	defer rows.Close()
	ids := make(map[string]bool)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: sent publications: %w", err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: sent publications: %w", err)
	}
	return ids, nil
}

// SeenPublicationIDs returns the ids of every publication that is not new
// any more: announced by a digest, or recorded as known when one was
// created. Choosing what goes in the next digest starts from it.
func (s *SQLite) SeenPublicationIDs(ctx context.Context) (map[string]bool, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT publication_id FROM sent_publications
		UNION SELECT publication_id FROM known_publications`)
	if err != nil {
		return nil, fmt.Errorf("store: seen publications: %w", err)
	}
	defer rows.Close()
	ids := make(map[string]bool)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: seen publications: %w", err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: seen publications: %w", err)
	}
	return ids, nil
}
