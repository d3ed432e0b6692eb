package digest

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/token"
)

func TestConfirmation(t *testing.T) {
	r := newRenderRenderer(t, func(s *Settings) { s.SiteTitle = "Numérique <responsable> & co" })
	signer := renderSigner(t, renderSecret)
	now := time.Date(2026, 3, 25, 23, 30, 0, 0, time.UTC) // 26 March in Paris; +7 days = 2 April (summer time)
	tests := []struct {
		lang, subLang                    string
		subject, action, expires, ignore string
	}{
		{"fr", "fr", "Confirmez votre abonnement à Numérique <responsable> & co", "Confirmer mon abonnement", "valable jusqu’au 2 avril 2026", "ignorez ce message"},
		{"en", "en", "Confirm your subscription to Numérique <responsable> & co", "Confirm my subscription", "valid until April 2, 2026", "ignore this email"},
		{"fr", "", "Confirmez votre abonnement à Numérique <responsable> & co", "Confirmer mon abonnement", "valable jusqu’au 2 avril 2026", "ignorez ce message"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.subLang, func(t *testing.T) {
			sub := store.Subscriber{ID: 31, Email: "jeanne@example.org", Lang: tt.subLang, Status: store.StatusPending}
			link := renderPublicURL + "confirm?token=" + signer.SignID(token.Confirm, sub.ID, now.Add(ConfirmValidity))
			m, err := r.Confirmation(sub, link, now)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tt.subject || m.To != "jeanne@example.org" || !m.Date.Equal(now) {
				t.Errorf("Subject %q To %q Date %v", m.Subject, m.To, m.Date)
			}
			if m.MessageID != "bulletin.c31.1774481400@exemple.gouv.fr" {
				t.Errorf("Message-ID %q", m.MessageID)
			}
			for part, body := range map[string]string{"text": m.Text, "html": m.HTML} {
				for _, want := range []string{tt.expires, tt.ignore, "jeanne@example.org"} {
					if !strings.Contains(body, want) {
						t.Errorf("%s part lacks %q:\n%s", part, want, body)
					}
				}
			}
			if !strings.Contains(m.HTML, ">"+tt.action+"</a>") {
				t.Errorf("the HTML part has no %q button", tt.action)
			}
			if !strings.Contains(m.Text, "\n"+link+"\n") {
				t.Errorf("the text part does not give the link on a line of its own:\n%s", m.Text)
			}
			if strings.Count(m.HTML, `href="`+link+`"`) != 2 {
				t.Errorf("the HTML part should link the button and the copyable address to %s", link)
			}
			if !strings.Contains(m.HTML, `<html lang="`+tt.lang+`"`) || !strings.Contains(m.HTML, "Numérique &lt;responsable&gt; &amp; co") {
				t.Error("HTML part: no lang attribute or the site title is not escaped")
			}
			if strings.Contains(m.Text, "preferences?token=") || strings.Contains(m.HTML, "unsubscribe?token=") {
				t.Error("a confirmation carries no preferences or unsubscribe link")
			}
			again, err := r.Confirmation(sub, link, now)
			if err != nil {
				t.Fatal(err)
			}
			a, errA := mailer.Render(m)
			b, errB := mailer.Render(again)
			if errA != nil || errB != nil || !bytes.Equal(a, b) {
				t.Fatalf("the same confirmation rendered twice differs (%v, %v)", errA, errB)
			}
			checkConfirmRendered(t, a, m)
		})
	}
}

func TestAlreadySubscribed(t *testing.T) {
	r := newRenderRenderer(t, nil)
	signer := renderSigner(t, renderSecret)
	now := time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)
	for _, lang := range []string{"fr", "en"} {
		sub := store.Subscriber{ID: 5, Email: "paul@example.org", Lang: lang, Status: store.StatusActive}
		m, err := r.AlreadySubscribed(sub, now)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"fr": "Votre abonnement à Numérique responsable", "en": "Your subscription to Numérique responsable"}[lang]
		if m.Subject != want {
			t.Errorf("Subject %q, want %q", m.Subject, want)
		}
		if strings.Contains(m.Text, "confirm?token=") || strings.Contains(m.HTML, "confirm?token=") {
			t.Error("the note to an active address must not carry a confirmation link")
		}
		for _, purpose := range []token.Purpose{token.Preferences, token.Unsubscribe} {
			prefix := renderPublicURL + string(purpose) + "?token="
			i := strings.Index(m.Text, prefix)
			if i < 0 {
				t.Fatalf("%s: no %s link in the text part:\n%s", lang, purpose, m.Text)
			}
			tok, _, _ := strings.Cut(m.Text[i+len(prefix):], "\n")
			if id, err := signer.VerifyID(tok, purpose, now); err != nil || id != sub.ID {
				t.Errorf("%s link token: id %d, %v", purpose, id, err)
			}
			if !strings.Contains(m.HTML, prefix+tok) {
				t.Errorf("the HTML part lacks the %s link", purpose)
			}
		}
		if m.MessageID != "bulletin.a5.1774440000@exemple.gouv.fr" {
			t.Errorf("Message-ID %q", m.MessageID)
		}
		raw, err := mailer.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		checkConfirmRendered(t, raw, m)
	}
}

func TestConfirmationRefusesBadLinks(t *testing.T) {
	r := newRenderRenderer(t, nil)
	sub := store.Subscriber{ID: 1, Email: "a@example.org"}
	for _, link := range []string{"", "javascript:alert(1)", "/confirm?token=x", "mailto:a@example.org", "https://"} {
		if m, err := r.Confirmation(sub, link, time.Now()); err == nil {
			t.Errorf("link %q: got a message (%v), want an error", link, m.Subject)
		}
	}
}

// checkConfirmRendered parses a rendered confirmation as a mail client
// would: the subject decodes, Auto-Submitted is set, no list headers.
func checkConfirmRendered(t *testing.T, raw []byte, m *mailer.Message) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("Subject decodes to %q (%v), want %q", subject, err, m.Subject)
	}
	if got := msg.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	if msg.Header.Get("List-Unsubscribe") != "" || msg.Header.Get("List-Id") != "" {
		t.Error("a confirmation is not a list message")
	}
	if got := msg.Header.Get("Message-Id"); got != "<"+m.MessageID+">" {
		t.Errorf("Message-ID %q", got)
	}
}
