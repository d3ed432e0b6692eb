package digest

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
)

// ConfirmValidity is how long the link of a confirmation email stays valid.
const ConfirmValidity = 7 * 24 * time.Hour

// confirmTemplate is the templates' name of the confirmation email.
const confirmTemplate = "email/confirm"

// ConfirmData is what the confirmation templates (email/confirm.html.tmpl
// and email/confirm.txt.tmpl) receive. The same templates write the note
// sent to an address that is already subscribed (Active), which has no
// confirmation link but links to the preferences and unsubscribe pages.
type ConfirmData struct {
	Lang      string // "fr" or "en": the language the person chose
	Subject   string
	SiteTitle string
	SiteURL   string
	Email     string
	Active    bool
	// ConfirmURL is the signed confirmation link; Expires is when it stops
	// working, in Settings.Location. Empty and zero when Active.
	ConfirmURL string
	Expires    time.Time
	// PreferencesURL and UnsubscribeURL are set when Active.
	PreferencesURL, UnsubscribeURL string
}

// Confirmation renders the email that asks sub to confirm their
// subscription (double opt-in) by following confirmURL, a link signed for
// token.Confirm that expires ConfirmValidity after now. It is in sub's
// language (else the site's), HTML and text, with a Message-ID that depends
// only on the subscriber and now.
func (r *Renderer) Confirmation(sub store.Subscriber, confirmURL string, now time.Time) (*mailer.Message, error) {
	link := oneLine(confirmURL)
	if !isWebURL(link) {
		return nil, fmt.Errorf("digest: confirmation for subscriber %d: link %q is not an absolute http(s) URL", sub.ID, confirmURL)
	}
	data := r.confirmData(sub, "confirm_email.subject")
	data.ConfirmURL = link
	data.Expires = now.Add(ConfirmValidity).In(r.s.Location)
	return r.confirmMessage(sub, data, "c", now)
}

// AlreadySubscribed renders the note sent instead of a confirmation when
// someone asks to subscribe an address that is already active: the page
// answered the same as for a new address (so that nobody learns who is
// subscribed), and the owner of the address learns that nothing needs doing
// and where to change their preferences or leave.
func (r *Renderer) AlreadySubscribed(sub store.Subscriber, now time.Time) (*mailer.Message, error) {
	data := r.confirmData(sub, "confirm_email.subject_active")
	data.Active = true
	data.PreferencesURL = r.PreferencesURL(sub)
	data.UnsubscribeURL = r.UnsubscribeURL(sub)
	return r.confirmMessage(sub, data, "a", now)
}

func (r *Renderer) confirmData(sub store.Subscriber, subjectKey string) ConfirmData {
	lang := r.s.Lang
	if sub.Lang != "" {
		lang = templates.Lang(sub.Lang)
	}
	return ConfirmData{
		Lang:      lang,
		Subject:   oneLine(templates.Tf(lang, subjectKey, "site", r.s.SiteTitle)),
		SiteTitle: r.s.SiteTitle,
		SiteURL:   r.s.SiteURL,
		Email:     oneLine(sub.Email),
	}
}

// confirmMessage runs the templates for data; kind tells the Message-IDs
// of confirmations ("c") and notes ("a") apart.
func (r *Renderer) confirmMessage(sub store.Subscriber, data ConfirmData, kind string, now time.Time) (*mailer.Message, error) {
	buf := r.bufs.Get().(*bytes.Buffer)
	defer r.bufs.Put(buf)
	buf.Reset()
	if err := r.tpl.HTML(buf, confirmTemplate, data); err != nil {
		return nil, fmt.Errorf("digest: confirmation for subscriber %d: %w", sub.ID, err)
	}
	html := buf.String()
	buf.Reset()
	if err := r.tpl.Text(buf, confirmTemplate, data); err != nil {
		return nil, fmt.Errorf("digest: confirmation for subscriber %d: %w", sub.ID, err)
	}
	return &mailer.Message{
		From:      r.s.From,
		ReplyTo:   r.s.ReplyTo,
		To:        recipient(sub),
		Subject:   data.Subject,
		Date:      now,
		MessageID: "bulletin." + kind + strconv.FormatInt(sub.ID, 10) + "." + strconv.FormatInt(now.Unix(), 10) + "@" + r.host,
		// An automatic answer to a form: out-of-office replies must not
		// answer it back (RFC 3834).
		Headers: [][2]string{{"Auto-Submitted", "auto-generated"}},
		Text:    buf.String(),
		HTML:    html,
	}, nil
}

// isWebURL reports whether s is an absolute http(s) URL with a host.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
