package token

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	s, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner([]byte("another secret of enough length!"))
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	unsub := s.SignID(Unsubscribe, 42, time.Time{})
	confirm := s.SignID(Confirm, 42, now.Add(7*24*time.Hour))
	odd := s.Sign(Preferences, "a|b@example.org", time.Time{})

	tests := []struct {
		name    string
		tok     string
		purpose Purpose
		at      time.Time
		want    string
		err     error
	}{
		{"unsubscribe ok", unsub, Unsubscribe, now.Add(10 * 365 * 24 * time.Hour), "42", nil},
		{"confirm ok before expiry", confirm, Confirm, now.Add(6 * 24 * time.Hour), "42", nil},
		{"confirm expired", confirm, Confirm, now.Add(8 * 24 * time.Hour), "", ErrExpired},
		{"wrong purpose", unsub, Confirm, now, "", ErrPurpose},
		{"unsubscribe cannot change preferences", unsub, Preferences, now, "", ErrPurpose},
		{"subject with separator", odd, Preferences, now, "a|b@example.org", nil},
		{"forged with another secret", other.SignID(Unsubscribe, 42, time.Time{}), Unsubscribe, now, "", ErrSignature},
		{"tampered payload", tamper(unsub), Unsubscribe, now, "", ErrSignature},
		{"no dot", "abc", Unsubscribe, now, "", ErrMalformed},
		{"empty", "", Unsubscribe, now, "", ErrMalformed},
		{"bad base64", "!!!.???", Unsubscribe, now, "", ErrMalformed},
		{"too long", strings.Repeat("a", 600) + ".b", Unsubscribe, now, "", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Verify(tc.tok, tc.purpose, tc.at)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Fatalf("subject = %q, want %q", got, tc.want)
			}
		})
	}
	if id, err := s.VerifyID(unsub, Unsubscribe, now); err != nil || id != 42 {
		t.Fatalf("VerifyID = %d, %v", id, err)
	}
	if _, err := s.VerifyID(odd, Preferences, now); !errors.Is(err, ErrMalformed) {
		t.Fatalf("VerifyID of a non-numeric subject: %v", err)
	}
}

// tamper re-encodes the payload with another subscriber id but keeps the
// original signature.
func tamper(tok string) string {
	s, _ := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	forged := s.SignID(Unsubscribe, 43, time.Time{})
	return strings.Split(forged, ".")[0] + "." + strings.Split(tok, ".")[1]
}

func TestShortSecretRefused(t *testing.T) {
	if _, err := NewSigner([]byte("short")); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
}

func TestDeterministic(t *testing.T) {
	s, _ := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	first, second := s.SignID(Unsubscribe, 7, time.Time{}), s.SignID(Unsubscribe, 7, time.Time{})
	if first != second {
		t.Fatal("the same token request gave two tokens")
	}
}

// TestOneSpellingPerToken: a token verifies only as Sign wrote it. Base64's
// unused low bits of the last character cannot give a second spelling
// (which would defeat anything that records tokens it has seen).
func TestOneSpellingPerToken(t *testing.T) {
	s, _ := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tok := s.SignID(Unsubscribe, 42, time.Time{})
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(tok) {
		for _, c := range []byte(alphabet + ".") {
			if c == tok[i] {
				continue
			}
			alt := tok[:i] + string(c) + tok[i+1:]
			if sub, err := s.Verify(alt, Unsubscribe, now); err == nil {
				t.Fatalf("%q (byte %d changed to %q) verifies too, as %q", alt, i, c, sub)
			}
		}
	}
}

// FuzzVerify: no input makes Verify panic or accept a token Sign did not
// write; every signed subject comes back as it was; changing any one byte
// of a signed token makes it fail.
func FuzzVerify(f *testing.F) {
	s, _ := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	f.Add(s.SignID(Unsubscribe, 42, time.Time{}), "42", int64(0), byte(0), uint16(3))
	f.Add("abc.def", "a|b@example.org", now.Unix()+60, byte(1), uint16(0))
	f.Add("", "", int64(-1), byte(2), uint16(1))
	purposes := []Purpose{Unsubscribe, Preferences, Confirm, Form}
	f.Fuzz(func(t *testing.T, tok, subject string, exp int64, pi byte, at uint16) {
		p := purposes[int(pi)%len(purposes)]
		if sub, err := s.Verify(tok, p, now); err == nil {
			// Only Sign's own spelling of this payload verifies.
			payload, _, _ := strings.Cut(tok, ".")
			raw, _ := base64.RawURLEncoding.DecodeString(payload)
			parts := strings.SplitN(string(raw), "|", 4)
			e, _ := strconv.ParseInt(parts[2], 10, 64)
			var expiry time.Time
			if e != 0 {
				expiry = time.Unix(e, 0)
			}
			if again := s.Sign(p, sub, expiry); again != tok {
				t.Fatalf("Verify accepted %q, Sign writes %q", tok, again)
			}
		}
		var expiry time.Time
		if exp > 0 {
			expiry = time.Unix(exp, 0)
		}
		signed := s.Sign(p, subject, expiry)
		got, err := s.Verify(signed, p, time.Unix(0, 0))
		switch {
		case len(signed) > maxLen:
			if err == nil {
				t.Fatalf("a token of %d bytes verified", len(signed))
			}
			return
		case err != nil || got != subject:
			t.Fatalf("Sign(%q) verifies as %q, %v", subject, got, err)
		}
		i := int(at) % len(signed)
		for _, c := range []byte{'A', 'B', 'Q', 'g', 'w', '-', '.'} {
			if c == signed[i] {
				continue
			}
			alt := signed[:i] + string(c) + signed[i+1:]
			if sub, err := s.Verify(alt, p, time.Unix(0, 0)); err == nil {
				t.Fatalf("%q with byte %d changed to %q verifies, as %q", signed, i, c, sub)
			}
		}
	})
}
