package store

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestNormalizeEmail(t *testing.T) {
	address := func(dLen int) string {
		return strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." +
			strings.Repeat("d", dLen) + ".fr"
	}
	tests := []struct {
		in   string
		want string // empty: must be rejected
	}{
		{"jean@example.org", "jean@example.org"},
		{"  Jean.Dupont@Example.ORG \n", "Jean.Dupont@example.org"},
		{"Jean@ÉCOLE.fr", "Jean@xn--cole-9oa.fr"},
		{"marie+news@sub.example.co.uk", "marie+news@sub.example.co.uk"},
		{"jean@xn--cole-9oa.fr", "jean@xn--cole-9oa.fr"},
		{"a@b", ""},
		{"a b@c.fr", ""},
		{"a@c.fr\r\nBcc: x", ""},
		{"a@c.fr\nBcc: x@y.fr", ""},
		{"a\t@c.fr", ""},
		{"", ""},
		{"   ", ""},
		{"no-at-sign.fr", ""},
		{"a@@c.fr", ""},
		{"a@b@c.fr", ""},
		{"@c.fr", ""},
		{"a@", ""},
		{"a@.c.fr", ""},
		{"a@c.fr.", ""},
		{"a@c..fr", ""},
		{".a@c.fr", ""},
		{"a..b@c.fr", ""},
		{"Jean <jean@c.fr>", ""},
		{"a@exa_mple.fr", ""},
		{strings.Repeat("x", 65) + "@c.fr", ""},
		{strings.Repeat("x", 64) + "@c.fr", strings.Repeat("x", 64) + "@c.fr"},
		{address(58), address(58)}, // 254 bytes
		{address(59), ""},          // 255 bytes
		{"a@c.fr\x00", ""},
		{"a@\xff.fr", ""},
	}
	if n := len(tests[len(tests)-4].want); n != 254 {
		t.Fatalf("test setup: boundary address is %d bytes, want 254", n)
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("NormalizeEmail(%q) = %q, want an error", tt.in, got)
			} else if !errors.Is(err, ErrInvalidEmail) {
				t.Errorf("NormalizeEmail(%q) error %v is not ErrInvalidEmail", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			continue
		}
		if again, err := NormalizeEmail(got); err != nil || again != got {
			t.Errorf("NormalizeEmail is not idempotent on %q: %q, %v", got, again, err)
		}
	}
}

// FuzzNormalizeEmail: no input panics; what is accepted is one plain
// address that can go into a header as it is (no space, control character
// or second @), no longer than RFC limits, and normalizing it again gives
// it back unchanged.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"jean@example.org", "Jean@ÉCOLE.fr", "a@c.fr\r\nBcc: x", "\"a b\"@c.fr", "a@[127.0.0.1]", "a@b..c", "é@ü.de"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeEmail(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidEmail) {
				t.Fatalf("error %v is not ErrInvalidEmail", err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error message spans lines: %q", err)
			}
			return
		}
		if strings.Count(got, "@") != 1 || len(got) > maxAddress {
			t.Fatalf("accepted %q", got)
		}
		for _, r := range got {
			if r <= ' ' || r == 0x7f || unicode.IsSpace(r) || unicode.IsControl(r) {
				t.Fatalf("accepted %q with %U", got, r)
			}
		}
		local, domain, _ := strings.Cut(got, "@")
		if local == "" || len(local) > maxLocalPart || domain != strings.ToLower(domain) {
			t.Fatalf("accepted %q", got)
		}
		again, err := NormalizeEmail(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, got, again, err)
		}
	})
}
