package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/internal/testutil/smtpserver"
)

// newSMTP returns a sender pointed at srv with fast retries; change adjusts
// the configuration before use.
func newSMTP(t *testing.T, srv *smtpserver.Server, change func(*SMTPConfig)) *SMTP {
	t.Helper()
	cfg := SMTPConfig{
		Host:         srv.Host(),
		Port:         srv.Port(),
		TLS:          TLSNone,
		HELO:         "bulletin.test",
		RetryBackoff: time.Millisecond,
		MaxBackoff:   5 * time.Millisecond,
		Timeout:      5 * time.Second,
	}
	if change != nil {
		change(&cfg)
	}
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// numbered is message i of a run, to rcpt (a default one when empty).
func numbered(i int, rcpt string) *Message {
	m := digestMessage()
	if rcpt == "" {
		rcpt = fmt.Sprintf("reader%03d@example.net", i)
	}
	m.To = rcpt
	m.MessageID = fmt.Sprintf("d12.s%d.abc@bulletin.example.org", i)
	return m
}

func sendAll(t *testing.T, s Sender, msgs ...*Message) {
	t.Helper()
	for _, m := range msgs {
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("Send %s: %v", m.MessageID, err)
		}
	}
}

func TestSMTPDeliversRenderedBytes(t *testing.T) {
	srv := smtpserver.Start(t)
	s := newSMTP(t, srv, nil)
	m := digestMessage()
	sendAll(t, s, m)

	got := srv.WaitFor(1, 5*time.Second)[0]
	if got.From != "bulletin@example.org" {
		t.Errorf("envelope from %q", got.From)
	}
	if len(got.To) != 1 || got.To[0] != "jean@example.net" {
		t.Errorf("envelope recipients %q", got.To)
	}
	want := render(t, m)
	if !bytes.Equal(got.Data, want) {
		t.Errorf("the server received\n%s\nRender gives\n%s", got.Data, want)
	}
	if got.Header.Get("Message-ID") != "<"+m.MessageID+">" {
		t.Errorf("Message-ID %q", got.Header.Get("Message-ID"))
	}
}

func TestSMTPConcurrencyReusesConnections(t *testing.T) {
	srv := smtpserver.Start(t)
	s := newSMTP(t, srv, func(c *SMTPConfig) { c.Concurrency = 4 })

	const n, workers = 200, 4
	jobs := make(chan *Message)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range jobs {
				if err := s.Send(context.Background(), m); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range n {
		jobs <- numbered(i, "")
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Send: %v", err)
	}

	msgs := srv.WaitFor(n, 5*time.Second)
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[m.To[0]] = true
	}
	if len(msgs) != n || len(seen) != n {
		t.Errorf("%d messages to %d distinct recipients, want %d", len(msgs), len(seen), n)
	}
	if c := srv.Connections(); c < 1 || c > workers {
		t.Errorf("%d connections, want between 1 and %d", c, workers)
	}
}

func TestSMTPMoreCallersThanConnections(t *testing.T) {
	srv := smtpserver.Start(t)
	s := newSMTP(t, srv, func(c *SMTPConfig) { c.Concurrency = 2 })
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Send(context.Background(), numbered(i, "")); err != nil {
				t.Errorf("Send: %v", err)
			}
		}()
	}
	wg.Wait()
	srv.WaitFor(20, 5*time.Second)
	if c := srv.Connections(); c > 2 {
		t.Errorf("%d connections with Concurrency 2", c)
	}
}

