// Package store persists subscribers, digests and the delivery ledger, and
// migrates its schema.
//
// The Store interface is what the rest of bulletin depends on; SQLite is its
// implementation on a single database file (a PostgreSQL one can follow, the
// queries are kept portable). Every write that records a fact the sender
// relies on (a delivery accepted by the SMTP server, a digest frozen with its
// recipients) is its own committed transaction, so a crash loses nothing that
// was done.
//
// Times are given and returned as time.Time in UTC, stored with one-second
// precision; a zero time.Time means "never".
package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// Store is the persistence bulletin needs: subscribers, digests, the delivery
// ledger, the send lock and a few settings.
type Store interface {
	// Add inserts an active subscriber; ErrExists if the address is known.
	Add(ctx context.Context, s NewSubscriber, now time.Time) (Subscriber, error)
	// Upsert is the import rule: insert an active subscriber or update its
	// name, lang and topics; unsubscribed and bounced addresses are refused.
	Upsert(ctx context.Context, s NewSubscriber, now time.Time) (UpsertResult, error)
	// CreatePending starts a double opt-in: a new address gets a pending row,
	// a known one is returned unchanged. created tells which.
	CreatePending(ctx context.Context, s NewSubscriber, now time.Time) (sub Subscriber, created bool, err error)
	// Confirm makes a subscriber active; the only way back from unsubscribed.
	Confirm(ctx context.Context, id int64, now time.Time) (Subscriber, error)
	// Remove deletes a subscriber and their pending deliveries.
	Remove(ctx context.Context, id int64) error
	Get(ctx context.Context, id int64) (Subscriber, error)
	GetByEmail(ctx context.Context, email string) (Subscriber, error)
	// ListByStatus streams subscribers in id order; an empty status lists all.
	ListByStatus(ctx context.Context, status Status) iter.Seq2[Subscriber, error]
	// Export streams every subscriber in email order.
	Export(ctx context.Context) iter.Seq2[Subscriber, error]
	CountByStatus(ctx context.Context) (map[Status]int, error)
	SetStatus(ctx context.Context, id int64, status Status, now time.Time) error
	UpdatePreferences(ctx context.Context, id int64, lang string, topics []string, now time.Time) error

	// CreateDigest freezes a digest and its recipients (the subscribers
	// active now) in one transaction; ErrUnfinished while another has
	// deliveries never tried (one with only deferred ones does not count).
	CreateDigest(ctx context.Context, subject string, items []DigestItem, now time.Time) (Digest, error)
	// CreateDigestWithKnown is CreateDigest that also records, in the same
	// transaction, publications that are not announced but must never be
	// taken for new (the archive older than the first digest).
	CreateDigestWithKnown(ctx context.Context, subject string, items []DigestItem, known []string, now time.Time) (Digest, error)
	// Unfinished returns the digests still sending, oldest first.
	Unfinished(ctx context.Context) ([]Digest, error)
	// Finish marks a digest done once no delivery is pending.
	Finish(ctx context.Context, id int64, now time.Time) error
	GetDigest(ctx context.Context, id int64) (Digest, error)
	// LastDigest returns the most recent digest, or nil.
	LastDigest(ctx context.Context) (*Digest, error)
	// ListDigests returns the newest digests first, with counts, without items.
	ListDigests(ctx context.Context, limit int) ([]Digest, error)
	CountDigests(ctx context.Context) (int, error)
	// SentPublicationIDs returns the publications any digest already announced.
	SentPublicationIDs(ctx context.Context) (map[string]bool, error)
	// SeenPublicationIDs returns the publications that are not new any
	// more: those announced and those recorded as known.
	SeenPublicationIDs(ctx context.Context) (map[string]bool, error)

	// PendingDeliveries returns up to limit pending recipients of a digest
	// whose subscriber id is greater than afterSubscriberID, in id order.
	PendingDeliveries(ctx context.Context, digestID, afterSubscriberID int64, limit int) ([]Recipient, error)
	Delivery(ctx context.Context, digestID, subscriberID int64) (Delivery, error)
	MarkSent(ctx context.Context, digestID, subscriberID int64, messageID string, now time.Time) error
	MarkFailed(ctx context.Context, digestID, subscriberID int64, errMsg string, permanent bool, bounceAfter int, now time.Time) (bounced bool, err error)
	MarkSkipped(ctx context.Context, digestID, subscriberID int64, reason string, now time.Time) error
	// PendingRecipient re-reads one pending delivery and its subscriber
	// just before sending; ErrNotPending or ErrNotFound once it is not.
	PendingRecipient(ctx context.Context, digestID, subscriberID int64) (Recipient, error)
	// MarkDeferred records a temporary failure and leaves the delivery
	// pending, or fails it (without counting towards bouncing) once it
	// has had maxAttempts attempts.
	MarkDeferred(ctx context.Context, digestID, subscriberID int64, errMsg string, maxAttempts int, now time.Time) (failed bool, err error)
	// CountDeliveriesByStatus counts the ledger rows of every digest.
	CountDeliveriesByStatus(ctx context.Context) (DeliveryCounts, error)

	// AcquireSendLock takes the process-wide send lock or fails with ErrLocked.
	AcquireSendLock(ctx context.Context, holder string) (release func(), err error)
	// HoldSendLock takes the send lock too, and says when it was lost.
	HoldSendLock(ctx context.Context, holder string) (*SendLock, error)

	GetSetting(ctx context.Context, key string) (value string, ok bool, err error)
	SetSetting(ctx context.Context, key, value string) error
	// Secret returns the token-signing secret, generating it on first use.
	Secret(ctx context.Context) ([]byte, error)

	Close() error
}

