package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// maxErrorLen bounds the SMTP error kept per delivery.
const maxErrorLen = 1000

// sqlRecipients selects deliveries (l) joined with their subscribers (s) as
// a Recipient is scanned: the subscriber's columns, then the attempts.
const sqlRecipients = `SELECT s.id, s.email, s.name, s.lang, s.topics, s.status,
	s.created_at, s.updated_at, s.confirmed_at, s.unsubscribed_at, s.consecutive_failures, l.attempts
	FROM deliveries l JOIN subscribers s ON s.id = l.subscriber_id`

// PendingDeliveries returns up to limit pending deliveries of a digest, with
// their subscribers, for subscriber ids greater than afterSubscriberID, in
// id order: pass the last id of one batch to get the next. Rows marked
// meanwhile simply drop out, so the batches never hold every recipient and
// never skip one.
func (s *SQLite) PendingDeliveries(ctx context.Context, digestID, afterSubscriberID int64, limit int) ([]Recipient, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, sqlRecipients+`
		WHERE l.digest_id = ? AND l.status = 'pending' AND l.subscriber_id > ?
		ORDER BY l.subscriber_id LIMIT ?`, digestID, afterSubscriberID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending deliveries of digest %d: %w", digestID, err)
	}
	defer rows.Close()
	out := make([]Recipient, 0, min(limit, 1000))
	for rows.Next() {
		var r Recipient
		// The row is the subscriber's columns followed by the attempts.
		sub, err := scanSubscriber(scanFunc(func(dest ...any) error {
			return rows.Scan(append(dest, &r.Attempts)...)
		}))
		if err != nil {
			return nil, fmt.Errorf("store: pending deliveries of digest %d: %w", digestID, err)
		}
		r.Subscriber = sub
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: pending deliveries of digest %d: %w", digestID, err)
	}
	return out, nil
}

// PendingRecipient returns a pending delivery with its subscriber as they
// are now. The sender calls it just before sending, because the batch
// PendingDeliveries returned may be minutes old: a subscriber who left
// since then has had their row skipped (SetStatus) or deleted (Remove).
// A delivery already recorded is ErrNotPending, naming its status; a
// delivery (or subscriber) that no longer exists is ErrNotFound.
func (s *SQLite) PendingRecipient(ctx context.Context, digestID, subscriberID int64) (Recipient, error) {
	var r Recipient
	sub, err := scanSubscriber(scanFunc(func(dest ...any) error {
		return s.read.QueryRowContext(ctx, sqlRecipients+`
			WHERE l.digest_id = ? AND l.subscriber_id = ? AND l.status = 'pending'`, digestID, subscriberID).
			Scan(append(dest, &r.Attempts)...)
	}))
	if errors.Is(err, sql.ErrNoRows) {
		return Recipient{}, s.whyNotMarked(ctx, s.read, "pending recipient", digestID, subscriberID)
	}
	if err != nil {
		return Recipient{}, fmt.Errorf("store: pending recipient %d/%d: %w", digestID, subscriberID, err)
	}
	r.Subscriber = sub
	return r, nil
}

// scanFunc adapts a function to the scanner interface.
type scanFunc func(dest ...any) error

// Scan calls f.
func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// Delivery returns one row of the ledger, or ErrNotFound.
func (s *SQLite) Delivery(ctx context.Context, digestID, subscriberID int64) (Delivery, error) {
	d := Delivery{DigestID: digestID, SubscriberID: subscriberID}
	var (
		status  string
		updated sql.NullInt64
	)
	err := s.read.QueryRowContext(ctx, `SELECT status, attempts, last_error, message_id, updated_at
		FROM deliveries WHERE digest_id = ? AND subscriber_id = ?`, digestID, subscriberID).
		Scan(&status, &d.Attempts, &d.LastError, &d.MessageID, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("store: delivery of digest %d to subscriber %d: %w", digestID, subscriberID, err)
	}
	d.Status = DeliveryStatus(status)
	d.UpdatedAt = unixTime(updated)
	return d, nil
}