func TestSMTPRateLimit(t *testing.T) {
	srv := smtpserver.Start(t)
	const n, perSecond = 6, 20.0
	s := newSMTP(t, srv, func(c *SMTPConfig) { c.Rate = perSecond; c.Concurrency = 3 })

	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Send(context.Background(), numbered(i, "")); err != nil {
				t.Errorf("Send: %v", err)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	// A burst of one: n messages need at least n-1 intervals, whatever the
	// concurrency. Only the lower bound is asserted, so a slow machine
	// cannot make this fail.
	if minimum := time.Duration(float64(n-1) / perSecond * float64(time.Second)); elapsed < minimum-5*time.Millisecond {
		t.Errorf("%d messages at %g/s took %v, want at least %v", n, perSecond, elapsed, minimum)
	}
	srv.WaitFor(n, 5*time.Second)
}

func TestSMTPRetriesTemporaryFailure(t *testing.T) {
	const rcpt = "busy@example.net"
	srv := smtpserver.Start(t, smtpserver.TempFail(rcpt, 2))
	s := newSMTP(t, srv, func(c *SMTPConfig) { c.Retries = 3 })

	if err := s.Send(context.Background(), numbered(1, rcpt)); err != nil {
		t.Fatalf("Send after two 451: %v", err)
	}
	if got := srv.RcptAttempts(rcpt); got != 3 {
		t.Errorf("%d RCPT attempts, want 3", got)
	}
	if msgs := srv.WaitFor(1, 5*time.Second); len(msgs) != 1 {
		t.Errorf("%d messages stored, want 1", len(msgs))
	}
	// The 451s were answered on a live session: RSET kept the connection.
	if c := srv.Connections(); c != 1 {
		t.Errorf("%d connections, want 1", c)
	}
}

func TestSMTPTemporaryFailureOutlastsRetries(t *testing.T) {
	const rcpt = "full@example.net"
	srv := smtpserver.Start(t, smtpserver.TempFail(rcpt, 100))
	s := newSMTP(t, srv, func(c *SMTPConfig) { c.Retries = 2 })

	err := s.Send(context.Background(), numbered(1, rcpt))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Send error %v, want *Error", err)
	}
	if !IsTemporary(err) || IsPermanent(err) || e.Code != 451 || e.Attempts != 3 {
		t.Errorf("got kind %v code %d after %d attempts, want temporary 451 after 3", e.Kind, e.Code, e.Attempts)
	}
	if got := srv.RcptAttempts(rcpt); got != 3 {
		t.Errorf("%d RCPT attempts, want 3", got)
	}
}

func TestSMTPPermanentFailureIsNotRetried(t *testing.T) {
	const bad = "nobody@example.net"
	srv := smtpserver.Start(t, smtpserver.PermFail(bad))
	s := newSMTP(t, srv, func(c *SMTPConfig) { c.Retries = 5; c.Concurrency = 1 })

	err := s.Send(context.Background(), numbered(1, bad))
	var e *Error
	if !IsPermanent(err) || IsTemporary(err) || !errors.As(err, &e) || e.Code != 550 || e.Attempts != 1 {
		t.Fatalf("Send error %v, want permanent 550 after 1 attempt", err)
	}
	if !strings.Contains(err.Error(), "550") || !strings.Contains(err.Error(), "d12.s1.abc@bulletin.example.org") {
		t.Errorf("error %q names neither the reply nor the message", err)
	}
	if got := srv.RcptAttempts(bad); got != 1 {
		t.Errorf("%d RCPT attempts, want 1", got)
	}
	// The next message goes through on the same connection.
	sendAll(t, s, numbered(2, ""))
	if msgs := srv.WaitFor(1, 5*time.Second); len(msgs) != 1 || msgs[0].To[0] != "reader002@example.net" {
		t.Errorf("stored %v", msgs)
	}
	if c := srv.Connections(); c != 1 {
		t.Errorf("%d connections, want 1", c)
	}
}

func TestSMTPRecoversFromDroppedConnection(t *testing.T) {
	t.Run("closed after an acknowledged message", func(t *testing.T) {
		srv := smtpserver.Start(t, smtpserver.DropAfter(3))
		// No retries at all: redialing a pool connection the server closed
		// must not spend one.
		s := newSMTP(t, srv, func(c *SMTPConfig) { c.Concurrency = 1; c.Retries = -1 })
		for i := range 6 {
			sendAll(t, s, numbered(i, ""))
		}
		msgs := srv.WaitFor(6, 5*time.Second)
		if len(msgs) != 6 {
			t.Errorf("%d messages, want 6 exactly once each", len(msgs))
		}
		if c := srv.Connections(); c != 2 {
			t.Errorf("%d connections, want 2", c)
		}
		if msgs[2].Conn != 1 || msgs[3].Conn != 2 {
			t.Errorf("messages 3 and 4 on connections %d and %d, want 1 and 2", msgs[2].Conn, msgs[3].Conn)
		}
	})
	t.Run("closed in the middle of DATA", func(t *testing.T) {
		srv := smtpserver.Start(t, smtpserver.DropInData(2))
		s := newSMTP(t, srv, func(c *SMTPConfig) { c.Concurrency = 1; c.Retries = 2 })
		for i := range 4 {
			sendAll(t, s, numbered(i, ""))
		}
		msgs := srv.WaitFor(4, 5*time.Second)
		var order []string
		for _, m := range msgs {
			order = append(order, m.To[0])
		}
		want := "reader000@example.net reader001@example.net reader002@example.net reader003@example.net"
		if strings.Join(order, " ") != want {
			t.Errorf("stored %v, want each message once in order", order)
		}
		if c := srv.Connections(); c != 2 {
			t.Errorf("%d connections, want 2", c)
		}
	})
	t.Run("without retries the drop is reported as temporary", func(t *testing.T) {
		srv := smtpserver.Start(t, smtpserver.DropInData(1))
		s := newSMTP(t, srv, func(c *SMTPConfig) { c.Retries = -1 })
		err := s.Send(context.Background(), numbered(1, ""))
		if !IsTemporary(err) {
			t.Fatalf("Send error %v, want temporary", err)
		}
		sendAll(t, s, numbered(2, ""))
	})
}