// Status is the state of a subscriber.
type Status string

// Subscriber states. Only active subscribers receive digests.
const (
	StatusPending      Status = "pending"      // signed up, not yet confirmed
	StatusActive       Status = "active"       // receives digests
	StatusUnsubscribed Status = "unsubscribed" // asked to stop; only Confirm brings them back
	StatusBounced      Status = "bounced"      // too many permanent failures
)

// Valid reports whether s is one of the known subscriber states.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusActive, StatusUnsubscribed, StatusBounced:
		return true
	}
	return false
}

// Subscriber is a person who receives (or asked to receive) the digest.
type Subscriber struct {
	ID                  int64
	Email               string
	Name                string
	Lang                string
	Topics              []string // empty means every topic
	Status              Status
	CreatedAt           time.Time
	UpdatedAt           time.Time // last change of email, name, lang, topics or status
	ConfirmedAt         time.Time
	UnsubscribedAt      time.Time
	ConsecutiveFailures int
}

// NewSubscriber is what a caller provides to add or import a subscriber.
type NewSubscriber struct {
	Email  string
	Name   string
	Lang   string
	Topics []string
}

// UpsertResult says what Upsert did with one imported address.
type UpsertResult int

// Results of Upsert.
const (
	UpsertCreated             UpsertResult = iota + 1 // a new active subscriber
	UpsertUpdated                                     // name, lang or topics changed
	UpsertUnchanged                                   // already identical; nothing written
	UpsertRefusedUnsubscribed                         // the address unsubscribed; left as is
	UpsertRefusedBounced                              // the address bounced; left as is
)

// String returns the result as a lower-case word for reports.
func (r UpsertResult) String() string {
	switch r {
	case UpsertCreated:
		return "created"
	case UpsertUpdated:
		return "updated"
	case UpsertUnchanged:
		return "unchanged"
	case UpsertRefusedUnsubscribed:
		return "refused-unsubscribed"
	case UpsertRefusedBounced:
		return "refused-bounced"
	}
	return fmt.Sprintf("UpsertResult(%d)", int(r))
}

// DigestStatus is the state of a digest.
type DigestStatus string

// Digest states.
const (
	DigestSending DigestStatus = "sending" // deliveries may still be pending
	DigestDone    DigestStatus = "done"    // every delivery was recorded
)

// DigestItem is the frozen snapshot of one publication in a digest: the
// digest is rendered from it, so a resumed send and the archive show exactly
// what was decided when the digest was created.
type DigestItem struct {
	PublicationID string    `json:"publication_id"`
	Title         string    `json:"title"`
	URL           string    `json:"url"`
	Description   string    `json:"description,omitempty"`
	Date          time.Time `json:"date"`
	Tags          []string  `json:"tags,omitempty"`
	Thumbnail     string    `json:"thumbnail,omitempty"`
	Type          string    `json:"type,omitempty"`
	Lang          string    `json:"lang,omitempty"` // the publication's language tag
}

// Digest is one issue of the email digest.
type Digest struct {
	ID         int64
	Status     DigestStatus
	Subject    string
	CreatedAt  time.Time
	FinishedAt time.Time    // zero while sending
	Items      []DigestItem // nil when listed by ListDigests
	Deliveries DeliveryCounts
}

// DeliveryStatus is the state of one delivery in the ledger.
type DeliveryStatus string