// The two statements of MarkSent, prepared once on the write connection.
const (
	sqlMarkSent = `UPDATE deliveries SET status = 'sent', attempts = attempts + 1, message_id = ?,
		last_error = '', updated_at = ?
		WHERE digest_id = ? AND subscriber_id = ? AND status = 'pending'`
)

// MarkSent records that the SMTP server accepted the message for this
// subscriber, and resets their count of consecutive failures. Call it as
// soon as the server said yes: it commits at once. Like every Mark, it
// applies to a pending delivery only: one already recorded (or skipped by
// SetStatus while the message was on its way) is ErrNotPending, naming its
// status.
func (s *SQLite) MarkSent(ctx context.Context, digestID, subscriberID int64, messageID string, now time.Time) error {
	// One autocommit statement: the subscriber's failure count is reset by
	// a trigger (migration 0003) in the same statement.
	res, err := s.markSent.ExecContext(ctx, messageID, now.Unix(), digestID, subscriberID)
	if err != nil {
		return fmt.Errorf("store: mark sent %d/%d: %w", digestID, subscriberID, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return fmt.Errorf("store: mark sent %d/%d: %w", digestID, subscriberID, err)
	} else if n == 0 {
		return s.whyNotMarked(ctx, s.write, "mark sent", digestID, subscriberID)
	}
	return nil
}

// MarkFailed records that delivery to this subscriber was given up for this
// digest. A permanent failure (the address does not exist, the mailbox is
// disabled) counts against the subscriber: when bounceAfter > 0 and their
// consecutive failures reach it, they become bounced (reported by the
// result) and receive nothing more. A temporary failure does not count.
func (s *SQLite) MarkFailed(ctx context.Context, digestID, subscriberID int64, errMsg string, permanent bool, bounceAfter int, now time.Time) (bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: mark failed %d/%d: %w", digestID, subscriberID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'failed', attempts = attempts + 1,
		last_error = ?, updated_at = ?
		WHERE digest_id = ? AND subscriber_id = ? AND status = 'pending'`,
		truncate(errMsg, maxErrorLen), now.Unix(), digestID, subscriberID)
	if err != nil {
		return false, fmt.Errorf("store: mark failed %d/%d: %w", digestID, subscriberID, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return false, fmt.Errorf("store: mark failed %d/%d: %w", digestID, subscriberID, err)
	} else if n == 0 {
		return false, s.whyNotMarked(ctx, tx, "mark failed", digestID, subscriberID)
	}
	bounced := false
	if permanent {
		var (
			failures int
			status   string
		)
		err := tx.QueryRowContext(ctx, `UPDATE subscribers SET consecutive_failures = consecutive_failures + 1
			WHERE id = ? RETURNING consecutive_failures, status`, subscriberID).Scan(&failures, &status)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("store: mark failed %d/%d: count failure: %w", digestID, subscriberID, err)
		}
		if err == nil && bounceAfter > 0 && failures >= bounceAfter && Status(status) == StatusActive {
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'bounced', updated_at = ? WHERE id = ?`,
				now.Unix(), subscriberID); err != nil {
				return false, fmt.Errorf("store: mark failed %d/%d: bounce: %w", digestID, subscriberID, err)
			}
			if err := skipPendingOf(ctx, tx, subscriberID, "subscriber bounced", now); err != nil {
				return false, fmt.Errorf("store: mark failed %d/%d: %w", digestID, subscriberID, err)
			}
			bounced = true
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: mark failed %d/%d: commit: %w", digestID, subscriberID, err)
	}
	return bounced, nil
}