func TestSMTPAuth(t *testing.T) {
	const user, pass = "bulletin", "correct horse battery staple"
	srv := smtpserver.Start(t, smtpserver.WithAuth(user, pass))

	t.Run("good credentials", func(t *testing.T) {
		s := newSMTP(t, srv, func(c *SMTPConfig) { c.Username, c.Password = user, pass })
		sendAll(t, s, numbered(1, ""))
		srv.WaitFor(1, 5*time.Second)
	})
	t.Run("wrong password is fatal and never shown", func(t *testing.T) {
		const wrong = "hunter2-wrong-secret"
		var logs bytes.Buffer
		s := newSMTP(t, srv, func(c *SMTPConfig) {
			c.Username, c.Password = user, wrong
			c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c.Logger.Info("configured", "smtp", *c)
		})
		err := s.Send(context.Background(), numbered(2, ""))
		var e *Error
		if !errors.As(err, &e) || e.Kind != Fatal || e.Code != 535 || e.Attempts != 1 {
			t.Fatalf("Send error %v, want fatal 535 after one attempt", err)
		}
		if IsPermanent(err) || IsTemporary(err) {
			t.Errorf("an authentication failure is the sender's problem, not the message's: %v", err)
		}
		for what, text := range map[string]string{"error": err.Error(), "log": logs.String(), "config": fmt.Sprint(s.cfg)} {
			if strings.Contains(text, wrong) {
				t.Errorf("the password shows in the %s: %s", what, text)
			}
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		s := newSMTP(t, srv, nil)
		err := s.Send(context.Background(), numbered(3, ""))
		var e *Error
		if !errors.As(err, &e) || e.Kind != Fatal || e.Attempts != 1 {
			t.Fatalf("Send error %v, want fatal after one attempt", err)
		}
	})
}

func TestSMTPTLS(t *testing.T) {
	const user, pass = "bulletin", "s3cret"
	t.Run("starttls with auth", func(t *testing.T) {
		srv := smtpserver.Start(t, smtpserver.WithSTARTTLS(), smtpserver.WithAuth(user, pass))
		s := newSMTP(t, srv, func(c *SMTPConfig) {
			c.TLS, c.TLSConfig = TLSStartTLS, srv.ClientTLSConfig()
			c.Username, c.Password = user, pass
		})
		sendAll(t, s, numbered(1, ""), numbered(2, ""))
		srv.WaitFor(2, 5*time.Second)
		if c := srv.Connections(); c != 1 {
			t.Errorf("%d connections, want 1", c)
		}
	})
	t.Run("implicit tls", func(t *testing.T) {
		srv := smtpserver.Start(t, smtpserver.WithImplicitTLS())
		s := newSMTP(t, srv, func(c *SMTPConfig) { c.TLS, c.TLSConfig = TLSImplicit, srv.ClientTLSConfig() })
		sendAll(t, s, numbered(1, ""))
		srv.WaitFor(1, 5*time.Second)
	})
	t.Run("untrusted certificate is fatal", func(t *testing.T) {
		srv := smtpserver.Start(t, smtpserver.WithSTARTTLS())
		s := newSMTP(t, srv, func(c *SMTPConfig) { c.TLS = TLSStartTLS; c.Retries = 3 })
		err := s.Send(context.Background(), numbered(1, ""))
		var e *Error
		if !errors.As(err, &e) || e.Kind != Fatal || e.Attempts != 1 {
			t.Fatalf("Send error %v, want fatal after one attempt", err)
		}
	})
	t.Run("mandatory starttls refused by the server is fatal", func(t *testing.T) {
		srv := smtpserver.Start(t)
		s := newSMTP(t, srv, func(c *SMTPConfig) { c.TLS = TLSStartTLS })
		err := s.Send(context.Background(), numbered(1, ""))
		var e *Error
		if !errors.As(err, &e) || e.Kind != Fatal || !strings.Contains(err.Error(), "STARTTLS") {
			t.Fatalf("Send error %v, want fatal naming STARTTLS", err)
		}
		if srv.Count() != 0 {
			t.Error("a message went out without TLS")
		}
	})
}

func TestSMTPContextCancellation(t *testing.T) {
	t.Run("already cancelled", func(t *testing.T) {
		srv := smtpserver.Start(t)
		s := newSMTP(t, srv, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Send(ctx, numbered(1, "")); !errors.Is(err, context.Canceled) {
			t.Fatalf("Send error %v, want context.Canceled", err)
		}
		if c := srv.Connections(); c != 0 {
			t.Errorf("%d connections for a cancelled send", c)
		}
	})
	t.Run("during a slow transaction", func(t *testing.T) {
		srv := smtpserver.Start(t, smtpserver.Delay(3*time.Second))
		s := newSMTP(t, srv, func(c *SMTPConfig) { c.Timeout = 20 * time.Second })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := s.Send(ctx, numbered(1, ""))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send error %v, want context.DeadlineExceeded", err)
		}
		// The server holds its reply for 3 s and Timeout is 20 s: returning
		// well before either shows the cancellation reached the socket.
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Send returned after %v", d)
		}
	})
	t.Run("during backoff", func(t *testing.T) {
		const rcpt = "busy@example.net"
		srv := smtpserver.Start(t, smtpserver.TempFail(rcpt, 100))
		s := newSMTP(t, srv, func(c *SMTPConfig) { c.RetryBackoff, c.MaxBackoff = time.Minute, time.Minute })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := s.Send(ctx, numbered(1, rcpt)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send error %v, want context.DeadlineExceeded", err)
		}
		if got := srv.RcptAttempts(rcpt); got != 1 {
			t.Errorf("%d attempts, want 1", got)
		}
	})
	t.Run("the sender works afterwards", func(t *testing.T) {
		srv := smtpserver.Start(t, smtpserver.Delay(300*time.Millisecond))
		s := newSMTP(t, srv, func(c *SMTPConfig) { c.Concurrency = 1 })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := s.Send(ctx, numbered(1, "")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send error %v, want context.DeadlineExceeded", err)
		}
		sendAll(t, s, numbered(2, ""))
		found := false
		for _, m := range srv.Messages() {
			found = found || m.To[0] == "reader002@example.net"
		}
		if !found {
			t.Error("the message after the cancelled one was not delivered")
		}
	})
}

