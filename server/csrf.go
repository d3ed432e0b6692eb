package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/ecoresponsable/bulletin/token"
)

// The forms' protection against cross-site request forgery is a signed
// double submit: the browser holds a random nonce in an HttpOnly,
// SameSite=Strict cookie, and the form carries a token.Form token signed
// over that nonce and the form's scope ("subscribe", "preferences:<id>"),
// expiring after csrfTTL. A POST is accepted only when the token verifies
// and names the cookie's nonce and this form: another site can neither read
// the cookie nor sign a token, and a token copied from one form does not
// serve another.
const (
	csrfCookie = "bulletin_csrf"
	csrfField  = "csrf"
	csrfTTL    = 2 * time.Hour
	nonceLen   = 16 // bytes, before base64url
)

// csrfToken returns the form token for scope, setting the nonce cookie when
// the request has no valid one (an existing nonce is kept, so that two open
// forms both work).
func (p *pages) csrfToken(w http.ResponseWriter, r *http.Request, scope string, now time.Time) string {
	nonce := cookieNonce(r)
	if nonce == "" {
		b := make([]byte, nonceLen)
		_, _ = rand.Read(b) // never fails (crypto/rand)
		nonce = base64.RawURLEncoding.EncodeToString(b)
	}
	// Set (again) on every form, so that the cookie lives as long as the
	// newest token.
	http.SetCookie(w, &http.Cookie{
		Name:     csrfCookie,
		Value:    nonce,
		Path:     p.base,
		MaxAge:   int(csrfTTL / time.Second),
		HttpOnly: true,
		Secure:   p.secure,
		SameSite: http.SameSiteStrictMode,
	})
	return p.s.opts.Signer.Sign(token.Form, nonce+"|"+scope, now.Add(csrfTTL))
}

// csrfValid checks a posted form's token against the cookie for scope; the
// form must be parsed.
func (p *pages) csrfValid(r *http.Request, scope string, now time.Time) bool {
	nonce := cookieNonce(r)
	posted := r.PostForm.Get(csrfField)
	if nonce == "" || posted == "" {
		return false
	}
	subject, err := p.s.opts.Signer.Verify(posted, token.Form, now)
	if err != nil {
		p.s.log.Debug("form token refused", "err", err)
		return false
	}
	return subtle.ConstantTimeCompare([]byte(subject), []byte(nonce+"|"+scope)) == 1
}

// cookieNonce returns the request's CSRF nonce, or "" when it has none of
// the right shape.
func cookieNonce(r *http.Request) string {
	c, err := r.Cookie(csrfCookie)
	if err != nil {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) != nonceLen {
		return ""
	}
	return c.Value
}
