package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"
)

// TLS modes for SMTPConfig.TLS.
const (
	TLSStartTLS = "starttls" // plain connection upgraded by STARTTLS, which must succeed (port 587)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no encryption: a local relay or tests only
)

// SMTPConfig configures an SMTP sender. The zero value of every field but
// Host is usable.
type SMTPConfig struct {
	Host string
	Port int // 0: 587 for starttls, 465 for tls, 25 for none
	// Username and Password enable AUTH PLAIN. go-mail refuses to send them
	// over an unencrypted connection to anything but localhost.
	Username, Password string
	TLS                string      // TLSStartTLS (default), TLSImplicit or TLSNone
	TLSConfig          *tls.Config // optional, e.g. to trust a private CA; ServerName defaults to Host
	Concurrency        int         // connections kept and concurrent sends; default 4
	Rate               float64     // messages per second over all connections; 0 = unlimited
	// Retries is how many times a temporary failure is retried: 0 means 3,
	// a negative value means none.
	Retries      int
	RetryBackoff time.Duration // first backoff, doubled each retry, with jitter; default 200ms
	MaxBackoff   time.Duration // backoff ceiling; default 10s
	Timeout      time.Duration // bounds a connection setup and one message transaction; default 30s
	HELO         string        // EHLO name; default the machine's host name
	Logger       *slog.Logger  // default: discard
}

// String shows the configuration without the password.
func (c SMTPConfig) String() string {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return fmt.Sprintf("smtp://%s@%s:%d tls=%s password=%s concurrency=%d rate=%g retries=%d timeout=%s",
		c.Username, c.Host, c.Port, c.TLS, pw, c.Concurrency, c.Rate, c.Retries, c.Timeout)
}

// LogValue keeps the password out of structured logs.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.StringValue(c.String())
}

// SMTP sends messages through a pool of at most Concurrency reused SMTP
// connections, opened on first use and reopened after a failure. Send is
// safe for concurrent use; more than Concurrency callers wait for a
// connection.
type SMTP struct {
	cfg     SMTPConfig
	client  *gomail.Client // connection settings; each pooled connection is its own smtp.Client
	limiter *rate.Limiter  // nil when unlimited
	slots   chan struct{}  // one token per connection: a Send holds one for an attempt
	idleMu  sync.Mutex
	idle    []*conn // as many as free tokens; used last-in first-out
	closed  chan struct{}
	once    sync.Once
	log     *slog.Logger
}

// conn is one pooled connection, nil until first dialed.
type conn struct {
	smtp *smtp.Client

	// raw is the TCP connection under smtp, kept so that a cancelled
	// context can interrupt blocking I/O by moving its deadline.
	mu          sync.Mutex
	raw         net.Conn
	interrupted bool
}

var _ Sender = (*SMTP)(nil)

// connKey carries the slot being dialed through go-mail's dial context.
type connKey struct{}

// NewSMTP checks cfg and prepares a sender; it connects on the first Send.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("mailer: SMTP host is empty")
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Port == 0 {
		switch cfg.TLS {
		case TLSImplicit:
			cfg.Port = 465
		case TLSNone:
			cfg.Port = 25
		default:
			cfg.Port = 587
		}
	}
	switch {
	case cfg.Concurrency == 0:
		cfg.Concurrency = 4
	case cfg.Concurrency < 0:
		return nil, fmt.Errorf("mailer: SMTP concurrency %d: want at least 1", cfg.Concurrency)
	}
	if cfg.Rate < 0 {
		return nil, fmt.Errorf("mailer: SMTP rate %g: want 0 (unlimited) or more", cfg.Rate)
	}
	switch {
	case cfg.Retries == 0:
		cfg.Retries = 3
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = cfg.Host
	}

	s := &SMTP{
		cfg:    cfg,
		slots:  make(chan struct{}, cfg.Concurrency),
		closed: make(chan struct{}),
		log:    logger,
	}
	if cfg.Rate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	for range cfg.Concurrency {
		s.slots <- struct{}{}
		s.idle = append(s.idle, &conn{})
	}

	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
		gomail.WithDialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			return s.dial(ctx, network, addr, tlsConfig)
		}),
		// A successful DATA ends the transaction, so RSET after it is a
		// wasted round trip, and so is NOOP before each message: a stale
		// connection shows at MAIL FROM and is redialed then (see attempt).
		gomail.WithoutRset(),
		gomail.WithoutNoop(),
	}
	switch cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		// The dial function does the handshake; WithSSL stops go-mail from
		// also asking for STARTTLS.
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		if ip := net.ParseIP(cfg.Host); cfg.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			logger.Warn("mailer: SMTP without TLS to a remote host", "host", cfg.Host)
		}
	default:
		return nil, fmt.Errorf("mailer: SMTP TLS mode %q: want %q, %q or %q", cfg.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	}
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	}
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	client, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mailer: SMTP client for %s: %w", s.addr(), err)
	}
	s.client = client
	return s, nil
}

