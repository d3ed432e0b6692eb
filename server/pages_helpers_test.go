package server

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/ecoresponsable/bulletin/digest"
	"github.com/ecoresponsable/bulletin/internal/testutil/smtpserver"
	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
	"github.com/ecoresponsable/bulletin/token"
)

// testPublicURL is the PublicURL of the page tests (the browser test uses
// its listener's).
const testPublicURL = "http://lettre.example.test/"

// pageSecret signs the tokens of the page tests.
var pageSecret = bytes.Repeat([]byte("k"), 32)

// testClock is a clock the test moves.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) add(d time.Duration) { c.ns.Add(int64(d)) }

// pageEnv is a server with every part real: the sample content, a SQLite
// store, the embedded templates, an SMTP server on 127.0.0.1.
type pageEnv struct {
	t        *testing.T
	srv      *Server
	h        http.Handler
	st       *store.SQLite
	smtp     *smtpserver.Server
	signer   *token.Signer
	renderer *digest.Renderer
	clock    *testClock
	loc      *time.Location
}

func newPageEnv(t *testing.T, publicURL string, edit func(*Options)) *pageEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "bulletin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(pageSecret)
	if err != nil {
		t.Fatal(err)
	}
	smtp := smtpserver.Start(t)
	m, err := mailer.NewSMTP(mailer.SMTPConfig{
		Host: smtp.Host(), Port: smtp.Port(), TLS: mailer.TLSNone, HELO: "bulletin.test",
		RetryBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	renderer := digest.NewRenderer(tpl, signer, digest.Settings{
		SiteTitle: "Exemple", SiteURL: "http://localhost:8080/", PublicURL: publicURL,
		From: "Bulletin <bulletin@example.org>", Location: loc, Lang: "fr",
	})
	clock := newTestClock()
	opts := Options{
		ContentDir: "../content", LoadSite: sampleLoader("../content"), Feeds: sampleFeedOptions(),
		RebuildInterval: -1, Now: clock.now,
		PublicURL: publicURL, SiteTitle: "Exemple", Lang: "fr", Location: loc,
		Store: st, Templates: tpl, Signer: signer, Mailer: m, Renderer: renderer,
		SubscribeRate: 1000,
	}
	if edit != nil {
		edit(&opts)
	}
	srv, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &pageEnv{t: t, srv: srv, h: srv.Handler(), st: st, smtp: smtp, signer: signer, renderer: renderer, clock: clock, loc: loc}
}

// response is an answer read in full.
type response struct {
	status  int
	header  http.Header
	body    string
	cookies []*http.Cookie
}

// request sends one request; headers are name, value pairs. A form body is
// sent url-encoded.
func (e *pageEnv) request(method, target string, form url.Values, headers ...string) response {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b), cookies: res.Cookies()}
}

func (e *pageEnv) get(target string, headers ...string) response {
	e.t.Helper()
	return e.request(http.MethodGet, target, nil, headers...)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formToken opens a form page and returns its CSRF field and cookie.
func (e *pageEnv) formToken(target string) (string, *http.Cookie) {
	e.t.Helper()
	res := e.get(target)
	if res.status != http.StatusOK {
		e.t.Fatalf("GET %s: %d\n%s", target, res.status, res.body)
	}
	m := csrfRE.FindStringSubmatch(res.body)
	if m == nil {
		e.t.Fatalf("GET %s: no CSRF field", target)
	}
	for _, c := range res.cookies {
		if c.Name == csrfCookie {
			return html.UnescapeString(m[1]), c
		}
	}
	e.t.Fatalf("GET %s: no CSRF cookie", target)
	return "", nil
}

// post submits a form the way a browser does after loading it: with its
// CSRF field and cookie. headers are extra name, value pairs.
func (e *pageEnv) post(target string, form url.Values, headers ...string) response {
	e.t.Helper()
	csrf, cookie := e.formToken(target)
	form.Set(csrfField, csrf)
	return e.request(http.MethodPost, target, form, append([]string{"Cookie", cookie.Name + "=" + cookie.Value}, headers...)...)
}

// subscribe fills and submits the subscription form.
func (e *pageEnv) subscribe(email, language string, topics ...string) response {
	e.t.Helper()
	return e.post("/subscribe", url.Values{"email": {email}, "language": {language}, "topics": topics})
}

// subscriber returns the stored subscriber with this address.
func (e *pageEnv) subscriber(email string) store.Subscriber {
	e.t.Helper()
	sub, err := e.st.GetByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatalf("subscriber %s: %v", email, err)
	}
	return sub
}

// mailText returns the decoded text part of a captured message.
func mailText(t *testing.T, m smtpserver.Message) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(part)
			if err != nil {
				t.Fatal(err)
			}
			return strings.ReplaceAll(string(b), "\r\n", "\n")
		}
	}
}

// mailSubject decodes a captured message's subject.
func mailSubject(t *testing.T, m smtpserver.Message) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// linkIn returns the first URL in text that starts with prefix.
func linkIn(t *testing.T, text, prefix string) string {
	t.Helper()
	i := strings.Index(text, prefix)
	if i < 0 {
		t.Fatalf("no link starting with %s in:\n%s", prefix, text)
	}
	end := strings.IndexAny(text[i:], " \n\t")
	if end < 0 {
		end = len(text) - i
	}
	return text[i : i+end]
}

// pathOf turns an absolute link of ours into the request target.
func pathOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// checkPage asserts what every page must be: HTML in lang, the stylesheet
// linked, no inline style or script, the security headers, every field
// with a label, and the wanted strings.
func checkPage(t *testing.T, res response, status int, lang string, wants ...string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d\n%s", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if !strings.Contains(res.body, `<html lang="`+lang+`"`) {
		t.Errorf("no <html lang=%q>", lang)
	}
	if !strings.Contains(res.body, `<link rel="stylesheet" href="/assets/bulletin.css?v=`) {
		t.Error("the stylesheet is not linked")
	}
	for _, bad := range []string{"style=", "<style", "<script", "javascript:"} {
		if strings.Contains(strings.ToLower(res.body), bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	if csp := res.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	for _, k := range []string{"X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
		if res.header.Get(k) == "" {
			t.Errorf("no %s header", k)
		}
	}
	for _, w := range wants {
		if !strings.Contains(res.body, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	checkLabels(t, res.body)
}

// checkLabels parses the page and checks that every visible field has a
// label bound to it, and every aria-describedby names an element.
func checkLabels(t *testing.T, body string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	labels, ids := map[string]bool{}, map[string]bool{}
	var fields []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if id := attrOf(n, "id"); id != "" {
				if ids[id] {
					t.Errorf("duplicate id %q", id)
				}
				ids[id] = true
			}
			switch n.Data {
			case "label":
				labels[attrOf(n, "for")] = true
			case "input", "select", "textarea":
				if attrOf(n, "type") != "hidden" {
					fields = append(fields, n)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	for _, f := range fields {
		if id := attrOf(f, "id"); id == "" || !labels[id] {
			t.Errorf("field %q has no label", attrOf(f, "name"))
		}
		for _, ref := range strings.Fields(attrOf(f, "aria-describedby")) {
			if !ids[ref] {
				t.Errorf("aria-describedby %q names no element", ref)
			}
		}
	}
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
