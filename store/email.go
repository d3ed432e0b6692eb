package store

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits on an address, from RFC 5321 (local part) and RFC 3696 errata (path).
const (
	maxLocalPart = 64
	maxAddress   = 254
)

// NormalizeEmail returns the canonical form of an address as stored: spaces
// around it trimmed, the domain lower-cased and IDNA-encoded (so
// "Jean@ÉCOLE.fr" becomes "Jean@xn--cole-9oa.fr"), the local part kept as
// typed. It refuses anything that is not a single plain address, in
// particular whitespace or line breaks inside it (header injection).
func NormalizeEmail(s string) (string, error) {
	in := s
	s = strings.TrimSpace(s)
	bad := func(reason string) (string, error) {
		return "", fmt.Errorf("%w %q: %s", ErrInvalidEmail, in, reason)
	}
	if s == "" {
		return bad("empty")
	}
	if !utf8.ValidString(s) {
		return bad("not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return bad("contains whitespace or control characters")
		}
	}
	if strings.Count(s, "@") != 1 {
		return bad("must contain exactly one @")
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" {
		return bad("empty local part")
	}
	if len(local) > maxLocalPart {
		return bad(fmt.Sprintf("local part longer than %d bytes", maxLocalPart))
	}
	if domain == "" {
		return bad("empty domain")
	}
	if strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return bad("malformed domain")
	}
	ascii, err := idna.Lookup.ToASCII(strings.ToLower(domain))
	if err != nil {
		return bad("invalid domain: " + err.Error())
	}
	if !strings.Contains(ascii, ".") {
		return bad("domain has no dot")
	}
	addr := local + "@" + ascii
	if len(addr) > maxAddress {
		return bad(fmt.Sprintf("longer than %d bytes", maxAddress))
	}
	parsed, err := mail.ParseAddress(addr)
	if err != nil {
		return bad(err.Error())
	}
	if parsed.Name != "" || parsed.Address != addr {
		return bad("not a plain address")
	}
	return addr, nil
}