// Delivery states: pending, then exactly one of the other three.
const (
	DeliveryPending DeliveryStatus = "pending"
	DeliverySent    DeliveryStatus = "sent"    // accepted by the SMTP server (or written to the outbox)
	DeliveryFailed  DeliveryStatus = "failed"  // gave up for this digest
	DeliverySkipped DeliveryStatus = "skipped" // deliberately not sent (unsubscribed meanwhile, no matching topic...)
)

// DeliveryCounts counts ledger rows per status.
type DeliveryCounts struct {
	Pending int
	// Deferred counts, among Pending, the deliveries that failed
	// temporarily in an earlier send (attempts counted) and wait for the
	// next one; the others were never tried.
	Deferred int
	Sent     int
	Failed   int
	Skipped  int
}

// Total is the number of deliveries counted (Deferred is part of Pending).
func (c DeliveryCounts) Total() int { return c.Pending + c.Sent + c.Failed + c.Skipped }

// OnlyDeferred reports whether every pending delivery is deferred: a digest
// in that state waits for the next send and holds back no new digest.
func (c DeliveryCounts) OnlyDeferred() bool { return c.Pending > 0 && c.Pending == c.Deferred }

// Delivery is one row of the ledger: one digest to one subscriber.
type Delivery struct {
	DigestID     int64
	SubscriberID int64
	Status       DeliveryStatus
	Attempts     int
	LastError    string
	MessageID    string
	UpdatedAt    time.Time
}

// Recipient is a pending delivery joined with its subscriber, as the sender
// needs it. The subscriber is as they were when read: one who leaves later
// has their pending rows skipped by SetStatus or deleted by Remove, which is
// why the sender re-reads each row with PendingRecipient before sending.
type Recipient struct {
	Subscriber
	Attempts int // earlier attempts recorded for this delivery
}

var (
	// ErrNotFound is returned when the subscriber, digest or delivery does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrExists is returned by Add for an address already known.
	ErrExists = errors.New("store: subscriber already exists")
	// ErrInvalidEmail is returned by NormalizeEmail (and every method taking an address).
	ErrInvalidEmail = errors.New("store: invalid email address")
	// ErrInvalidName is returned by Add, Upsert and CreatePending for a
	// name longer than MaxNameLength.
	ErrInvalidName = errors.New("store: invalid name")
	// ErrUnfinished is returned by CreateDigest while a digest has
	// deliveries never tried.
	ErrUnfinished = errors.New("store: a digest is still sending")
	// ErrPendingDeliveries is returned by Finish while deliveries are pending.
	ErrPendingDeliveries = errors.New("store: digest has pending deliveries")
	// ErrAlreadySent is returned by CreateDigest for a publication an earlier digest announced.
	ErrAlreadySent = errors.New("store: publication already in a digest")
	// ErrNotPending is returned when marking a delivery that was already recorded.
	ErrNotPending = errors.New("store: delivery is not pending")
	// ErrUnsubscribed is returned by SetStatus when asked to reactivate an
	// address that unsubscribed: only the person's own confirmation may.
	ErrUnsubscribed = errors.New("store: subscriber unsubscribed; only Confirm can reactivate them")
	// ErrLocked is returned by AcquireSendLock while another live holder has the lock.
	ErrLocked = errors.New("store: send lock held")
)

// UnfinishedError is the ErrUnfinished returned by CreateDigest; it names the
// digest with deliveries never tried so the caller can offer to resume it.
type UnfinishedError struct {
	DigestID  int64
	CreatedAt time.Time
}

// Error says which digest is unfinished and since when.
func (e *UnfinishedError) Error() string {
	return fmt.Sprintf("store: digest %d (created %s) is still sending; resume it before creating another",
		e.DigestID, e.CreatedAt.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrUnfinished) true.
func (e *UnfinishedError) Is(target error) bool { return target == ErrUnfinished }

// LockedError is the ErrLocked returned by AcquireSendLock; it says who holds
// the lock and since when.
type LockedError struct {
	Holder    string
	PID       int
	Hostname  string
	Since     time.Time
	Heartbeat time.Time
}

// Error says who holds the lock, since when, and when it last showed life.
func (e *LockedError) Error() string {
	return fmt.Sprintf("store: send lock held by %q (pid %d on %s) since %s, last heartbeat %s",
		e.Holder, e.PID, e.Hostname, e.Since.Format(time.RFC3339), e.Heartbeat.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// normalizeTopics trims, drops empty and duplicate topics and sorts them, so
// that the same set always compares (and is stored) the same way.
func normalizeTopics(topics []string) []string {
	out := make([]string, 0, len(topics))
	seen := make(map[string]bool, len(topics))
	for _, t := range topics {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}
