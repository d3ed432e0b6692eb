// Package digest chooses what is new, renders the digest email for each
// subscriber, and drives a send through the delivery ledger so that nobody
// gets a publication twice and nobody is skipped.
//
// The work is split in three parts, each in its own file:
//
//   - select.go: Select decides which publications go in the next digest.
//   - render.go: Renderer turns a frozen digest and one subscriber into a
//     mailer.Message (HTML and text from the templates package, headers,
//     signed links).
//   - send.go: Sender streams the pending deliveries of a digest from the
//     store to a pool of workers, recording each delivery when the SMTP
//     server accepted it.
package digest

import (
	"time"

	"github.com/ecoresponsable/bulletin/publication"
)

// Settings are the site and list facts every email of a digest carries.
type Settings struct {
	SiteTitle string
	// SiteURL is the absolute URL of the site, with a trailing slash.
	SiteURL string
	// PublicURL is the base of the links that bulletin serve answers
	// (unsubscribe, preferences, archive), with a trailing slash.
	PublicURL string
	From      string // "Name <addr>"
	ReplyTo   string // may be empty
	// SubjectFR and SubjectEN are subject templates: {site}, {n}, {date}.
	SubjectFR, SubjectEN string
	// ListID is the List-Id identifier (e.g. "bulletin.example.org").
	ListID string
	// UnsubscribeMailto is the address of the List-Unsubscribe mailto;
	// empty means no mailto, only the one-click URL.
	UnsubscribeMailto string
	// Location is the time zone dates are shown in (nil = UTC).
	Location *time.Location
	// Lang is the language of subscribers who have none: "fr" (the
	// default) or "en" (the site's language).
	Lang string
	// Labels are the names shown for tags and topics.
	Labels publication.Labels
}
