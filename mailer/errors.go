package mailer

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"

	gomail "github.com/wneessen/go-mail"
)

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("mailer: sender is closed")

// Kind says what a failed delivery means for the message.
type Kind int

const (
	// Fatal: the sender cannot deliver anything as configured (TLS,
	// authentication, sender address refused, unknown host). Neither
	// retried nor the message's fault: stop the run and fix the setup.
	Fatal Kind = iota
	// Temporary: a 4xx reply, a timeout or a dropped connection; retried
	// up to SMTPConfig.Retries, then returned. Try again later.
	Temporary
	// Permanent: the server refused this message for good (5xx to RCPT or
	// DATA). Do not resend it.
	Permanent
	// Invalid: the message could not be built from its fields (a From,
	// Reply-To or To that does not parse or is too long, a header that
	// cannot be written), so no server saw it. The fault is in what the
	// caller gave, not in the mailbox: never count it towards bouncing.
	// When the field is the same for every recipient (From, Reply-To,
	// usually the configuration) nothing can be sent until it is fixed;
	// when it is one recipient's (To), only their message fails. Validate
	// the shared fields before sending to tell one from the other.
	Invalid
)

func (k Kind) String() string {
	switch k {
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	case Invalid:
		return "invalid message"
	}
	return "fatal"
}

// Error is a failed delivery as returned by SMTP.Send.
type Error struct {
	MessageID string
	Kind      Kind
	Code      int // SMTP reply code, 0 when the server gave none
	Attempts  int // attempts made, retries included
	err       error
	secret    string // scrubbed from Error(), in case a server echoes it
}

func (e *Error) Error() string {
	msg := "mailer: send " + e.MessageID + " (" + e.Kind.String() + ", " + strconv.Itoa(e.Attempts) + " attempt"
	if e.Attempts != 1 {
		msg += "s"
	}
	msg += "): " + e.err.Error()
	if e.secret != "" {
		msg = strings.ReplaceAll(msg, e.secret, "[redacted]")
	}
	return msg
}

func (e *Error) Unwrap() error { return e.err }

// IsPermanent reports whether err means the SMTP server will never accept
// the message for this recipient (5xx to RCPT or DATA): do not resend it.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == Permanent
}

// IsInvalid reports whether err means the message could not be built
// locally (see Invalid): nothing was sent, and the recipient is not at
// fault.
func IsInvalid(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == Invalid
}

// IsTemporary reports whether err is a temporary failure that outlasted the
// retries: the message may be sent again later.
func IsTemporary(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == Temporary
}

// classifySend sorts an error from go-mail's SendWithSMTPClient; stale is
// true when the connection failed on the first command of the transaction,
// before anything of the message was sent.
func classifySend(err error) (kind Kind, code int, stale bool) {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return classifyOther(err)
	}
	code = se.ErrorCode()
	switch {
	case code >= 500 && se.Reason == gomail.ErrSMTPMailFrom:
		// The sender address or the session is refused: every message would be.
		return Fatal, code, false
	case code >= 500:
		return Permanent, code, false
	case code >= 400:
		return Temporary, code, false
	}
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		// go-mail could not read the message's own sender, recipients or
		// body: a local fault, like one of build.
		return Invalid, 0, false
	case gomail.ErrConnCheck, gomail.ErrSMTPMailFrom:
		return Temporary, 0, true
	}
	// go-mail's SendError does not unwrap; without a reply code what is left
	// is the connection failing mid-transaction.
	return Temporary, 0, false
}

// classifyOther sorts an error from dialing (connect, TLS, EHLO, AUTH).
func classifyOther(err error) (kind Kind, code int, stale bool) {
	var tpe *textproto.Error
	if errors.As(err, &tpe) {
		if tpe.Code >= 400 && tpe.Code < 500 {
			return Temporary, tpe.Code, false
		}
		return Fatal, tpe.Code, false
	}
	var (
		certErr     *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		alertErr    tls.AlertError
		recordErr   tls.RecordHeaderError
		dnsErr      *net.DNSError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &invalidErr), errors.As(err, &alertErr), errors.As(err, &recordErr):
		return Fatal, 0, false
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return Fatal, 0, false
		}
		return Temporary, 0, false
	}
	var netErr net.Error
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return Temporary, 0, false
	}
	var pe textproto.ProtocolError
	if errors.As(err, &pe) {
		return Temporary, 0, false
	}
	return Fatal, 0, false
}
