package smtpserver

import (
	"net/smtp"
	"strings"
	"testing"
	"time"
)

const testMsg = "From: a@example.org\r\nTo: b@example.net\r\nSubject: Bonjour\r\n\r\nHello.\r\n"

func TestCapturesMessages(t *testing.T) {
	s := Start(t)
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.net", "c@example.net"}, []byte(testMsg)); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	m := s.WaitFor(1, 5*time.Second)[0]
	if m.From != "a@example.org" || strings.Join(m.To, ",") != "b@example.net,c@example.net" {
		t.Errorf("envelope %q -> %q", m.From, m.To)
	}
	if string(m.Data) != testMsg || m.Header.Get("Subject") != "Bonjour" || m.Conn != 1 {
		t.Errorf("captured %q, Subject %q, connection %d", m.Data, m.Header.Get("Subject"), m.Conn)
	}
	if s.Port() == 0 || s.Host() != "127.0.0.1" || s.Connections() != 1 || s.RcptAttempts("B@example.net") != 1 {
		t.Errorf("host %s port %d connections %d", s.Host(), s.Port(), s.Connections())
	}
}

func TestInjectedFailures(t *testing.T) {
	s := Start(t, TempFail("busy@example.net", 1), PermFail("gone@example.net"))
	send := func(rcpt string) error {
		return smtp.SendMail(s.Addr(), nil, "a@example.org", []string{rcpt}, []byte(testMsg))
	}
	if err := send("busy@example.net"); err == nil || !strings.HasPrefix(err.Error(), "451") {
		t.Errorf("first send to busy: %v, want 451", err)
	}
	if err := send("busy@example.net"); err != nil {
		t.Errorf("second send to busy: %v", err)
	}
	if err := send("gone@example.net"); err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Errorf("send to gone: %v, want 550", err)
	}
	if got := s.Count(); got != 1 {
		t.Errorf("%d messages accepted, want 1", got)
	}
}

func TestDiscardCountsOnly(t *testing.T) {
	s := Start(t, Discard())
	for range 3 {
		if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.net"}, []byte(testMsg)); err != nil {
			t.Fatal(err)
		}
	}
	if s.Count() != 3 || len(s.Messages()) != 0 {
		t.Errorf("count %d, stored %d; want 3 and 0", s.Count(), len(s.Messages()))
	}
}

func TestAuthRequired(t *testing.T) {
	s := Start(t, WithAuth("u", "p"))
	if err := smtp.SendMail(s.Addr(), nil, "a@example.org", []string{"b@example.net"}, []byte(testMsg)); err == nil {
		t.Error("sent without authenticating")
	}
	// net/smtp sends PLAIN credentials in clear only to a loopback host.
	auth := smtp.PlainAuth("", "u", "p", s.Host())
	if err := smtp.SendMail(s.Addr(), auth, "a@example.org", []string{"b@example.net"}, []byte(testMsg)); err != nil {
		t.Errorf("authenticated send: %v", err)
	}
	if s.Count() != 1 {
		t.Errorf("count %d, want 1", s.Count())
	}
}
