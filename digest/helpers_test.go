package digest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/internal/testutil/smtpserver"
	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
	"github.com/ecoresponsable/bulletin/token"
)

func TestMain(m *testing.M) {
	// Keep warnings visible, not the routine notices of every store opened.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if os.Getenv(crashHelperEnv) != "" {
		os.Exit(crashHelper())
	}
	os.Exit(m.Run())
}

// sendSecret signs the links of the test digests.
var sendSecret = bytes.Repeat([]byte("s"), 32)

func sendSettings() Settings {
	return Settings{
		SiteTitle:         "Bulletin de test",
		SiteURL:           "https://example.org/",
		PublicURL:         "https://example.org/",
		From:              "Bulletin <bulletin@example.org>",
		ReplyTo:           "contact@example.org",
		SubjectFR:         "{site} — {n} nouvelles publications ({date})",
		SubjectEN:         "{site} — {n} new publications ({date})",
		ListID:            "bulletin.example.org",
		UnsubscribeMailto: "desinscription@example.org",
		Location:          time.UTC,
	}
}

func sendRenderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := newSendRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newSendRenderer() (*Renderer, error) {
	return newRendererWith(sendSettings())
}

// newRendererWith is the test renderer with other settings.
func newRendererWith(settings Settings) (*Renderer, error) {
	tpl, err := templates.Load("")
	if err != nil {
		return nil, err
	}
	signer, err := token.NewSigner(sendSecret)
	if err != nil {
		return nil, err
	}
	return NewRenderer(tpl, signer, settings), nil
}

// newSMTP returns a mailer to srv with fast retries; change adjusts it.
func newSMTP(t testing.TB, srv *smtpserver.Server, change func(*mailer.SMTPConfig)) *mailer.SMTP {
	t.Helper()
	cfg := mailer.SMTPConfig{
		Host:         srv.Host(),
		Port:         srv.Port(),
		TLS:          mailer.TLSNone,
		HELO:         "bulletin.test",
		Concurrency:  4,
		RetryBackoff: time.Millisecond,
		MaxBackoff:   5 * time.Millisecond,
		Timeout:      5 * time.Second,
	}
	if change != nil {
		change(&cfg)
	}
	m, err := mailer.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// newSender returns a Sender of st through m with 4 workers.
func newSender(t testing.TB, st store.Store, m mailer.Sender) *Sender {
	return &Sender{
		Store: st, Mailer: m, Renderer: sendRenderer(t),
		Concurrency: 4, BounceAfter: 3,
		Logger: slog.Default(),
	}
}

// addSubscribers adds n active subscribers prefix<i>@example.net with
// these topics.
func addSubscribers(t testing.TB, st store.Store, prefix string, n int, topics ...string) []store.Subscriber {
	t.Helper()
	out := make([]store.Subscriber, n)
	for i := range n {
		sub, err := st.Add(context.Background(), store.NewSubscriber{
			Email: fmt.Sprintf("%s%04d@example.net", prefix, i), Name: fmt.Sprintf("Lecteur %d", i),
			Lang: []string{"fr", "en"}[i%2], Topics: topics,
		}, t0)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = sub
	}
	return out
}

// testItems are digest items tagged climat and web.
func testItems(names ...string) []store.DigestItem {
	items := make([]store.DigestItem, len(names))
	for i, n := range names {
		items[i] = store.DigestItem{
			PublicationID: "https://example.org/" + n + "/",
			Title:         "Titre « " + n + " »",
			URL:           "https://example.org/" + n + "/",
			Description:   "Résumé de " + n,
			Date:          t0.Add(-time.Duration(i) * time.Hour),
			Tags:          []string{"climat", "web"},
		}
	}
	return items
}

func createDigest(t testing.TB, st store.Store, names ...string) store.Digest {
	t.Helper()
	d, err := st.CreateDigest(context.Background(), "digest", testItems(names...), t0)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// received counts the messages srv accepted per envelope recipient and
// collects their Message-IDs.
func received(srv *smtpserver.Server) (count map[string]int, ids map[string][]string) {
	count, ids = map[string]int{}, map[string][]string{}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			count[to]++
			if m.Header != nil {
				ids[to] = append(ids[to], strings.Trim(m.Header.Get("Message-ID"), "<>"))
			}
		}
	}
	return count, ids
}

// mustHeader fails unless h has every named header.
func mustHeader(t *testing.T, h mail.Header, names ...string) {
	t.Helper()
	for _, n := range names {
		if h.Get(n) == "" {
			t.Errorf("header %s missing", n)
		}
	}
}

// hookMailer wraps a mailer and calls after once each successful send,
// with the number of messages sent so far.
type hookMailer struct {
	mailer.Sender
	n     atomic.Int64
	after func(n int64)
}

func (h *hookMailer) Send(ctx context.Context, m *mailer.Message) error {
	if err := h.Sender.Send(ctx, m); err != nil {
		return err
	}
	if h.after != nil {
		h.after(h.n.Add(1))
	}
	return nil
}
