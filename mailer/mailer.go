// Package mailer delivers one Message at a time, over SMTP (go-mail, with a
// pool of reused connections, a rate limit and retries) or to an outbox
// folder of .eml files.
package mailer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email to one recipient. Every header value is cleaned of
// control characters (CR, LF, ...) before use, so no value can start a new
// header.
type Message struct {
	From string // "Name <addr>" or addr
	// ReplyTo is empty, one address like From, or a list of them separated
	// by commas (RFC 5322 allows several).
	ReplyTo string
	To      string // one recipient: "Name <addr>" or addr
	Subject string
	Date    time.Time // zero means the time of rendering
	// MessageID is the id without angle brackets ("d12.s345.abc@host"). It is
	// required: the caller makes it deterministic so that a resend keeps it.
	MessageID string
	// Headers are extra headers written in this order (List-Id,
	// List-Unsubscribe, ...). Runs of non-ASCII words are RFC 2047 encoded.
	Headers [][2]string
	// Text and HTML are UTF-8 bodies; with both, the message is
	// multipart/alternative with the text part first.
	Text, HTML string
}

// Sender delivers messages. Send and Probe are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m *Message) error
	// Probe reports whether the server answers at all, without sending a
	// message: nil when it does. It tells an outage from recipients whose
	// messages fail temporarily (a 421 or a timeout about one address).
	Probe(ctx context.Context) error
	Close() error
}

// maxWord bounds a header word that cannot be folded, so that no header line
// can pass the 998-octet limit of RFC 5322 once name and folding are added.
const maxWord = 900

// foldAt is the header line length RFC 5322 recommends.
const foldAt = 78

// Render returns the message as it is sent: RFC 5322 bytes with CRLF line
// endings, parts in quoted-printable. The same Message renders to the same
// bytes (the MIME boundary derives from the id and bodies) unless Date is
// zero.
func Render(m *Message) ([]byte, error) {
	msg, err := build(m)
	if err != nil {
		return nil, fmt.Errorf("mailer: render: %w", err)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("mailer: render %s: %w", m.MessageID, err)
	}
	return buf.Bytes(), nil
}

// Validate reports whether m can be built into a message, as Send would
// build it, without sending it: nil, or an *Error of kind Invalid naming
// the field at fault. A caller sending one message per recipient checks
// what they all share once, before the first, with it.
func Validate(m *Message) error {
	if _, err := build(m); err != nil {
		return invalid(m, err)
	}
	return nil
}

// invalid is the *Error of a message that cannot be built.
func invalid(m *Message, err error) error {
	id := ""
	if m != nil {
		id = clean(m.MessageID)
	}
	return &Error{MessageID: id, Kind: Invalid, err: err}
}

// build turns a Message into a go-mail Msg, validating and cleaning it;
// its errors are for the caller to prefix.
func build(m *Message) (*gomail.Msg, error) {
	if m == nil {
		return nil, errors.New("nil message")
	}
	id, err := messageID(m.MessageID)
	if err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("message %s: "+format, append([]any{id}, args...)...)
	}
	from, err := parseAddress(m.From)
	if err != nil {
		return nil, fail("From: %w", err)
	}
	to, err := parseAddress(m.To)
	if err != nil {
		return nil, fail("To: %w", err)
	}
	subject := clean(m.Subject)
	if err := checkWords(subject); err != nil {
		return nil, fail("Subject: %w", err)
	}

	// The boundary is a hash of the id and bodies: stable, so Render is
	// reproducible, and no body can contain the hash of itself. go-mail
	// writes it unquoted, so it must stay a plain token.
	h := sha256.New()
	for _, part := range []string{id, m.Text, m.HTML} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	msg := gomail.NewMsg(
		gomail.WithCharset(gomail.CharsetUTF8),
		gomail.WithEncoding(gomail.EncodingQP),
		gomail.WithNoDefaultUserAgent(),
		gomail.WithBoundary("bulletin-"+hex.EncodeToString(h.Sum(nil)[:16])),
	)
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	if strings.TrimSpace(m.ReplyTo) != "" {
		replyTo, err := parseAddressList(m.ReplyTo)
		if err != nil {
			return nil, fail("Reply-To: %w", err)
		}
		msg.ReplyToMailAddress(replyTo...)
	}
	msg.Subject(subject)
	msg.SetMessageIDWithValue(id)
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)

	if len(m.Headers) > 0 {
		first, block, err := headerBlock(m.Headers)
		if err != nil {
			return nil, fail("%w", err)
		}
		// go-mail writes its generic headers sorted by name and its
		// preformatted ones in map order; a single preformatted entry holding
		// the whole block is the way to keep the caller's order.
		msg.SetGenHeaderPreformatted(gomail.Header(first), block)
	}

	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	}
	return msg, nil
}

// clean makes s safe as a header value: CR, LF and tab become spaces, other
// control characters and invalid UTF-8 are dropped, and runs of spaces are
// collapsed.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			return ' '
		case r == utf8.RuneError, unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// messageID validates a Message-ID given without angle brackets.
