// Package smtpserver runs an in-process SMTP server on 127.0.0.1 for tests: it
// captures every message it accepts and can inject the failures a real
// server produces (4xx, 5xx, dropped connections, slowness).
//
// It is imported only by tests; production code must not depend on it.
package smtpserver

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From   string      // envelope sender (MAIL FROM)
	To     []string    // envelope recipients (RCPT TO)
	Data   []byte      // raw message as received, CRLF line endings, dot-stuffing removed
	Header mail.Header // Data's header parsed by net/mail; nil if it did not parse
	Conn   int         // 1-based number of the connection that carried the message
}

// Option configures a Server.
type Option func(*config)

type config struct {
	user, pass  string
	startTLS    bool
	implicitTLS bool
	tempFail    map[string]int
	permFail    map[string]bool
	rcptHook    map[string]func() error
	dropAfter   int
	dropInData  int
	delay       time.Duration
	discard     bool
}

// WithAuth requires AUTH PLAIN with this user and password before MAIL.
func WithAuth(user, pass string) Option {
	return func(c *config) { c.user, c.pass = user, pass }
}

// WithSTARTTLS offers STARTTLS with a self-signed certificate made in memory;
// AUTH is then only offered after STARTTLS. Clients trust it through
// Server.ClientTLSConfig.
func WithSTARTTLS() Option {
	return func(c *config) { c.startTLS = true }
}

// WithImplicitTLS makes the listener speak TLS from the first byte (port 465
// style), with the same in-memory certificate as WithSTARTTLS.
func WithImplicitTLS() Option {
	return func(c *config) { c.implicitTLS = true }
}

// TempFail answers 451 to the first k RCPT attempts for rcpt, then accepts.
func TempFail(rcpt string, k int) Option {
	return func(c *config) { c.tempFail[strings.ToLower(rcpt)] = k }
}

// PermFail answers 550 to every RCPT for rcpt.
func PermFail(rcpt string) Option {
	return func(c *config) { c.permFail[strings.ToLower(rcpt)] = true }
}

// ErrDrop, returned by a RcptHook, makes the server close the connection
// instead of replying, as a server crashing or a middlebox cutting it would.
var ErrDrop = errors.New("smtpserver: drop the connection")

// RcptHook makes every RCPT for rcpt answer what hook returns: nil accepts
// (TempFail and PermFail still apply), an *smtp.SMTPError is the reply,
// ErrDrop closes the connection. The hook may block to play a server too
// slow to answer, and may change its answer between sends; it is called
// from the connection's goroutine.
func RcptHook(rcpt string, hook func() error) Option {
	return func(c *config) { c.rcptHook[strings.ToLower(rcpt)] = hook }
}

// DropAfter closes the connection right after the n-th accepted message
// overall has been acknowledged with 250, as a server timing out or
// restarting would: the client only notices on its next command.
func DropAfter(n int) Option {
	return func(c *config) { c.dropAfter = n }
}

// DropInData closes the connection while the n-th DATA overall is being
// answered: the data is read but never acknowledged nor stored, so the
// client sees the connection die mid-transaction.
func DropInData(n int) Option {
	return func(c *config) { c.dropInData = n }
}

// Delay waits d before answering each DATA.
func Delay(d time.Duration) Option {
	return func(c *config) { c.delay = d }
}

// Discard accepts messages and throws their data away, keeping only the
// count (see Server.Count): for benchmarks.
func Discard() Option {
	return func(c *config) { c.discard = true }
}

// Server is a running test SMTP server. Its methods are safe for concurrent use.
type Server struct {
	t         testing.TB
	cfg       config
	srv       *smtp.Server
	ln        net.Listener
	clientTLS *tls.Config
	done      chan struct{}
	served    chan struct{}

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced whenever a message is accepted
	messages     []Message
	count        int
	dataCount    int
	conns        map[*smtp.Conn]int
	rcptAttempts map[string]int
}

// Start starts a server on 127.0.0.1 with a random port; t.Cleanup closes it.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		t:            t,
		cfg:          config{tempFail: map[string]int{}, permFail: map[string]bool{}, rcptHook: map[string]func() error{}},
		done:         make(chan struct{}),
		served:       make(chan struct{}),
		changed:      make(chan struct{}),
		conns:        map[*smtp.Conn]int{},
		rcptAttempts: map[string]int{},
	}
	for _, o := range opts {
		o(&s.cfg)
	}

	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 32 << 20
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.AllowInsecureAuth = !s.cfg.startTLS && !s.cfg.implicitTLS

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtpserver: listen: %v", err)
	}
	if s.cfg.startTLS || s.cfg.implicitTLS {
		serverTLS, clientTLS, err := selfSigned()
		if err != nil {
			_ = ln.Close()
			t.Fatalf("smtpserver: certificate: %v", err)
		}
		s.clientTLS = clientTLS
		if s.cfg.implicitTLS {
			ln = tls.NewListener(ln, serverTLS)
		} else {
			s.srv.TLSConfig = serverTLS
		}
	}
	s.ln = ln

	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln)
	}()
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	close(s.done)
	_ = s.srv.Close()
	// Serve registers its listener only once its goroutine runs; closing it
	// here too ends a Serve that started after srv.Close.
	_ = s.ln.Close()
	<-s.served
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is the IP address the server listens on ("127.0.0.1").
func (s *Server) Host() string {
	host, _, _ := net.SplitHostPort(s.Addr())
	return host
}

