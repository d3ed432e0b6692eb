package server

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ecoresponsable/bulletin/digest"
	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
	"github.com/ecoresponsable/bulletin/token"
)

const (
	// honeypotField is the subscription form's field that only robots fill
	// (see pages/subscribe.html.tmpl).
	honeypotField = "website"
	// maxEmail bounds an address (RFC 3696 errata: 254 octets).
	maxEmail = 254
	// sendTimeout bounds the sending of one confirmation email.
	sendTimeout = 30 * time.Second
	// subscribeScope is the CSRF scope of the subscription form.
	subscribeScope = "subscribe"
)

// formErrors are the messages of a form's invalid fields.
type formErrors struct {
	Email, Topics, Language string
}

// Any reports whether a field is invalid.
func (e formErrors) Any() bool { return e.Email != "" || e.Topics != "" || e.Language != "" }

// subscribeData is what pages/subscribe.html.tmpl receives.
type subscribeData struct {
	Action   string // where the form posts
	CSRF     string
	Email    string // as typed, when the form comes back with errors
	Errors   formErrors
	Topics   []topicChoice
	Language string // the checked language: "fr" or "en"
}

// subscribedData is what pages/subscribed.html.tmpl receives.
type subscribedData struct {
	Email string
}

// confirmData is what pages/confirm.html.tmpl receives.
type confirmData struct {
	Email  string
	Action string // the same signed URL, which the button posts to
	CSRF   string
}

// confirmedData is what pages/confirmed.html.tmpl receives.
type confirmedData struct {
	Email          string
	PreferencesURL string
}

// handleSubscribeForm shows the subscription form.
func (p *pages) handleSubscribeForm(w http.ResponseWriter, r *http.Request) {
	lang := p.pageLang(r)
	d := subscribeData{
		Action:   p.base + "subscribe?lang=" + lang,
		CSRF:     p.csrfToken(w, r, subscribeScope, p.s.now()),
		Topics:   p.topics(nil).choices(nil),
		Language: lang,
	}
	pg := p.withSwitch(p.newPage(lang, "subscribe.title", d), r)
	pg.NoIndex = false
	p.render(w, http.StatusOK, "subscribe", pg)
}

// handleSubscribe starts a double opt-in. Whatever the address's state, an
// accepted form gets the same page and one email: a confirmation link for a
// new, pending, unsubscribed or bounced address (the last two become active
// again only by following it), a note pointing to the preferences for an
// address already active. A filled honeypot gets the same page and nothing
// else.
func (p *pages) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	lang := p.pageLang(r)
	now := p.s.now()
	if ok, wait := p.limiter.allow(clientKey(r, p.s.opts.TrustProxy), now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
		p.fail(w, r, http.StatusTooManyRequests, "error.rate_title", "error.rate")
		return
	}
	if err := r.ParseForm(); err != nil || !p.csrfValid(r, subscribeScope, now) {
		p.fail(w, r, http.StatusBadRequest, "error.form_title", "error.form")
		return
	}
	form := r.PostForm
	typed := strings.TrimSpace(form.Get("email"))
	if form.Get(honeypotField) != "" {
		p.s.log.Info("subscription ignored: honeypot filled")
		p.subscribed(w, lang, truncateBytes(typed, maxEmail))
		return
	}

	ts := p.topics(nil)
	d := subscribeData{Action: p.base + "subscribe?lang=" + lang, Email: truncateBytes(typed, maxEmail), Language: lang}
	email, err := store.NormalizeEmail(typed)
	switch {
	case len(typed) > maxEmail:
		d.Errors.Email = templates.T(lang, "form.error_email_long")
	case err != nil:
		d.Errors.Email = templates.T(lang, "form.error_email")
	}
	topics, ok := ts.resolve(form["topics"])
	if !ok {
		d.Errors.Topics = templates.T(lang, "form.error_topics")
	}
	language, ok := postedLanguage(form.Get("language"), lang)
	if !ok {
		d.Errors.Language = templates.T(lang, "form.error_language")
	} else {
		d.Language = language
	}
	if d.Errors.Any() {
		d.Topics = ts.choices(form["topics"])
		d.CSRF = p.csrfToken(w, r, subscribeScope, now)
		p.render(w, http.StatusBadRequest, "subscribe", p.newPage(lang, "subscribe.title", d))
		return
	}

	if err := p.startSubscription(r.Context(), email, language, topics, now); err != nil {
		var sendErr *sendError
		if errors.As(err, &sendErr) {
			p.s.log.Error("send confirmation", "err", err)
			p.fail(w, r, http.StatusServiceUnavailable, "error.server_title", "error.mail")
			return
		}
		p.serverError(w, r, "subscribe", err)
		return
	}
	p.subscribed(w, lang, typed)
}

// sendError marks a failure of the mailer, as opposed to the store's.
type sendError struct{ err error }

