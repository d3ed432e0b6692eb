package digest

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris on machines without a zoneinfo database

	"golang.org/x/net/html"

	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
	"github.com/ecoresponsable/bulletin/token"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden/")

const (
	renderSiteURL   = "https://exemple.gouv.fr/"
	renderPublicURL = "https://lettre.exemple.gouv.fr/"
)

func renderSettings(t testing.TB) Settings {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return Settings{
		SiteTitle:         "Numérique responsable",
		SiteURL:           renderSiteURL,
		PublicURL:         renderPublicURL,
		From:              "Numérique responsable <bulletin@exemple.gouv.fr>",
		ReplyTo:           "contact@exemple.gouv.fr",
		SubjectFR:         "{site} — {n} nouvelles publications ({date})",
		SubjectEN:         "{site} — {n} new publications ({date})",
		UnsubscribeMailto: "desinscription@exemple.gouv.fr",
		Location:          loc,
	}
}

func renderSigner(t testing.TB, secret string) *token.Signer {
	t.Helper()
	s, err := token.NewSigner([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const renderSecret = "0123456789abcdef0123456789abcdef"

func newRenderRenderer(t testing.TB, edit func(*Settings)) *Renderer {
	t.Helper()
	set, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	s := renderSettings(t)
	if edit != nil {
		edit(&s)
	}
	return NewRenderer(set, renderSigner(t, renderSecret), s)
}

// renderDigest is the fixed digest of the golden files: one item with a
// thumbnail, one without description whose title tries a header
// injection, accented titles and tags, markup in a description.
func renderDigest() store.Digest {
	return store.Digest{
		ID:        42,
		Status:    store.DigestSending,
		CreatedAt: time.Date(2022, 6, 2, 7, 0, 0, 0, time.UTC),
		Items: []store.DigestItem{
			{
				PublicationID: "https://exemple.gouv.fr/guides/ecoconception/",
				Title:         "Écoconception : le référentiel général évolue",
				URL:           "https://exemple.gouv.fr/guides/ecoconception/",
				Description:   "Ce qui change pour les services publics numériques : 78 critères révisés, une méthode d’évaluation simplifiée et des exemples concrets.",
				Date:          time.Date(2022, 5, 31, 22, 30, 0, 0, time.UTC), // 1 June in Paris
				Tags:          []string{"Écoconception", "Référentiel"},
				Thumbnail:     "https://exemple.gouv.fr/img/rgesn-apercu.png",
				Type:          "guide",
			},
			{
				PublicationID: "https://exemple.gouv.fr/actualites/sobriete/",
				Title:         "Sobriété numérique\r\nBcc: victime@example.net",
				URL:           "https://exemple.gouv.fr/actualites/sobriete/",
				Date:          time.Date(2022, 5, 30, 8, 0, 0, 0, time.UTC),
				Tags:          []string{"sobriété"},
			},
			{
				PublicationID: "https://exemple.gouv.fr/podcasts/reemploi/",
				Title:         "Podcast : le réemploi des équipements",
				URL:           "https://exemple.gouv.fr/podcasts/reemploi/",
				Description:   "Les <b>ordinateurs</b> & téléphones ont une seconde vie : « retour d’expérience » d’un ministère.",
				Date:          time.Date(2022, 5, 28, 12, 0, 0, 0, time.UTC),
				Tags:          []string{"Réemploi", "podcast"},
				Type:          "podcast",
			},
		},
	}
}

func renderSubscriber(lang string) store.Subscriber {
	if lang == "en" {
		return store.Subscriber{ID: 8, Email: "bob@example.org", Name: "Bob Smith", Lang: "en", Status: store.StatusActive}
	}
	return store.Subscriber{ID: 7, Email: "alice@example.org", Name: "Alice Dupré", Lang: "fr", Status: store.StatusActive}
}

func mustMessage(t testing.TB, r *Renderer, d store.Digest, sub store.Subscriber) *mailer.Message {
	t.Helper()
	m, ok, err := r.Message(d, sub)
	if err != nil {
		t.Fatal(err)
	}
	if !ok || m == nil {
		t.Fatalf("Message: ok=%v m=%v, want a message", ok, m)
	}
	return m
}

func TestGolden(t *testing.T) {
	r := newRenderRenderer(t, nil)
	for _, lang := range []string{"fr", "en"} {
		t.Run(lang, func(t *testing.T) {
			m := mustMessage(t, r, renderDigest(), renderSubscriber(lang))
			raw, err := mailer.Render(m)
			if err != nil {
				t.Fatal(err)
			}
			for ext, got := range map[string]string{"html": m.HTML, "txt": m.Text, "eml": string(raw)} {
				golden(t, filepath.Join("testdata", "golden", "digest."+lang+"."+ext), got)
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./digest/ -run TestGolden -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %q\nwant: %q\n(-update rewrites it)", path, i+1, g, w)
			}
		}
	}
}

func TestContent(t *testing.T) {
	r := newRenderRenderer(t, nil)
	tests := []struct {
		lang string
		want []string // in both parts
		html []string
	}{
		{"fr", []string{
			"1er juin 2022", "30 mai 2022", "28 mai 2022", "2 juin 2022",
			"3 nouvelles publications",
			"Écoconception : le référentiel général évolue",
			"Sobriété numérique Bcc: victime@example.net",
			"https://exemple.gouv.fr/guides/ecoconception/",
			"Thèmes\u00a0: Écoconception, Référentiel",
			"Vous recevez ce courriel parce que vous êtes abonné(e) à Numérique responsable avec l’adresse alice@example.org.",
			"Se désabonner", "Gérer mes préférences", "Voir dans le navigateur",
			renderPublicURL + "digests/42",
		}, []string{
			`<html lang="fr"`,
			"Les &lt;b&gt;ordinateurs&lt;/b&gt; &amp; téléphones",
			"3 nouvelles publications\u00a0: Écoconception : le référentiel général évolue…",
		}},
		{"en", []string{
			"June 1, 2022", "May 30, 2022", "May 28, 2022", "June 2, 2022",
			"3 new publications",
			"Topics: Écoconception, Référentiel",
			"You are receiving this email because you subscribed to Numérique responsable with the address bob@example.org.",
			"Unsubscribe", "Manage your preferences", "View in your browser",
		}, []string{
			`<html lang="en"`,
			"3 new publications: Écoconception : le référentiel général évolue…",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			m := mustMessage(t, r, renderDigest(), renderSubscriber(tt.lang))
			text := html.UnescapeString(m.HTML)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("HTML lacks %q", w)
				}
				if !strings.Contains(strings.ReplaceAll(m.Text, "\n", " "), w) { // the text part wraps lines
					t.Errorf("text lacks %q", w)
				}
			}
			for _, w := range tt.html {
				if !strings.Contains(m.HTML, w) {
					t.Errorf("HTML lacks %q", w)
				}
			}
			for _, part := range []string{m.HTML, m.Text} {
				if strings.ContainsAny(part, "\r") || strings.Contains(part, "\nBcc:") {
					t.Error("a title's CR/LF reached the body")
				}
			}
			if strings.Contains(m.HTML, "<b>") {
				t.Error("markup of a description was not escaped")
			}
		})
	}
}

func TestDatesInLocation(t *testing.T) {
	d := renderDigest()
	d.CreatedAt = time.Date(2022, 6, 1, 23, 30, 0, 0, time.UTC) // 2 June in Paris, 1 June in UTC
	for _, tt := range []struct {
		loc  *time.Location
		want string
	}{
		{renderSettings(t).Location, "(2 juin 2022)"},
		{time.UTC, "(1er juin 2022)"},
	} {
		r := newRenderRenderer(t, func(s *Settings) { s.Location = tt.loc })
		m := mustMessage(t, r, d, renderSubscriber("fr"))
		if !strings.HasSuffix(m.Subject, tt.want) {
			t.Errorf("%s: subject %q, want the date %s", tt.loc, m.Subject, tt.want)
		}
		if !m.Date.Equal(d.CreatedAt) {
			t.Errorf("Date %v, want the digest's creation %v", m.Date, d.CreatedAt)
		}
	}
}

// TestLabels checks that tags and a subscriber's topics are shown by their
// label, while topics still select items by the tag.
func TestLabels(t *testing.T) {
	r := newRenderRenderer(t, func(s *Settings) {
		s.Labels = publication.NewLabels(map[string]string{"referentiel": "Le référentiel\r\nBcc: x@example.net", "podcast": "Balados"})
	})
	sub := renderSubscriber("fr")
	sub.Topics = []string{"podcast"}
	m := mustMessage(t, r, renderDigest(), sub)
	text := html.UnescapeString(m.HTML)
	for _, w := range []string{"Thèmes\u00a0: Réemploi, Balados", "vos thèmes\u00a0: Balados"} {
		if !strings.Contains(text, w) {
			t.Errorf("HTML lacks %q", w)
		}
		if !strings.Contains(strings.ReplaceAll(m.Text, "\n", " "), w) {
			t.Errorf("text lacks %q", w)
		}
	}
	if strings.Contains(text, "Écoconception") {
		t.Error("an item outside the subscriber's topics is in the email")
	}
	m = mustMessage(t, r, renderDigest(), renderSubscriber("fr"))
	if text := html.UnescapeString(m.HTML); !strings.Contains(text, "Thèmes\u00a0: Écoconception, Le référentiel Bcc: x@example.net") {
		t.Errorf("HTML lacks the label of référentiel on one line:\n%s", text)
	}
	if strings.Contains(m.Text, "\nBcc:") || strings.Contains(m.HTML, "\r") {
		t.Error("a label's CR/LF reached the body")
	}
}

func TestSubject(t *testing.T) {
	r := newRenderRenderer(t, nil)
	at := time.Date(2022, 6, 2, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		lang string
		n    int
		want string
	}{
		{"fr", 3, "Numérique responsable — 3 nouvelles publications (2 juin 2022)"},
		{"fr", 1, "Numérique responsable — 1 nouvelle publication (2 juin 2022)"},
		{"en", 2, "Numérique responsable — 2 new publications (June 2, 2022)"},
		{"en", 1, "Numérique responsable — 1 new publication (June 2, 2022)"},
		{"EN-gb", 1, "Numérique responsable — 1 new publication (June 2, 2022)"},
		{"", 1, "Numérique responsable — 1 nouvelle publication (2 juin 2022)"},
	} {
		if got := r.Subject(tt.lang, tt.n, at); got != tt.want {
			t.Errorf("Subject(%q, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}

	custom := newRenderRenderer(t, func(s *Settings) {
		s.SiteTitle = "Lettre\r\nBcc: x@y"
		s.SubjectFR = "[{site}] {n} publications du {date}"
		s.SubjectEN = ""
	})
	if got, want := custom.Subject("fr", 1, at), "[Lettre Bcc: x@y] 1 publication du 2 juin 2022"; got != want {
		t.Errorf("custom subject %q, want %q", got, want)
	}
	if got, want := custom.Subject("en", 4, at), "Lettre Bcc: x@y — 4 new publications (June 2, 2022)"; got != want {
		t.Errorf("empty English subject falls back to %q, want %q", got, want)
	}

	// A subscriber with one matching item gets the singular.
	sub := renderSubscriber("fr")
	sub.Topics = []string{"podcast"}
	m := mustMessage(t, r, renderDigest(), sub)
	if want := "Numérique responsable — 1 nouvelle publication (2 juin 2022)"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if !strings.Contains(m.HTML, "1 nouvelle publication — 2 juin 2022") || strings.Contains(m.HTML, "Écoconception") {
		t.Error("HTML of a one-item digest: want the singular intro and only the matching item")
	}
}

func header(m *mailer.Message, name string) (string, bool) {
	for _, h := range m.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1], true
		}
	}
	return "", false
}

func TestHeaders(t *testing.T) {
	r := newRenderRenderer(t, nil)
	d := renderDigest()
	sub := renderSubscriber("fr")
	m := mustMessage(t, r, d, sub)

	checks := []struct{ name, got, want string }{
		{"From", m.From, "Numérique responsable <bulletin@exemple.gouv.fr>"},
		{"Reply-To", m.ReplyTo, "contact@exemple.gouv.fr"},
		{"Subject", m.Subject, "Numérique responsable — 3 nouvelles publications (2 juin 2022)"},
		{"Message-ID", m.MessageID, "bulletin.d42.rcu8s0.s7@exemple.gouv.fr"},
		{"List-Id", must(header(m, "List-Id")), "=?UTF-8?q?Num=C3=A9rique_responsable?= <bulletin.exemple.gouv.fr>"},
		{"List-Unsubscribe", must(header(m, "List-Unsubscribe")),
			"<" + r.UnsubscribeURL(sub) + ">, <mailto:desinscription@exemple.gouv.fr?subject=unsubscribe>"},
		{"List-Unsubscribe-Post", must(header(m, "List-Unsubscribe-Post")), "List-Unsubscribe=One-Click"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil || to.Name != "Alice Dupré" || to.Address != "alice@example.org" {
		t.Errorf("To %q → %v, %v; want Alice Dupré <alice@example.org>", m.To, to, err)
	}
	if !m.Date.Equal(d.CreatedAt) {
		t.Errorf("Date %v, want the digest's CreatedAt %v", m.Date, d.CreatedAt)
	}
	if !strings.HasPrefix(r.UnsubscribeURL(sub), "https://lettre.exemple.gouv.fr/unsubscribe?token=") {
		t.Errorf("UnsubscribeURL %q is not on the public URL", r.UnsubscribeURL(sub))
	}

	t.Run("rendered", func(t *testing.T) {
		raw, err := mailer.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		checkRendered(t, raw, m)
	})

	t.Run("no name, no mailto configured, ASCII title, given ListID", func(t *testing.T) {
		r := newRenderRenderer(t, func(s *Settings) {
			s.SiteTitle = `The "Green" Letter`
			s.UnsubscribeMailto = ""
			s.ListID = "weekly.example.org"
			s.ReplyTo = ""
		})
		sub := store.Subscriber{ID: 9, Email: "carol@example.org", Lang: "en"}
		m := mustMessage(t, r, d, sub)
		if m.To != "carol@example.org" {
			t.Errorf("To = %q, want the bare address", m.To)
		}
		if got, want := must(header(m, "List-Id")), `"The \"Green\" Letter" <weekly.example.org>`; got != want {
			t.Errorf("List-Id = %q, want %q", got, want)
		}
		if got, want := must(header(m, "List-Unsubscribe")), "<"+r.UnsubscribeURL(sub)+">"; got != want {
			t.Errorf("List-Unsubscribe = %q, want only the one-click URL (no mailto configured): %q", got, want)
		}
		if m.ReplyTo != "" {
			t.Errorf("Reply-To = %q, want none", m.ReplyTo)
		}
		raw, err := mailer.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("\r\nReply-To:")) {
			t.Error("a Reply-To header was written though none is configured")
		}
	})

	t.Run("injection", func(t *testing.T) {
		r := newRenderRenderer(t, func(s *Settings) { s.SiteTitle = "Lettre\r\nBcc: evil@example.net" })
		sub := store.Subscriber{ID: 10, Email: "dan@example.org", Name: "Dan\r\nBcc: evil@example.net", Lang: "fr"}
		m := mustMessage(t, r, d, sub)
		for _, v := range []string{m.To, m.Subject, must(header(m, "List-Id"))} {
			if strings.ContainsAny(v, "\r\n") {
				t.Errorf("header value %q holds CR or LF", v)
			}
		}
		raw, err := mailer.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		checkRendered(t, raw, m)
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if got := msg.Header.Get("Bcc"); got != "" {
			t.Errorf("a Bcc header was injected: %q", got)
		}
	})
}

func must(v string, ok bool) string {
	if !ok {
		return "<missing>"
	}
	return v
}

// checkRendered parses a message as a mail client would and checks its
// structure: the list headers, multipart/alternative with the text part
// first, UTF-8, no line over 998 octets.
func checkRendered(t *testing.T, raw []byte, m *mailer.Message) {
	t.Helper()
	for i, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d is %d octets long", i+1, len(line))
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("Subject decodes to %q (%v), want %q", subject, err, m.Subject)
	}
	if got := h.Get("Message-Id"); got != "<"+m.MessageID+">" {
		t.Errorf("Message-ID %q, want <%s>", got, m.MessageID)
	}
	if date, err := h.Date(); err != nil || !date.Equal(m.Date) {
		t.Errorf("Date %v (%v), want %v", date, err, m.Date)
	}
	if got := h.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	if got := h.Get("List-Unsubscribe"); !strings.Contains(got, "<https://lettre.exemple.gouv.fr/unsubscribe?token=") {
		t.Errorf("List-Unsubscribe = %q, want the one-click https URL", got)
	}
	if got := h.Get("List-Id"); !strings.HasSuffix(got, ">") {
		t.Errorf("List-Id = %q", got)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if !strings.EqualFold(cp["charset"], "utf-8") {
			t.Errorf("part %s has charset %q, want UTF-8", ct, cp["charset"])
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		want := m.Text
		if ct == "text/html" {
			want = m.HTML
		}
		if strings.ReplaceAll(string(body), "\r\n", "\n") != want {
			t.Errorf("part %s does not decode to the rendered body", ct)
		}
		types = append(types, ct)
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("parts %v, want text/plain then text/html", types)
	}
}

func TestTopics(t *testing.T) {
	r := newRenderRenderer(t, nil)
	tests := []struct {
		name   string
		topics []string
		want   []string // item title prefixes, in order; nil = skipped
	}{
		{"no topics: everything", nil, []string{"Écoconception", "Sobriété", "Podcast"}},
		{"blank topics count as none", []string{"  ", "!!"}, []string{"Écoconception", "Sobriété", "Podcast"}},
		{"accents and case folded", []string{"ECOCONCEPTION"}, []string{"Écoconception"}},
		{"accented topic, plain tag", []string{"Podcast"}, []string{"Podcast"}},
		{"plain topic, accented tag", []string{"sobriete"}, []string{"Sobriété"}},
		{"several topics", []string{"inconnu", "réemploi", "référentiel"}, []string{"Écoconception", "Podcast"}},
		{"no match", []string{"inconnu"}, nil},
		{"a topic is a whole tag", []string{"sobri"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := renderSubscriber("fr")
			sub.Topics = tt.topics
			m, ok, err := r.Message(renderDigest(), sub)
			if err != nil {
				t.Fatal(err)
			}
			_, _, _, perr := r.Preview(renderDigest(), sub)
			if tt.want == nil {
				if ok || m != nil {
					t.Fatalf("ok=%v m=%v, want skipped", ok, m != nil)
				}
				if !errors.Is(perr, ErrNoItems) {
					t.Errorf("Preview error %v, want ErrNoItems", perr)
				}
				return
			}
			if !ok || m == nil {
				t.Fatal("skipped, want a message")
			}
			if perr != nil {
				t.Fatal(perr)
			}
			var got []string
			doc := parseHTML(t, m.HTML)
			for _, h2 := range findAll(doc, "h2") {
				got = append(got, strings.Fields(textOf(h2))[0])
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("items %v, want %v", got, tt.want)
			}
			if n := strings.Count(m.Text, "\n------"); n != len(tt.want)+1 {
				t.Errorf("text part has %d separators, want %d", n, len(tt.want)+1)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	r := newRenderRenderer(t, nil)
	signer := renderSigner(t, renderSecret)
	forger := renderSigner(t, "another secret of 32 bytes......")
	sub := renderSubscriber("fr")
	m := mustMessage(t, r, renderDigest(), sub)

	links := map[string]string{}
	for _, a := range findAll(parseHTML(t, m.HTML), "a") {
		href := attr(a, "href")
		switch {
		case strings.HasPrefix(href, renderPublicURL+"unsubscribe?"):
			links["unsubscribe"] = href
		case strings.HasPrefix(href, renderPublicURL+"preferences?"):
			links["preferences"] = href
		}
	}
	for _, tt := range []struct {
		link           string
		purpose, other token.Purpose
	}{
		{"unsubscribe", token.Unsubscribe, token.Preferences},
		{"preferences", token.Preferences, token.Unsubscribe},
	} {
		href, ok := links[tt.link]
		if !ok {
			t.Fatalf("no %s link in the HTML", tt.link)
		}
		if !strings.Contains(m.Text, href) {
			t.Errorf("the text part lacks the %s link %s", tt.link, href)
		}
		u, err := url.Parse(href)
		if err != nil {
			t.Fatal(err)
		}
		tok := u.Query().Get("token")
		id, err := signer.VerifyID(tok, tt.purpose, time.Now().AddDate(10, 0, 0))
		if err != nil || id != sub.ID {
			t.Errorf("%s token: id %d, %v; want %d (and no expiry)", tt.link, id, err, sub.ID)
		}
		if _, err := signer.VerifyID(tok, tt.other, time.Now()); !errors.Is(err, token.ErrPurpose) {
			t.Errorf("%s token verified for %s: %v, want ErrPurpose", tt.link, tt.other, err)
		}
		if _, err := forger.VerifyID(tok, tt.purpose, time.Now()); !errors.Is(err, token.ErrSignature) {
			t.Errorf("%s token verified with another secret: %v, want ErrSignature", tt.link, err)
		}
	}
	if lu := must(header(m, "List-Unsubscribe")); !strings.Contains(lu, "<"+links["unsubscribe"]+">") {
		t.Errorf("List-Unsubscribe %q lacks the HTML's unsubscribe link", lu)
	}
	other := renderSubscriber("en")
	if r.UnsubscribeURL(other) == r.UnsubscribeURL(sub) {
		t.Error("two subscribers share an unsubscribe link")
	}
	if got, want := r.ArchiveURL(42), renderPublicURL+"digests/42"; got != want {
		t.Errorf("ArchiveURL = %q, want %q", got, want)
	}
}

func TestMessageID(t *testing.T) {
	for _, tt := range []struct {
		site string
		d, s int64
		want string
	}{
		{"https://exemple.gouv.fr/", 12, 345, "bulletin.d12.tp5tc0.s345@exemple.gouv.fr"},
		{"http://LOCALHOST:8080/blog/", 1, 2, "bulletin.d1.tp5tc0.s2@localhost"},
		{"https://numérique.example/", 3, 4, "bulletin.d3.tp5tc0.s4@xn--numrique-d1a.example"},
		{"", 5, 6, "bulletin.d5.tp5tc0.s6@localhost"},
		{"::not a url", 5, 6, "bulletin.d5.tp5tc0.s6@localhost"},
	} {
		d := store.Digest{ID: tt.d, CreatedAt: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
		if got := MessageID(tt.site, d, tt.s); got != tt.want {
			t.Errorf("MessageID(%q, %d, %d) = %q, want %q", tt.site, tt.d, tt.s, got, tt.want)
		}
	}
	// A resend, even by another process, carries the same id.
	a := mustMessage(t, newRenderRenderer(t, nil), renderDigest(), renderSubscriber("fr"))
	b := mustMessage(t, newRenderRenderer(t, nil), renderDigest(), renderSubscriber("fr"))
	if a.MessageID != b.MessageID || a.MessageID != MessageID(renderSiteURL, renderDigest(), 7) {
		t.Errorf("Message-IDs %q and %q, want both %q", a.MessageID, b.MessageID, MessageID(renderSiteURL, renderDigest(), 7))
	}
	// Another installation's digest 42, created at another time, does not
	// share it.
	other := renderDigest()
	other.CreatedAt = other.CreatedAt.Add(time.Second)
	if MessageID(renderSiteURL, other, 7) == a.MessageID {
		t.Error("two digests 42 created at different times share a Message-ID")
	}
}

func TestDeterministic(t *testing.T) {
	var first []byte
	for i := range 3 {
		r := newRenderRenderer(t, nil)
		m := mustMessage(t, r, renderDigest(), renderSubscriber("fr"))
		m2 := mustMessage(t, r, renderDigest(), renderSubscriber("fr")) // from the per-digest cache
		raw, err := mailer.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		raw2, err := mailer.Render(m2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, raw2) {
			t.Fatal("the same renderer gave two different messages")
		}
		if i == 0 {
			first = raw
		} else if !bytes.Equal(raw, first) {
			t.Fatal("two renderers gave different messages")
		}
	}
	r := newRenderRenderer(t, nil)
	html, text, subject, err := r.Preview(renderDigest(), renderSubscriber("fr"))
	if err != nil {
		t.Fatal(err)
	}
	m := mustMessage(t, r, renderDigest(), renderSubscriber("fr"))
	if html != m.HTML || text != m.Text || subject != m.Subject {
		t.Error("Preview differs from Message")
	}
}

func TestCacheFollowsDigest(t *testing.T) {
	r := newRenderRenderer(t, nil)
	d1 := renderDigest()
	d2 := renderDigest()
	d2.ID = 43
	d2.Items = d2.Items[2:]
	sub := renderSubscriber("fr")
	for _, d := range []store.Digest{d1, d2, d1} {
		m := mustMessage(t, r, d, sub)
		if n := len(findAll(parseHTML(t, m.HTML), "h2")); n != len(d.Items) {
			t.Errorf("digest %d rendered %d items, want %d", d.ID, n, len(d.Items))
		}
	}
}

func TestHTMLValidity(t *testing.T) {
	r := newRenderRenderer(t, nil)
	d := renderDigest()
	d.Items = append(d.Items, store.DigestItem{
		PublicationID: "x", Title: "Lien dangereux", URL: "javascript:alert(1)",
		Thumbnail: "/img/relative.png", Date: d.CreatedAt,
	})
	for _, lang := range []string{"fr", "en"} {
		m := mustMessage(t, r, d, renderSubscriber(lang))
		doc := parseHTML(t, m.HTML)

		if got := attr(findAll(doc, "html")[0], "lang"); got != lang {
			t.Errorf("html lang=%q, want %q", got, lang)
		}
		if n := len(findAll(doc, "h1")); n != 1 {
			t.Errorf("%d h1, want 1", n)
		}
		if n := len(findAll(doc, "h2")); n != len(d.Items) {
			t.Errorf("%d h2, want one per item (%d)", n, len(d.Items))
		}
		for _, tag := range []string{"script", "link", "iframe", "form", "object", "embed", "video", "audio"} {
			if n := len(findAll(doc, tag)); n != 0 {
				t.Errorf("%d <%s>, want none", n, tag)
			}
		}
		for _, st := range findAll(doc, "style") {
			if css := textOf(st); strings.Contains(css, "@import") || strings.Contains(css, "url(") || strings.Contains(css, "@font-face") {
				t.Errorf("the style block loads something: %s", css)
			}
		}
		if strings.Contains(m.HTML, "url(") {
			t.Error("an inline style loads a resource")
		}

		imgs := findAll(doc, "img")
		wantSrc := []string{"https://exemple.gouv.fr/img/rgesn-apercu.png", "https://exemple.gouv.fr/img/relative.png"}
		if len(imgs) != len(wantSrc) {
			t.Fatalf("%d images, want the %d thumbnails only", len(imgs), len(wantSrc))
		}
		for i, img := range imgs {
			if attr(img, "src") != wantSrc[i] {
				t.Errorf("img src=%q, want %q", attr(img, "src"), wantSrc[i])
			}
			if !hasAttr(img, "alt") {
				t.Errorf("img %s has no alt attribute", attr(img, "src"))
			}
			w, errW := strconv.Atoi(attr(img, "width"))
			h, errH := strconv.Atoi(attr(img, "height"))
			if errW != nil || errH != nil || w <= 1 || h <= 1 {
				t.Errorf("img %s: width=%q height=%q, want both set, more than 1 px", attr(img, "src"), attr(img, "width"), attr(img, "height"))
			}
		}
		// The thumbnail is decorative, next to its title: alt="" so that a
		// screen reader does not read the title twice (RGAA 1.2).
		if got := attr(imgs[0], "alt"); got != "" {
			t.Errorf("thumbnail alt=%q, want empty", got)
		}
		// An item in another language than the email's says so (WCAG 3.1.2).
		if lang := attr(imgs[0].Parent, "lang"); lang != "" {
			t.Errorf("an item in the email's language has lang=%q", lang)
		}

		// Every link is absolute, and the publication's own or ours.
		itemURLs := map[string]bool{renderSiteURL: true} // the site link, and the fallback of an unusable item URL
		for _, it := range d.Items {
			itemURLs[it.URL] = true
		}
		for _, a := range findAll(doc, "a") {
			href := attr(a, "href")
			u, err := url.Parse(href)
			if err != nil || !u.IsAbs() || (u.Scheme != "https" && u.Scheme != "http") {
				t.Errorf("link %q is not an absolute http(s) URL", href)
				continue
			}
			if !itemURLs[href] && !strings.HasPrefix(href, renderPublicURL) {
				t.Errorf("link %q is neither a publication nor one of bulletin's pages", href)
			}
			if strings.TrimSpace(textOf(a)) == "" {
				t.Errorf("link %q has no text", href)
			}
		}

		for _, tbl := range findAll(doc, "table") {
			if attr(tbl, "role") != "presentation" {
				t.Error("a layout table lacks role=presentation")
			}
			if w, err := strconv.Atoi(attr(tbl, "width")); err == nil && w > 600 {
				t.Errorf("a table is %d px wide, want at most 600", w)
			}
		}
		if !strings.Contains(m.HTML, "max-width:600px") {
			t.Error("the column is not capped at 600 px")
		}

		var preheader *html.Node
		for _, div := range findAll(doc, "div") {
			if strings.Contains(attr(div, "style"), "display:none") {
				preheader = div
			}
		}
		want := map[string]string{"fr": "4 nouvelles publications\u00a0: Écoconception", "en": "4 new publications: Écoconception"}[lang]
		if preheader == nil || !strings.HasPrefix(textOf(preheader), want) {
			t.Errorf("no hidden preheader starting with %q", want)
		}
		if !strings.Contains(m.HTML, `<meta name="color-scheme" content="light dark">`) {
			t.Error("no color-scheme meta")
		}
	}
}

func TestSize(t *testing.T) {
	r := newRenderRenderer(t, nil)
	d := store.Digest{ID: 9, CreatedAt: time.Date(2022, 6, 2, 7, 0, 0, 0, time.UTC)}
	long := strings.Repeat("Une description longue, accentuée et détaillée de la publication. ", 40) // 2,600 characters
	for i := range 10 {
		u := fmt.Sprintf("https://exemple.gouv.fr/actualites/2022/06/une-publication-au-titre-assez-long-numero-%d/", i)
		d.Items = append(d.Items, store.DigestItem{
			PublicationID: u, URL: u,
			Title:       fmt.Sprintf("Publication n° %d : un titre long comme ceux des rapports ministériels sur l’écoconception", i),
			Description: long,
			Date:        d.CreatedAt.AddDate(0, 0, -i),
			Tags:        []string{"Écoconception", "Sobriété numérique", "Achats responsables"},
			Thumbnail:   fmt.Sprintf("https://exemple.gouv.fr/img/apercus/publication-%d-apercu.jpg", i),
		})
	}
	sub := renderSubscriber("fr")
	sub.Topics = []string{"écoconception", "achats-responsables"}
	m := mustMessage(t, r, d, sub)
	if n := len(findAll(parseHTML(t, m.HTML), "h2")); n != 10 {
		t.Fatalf("%d items rendered, want 10", n)
	}
	t.Logf("10 items: HTML %d bytes, text %d bytes", len(m.HTML), len(m.Text))
	if len(m.HTML) > 30*1024 {
		t.Errorf("HTML of 10 items is %d bytes, want at most 30 KB", len(m.HTML))
	}
	if !strings.Contains(m.Text, "…") {
		t.Error("long descriptions were not shortened")
	}
}

// TestContrast computes, for every piece of visible text, the contrast of
// its colour against its background, in light mode (inline styles) and in
// dark mode (the dark rules of the <style> block applied by class), and
// wants WCAG AA: at least 4.5:1.
func TestContrast(t *testing.T) {
	r := newRenderRenderer(t, nil)
	m := mustMessage(t, r, renderDigest(), renderSubscriber("fr"))
	doc := parseHTML(t, m.HTML)

	dark := map[string]map[string]string{} // class → property → colour
	rule := regexp.MustCompile(`\.([\w-]+)\{(color|background-color|border-color):(#[0-9a-fA-F]{6})!important\}`)
	for _, st := range findAll(doc, "style") {
		css := textOf(st)
		at := strings.Index(css, "@media (prefers-color-scheme: dark)")
		if at < 0 {
			t.Fatal("no dark-mode rules")
		}
		for _, m := range rule.FindAllStringSubmatch(css[at:], -1) {
			if dark[m[1]] == nil {
				dark[m[1]] = map[string]string{}
			}
			dark[m[1]][m[2]] = m[3]
		}
	}
	if len(dark) == 0 {
		t.Fatal("no dark-mode colour rules found")
	}

	for _, mode := range []string{"light", "dark"} {
		checked := 0
		var walk func(n *html.Node, fg, bg string)
		walk = func(n *html.Node, fg, bg string) {
			if n.Type == html.ElementNode {
				style := attr(n, "style")
				if strings.Contains(style, "display:none") || n.Data == "head" {
					return
				}
				if c := cssColor(style, "color"); c != "" {
					fg = c
				}
				if c := cssColor(style, "background-color"); c != "" {
					bg = c
				}
				if mode == "dark" {
					for _, class := range strings.Fields(attr(n, "class")) {
						if c := dark[class]["color"]; c != "" {
							fg = c
						}
						if c := dark[class]["background-color"]; c != "" {
							bg = c
						}
					}
				}
			}
			if n.Type == html.TextNode && strings.TrimSpace(n.Data) != "" {
				checked++
				if fg == "" || bg == "" {
					t.Errorf("%s: text %q has no colour (%q) or background (%q) of its own", mode, n.Data, fg, bg)
				} else if ratio := contrast(fg, bg); ratio < 4.5 {
					t.Errorf("%s: text %q is %s on %s: contrast %.2f, want ≥ 4.5", mode, n.Data, fg, bg, ratio)
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c, fg, bg)
			}
		}
		walk(doc, "", "")
		if checked < 20 {
			t.Errorf("%s: only %d text nodes checked", mode, checked)
		}
	}
	// The ratio formula itself, on known pairs.
	if got := contrast("#000000", "#ffffff"); math.Abs(got-21) > 0.01 {
		t.Errorf("contrast(black, white) = %.2f, want 21", got)
	}
	if got := contrast("#777777", "#ffffff"); math.Abs(got-4.48) > 0.01 {
		t.Errorf("contrast(#777, white) = %.2f, want 4.48", got)
	}
}

// cssColor returns the #rrggbb value of property in an inline style.
func cssColor(style, property string) string {
	for _, decl := range strings.Split(style, ";") {
		k, v, ok := strings.Cut(decl, ":")
		if ok && strings.TrimSpace(k) == property {
			v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "!important"))
			if len(v) == 7 && v[0] == '#' {
				return strings.ToLower(v)
			}
		}
	}
	return ""
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	var rgb [3]float64
	for i := range rgb {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			rgb[i] = c / 12.92
		} else {
			rgb[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
}

func TestOverride(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) {
		p := filepath.Join(dir, "email", "digest.txt.tmpl")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := func() (*Renderer, error) {
		set, err := templates.Load(dir)
		if err != nil {
			return nil, err
		}
		return NewRenderer(set, renderSigner(t, renderSecret), renderSettings(t)), nil
	}

	write("Bonjour {{.Email}} : {{range .Items}}[{{.Title}}]{{end}} {{.UnsubscribeURL}}\n")
	r, err := load()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("Validate of a good override: %v", err)
	}
	m := mustMessage(t, r, renderDigest(), renderSubscriber("fr"))
	want := "Bonjour alice@example.org : [Écoconception : le référentiel général évolue][Sobriété numérique Bcc: victime@example.net][Podcast : le réemploi des équipements] " + r.UnsubscribeURL(renderSubscriber("fr")) + "\n"
	if m.Text != want {
		t.Errorf("override text part:\n got %q\nwant %q", m.Text, want)
	}
	if !strings.Contains(m.HTML, "<h1") {
		t.Error("the HTML part should still be the embedded one")
	}

	write("ligne 1\n{{range .Items}}{{.Titel}}{{end}}\n")
	r, err = load()
	if err != nil {
		t.Fatal(err)
	}
	err = r.Validate()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "email", "digest.txt.tmpl")+":2") {
		t.Errorf("Validate of an override with a misspelt field: %v, want the file and line 2", err)
	}
	if _, _, err := r.Message(renderDigest(), renderSubscriber("fr")); err == nil {
		t.Error("Message with a broken override: want an error")
	}

	write("ligne 1\nligne 2\n{{if .Items}}{{end}\n")
	_, err = load()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "email", "digest.txt.tmpl")+":3") {
		t.Errorf("Load of an override that does not parse: %v, want the file and line 3", err)
	}
}

func TestNewRendererDefaults(t *testing.T) {
	set, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	r := NewRenderer(set, renderSigner(t, renderSecret), Settings{
		SiteTitle: "Site", SiteURL: "https://site.example/news", From: "news@site.example", Lang: "en",
	})
	sub := store.Subscriber{ID: 3, Email: "x@example.org"} // no language: the site's
	m := mustMessage(t, r, renderDigest(), sub)
	if want := "Site — 3 new publications (June 2, 2022)"; m.Subject != want {
		t.Errorf("Subject %q, want %q (default English subject, UTC)", m.Subject, want)
	}
	if got := r.ArchiveURL(1); got != "https://site.example/news/digests/1" {
		t.Errorf("ArchiveURL %q: want PublicURL defaulting to SiteURL with a slash", got)
	}
	if got := must(header(m, "List-Id")); got != `"Site" <bulletin.site.example>` {
		t.Errorf("List-Id %q, want the default bulletin.<host>", got)
	}
	if got := must(header(m, "List-Unsubscribe")); strings.Contains(got, "mailto:") {
		t.Errorf("List-Unsubscribe %q: no mailto was configured", got)
	}
	if m.MessageID != "bulletin.d42.rcu8s0.s3@site.example" {
		t.Errorf("MessageID %q", m.MessageID)
	}
}

func TestOneLineAndTruncate(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                   "plain",
		"  a \r\n b\tc  ":         "a b c",
		"x\u0000y\u2028z":         "xy z",
		"a\u00a0: b":              "a\u00a0: b",
		"Titre\r\nBcc: x@y":       "Titre Bcc: x@y",
		"\xff invalid \xfe utf-8": "invalid utf-8",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
	if got := truncate("court", 10); got != "court" {
		t.Errorf("truncate short: %q", got)
	}
	got := truncate(strings.Repeat("été ", 50), 21)
	if got != "été été été été été…" {
		t.Errorf("truncate = %q", got)
	}
}

func parseHTML(t testing.TB, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func findAll(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// TestSharedRendering checks that filling a group's shared rendering in
// gives exactly what running the templates for the subscriber gives, with
// the embedded templates (which must take the fast path) and with overrides
// that use a subscriber's values in ways filling in cannot follow (which
// must fall back to running the templates).
func TestSharedRendering(t *testing.T) {
	subs := []store.Subscriber{
		renderSubscriber("fr"),
		renderSubscriber("en"),
		{ID: 20, Email: `o'brien+news&co@example.org`, Name: `O'Brien "<b>"`, Lang: "fr", Topics: []string{"Sobriété", "R&D <x>", "podcast"}},
		{ID: 21, Email: "zoé@exemple.fr", Lang: "en", Topics: []string{"écoconception"}},
		{ID: 22, Email: "a@b.example", Lang: "fr", Topics: []string{"podcast"}},
		{ID: 23, Email: "c@d.example", Lang: "fr", Topics: []string{"podcast"}}, // same group as 22
	}
	overrides := map[string]string{
		"embedded": "",
		"email in a URL": `<!DOCTYPE html><html lang="{{.Lang}}"><body><h1>{{.SiteTitle}}</h1>` +
			`{{range .Items}}<h2><a href="{{.URL}}">{{.Title}}</a></h2>{{end}}` +
			`<a href="mailto:{{.Email}}">{{.Email}}</a> <a href="{{.UnsubscribeURL}}">x</a></body></html>`,
		"topics one by one": `<!DOCTYPE html><html lang="{{.Lang}}"><body>{{range .Items}}<h2>{{.Title}}</h2>{{end}}` +
			`<ul>{{range .Topics}}<li>{{.}}</li>{{end}}</ul><p title="{{.Email}}">{{len .Email}}</p></body></html>`,
	}
	for name, tmpl := range overrides {
		t.Run(name, func(t *testing.T) {
			dir := ""
			if tmpl != "" {
				dir = t.TempDir()
				if err := os.MkdirAll(filepath.Join(dir, "email"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "email", "digest.html.tmpl"), []byte(tmpl), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			set, err := templates.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			r := NewRenderer(set, renderSigner(t, renderSecret), renderSettings(t))
			d := renderDigest()
			for round := range 2 { // the second round uses the groups made by the first
				for _, sub := range subs {
					m := mustMessage(t, r, d, sub)
					j, ok := r.job(d, sub)
					if !ok {
						t.Fatal("no job")
					}
					want, err := r.direct(j)
					if err != nil {
						t.Fatal(err)
					}
					if m.HTML != want.html || m.Text != want.text || m.Subject != want.subject {
						t.Fatalf("round %d, subscriber %d: the message differs from running the templates:\n got %s\nwant %s",
							round, sub.ID, m.HTML, want.html)
					}
				}
			}
			direct := 0
			for _, sh := range r.last.shared {
				if sh.direct {
					direct++
				}
			}
			if tmpl == "" && direct > 0 {
				t.Errorf("%d groups of the embedded templates are rendered per message; want all shared", direct)
			}
			if tmpl != "" && direct == 0 {
				t.Error("an override that escapes a value differently is still filled in; want it rendered per message")
			}
			if n := len(r.last.shared); n != 5 {
				t.Errorf("%d groups, want 5 (subscribers 22 and 23 share one)", n)
			}
		})
	}
}

func TestConcurrentMessages(t *testing.T) {
	r := newRenderRenderer(t, nil)
	d := renderDigest()
	want := map[int64]string{}
	sub := func(i int) store.Subscriber {
		s := store.Subscriber{ID: int64(i + 1), Email: fmt.Sprintf("s%d@example.org", i), Lang: []string{"fr", "en"}[i%2]}
		if i%3 == 0 {
			s.Topics = []string{"podcast"}
		}
		return s
	}
	for i := range 40 {
		want[int64(i+1)] = mustMessage(t, newRenderRenderer(t, nil), d, sub(i)).HTML
	}
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			m, _, err := r.Message(d, sub(i))
			if err == nil && m.HTML != want[int64(i+1)] {
				err = fmt.Errorf("subscriber %d: concurrent rendering differs", i+1)
			}
			errs <- err
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkMessage renders the message of a 10-item digest for successive
// subscribers, as the sender does: "shared" is the usual message of a
// group already rendered, "parallel" the same from concurrent workers,
// "direct" the first message of a group (or any message when an override
// prevents sharing).
func BenchmarkMessage(b *testing.B) {
	r := newRenderRenderer(b, nil)
	d := renderDigest()
	for i := len(d.Items); i < 10; i++ {
		it := d.Items[i%3]
		it.URL += strconv.Itoa(i) + "/"
		it.PublicationID = it.URL
		d.Items = append(d.Items, it)
	}
	subs := []store.Subscriber{renderSubscriber("fr"), renderSubscriber("en"),
		{ID: 11, Email: "t@example.org", Lang: "fr", Topics: []string{"podcast", "sobriété"}}}
	b.Run("shared", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sub := subs[i%len(subs)]
			sub.ID = int64(i + 1)
			if _, ok, err := r.Message(d, sub); err != nil || !ok {
				b.Fatal(err, ok)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				sub := subs[i%len(subs)]
				sub.ID = int64(i + 1)
				if _, ok, err := r.Message(d, sub); err != nil || !ok {
					b.Error(err, ok)
					return
				}
				i++
			}
		})
	})
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			j, _ := r.job(d, subs[i%len(subs)])
			if _, err := r.direct(j); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestItemLanguage: an item in another language than the email's carries
// a lang attribute (WCAG 3.1.2), kept through the stored digest.
func TestItemLanguage(t *testing.T) {
	r := newRenderRenderer(t, nil)
	d := renderDigest()
	d.Items[0].Lang = "en"
	d.Items[1].Lang = "fr"
	m := mustMessage(t, r, d, store.Subscriber{ID: 1, Email: "a@example.org", Lang: "fr"})
	if n := strings.Count(m.HTML, ` lang="en"`); n != 1 {
		t.Errorf("%d items marked lang=\"en\", want 1:\n%s", n, m.HTML)
	}
	if strings.Contains(m.HTML, `<td class="b-rule" lang="fr"`) {
		t.Error("an item in the email's own language is marked")
	}
	if got := Item(&publication.Publication{ID: "x", Lang: "en-GB"}); got.Lang != "en-GB" {
		t.Errorf("Item drops the language: %+v", got)
	}
}