func (s *SMTP) addr() string {
	return net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
}

// Send delivers m, retrying temporary failures with backoff. A returned
// *Error says whether the failure is Permanent, Temporary, Fatal or
// Invalid (m could not be built: nothing was sent); a cancelled ctx
// returns its error (wrapped) promptly, even mid-transaction.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	msg, err := build(m)
	if err != nil {
		return invalid(m, err)
	}
	id := clean(m.MessageID)
	for attempt := 1; ; attempt++ {
		if s.limiter != nil {
			if err := s.limiter.Wait(ctx); err != nil {
				if ctx.Err() == nil {
					// Wait refuses early when the deadline would pass first.
					err = context.DeadlineExceeded
				}
				return fmt.Errorf("mailer: send %s: rate limit: %w", id, err)
			}
		}
		kind, code, err := s.attempt(ctx, msg)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("mailer: send %s: %w", id, ctxErr)
		}
		if errors.Is(err, ErrClosed) {
			return err
		}
		sendErr := &Error{MessageID: id, Kind: kind, Code: code, Attempts: attempt, err: err, secret: s.cfg.Password}
		if kind != Temporary || attempt > s.cfg.Retries {
			return sendErr
		}
		wait := s.backoff(attempt)
		s.log.Warn("mailer: temporary failure, will retry", "message_id", id,
			"attempt", attempt, "backoff", wait, "error", sendErr.Error())
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("mailer: send %s: %w", id, ctx.Err())
		case <-s.closed:
			timer.Stop()
			return ErrClosed
		case <-timer.C:
		}
	}
}

// backoff is RetryBackoff·2^(attempt-1), capped, then jittered into
// [d/2, d] so that workers failing together do not retry together.
func (s *SMTP) backoff(attempt int) time.Duration {
	d := s.cfg.RetryBackoff
	for i := 1; i < attempt && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	half := d / 2
	return half + rand.N(d-half+1)
}

// attempt makes one delivery attempt on a pooled connection.
func (s *SMTP) attempt(ctx context.Context, msg *gomail.Msg) (Kind, int, error) {
	if err := ctx.Err(); err != nil {
		return Fatal, 0, err
	}
	cn, err := s.acquire(ctx)
	if err != nil {
		return Fatal, 0, err
	}
	defer s.put(cn)
	defer cn.watch(ctx)()

	for {
		fresh := false
		if cn.smtp == nil {
			client, err := s.client.DialToSMTPClientWithContext(context.WithValue(ctx, connKey{}, cn))
			if err != nil {
				cn.drop() // go-mail leaves the socket open when EHLO, TLS or AUTH fails
				kind, code, _ := classifyOther(err)
				return kind, code, fmt.Errorf("connect to %s: %w", s.addr(), err)
			}
			cn.smtp = client
			fresh = true
			s.log.Debug("mailer: connected", "addr", s.addr())
		}

		err := s.client.SendWithSMTPClient(cn.smtp, msg)
		if err == nil {
			return 0, 0, nil
		}
		kind, code, stale := classifySend(err)
		if code != 0 {
			// A reply means the session is still in step; RSET ends
			// whatever transaction the failure left open.
			if rerr := cn.smtp.Reset(); rerr != nil {
				cn.drop()
			}
		} else {
			cn.drop()
		}
		if stale && !fresh && ctx.Err() == nil {
			// The server closed an idle pooled connection: nothing was
			// sent, so redial once without spending a retry.
			s.log.Debug("mailer: pooled connection was closed, redialing", "addr", s.addr(), "error", err)
			continue
		}
		return kind, code, err
	}
}