func TestSMTPConnectionRefusedIsTemporary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, TLS: TLSNone, Retries: 1, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Send(context.Background(), numbered(1, ""))
	var e *Error
	if !IsTemporary(err) || !errors.As(err, &e) || e.Attempts != 2 {
		t.Fatalf("Send error %v, want temporary after 2 attempts", err)
	}
}

// A message that cannot be built is the sender's fault, not a refusal of
// the recipient: Invalid, never Permanent, and no server is asked.
func TestSMTPInvalidMessageIsNotPermanent(t *testing.T) {
	srv := smtpserver.Start(t)
	s := newSMTP(t, srv, nil)
	for _, mutate := range []func(*Message){
		func(m *Message) { m.To = "not an address" },
		func(m *Message) { m.From = "Numérique responsable bulletin@exemple.gouv.fr" },
		func(m *Message) { m.ReplyTo = "a@x.fr b@x.fr" },
	} {
		m := numbered(1, "")
		mutate(m)
		err := s.Send(context.Background(), m)
		if !IsInvalid(err) || IsPermanent(err) || IsTemporary(err) {
			t.Errorf("Send error %v, want invalid (not permanent)", err)
		}
	}
	if c := srv.Connections(); c != 0 {
		t.Errorf("%d connections for invalid messages", c)
	}
}