// Port is the TCP port the server listens on.
func (s *Server) Port() int {
	_, port, _ := net.SplitHostPort(s.Addr())
	n, _ := strconv.Atoi(port)
	return n
}

// ClientTLSConfig trusts the server's self-signed certificate; nil unless
// WithSTARTTLS or WithImplicitTLS was given.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Messages returns a copy of the messages accepted so far, in order of acceptance.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Count is the number of messages accepted so far, including discarded ones.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Connections is the number of distinct connections that greeted the server.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// RcptAttempts is how many RCPT commands named rcpt, accepted or not.
func (s *Server) RcptAttempts(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcptAttempts[strings.ToLower(rcpt)]
}

// WaitFor waits until at least n messages were accepted and returns them; it
// fails the test if that takes longer than timeout. Call it from the test
// goroutine.
func (s *Server) WaitFor(n int, timeout time.Duration) []Message {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		count, changed := s.count, s.changed
		s.mu.Unlock()
		if count >= n {
			return s.Messages()
		}
		select {
		case <-changed:
		case <-deadline.C:
			s.t.Fatalf("smtpserver: got %d messages after %v, want %d", count, timeout, n)
			return nil
		}
	}
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	id, ok := s.conns[c]
	if !ok {
		id = len(s.conns) + 1
		s.conns[c] = id
	}
	s.mu.Unlock()
	return &session{s: s, conn: c, id: id}, nil
}

// session is one SMTP session; go-smtp calls its methods from the
// connection's goroutine only.
type session struct {
	s           *Server
	conn        *smtp.Conn
	id          int
	authed      bool
	from        string
	to          []string
	dropPending bool
}

var _ smtp.AuthSession = (*session)(nil)

func (se *session) AuthMechanisms() []string {
	if se.s.cfg.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	if se.s.cfg.user == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != se.s.cfg.user || pass != se.s.cfg.pass {
			return smtp.ErrAuthFailed
		}
		se.authed = true
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.cfg.user != "" && !se.authed {
		return smtp.ErrAuthRequired
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	key := strings.ToLower(to)
	s := se.s
	s.mu.Lock()
	s.rcptAttempts[key]++
	n := s.rcptAttempts[key]
	s.mu.Unlock()
	if hook := s.cfg.rcptHook[key]; hook != nil {
		if err := hook(); errors.Is(err, ErrDrop) {
			_ = se.conn.Conn().Close()
			return err
		} else if err != nil {
			return err
		}
	}
	if s.cfg.permFail[key] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	if n <= s.cfg.tempFail[key] {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	s := se.s
	s.mu.Lock()
	s.dataCount++
	nth := s.dataCount
	s.mu.Unlock()

	if nth == s.cfg.dropInData {
		_, _ = io.Copy(io.Discard, r)
		_ = se.conn.Conn().Close()
		return errors.New("connection dropped on purpose")
	}

	var data []byte
	if s.cfg.discard {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	} else {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		data = b
	}
	if s.cfg.delay > 0 {
		select {
		case <-time.After(s.cfg.delay):
		case <-s.done:
		}
	}

	s.mu.Lock()
	s.count++
	if !s.cfg.discard {
		msg := Message{From: se.from, To: append([]string(nil), se.to...), Data: data, Conn: se.id}
		if m, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
			msg.Header = m.Header
		}
		s.messages = append(s.messages, msg)
	}
	if s.count == s.cfg.dropAfter {
		se.dropPending = true
	}
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	return nil
}

// Reset runs after every DATA, once the reply has been flushed, which makes
// it the place to drop a connection whose last message was acknowledged.
func (se *session) Reset() {
	se.from, se.to = "", nil
	if se.dropPending {
		se.dropPending = false
		_ = se.conn.Conn().Close()
	}
}

func (se *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and localhost, and the client
// configuration that trusts it.
func selfSigned() (server, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtpserver test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
		MinVersion:   tls.VersionTLS12,
	}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client, nil
}