func (e *sendError) Error() string { return e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// formMailCooldown is how long after an email sent through the form the
// same address gets no other one from it.
const formMailCooldown = time.Hour

// startSubscription records the sign-up and sends its email (see
// handleSubscribe), unless one went to the address less than
// formMailCooldown ago.
func (p *pages) startSubscription(ctx context.Context, email, lang string, topics []string, now time.Time) error {
	st := p.s.opts.Store
	sub, created, err := st.CreatePending(ctx, store.NewSubscriber{Email: email, Lang: lang, Topics: topics}, now)
	if err != nil {
		return err
	}
	// One email per address and formMailCooldown through the form, so that
	// it cannot flood someone's inbox from however many IP addresses. The
	// newest choices are still kept (below) for the link already sent.
	mailedKey := "form.mailed." + strconv.FormatInt(sub.ID, 10)
	heldBack := false
	if v, ok, err := st.GetSetting(ctx, mailedKey); err == nil && ok {
		if last, err := time.Parse(time.RFC3339, v); err == nil && !now.Before(last) && now.Sub(last) < formMailCooldown {
			heldBack = true
		}
	}
	var msg *mailer.Message
	switch {
	case !created && sub.Status == store.StatusActive && heldBack:
		return nil
	case !created && sub.Status == store.StatusActive:
		// Their preferences are left alone: only the owner of the address,
		// through a signed link, may change them.
		msg, err = p.s.opts.Renderer.AlreadySubscribed(sub, now)
	default:
		if !created {
			// Not receiving anything: the newest request's choices are the
			// ones the confirmation will activate.
			if err := st.UpdatePreferences(ctx, sub.ID, lang, topics, now); err != nil {
				return err
			}
			sub.Lang, sub.Topics = lang, topics
		}
		if heldBack {
			p.s.log.Info("subscription email held back: one went to this address less than an hour ago", "subscriber", sub.ID)
			return nil
		}
		tok := p.s.opts.Signer.SignID(token.Confirm, sub.ID, now.Add(digest.ConfirmValidity))
		msg, err = p.s.opts.Renderer.Confirmation(sub, p.link("confirm?token="+tok), now)
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := p.s.opts.Mailer.Send(ctx, msg); err != nil {
		return &sendError{err}
	}
	if err := st.SetSetting(ctx, mailedKey, now.UTC().Format(time.RFC3339)); err != nil {
		p.s.log.Error("record the subscription email", "subscriber", sub.ID, "err", err)
	}
	p.s.log.Info("subscription requested", "subscriber", sub.ID, "new", created, "status", string(sub.Status))
	return nil
}

// subscribed answers an accepted subscription form.
func (p *pages) subscribed(w http.ResponseWriter, lang, email string) {
	p.render(w, http.StatusOK, "subscribed", p.newPage(lang, "subscribed.title", subscribedData{Email: email}))
}

// handleConfirmForm shows the one button that confirms a subscription.
// Following the link changes nothing by itself: mail scanners and link
// previews open links, and a confirmation nobody asked for would defeat the
// double opt-in. The button posts to the same signed URL (handleConfirm).
func (p *pages) handleConfirmForm(w http.ResponseWriter, r *http.Request) {
	now := p.s.now()
	tok := r.URL.Query().Get("token")
	id, err := p.s.opts.Signer.VerifyID(tok, token.Confirm, now)
	if err != nil {
		p.s.log.Debug("confirmation link refused", "err", err)
		p.badLink(w, r)
		return
	}
	sub, err := p.s.opts.Store.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		p.badLink(w, r)
		return
	}
	if err != nil {
		p.serverError(w, r, "confirmation page", err)
		return
	}
	lang := p.pageLang(r)
	d := confirmData{
		Email:  sub.Email,
		Action: p.base + "confirm?" + tokenQuery(tok, lang),
		CSRF:   p.csrfToken(w, r, confirmScope(id), now),
	}
	p.render(w, http.StatusOK, "confirm", p.withSwitch(p.newPage(lang, "confirm.title", d), r))
}

// handleConfirm activates the subscriber of a valid confirmation link: the
// button of handleConfirmForm, with its CSRF token. Confirming again
// changes nothing and shows the same page.
func (p *pages) handleConfirm(w http.ResponseWriter, r *http.Request) {
	now := p.s.now()
	id, err := p.s.opts.Signer.VerifyID(r.URL.Query().Get("token"), token.Confirm, now)
	if err != nil {
		p.s.log.Debug("confirmation refused", "err", err)
		p.badLink(w, r)
		return
	}
	if err := r.ParseForm(); err != nil || !p.csrfValid(r, confirmScope(id), now) {
		p.fail(w, r, http.StatusBadRequest, "error.form_title", "error.form")
		return
	}
	sub, err := p.s.opts.Store.Confirm(r.Context(), id, now)
	if errors.Is(err, store.ErrNotFound) {
		p.badLink(w, r)
		return
	}
	if err != nil {
		p.serverError(w, r, "confirm", err)
		return
	}
	p.s.log.Info("subscription confirmed", "subscriber", sub.ID)
	lang := p.pageLang(r)
	d := confirmedData{
		Email:          sub.Email,
		PreferencesURL: p.base + "preferences?" + tokenQuery(p.s.opts.Signer.SignID(token.Preferences, sub.ID, time.Time{}), lang),
	}
	p.render(w, http.StatusOK, "confirmed", p.newPage(lang, "confirmed.title", d))
}

// confirmScope is the CSRF scope of one subscriber's confirmation button.
func confirmScope(id int64) string {
	return "confirm:" + strconv.FormatInt(id, 10)
}

// postedLanguage checks a form's language field: "fr" or "en", or empty
// for fallback.
func postedLanguage(v, fallback string) (string, bool) {
	switch v {
	case "fr", "en":
		return v, true
	case "":
		return fallback, true
	}
	return "", false
}

// tokenQuery is the query of a signed page link in lang.
func tokenQuery(tok, lang string) string {
	return "token=" + tok + "&lang=" + lang
}

// truncateBytes shortens s to at most n bytes without cutting a character.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