// Probe opens a new session the way Send does (connect, greeting, EHLO,
// STARTTLS or implicit TLS, AUTH as configured), then says QUIT: nil means
// the server answers. It takes one of the Concurrency connections, whose
// idle session it closes first, so that the server never sees more.
func (s *SMTP) Probe(ctx context.Context) error {
	cn, err := s.acquire(ctx)
	if errors.Is(err, ErrClosed) {
		return err
	}
	if err != nil {
		return fmt.Errorf("mailer: probe %s: %w", s.addr(), err)
	}
	defer s.put(cn)
	if cn.smtp != nil {
		if err := s.client.CloseWithSMTPClient(cn.smtp); err != nil {
			s.log.Debug("mailer: QUIT failed", "addr", s.addr(), "error", err)
		}
		cn.drop()
	}

	defer cn.watch(ctx)()
	client, err := s.client.DialToSMTPClientWithContext(context.WithValue(ctx, connKey{}, cn))
	if err != nil {
		cn.drop()
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return fmt.Errorf("mailer: probe %s: %w", s.addr(), err)
	}
	cn.smtp = client
	// The server answered EHLO (and AUTH): a failed QUIT does not change
	// that.
	if err := s.client.CloseWithSMTPClient(client); err != nil {
		s.log.Debug("mailer: QUIT after a probe failed", "addr", s.addr(), "error", err)
	}
	cn.drop()
	return nil
}

// dial opens the TCP connection (and the TLS session in implicit mode) and
// records it on the slot being dialed.
func (s *SMTP) dial(ctx context.Context, network, addr string, tlsConfig *tls.Config) (net.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if cn, ok := ctx.Value(connKey{}).(*conn); ok {
		cn.setRaw(raw)
	}
	if s.cfg.TLS != TLSImplicit {
		return raw, nil
	}
	tc := tls.Client(raw, tlsConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return tc, nil
}

// Close quits every pooled connection, waiting for sends in progress to
// finish their attempt. Send returns ErrClosed afterwards.
func (s *SMTP) Close() error {
	s.once.Do(func() {
		close(s.closed)
		for range cap(s.slots) {
			<-s.slots
		}
		for _, cn := range s.idle {
			if cn.smtp == nil {
				continue
			}
			// QUIT may fail on a connection the server already dropped;
			// everything sent on it was acknowledged, so only log it.
			if err := s.client.CloseWithSMTPClient(cn.smtp); err != nil {
				s.log.Debug("mailer: QUIT failed", "addr", s.addr(), "error", err)
			}
			cn.drop()
		}
	})
	return nil
}

// take pops the connection used last, so that a lone sender keeps reusing
// one connection and the others are never dialed. The caller holds a token.
func (s *SMTP) take() *conn {
	s.idleMu.Lock()
	defer s.idleMu.Unlock()
	cn := s.idle[len(s.idle)-1]
	s.idle = s.idle[:len(s.idle)-1]
	return cn
}

// acquire waits for a connection slot and takes it; it fails with
// ErrClosed once the sender is closed, or with ctx's error. The caller
// gives the slot back with put.
func (s *SMTP) acquire(ctx context.Context) (*conn, error) {
	select {
	case <-s.closed:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.slots:
	}
	cn := s.take()
	select {
	case <-s.closed:
		s.put(cn)
		return nil, ErrClosed
	default:
	}
	return cn, nil
}

// put gives the connection and its token back.
func (s *SMTP) put(cn *conn) {
	s.idleMu.Lock()
	s.idle = append(s.idle, cn)
	s.idleMu.Unlock()
	s.slots <- struct{}{}
}

// watch arms cn for work under ctx: cancelling ctx interrupts its I/O
// until the returned function is called, which waits for an interrupt
// already under way, so that a late one cannot hit the next use of cn.
func (cn *conn) watch(ctx context.Context) (unwatch func()) {
	cn.arm()
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() { cn.interrupt(); close(fired) })
	return func() {
		if !stop() {
			<-fired
		}
	}
}

// arm readies the slot for an attempt under a new context.
func (cn *conn) arm() {
	cn.mu.Lock()
	cn.interrupted = false
	cn.mu.Unlock()
}

// interrupt makes blocking I/O on the connection fail at once; go-mail's
// calls take no context, so this is how cancellation reaches them.
func (cn *conn) interrupt() {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	cn.interrupted = true
	if cn.raw != nil {
		_ = cn.raw.SetDeadline(time.Unix(1, 0))
	}
}

func (cn *conn) setRaw(raw net.Conn) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	cn.raw = raw
	if cn.interrupted {
		_ = raw.SetDeadline(time.Unix(1, 0))
	}
}

// drop closes the connection without QUIT, after a failure left it unusable.
func (cn *conn) drop() {
	if cn.smtp != nil {
		_ = cn.smtp.Close()
		cn.smtp = nil
	}
	cn.mu.Lock()
	if cn.raw != nil {
		_ = cn.raw.Close()
		cn.raw = nil
	}
	cn.mu.Unlock()
}