func messageID(raw string) (string, error) {
	id := clean(raw)
	if id == "" {
		return "", errors.New("message has no Message-ID")
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == '<' || c == '>' {
			return "", fmt.Errorf("Message-ID %q: only printable ASCII without spaces or angle brackets", id)
		}
	}
	if at := strings.IndexByte(id, '@'); at <= 0 || at == len(id)-1 {
		return "", fmt.Errorf("Message-ID %q: want left@right", id)
	}
	if len(id) > maxWord {
		return "", fmt.Errorf("Message-ID is %d octets long, at most %d", len(id), maxWord)
	}
	return id, nil
}

// parseAddress reads "Name <addr>" or "addr". A display name that net/mail
// refuses unquoted (one holding ':' or '@', say) is taken as is, since
// go-mail quotes it on output.
func parseAddress(raw string) (*mail.Address, error) {
	s := clean(raw)
	if s == "" {
		return nil, errors.New("no address")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil {
		open := strings.LastIndexByte(s, '<')
		if open < 0 || !strings.HasSuffix(s, ">") {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		bare, err2 := mail.ParseAddress(s[open+1 : len(s)-1])
		if err2 != nil {
			return nil, fmt.Errorf("%q: %w", s, err)
		}
		bare.Name = strings.Trim(strings.TrimSpace(s[:open]), `"`)
		addr = bare
	}
	if err := checkAddress(addr); err != nil {
		return nil, err
	}
	return addr, nil
}

// parseAddressList reads one address as parseAddress does, or a list of
// them separated by commas ("a@x.fr, Équipe <b@x.fr>").
func parseAddressList(raw string) ([]*mail.Address, error) {
	list, err := mail.ParseAddressList(clean(raw))
	if err != nil {
		// One address whose display name net/mail refuses unquoted.
		addr, err1 := parseAddress(raw)
		if err1 != nil {
			return nil, fmt.Errorf("%q: %w", clean(raw), err)
		}
		return []*mail.Address{addr}, nil
	}
	if len(list) == 0 { // an empty group ("undisclosed:;")
		return nil, fmt.Errorf("%q: no address", clean(raw))
	}
	for _, addr := range list {
		if err := checkAddress(addr); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// checkAddress refuses an address or display name too long for a header
// line.
func checkAddress(addr *mail.Address) error {
	if err := checkWords(addr.Name); err != nil {
		return err
	}
	if len(addr.Address) > maxWord {
		return fmt.Errorf("address is %d octets long, at most %d", len(addr.Address), maxWord)
	}
	return nil
}

// checkWords refuses words too long to fold; RFC 2047 encoding splits
// non-ASCII ones, so only ASCII words count.
func checkWords(s string) error {
	for _, w := range strings.Fields(s) {
		if len(w) > maxWord && isASCII(w) {
			return fmt.Errorf("a word of %d octets cannot fit a header line of 998", len(w))
		}
	}
	return nil
}

// headerBlock renders the extra headers in order as one block of folded
// lines; it returns the first header's name and the rest after "name: ".
func headerBlock(headers [][2]string) (first, rest string, err error) {
	var b strings.Builder
	for i, h := range headers {
		name := strings.TrimSpace(h[0])
		if err := checkHeaderName(name); err != nil {
			return "", "", err
		}
		value := encodeWords(clean(h[1]))
		if err := checkWords(value); err != nil {
			return "", "", fmt.Errorf("header %s: %w", name, err)
		}
		if i == 0 {
			first = name
		} else {
			b.WriteString("\r\n")
			b.WriteString(name)
			b.WriteString(": ")
		}
		b.WriteString(fold(len(name)+2, value))
	}
	return first, b.String(), nil
}

// checkHeaderName accepts an RFC 5322 field name that go-mail does not
// already write itself.
func checkHeaderName(name string) error {
	if name == "" || len(name) > 76 {
		return fmt.Errorf("header name %q: want 1 to 76 characters", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' || c == ':' {
			return fmt.Errorf("header name %q: only printable ASCII without ':'", name)
		}
	}
	switch strings.ToLower(name) {
	case "from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id",
		"mime-version", "content-type", "content-transfer-encoding":
		return fmt.Errorf("header %s is set from the Message fields, not Headers", name)
	}
	return nil
}

// encodeWords RFC 2047-encodes each run of words holding non-ASCII text and
// leaves ASCII words (URIs, <list-id>) as they are. A run is encoded as one
// piece because decoders drop the space between adjacent encoded-words.
func encodeWords(s string) string {
	words := strings.Fields(s)
	out := make([]string, 0, len(words))
	for i := 0; i < len(words); {
		if isASCII(words[i]) {
			out = append(out, words[i])
			i++
			continue
		}
		j := i
		for j < len(words) && !isASCII(words[j]) {
			j++
		}
		out = append(out, mime.QEncoding.Encode("UTF-8", strings.Join(words[i:j], " ")))
		i = j
	}
	return strings.Join(out, " ")
}

// fold breaks value at spaces so that lines stay within foldAt where a
// word allows it; used is what the line already holds ("Name: ").
func fold(used int, value string) string {
	var b strings.Builder
	n := used
	for i, w := range strings.Split(value, " ") {
		if i > 0 {
			if n+1+len(w) > foldAt {
				b.WriteString("\r\n")
				n = 0
			}
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