// MarkDeferred records a temporary failure (one that outlasted the mailer's
// retries) of a pending delivery: its attempts count one more, the error is
// kept, and it stays pending for a later run. When that makes maxAttempts
// attempts (maxAttempts > 0), the delivery is failed for this digest
// instead, and failed is true. Either way the subscriber's count of
// consecutive failures is left alone: a temporary failure says nothing
// about the address, so it never leads to a bounce.
func (s *SQLite) MarkDeferred(ctx context.Context, digestID, subscriberID int64, errMsg string, maxAttempts int, now time.Time) (failed bool, err error) {
	// In SET, attempts is the value before the update.
	var status string
	err = s.write.QueryRowContext(ctx, `UPDATE deliveries SET attempts = attempts + 1, last_error = ?, updated_at = ?,
		status = CASE WHEN ? > 0 AND attempts + 1 >= ? THEN 'failed' ELSE 'pending' END
		WHERE digest_id = ? AND subscriber_id = ? AND status = 'pending'
		RETURNING status`,
		truncate(errMsg, maxErrorLen), now.Unix(), maxAttempts, maxAttempts, digestID, subscriberID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, s.whyNotMarked(ctx, s.write, "mark deferred", digestID, subscriberID)
	}
	if err != nil {
		return false, fmt.Errorf("store: mark deferred %d/%d: %w", digestID, subscriberID, err)
	}
	return DeliveryStatus(status) == DeliveryFailed, nil
}

// MarkSkipped records that this subscriber deliberately gets nothing from
// this digest (nothing matches their topics, they left meanwhile...).
func (s *SQLite) MarkSkipped(ctx context.Context, digestID, subscriberID int64, reason string, now time.Time) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: mark skipped %d/%d: %w", digestID, subscriberID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'skipped', last_error = ?, updated_at = ?
		WHERE digest_id = ? AND subscriber_id = ? AND status = 'pending'`,
		truncate(reason, maxErrorLen), now.Unix(), digestID, subscriberID)
	if err != nil {
		return fmt.Errorf("store: mark skipped %d/%d: %w", digestID, subscriberID, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return fmt.Errorf("store: mark skipped %d/%d: %w", digestID, subscriberID, err)
	} else if n == 0 {
		return s.whyNotMarked(ctx, tx, "mark skipped", digestID, subscriberID)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: mark skipped %d/%d: commit: %w", digestID, subscriberID, err)
	}
	return nil
}

// whyNotMarked explains a statement on a pending delivery that matched no
// row: no such delivery (ErrNotFound), one already recorded (ErrNotPending),
// or, for a read joined with the subscriber (PendingRecipient), a pending
// row whose subscriber is gone (ErrNotFound).
func (s *SQLite) whyNotMarked(ctx context.Context, tx querier, what string, digestID, subscriberID int64) error {
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE digest_id = ? AND subscriber_id = ?`,
		digestID, subscriberID).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: %s %d/%d: %w", what, digestID, subscriberID, ErrNotFound)
	case err != nil:
		return fmt.Errorf("store: %s %d/%d: %w", what, digestID, subscriberID, err)
	case DeliveryStatus(status) == DeliveryPending:
		return fmt.Errorf("store: %s %d/%d: subscriber: %w", what, digestID, subscriberID, ErrNotFound)
	}
	return fmt.Errorf("store: %s %d/%d: already %s: %w", what, digestID, subscriberID, status, ErrNotPending)
}

// CountDeliveriesByStatus counts the deliveries of all digests (for
// metrics): the frozen counts of finished digests plus the live ones of the
// digests still sending.
func (s *SQLite) CountDeliveriesByStatus(ctx context.Context) (DeliveryCounts, error) {
	var c DeliveryCounts
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(sent_count), 0),
		COALESCE(SUM(failed_count), 0), COALESCE(SUM(skipped_count), 0)
		FROM digests WHERE status = 'done'`).Scan(&c.Sent, &c.Failed, &c.Skipped); err != nil {
		return c, fmt.Errorf("store: count deliveries: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM digests WHERE status = 'sending'`)
	if err != nil {
		return c, fmt.Errorf("store: count deliveries: %w", err)
	}
	var sending []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return c, fmt.Errorf("store: count deliveries: %w", err)
		}
		sending = append(sending, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("store: count deliveries: %w", err)
	}
	for _, id := range sending {
		live, err := s.deliveryCounts(ctx, id)
		if err != nil {
			return c, fmt.Errorf("store: count deliveries: %w", err)
		}
		c.Pending += live.Pending
		c.Deferred += live.Deferred
		c.Sent += live.Sent
		c.Failed += live.Failed
		c.Skipped += live.Skipped
	}
	return c, nil
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
