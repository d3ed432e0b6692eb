// Package token signs and verifies the purpose-bound tokens that the links
// of emails and pages carry (unsubscribe, preferences, confirmation).
//
// A token is base64url(payload) "." base64url(HMAC-SHA256(secret, payload))
// where payload is "v1|purpose|expiry|subject". The purpose is inside the
// signature, so a token made for one purpose never verifies for another.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Purpose says what a token allows.
type Purpose string

// The purposes of bulletin's tokens.
const (
	Unsubscribe Purpose = "unsubscribe"
	Preferences Purpose = "preferences"
	Confirm     Purpose = "confirm"
	// Form protects a page's form against cross-site request forgery.
	Form Purpose = "form"
)

// Errors returned by Verify. Callers answer every one of them the same way
// (a 400 page); they are distinct for logs and tests.
var (
	ErrMalformed = errors.New("token: malformed")
	ErrSignature = errors.New("token: bad signature")
	ErrPurpose   = errors.New("token: wrong purpose")
	ErrExpired   = errors.New("token: expired")
)

// maxLen bounds the tokens Verify looks at.
const maxLen = 512

// Signer makes and checks tokens with one secret.
type Signer struct {
	secret []byte
}

// NewSigner returns a Signer; the secret must be at least 16 bytes.
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < 16 {
		return nil, errors.New("token: the secret must be at least 16 bytes")
	}
	return &Signer{secret: append([]byte(nil), secret...)}, nil
}

// Sign returns a token for subject (a subscriber id, an address) and
// purpose. A zero expiry never expires (unsubscribe links must work from old
// emails); confirmation links get one.
func (s *Signer) Sign(p Purpose, subject string, expiry time.Time) string {
	exp := int64(0)
	if !expiry.IsZero() {
		exp = expiry.Unix()
	}
	payload := "v1|" + string(p) + "|" + strconv.FormatInt(exp, 10) + "|" + subject
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(s.mac(payload))
}

// SignID is Sign for a numeric subscriber id.
func (s *Signer) SignID(p Purpose, id int64, expiry time.Time) string {
	return s.Sign(p, strconv.FormatInt(id, 10), expiry)
}

// Verify checks a token's signature in constant time, then its purpose and
// expiry at now, and returns its subject.
func (s *Signer) Verify(tok string, p Purpose, now time.Time) (string, error) {
	if len(tok) == 0 || len(tok) > maxLen {
		return "", ErrMalformed
	}
	// Only the characters Sign writes: base64 decoding would skip line
	// breaks, giving a token a second spelling.
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", ErrMalformed
		}
	}
	b64, sig64, ok := strings.Cut(tok, ".")
	if !ok {
		return "", ErrMalformed
	}
	// Strict: the unused low bits of the last character must be zero, so
	// that a token has one spelling only.
	enc := base64.RawURLEncoding.Strict()
	payload, err := enc.DecodeString(b64)
	if err != nil {
		return "", ErrMalformed
	}
	sig, err := enc.DecodeString(sig64)
	if err != nil {
		return "", ErrMalformed
	}
	if !hmac.Equal(sig, s.mac(string(payload))) {
		return "", ErrSignature
	}
	parts := strings.SplitN(string(payload), "|", 4)
	if len(parts) != 4 || parts[0] != "v1" {
		return "", ErrMalformed
	}
	if parts[1] != string(p) {
		return "", ErrPurpose
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", ErrMalformed
	}
	if exp != 0 && now.Unix() > exp {
		return "", ErrExpired
	}
	return parts[3], nil
}

// VerifyID is Verify for tokens whose subject is a subscriber id.
func (s *Signer) VerifyID(tok string, p Purpose, now time.Time) (int64, error) {
	sub, err := s.Verify(tok, p, now)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(sub, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: subject is not an id", ErrMalformed)
	}
	return id, nil
}

func (s *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(payload))
	return m.Sum(nil)
}
