package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const subscriberColumns = `id, email, name, lang, topics, status, created_at, updated_at,
	confirmed_at, unsubscribed_at, consecutive_failures`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

func scanSubscriber(row scanner) (Subscriber, error) {
	var (
		sub                                       Subscriber
		topics, status                            string
		created, updated, confirmed, unsubscribed sql.NullInt64
	)
	if err := row.Scan(&sub.ID, &sub.Email, &sub.Name, &sub.Lang, &topics, &status,
		&created, &updated, &confirmed, &unsubscribed, &sub.ConsecutiveFailures); err != nil {
		return Subscriber{}, err
	}
	sub.Status = Status(status)
	sub.CreatedAt = unixTime(created)
	sub.UpdatedAt = unixTime(updated)
	sub.ConfirmedAt = unixTime(confirmed)
	sub.UnsubscribedAt = unixTime(unsubscribed)
	if err := json.Unmarshal([]byte(topics), &sub.Topics); err != nil {
		return Subscriber{}, fmt.Errorf("subscriber %d: topics %q: %w", sub.ID, topics, err)
	}
	if len(sub.Topics) == 0 {
		sub.Topics = nil
	}
	return sub, nil
}

// MaxNameLength is the longest subscriber name, in characters, that the
// store accepts. A name goes into the To header of every email, where a
// word of more than 900 bytes cannot fit; a longer name is refused rather
// than cut, so that whoever gave it learns it (an import reports the row).
const MaxNameLength = 200

// cleanSubscriber normalises what a caller gives: the address (see
// NormalizeEmail), the name without control characters (it ends up in a
// To: header) and at most MaxNameLength characters, the lang lower-cased,
// the topics as a sorted set.
func cleanSubscriber(in NewSubscriber) (NewSubscriber, string, error) {
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return NewSubscriber{}, "", err
	}
	out := NewSubscriber{
		Email: email,
		Name: strings.TrimSpace(strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, in.Name)),
		Lang:   strings.ToLower(strings.TrimSpace(in.Lang)),
		Topics: normalizeTopics(in.Topics),
	}
	if n := utf8.RuneCountInString(out.Name); n > MaxNameLength {
		return NewSubscriber{}, "", fmt.Errorf("%w for %s: %d characters, at most %d", ErrInvalidName, email, n, MaxNameLength)
	}
	topics, err := json.Marshal(out.Topics)
	if err != nil {
		return NewSubscriber{}, "", err
	}
	return out, string(topics), nil
}

const sqlInsertSubscriber = `INSERT INTO subscribers
	(email, name, lang, topics, status, created_at, updated_at, confirmed_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (email) DO NOTHING
	RETURNING ` + subscriberColumns

// Add inserts an active subscriber (the CLI's "subscribers add"). An address
// already known, whatever its status, is ErrExists.
func (s *SQLite) Add(ctx context.Context, in NewSubscriber, now time.Time) (Subscriber, error) {
	in, topics, err := cleanSubscriber(in)
	if err != nil {
		return Subscriber{}, fmt.Errorf("store: add: %w", err)
	}
	sub, err := scanSubscriber(s.write.QueryRowContext(ctx, sqlInsertSubscriber,
		in.Email, in.Name, in.Lang, topics, StatusActive, now.Unix(), now.Unix(), nil))
	if errors.Is(err, sql.ErrNoRows) {
		return Subscriber{}, fmt.Errorf("store: add %s: %w", in.Email, ErrExists)
	}
	if err != nil {
		return Subscriber{}, fmt.Errorf("store: add %s: %w", in.Email, err)
	}
	return sub, nil
}

// Upsert applies one imported row: a new address becomes an active
// subscriber; a known one gets its name, lang and topics replaced, its
// status untouched. An address that unsubscribed or bounced is not touched
// and reported as refused. Importing the same data again writes nothing.
func (s *SQLite) Upsert(ctx context.Context, in NewSubscriber, now time.Time) (UpsertResult, error) {
	in, topics, err := cleanSubscriber(in)
	if err != nil {
		return 0, fmt.Errorf("store: import: %w", err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: import %s: %w", in.Email, err)
	}
	defer tx.Rollback()

	cur, err := scanSubscriber(tx.QueryRowContext(ctx,
		`SELECT `+subscriberColumns+` FROM subscribers WHERE email = ?`, in.Email))
	var result UpsertResult
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, sqlInsertSubscriber,
			in.Email, in.Name, in.Lang, topics, StatusActive, now.Unix(), now.Unix(), nil); err != nil {
			return 0, fmt.Errorf("store: import %s: %w", in.Email, err)
		}
		result = UpsertCreated
	case err != nil:
		return 0, fmt.Errorf("store: import %s: %w", in.Email, err)
	case cur.Status == StatusUnsubscribed:
		return UpsertRefusedUnsubscribed, nil
	case cur.Status == StatusBounced:
		return UpsertRefusedBounced, nil
	case cur.Name == in.Name && cur.Lang == in.Lang && slices.Equal(cur.Topics, in.Topics):
		return UpsertUnchanged, nil
	default:
		if _, err := tx.ExecContext(ctx,
			`UPDATE subscribers SET name = ?, lang = ?, topics = ?, updated_at = ? WHERE id = ?`,
			in.Name, in.Lang, topics, now.Unix(), cur.ID); err != nil {
			return 0, fmt.Errorf("store: import %s: %w", in.Email, err)
		}
		result = UpsertUpdated
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: import %s: commit: %w", in.Email, err)
	}
	return result, nil
}

