package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// mailpitAPI is the API of the Mailpit server .ci/run starts.
type mailpitAPI struct {
	t   *testing.T
	api string
}

type mailpitSummary struct {
	ID      string
	Subject string
	To      []struct{ Address string }
}

// waitFor polls Mailpit until a message to addr whose subject contains
// subject arrives, and returns its ID.
func (m mailpitAPI) waitFor(addr, subject string) string {
	m.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var res struct{ Messages []mailpitSummary }
		m.getJSON("/api/v1/search?limit=50&query="+url.QueryEscape("to:"+addr), &res)
		for _, msg := range res.Messages {
			if strings.Contains(msg.Subject, subject) {
				return msg.ID
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	m.t.Fatalf("no message to %s with %q in its subject", addr, subject)
	return ""
}

func (m mailpitAPI) getJSON(path string, v any) {
	m.t.Helper()
	res, err := http.Get(m.api + path)
	if err != nil {
		m.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		m.t.Fatalf("mailpit %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		m.t.Fatal(err)
	}
}

var hrefRE = regexp.MustCompile(`https?://[^\s"<>]+`)

// link returns the first URL in text that starts with prefix.
func link(t *testing.T, text, prefix string) string {
	t.Helper()
	for _, u := range hrefRE.FindAllString(text, -1) {
		if strings.HasPrefix(u, prefix) {
			return html.UnescapeString(u)
		}
	}
	t.Fatalf("no link to %s in:\n%s", prefix, text)
	return ""
}

// TestServeAcceptance is the serve issue's acceptance with Mailpit (started
// by .ci/run): the feeds answer 304 to a repeated conditional request; a
// person subscribes, confirms from the email, receives an admin-triggered
// digest, opens its archive page and leaves with one click.
func TestServeAcceptance(t *testing.T) {
	smtpAddr, api := os.Getenv("BULLETIN_TEST_MAILPIT_SMTP"), os.Getenv("BULLETIN_TEST_MAILPIT_API")
	if smtpAddr == "" || api == "" {
		t.Skip("Mailpit not configured (BULLETIN_TEST_MAILPIT_SMTP, BULLETIN_TEST_MAILPIT_API): .ci/run starts it")
	}
	mp := mailpitAPI{t, strings.TrimSuffix(api, "/")}
	smtpHost, smtpPort, _ := net.SplitHostPort(smtpAddr)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr + "/"
	dir := t.TempDir()
	content, _ := filepath.Abs("../../content")
	cfg := filepath.Join(dir, "bulletin.yaml")
	yaml := fmt.Sprintf(`site:
  url: %q
  title: "Numérique responsable — exemple"
  labels: {reemploi: "Réemploi des équipements", inconnu: "Jamais utilisé"}
content:
  dir: %q
  exclude: ["README.md"]
  permalinks:
    - {pattern: "actualites/**", permalink: "/actualites/:slug/"}
store:
  database: %q
digest:
  from: "Numérique responsable <bulletin@example.org>"
  first_since: 87600h
  schedule: ""
smtp:
  host: %q
  port: %s
  tls: none
`, base, content, filepath.Join(dir, "bulletin.db"), smtpHost, smtpPort)
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BULLETIN_ADMIN_TOKEN": "e2e-admin", "BULLETIN_SECRET": "e2e-secret-0123456789abcdef"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var stderr strings.Builder
	logw := &lockedWriter{w: &stderr}
	go func() {
		defer close(done)
		e := &cliEnv{stdout: io.Discard, stderr: logw, stdin: strings.NewReader(""), lang: "en",
			getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
		if code := run(ctx, e, []string{"serve", "--config", cfg, "--addr", addr}); code != 0 {
			t.Errorf("serve exited %d", code)
		}
	}()
	defer func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("serve's log:\n%s", stderr.String())
		}
	}()
	client := &http.Client{Timeout: 10 * time.Second}
	waitUp(t, client, base+"healthz")

	// Feeds: a repeated conditional request gets 304.
	res, err := client.Get(base + "feed.xml")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("feed: %v %v", res, err)
	}
	res.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, base+"feed.xml", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	if res, err := client.Do(req); err != nil || res.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional feed request: %v %v", res, err)
	}

	// A person subscribes with a browser-like client (cookies kept).
	jar, _ := cookiejar.New(nil)
	person := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	email := fmt.Sprintf("e2e-%d@example.org", time.Now().UnixNano())
	page := body(t, person, base+"subscribe")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatal("no CSRF field on /subscribe")
	}
	if !strings.Contains(page, `<label for="topic-reemploi">Réemploi des équipements</label>`) {
		t.Error("the topic reemploi is not shown by its label")
	}
	if log := logw.String(); !strings.Contains(log, "site.labels: no publication has this tag or type") || !strings.Contains(log, "inconnu") {
		t.Errorf("no warning about the unused label in serve's log:\n%s", log)
	}
	res, err = person.PostForm(base+"subscribe", url.Values{"csrf": {html.UnescapeString(csrf[1])}, "email": {email}, "language": {"fr"}})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("subscribe: %v %v", res, err)
	}
	res.Body.Close()

	var msg struct{ Text string }
	mp.getJSON("/api/v1/message/"+mp.waitFor(email, "Confirmez"), &msg)
	// The link shows a button; its form (CSRF field and cookie) confirms.
	confirm := link(t, msg.Text, base+"confirm?token=")
	page = body(t, person, confirm)
	csrf = regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("confirmation page without its button:\n%s", page)
	}
	res, err = person.PostForm(confirm, url.Values{"csrf": {html.UnescapeString(csrf[1])}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(got), "confirmé") {
		t.Fatalf("confirmation: %d\n%s", res.StatusCode, got)
	}

	// An editor triggers the digest.
	req, _ = http.NewRequest(http.MethodPost, base+"admin/digests/send", nil)
	req.Header.Set("Authorization", "Bearer e2e-admin")
	res, err = client.Do(req)
	if err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("admin send: %v %v", res, err)
	}
	var started struct{ ID int64 }
	json.NewDecoder(res.Body).Decode(&started)
	res.Body.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%sadmin/digests/%d", base, started.ID), nil)
		req.Header.Set("Authorization", "Bearer e2e-admin")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			Status string
			Sent   int
		}
		json.NewDecoder(res.Body).Decode(&p)
		res.Body.Close()
		if p.Status == "done" {
			if p.Sent != 1 {
				t.Fatalf("digest done with %d sent", p.Sent)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("digest %d not done: %+v", started.ID, p)
		}
		time.Sleep(100 * time.Millisecond)
	}

	id := mp.waitFor(email, "nouvelle")
	var headers map[string][]string
	mp.getJSON("/api/v1/message/"+id+"/headers", &headers)
	mp.getJSON("/api/v1/message/"+id, &msg)
	if headers["List-Unsubscribe-Post"][0] != "List-Unsubscribe=One-Click" {
		t.Fatalf("headers: %v", headers)
	}
	archive := link(t, msg.Text, base+"digests/")
	if res, err := person.Get(archive); err != nil || res.StatusCode != 200 {
		t.Fatalf("archive page %s: %v %v", archive, res, err)
	}

	// One click in the mail client: RFC 8058's POST.
	oneClick := strings.Trim(strings.Split(strings.Join(headers["List-Unsubscribe"], ""), ",")[0], "<> ")
	res, err = client.Post(oneClick, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe: %v %v", res, err)
	}
	res.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, base+"admin/subscribers.csv", nil)
	req.Header.Set("Authorization", "Bearer e2e-admin")
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(csv), email+",,fr,,unsubscribed") {
		t.Fatalf("after one click:\n%s", csv)
	}
}

// lockedWriter serialises writes from the server's goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// String is what was written so far, when w is a strings.Builder.
func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.(*strings.Builder).String()
}

func waitUp(t *testing.T, c *http.Client, u string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := c.Get(u); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered", u)
}

func body(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", u, res.Status, b)
	}
	return string(b)
}
