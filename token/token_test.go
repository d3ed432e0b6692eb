package token

import (
	"errors"
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