// CreatePending records a sign-up awaiting confirmation. A new address gets
// a pending row (created is true); a known address is returned as it is,
// whatever its status, so that the caller sends a confirmation either way
// without revealing whether the address was known.
func (s *SQLite) CreatePending(ctx context.Context, in NewSubscriber, now time.Time) (Subscriber, bool, error) {
	in, topics, err := cleanSubscriber(in)
	if err != nil {
		return Subscriber{}, false, fmt.Errorf("store: sign up: %w", err)
	}
	sub, err := scanSubscriber(s.write.QueryRowContext(ctx, sqlInsertSubscriber,
		in.Email, in.Name, in.Lang, topics, StatusPending, now.Unix(), now.Unix(), nil))
	if err == nil {
		return sub, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Subscriber{}, false, fmt.Errorf("store: sign up %s: %w", in.Email, err)
	}
	sub, err = s.getBy(ctx, s.write, "email", in.Email)
	if err != nil {
		return Subscriber{}, false, fmt.Errorf("store: sign up %s: %w", in.Email, err)
	}
	return sub, false, nil
}

// Confirm makes a subscriber active after they proved they own the address
// (double opt-in). It is the only way an unsubscribed or bounced address
// becomes active again. Confirming an active subscriber changes nothing.
func (s *SQLite) Confirm(ctx context.Context, id int64, now time.Time) (Subscriber, error) {
	sub, err := scanSubscriber(s.write.QueryRowContext(ctx, `UPDATE subscribers
		SET status = 'active', confirmed_at = ?, updated_at = ?, consecutive_failures = 0
		WHERE id = ? AND status <> 'active'
		RETURNING `+subscriberColumns, now.Unix(), now.Unix(), id))
	if errors.Is(err, sql.ErrNoRows) {
		sub, err = s.getBy(ctx, s.write, "id", id)
	}
	if err != nil {
		return Subscriber{}, fmt.Errorf("store: confirm subscriber %d: %w", id, err)
	}
	return sub, nil
}

// Remove deletes a subscriber and their pending deliveries. Deliveries
// already recorded stay in the ledger so past digests keep their counts.
func (s *SQLite) Remove(ctx context.Context, id int64) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: remove subscriber %d: %w", id, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM deliveries WHERE subscriber_id = ? AND status = 'pending'
		 AND digest_id IN (SELECT id FROM digests WHERE status = 'sending')`, id); err != nil {
		return fmt.Errorf("store: remove subscriber %d: deliveries: %w", id, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: remove subscriber %d: %w", id, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return fmt.Errorf("store: remove subscriber %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("store: remove subscriber %d: %w", id, ErrNotFound)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: remove subscriber %d: commit: %w", id, err)
	}
	return nil
}

// querier is what reads need from a pool or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// getBy reads one subscriber by id or email (column is a constant).
func (s *SQLite) getBy(ctx context.Context, q querier, column string, value any) (Subscriber, error) {
	sub, err := scanSubscriber(q.QueryRowContext(ctx,
		`SELECT `+subscriberColumns+` FROM subscribers WHERE `+column+` = ?`, value))
	if errors.Is(err, sql.ErrNoRows) {
		return Subscriber{}, ErrNotFound
	}
	return sub, err
}

// Get returns the subscriber with this id, or ErrNotFound.
func (s *SQLite) Get(ctx context.Context, id int64) (Subscriber, error) {
	sub, err := s.getBy(ctx, s.read, "id", id)
	if err != nil {
		return Subscriber{}, fmt.Errorf("store: subscriber %d: %w", id, err)
	}
	return sub, nil
}

// GetByEmail returns the subscriber with this address (normalised first),
// or ErrNotFound.
func (s *SQLite) GetByEmail(ctx context.Context, email string) (Subscriber, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return Subscriber{}, err
	}
	sub, err := s.getBy(ctx, s.read, "email", norm)
	if err != nil {
		return Subscriber{}, fmt.Errorf("store: subscriber %s: %w", norm, err)
	}
	return sub, nil
}

// ListByStatus streams the subscribers with this status (every subscriber if
// status is empty) in id order, holding one row at a time. Stop early by
// breaking out of the loop.
func (s *SQLite) ListByStatus(ctx context.Context, status Status) iter.Seq2[Subscriber, error] {
	if status == "" {
		return s.streamSubscribers(ctx, "list subscribers",
			`SELECT `+subscriberColumns+` FROM subscribers ORDER BY id`)
	}
	return s.streamSubscribers(ctx, "list subscribers",
		`SELECT `+subscriberColumns+` FROM subscribers WHERE status = ? ORDER BY id`, status)
}

// Export streams every subscriber in email order, for a CSV export.
func (s *SQLite) Export(ctx context.Context) iter.Seq2[Subscriber, error] {
	return s.streamSubscribers(ctx, "export subscribers",
		`SELECT `+subscriberColumns+` FROM subscribers ORDER BY email`)
}

func (s *SQLite) streamSubscribers(ctx context.Context, what, query string, args ...any) iter.Seq2[Subscriber, error] {
	return func(yield func(Subscriber, error) bool) {
		rows, err := s.read.QueryContext(ctx, query, args...)
		if err != nil {
			yield(Subscriber{}, fmt.Errorf("store: %s: %w", what, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			sub, err := scanSubscriber(rows)
			if err != nil {
				yield(Subscriber{}, fmt.Errorf("store: %s: %w", what, err))
				return
			}
			if !yield(sub, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(Subscriber{}, fmt.Errorf("store: %s: %w", what, err))
		}
	}
}

// CountByStatus returns how many subscribers are in each status; every
// status is present in the map, possibly with zero.
func (s *SQLite) CountByStatus(ctx context.Context) (map[Status]int, error) {
	counts := map[Status]int{StatusPending: 0, StatusActive: 0, StatusUnsubscribed: 0, StatusBounced: 0}
	rows, err := s.read.QueryContext(ctx, `SELECT status, COUNT(*) FROM subscribers GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("store: count subscribers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("store: count subscribers: %w", err)
		}
		counts[Status(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count subscribers: %w", err)
	}
	return counts, nil
}

