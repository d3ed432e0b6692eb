package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
	"github.com/ecoresponsable/bulletin/token"
)

// unsubscribeData is what pages/unsubscribe.html.tmpl receives.
type unsubscribeData struct {
	Email  string
	Action string // the same signed URL, which the button posts to
}

// preferencesData is what pages/preferences.html.tmpl receives.
type preferencesData struct {
	Email          string
	Status         string // the subscriber's: pending, active, unsubscribed, bounced
	Saved          bool   // the form was just saved
	Action         string
	CSRF           string
	Errors         formErrors
	Topics         []topicChoice
	Language       string
	UnsubscribeURL string
}

// handleUnsubscribeForm shows the one button that unsubscribes. Following
// the link changes nothing by itself: mail scanners open links.
func (p *pages) handleUnsubscribeForm(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	id, err := p.s.opts.Signer.VerifyID(tok, token.Unsubscribe, p.s.now())
	if err != nil {
		p.s.log.Debug("unsubscribe link refused", "err", err)
		p.badLink(w, r)
		return
	}
	lang := p.pageLang(r)
	sub, err := p.s.opts.Store.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		// Removed meanwhile: there is nothing left to leave.
		p.render(w, http.StatusOK, "unsubscribed", p.newPage(lang, "unsubscribed.title", nil))
		return
	}
	if err != nil {
		p.serverError(w, r, "unsubscribe page", err)
		return
	}
	d := unsubscribeData{Email: sub.Email, Action: p.base + "unsubscribe?" + tokenQuery(tok, lang)}
	p.render(w, http.StatusOK, "unsubscribe", p.withSwitch(p.newPage(lang, "unsubscribe.title", d), r))
}

// handleUnsubscribe unsubscribes at once: the page's button, or the RFC
// 8058 one-click POST a mail client sends (body
// "List-Unsubscribe=One-Click"). The signed token authenticates both, so
// there is no CSRF token, and the body is not needed. Unsubscribing twice,
// or a subscriber removed meanwhile, answers the same.
func (p *pages) handleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	now := p.s.now()
	id, err := p.s.opts.Signer.VerifyID(r.URL.Query().Get("token"), token.Unsubscribe, now)
	if err != nil {
		p.s.log.Debug("unsubscribe request refused", "err", err)
		p.badLink(w, r)
		return
	}
	err = p.s.opts.Store.SetStatus(r.Context(), id, store.StatusUnsubscribed, now)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.serverError(w, r, "unsubscribe", err)
		return
	}
	p.s.log.Info("unsubscribed", "subscriber", id)
	p.render(w, http.StatusOK, "unsubscribed", p.newPage(p.pageLang(r), "unsubscribed.title", nil))
}

// handlePreferences shows (GET) and saves (POST) a subscriber's topics and
// language. The signed link identifies the subscriber; the POST also needs
// the form's CSRF token.
func (p *pages) handlePreferences(w http.ResponseWriter, r *http.Request) {
	now := p.s.now()
	tok := r.URL.Query().Get("token")
	id, err := p.s.opts.Signer.VerifyID(tok, token.Preferences, now)
	if err != nil {
		p.s.log.Debug("preferences link refused", "err", err)
		p.badLink(w, r)
		return
	}
	ctx := r.Context()
	sub, err := p.s.opts.Store.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		p.badLink(w, r)
		return
	}
	if err != nil {
		p.serverError(w, r, "preferences", err)
		return
	}
	lang := p.pageLang(r)
	scope := "preferences:" + strconv.FormatInt(id, 10)
	ts := p.topics(sub.Topics)
	d := preferencesData{
		Email:          sub.Email,
		Action:         p.base + "preferences?" + tokenQuery(tok, lang),
		UnsubscribeURL: p.base + "unsubscribe?" + tokenQuery(p.s.opts.Signer.SignID(token.Unsubscribe, id, time.Time{}), lang),
	}
	status := http.StatusOK
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil || !p.csrfValid(r, scope, now) {
			p.fail(w, r, http.StatusBadRequest, "error.form_title", "error.form")
			return
		}
		current := sub.Lang
		if current == "" {
			current = p.lang
		}
		topics, topicsOK := ts.resolve(r.PostForm["topics"])
		language, langOK := postedLanguage(r.PostForm.Get("language"), templates.Lang(current))
		if !topicsOK {
			d.Errors.Topics = templates.T(lang, "form.error_topics")
		}
		if !langOK {
			d.Errors.Language = templates.T(lang, "form.error_language")
		}
		if d.Errors.Any() {
			status = http.StatusBadRequest
			d.Topics = ts.choices(r.PostForm["topics"])
			d.Language = templates.Lang(current)
		} else {
			if err := p.s.opts.Store.UpdatePreferences(ctx, id, language, topics, now); err != nil {
				p.serverError(w, r, "save preferences", err)
				return
			}
			if sub, err = p.s.opts.Store.Get(ctx, id); err != nil {
				p.serverError(w, r, "preferences", err)
				return
			}
			ts = p.topics(sub.Topics) // a dropped topic the site no longer has goes
			p.s.log.Info("preferences saved", "subscriber", id)
			d.Saved = true
		}
	}
	d.Status = string(sub.Status)
	if d.Topics == nil {
		d.Topics = ts.choices(sub.Topics)
	}
	if d.Language == "" {
		d.Language = p.lang
		if sub.Lang != "" {
			d.Language = templates.Lang(sub.Lang)
		}
	}
	d.CSRF = p.csrfToken(w, r, scope, now)
	p.render(w, status, "preferences", p.withSwitch(p.newPage(lang, "preferences.title", d), r))
}