func TestSMTPClose(t *testing.T) {
	srv := smtpserver.Start(t)
	s := newSMTP(t, srv, nil)
	sendAll(t, s, numbered(1, ""))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Send(context.Background(), numbered(2, "")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
}

func TestNewSMTPRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  SMTPConfig
		want string
	}{
		{"no host", SMTPConfig{}, "host"},
		{"bad tls mode", SMTPConfig{Host: "mail.example.org", TLS: "ssl"}, "TLS mode"},
		{"negative concurrency", SMTPConfig{Host: "mail.example.org", Concurrency: -1}, "concurrency"},
		{"negative rate", SMTPConfig{Host: "mail.example.org", Rate: -1}, "rate"},
		{"bad port", SMTPConfig{Host: "mail.example.org", Port: 70000}, "port"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewSMTP(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("NewSMTP error %v, want one naming %q", err, c.want)
			}
		})
	}
}

func TestSMTPDefaults(t *testing.T) {
	for _, c := range []struct {
		tls  string
		port int
	}{{"", 587}, {TLSStartTLS, 587}, {TLSImplicit, 465}, {TLSNone, 25}} {
		s, err := NewSMTP(SMTPConfig{Host: "localhost", TLS: c.tls})
		if err != nil {
			t.Fatal(err)
		}
		if s.cfg.Port != c.port || s.cfg.Concurrency != 4 || s.cfg.Retries != 3 || cap(s.slots) != 4 || s.limiter != nil {
			t.Errorf("TLS %q: port %d concurrency %d retries %d", c.tls, s.cfg.Port, s.cfg.Concurrency, s.cfg.Retries)
		}
		_ = s.Close()
	}
	s, _ := NewSMTP(SMTPConfig{Host: "localhost", Retries: -1, Rate: 5})
	if s.cfg.Retries != 0 || s.limiter == nil || float64(s.limiter.Limit()) != 5 || s.limiter.Burst() != 1 {
		t.Errorf("Retries -1 / Rate 5 give retries %d limiter %v", s.cfg.Retries, s.limiter)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	s, err := NewSMTP(SMTPConfig{Host: "localhost", RetryBackoff: 200 * time.Millisecond, MaxBackoff: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 100 * time.Millisecond, 200 * time.Millisecond},
		{2, 200 * time.Millisecond, 400 * time.Millisecond},
		{4, 800 * time.Millisecond, 1600 * time.Millisecond},
		{10, 5 * time.Second, 10 * time.Second},
		{60, 5 * time.Second, 10 * time.Second},
	} {
		for range 20 {
			if d := s.backoff(c.attempt); d < c.min || d > c.max {
				t.Errorf("backoff(%d) = %v, want within [%v, %v]", c.attempt, d, c.min, c.max)
			}
		}
	}
}

// Probe opens and quits a session, with STARTTLS and AUTH as configured,
// and sends nothing; it fails when nothing listens or AUTH is refused,
// and after Close.
func TestSMTPProbe(t *testing.T) {
	const user, pass = "bulletin", "s3cret"
	srv := smtpserver.Start(t, smtpserver.WithSTARTTLS(), smtpserver.WithAuth(user, pass))
	ctx := context.Background()
	s := newSMTP(t, srv, func(c *SMTPConfig) {
		c.TLS, c.TLSConfig, c.Username, c.Password, c.Concurrency = TLSStartTLS, srv.ClientTLSConfig(), user, pass, 1
	})
	// A pooled session first: the probe replaces it rather than opening a
	// second connection.
	sendAll(t, s, numbered(1, ""))
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("Probe of a server that answers: %v", err)
	}
	if err := s.Probe(ctx); err != nil {
		t.Fatalf("second Probe: %v", err)
	}
	if n, c := srv.Count(), srv.Connections(); n != 1 || c != 3 {
		t.Errorf("after a send and two probes: %d message(s), %d connection(s); want 1 and 3", n, c)
	}
	sendAll(t, s, numbered(2, ""))

	wrong := newSMTP(t, srv, func(c *SMTPConfig) {
		c.TLS, c.TLSConfig, c.Username, c.Password = TLSStartTLS, srv.ClientTLSConfig(), user, "wrong"
	})
	if err := wrong.Probe(ctx); err == nil {
		t.Error("Probe with a refused password: no error")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	down := newSMTP(t, srv, func(c *SMTPConfig) { c.Port = port })
	if err := down.Probe(ctx); err == nil {
		t.Error("Probe where nothing listens: no error")
	}

	_ = s.Close()
	if err := s.Probe(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Probe after Close: %v, want ErrClosed", err)
	}
	if err := NewOutbox(t.TempDir()).Probe(ctx); err != nil {
		t.Errorf("outbox Probe: %v", err)
	}
}