// SetStatus changes a subscriber's status and records when: confirmed_at
// for active, unsubscribed_at for unsubscribed. Leaving active skips the
// subscriber's pending deliveries, so a send in progress does not mail them.
// Reactivating an unsubscribed address is refused with ErrUnsubscribed
// (that takes the person's confirmation). Setting the current status again
// changes nothing.
func (s *SQLite) SetStatus(ctx context.Context, id int64, status Status, now time.Time) error {
	if !status.Valid() {
		return fmt.Errorf("store: set status of subscriber %d: unknown status %q", id, status)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: set status of subscriber %d: %w", id, err)
	}
	defer tx.Rollback()
	cur, err := s.getBy(ctx, tx, "id", id)
	if err != nil {
		return fmt.Errorf("store: set status of subscriber %d: %w", id, err)
	}
	if cur.Status == status {
		return nil
	}
	if status == StatusActive && cur.Status == StatusUnsubscribed {
		return fmt.Errorf("store: set status of subscriber %d: %w", id, ErrUnsubscribed)
	}
	query := `UPDATE subscribers SET status = ?, updated_at = ? WHERE id = ?`
	args := []any{status, now.Unix(), id}
	switch status {
	case StatusActive:
		query = `UPDATE subscribers SET status = ?, updated_at = ?, confirmed_at = COALESCE(confirmed_at, ?),
			consecutive_failures = 0 WHERE id = ?`
		args = []any{status, now.Unix(), now.Unix(), id}
	case StatusUnsubscribed:
		query = `UPDATE subscribers SET status = ?, updated_at = ?, unsubscribed_at = ? WHERE id = ?`
		args = []any{status, now.Unix(), now.Unix(), id}
	}
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("store: set status of subscriber %d: %w", id, err)
	}
	if status != StatusActive {
		if err := skipPendingOf(ctx, tx, id, "subscriber "+string(status), now); err != nil {
			return fmt.Errorf("store: set status of subscriber %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: set status of subscriber %d: commit: %w", id, err)
	}
	return nil
}

// skipPendingOf marks the subscriber's pending deliveries skipped; only
// digests still sending can have any.
func skipPendingOf(ctx context.Context, tx *sql.Tx, subscriberID int64, reason string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'skipped', last_error = ?, updated_at = ?
		WHERE subscriber_id = ? AND status = 'pending'
		AND digest_id IN (SELECT id FROM digests WHERE status = 'sending')`,
		reason, now.Unix(), subscriberID)
	if err != nil {
		return fmt.Errorf("skip pending deliveries: %w", err)
	}
	return nil
}

// UpdatePreferences replaces a subscriber's language and topics (empty
// topics means every topic). Unchanged preferences write nothing.
func (s *SQLite) UpdatePreferences(ctx context.Context, id int64, lang string, topics []string, now time.Time) error {
	lang = strings.ToLower(strings.TrimSpace(lang))
	encoded, err := json.Marshal(normalizeTopics(topics))
	if err != nil {
		return fmt.Errorf("store: update preferences of subscriber %d: %w", id, err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: update preferences of subscriber %d: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE subscribers SET lang = ?, topics = ?, updated_at = ?
		WHERE id = ? AND (lang <> ? OR topics <> ?)`,
		lang, string(encoded), now.Unix(), id, lang, string(encoded))
	if err != nil {
		return fmt.Errorf("store: update preferences of subscriber %d: %w", id, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return fmt.Errorf("store: update preferences of subscriber %d: %w", id, err)
	} else if n == 0 {
		if _, err := s.getBy(ctx, tx, "id", id); err != nil {
			return fmt.Errorf("store: update preferences of subscriber %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: update preferences of subscriber %d: commit: %w", id, err)
	}
	return nil
}
