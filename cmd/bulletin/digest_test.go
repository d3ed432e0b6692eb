package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/internal/testutil/smtpserver"
	"github.com/ecoresponsable/bulletin/store"
)

// digestNow is a moment when the sample site has five publications in the
// first digest's window (30 days).
const digestNow = "2026-11-25T12:00:00+01:00"

// digestSetup makes a configuration in a temporary folder with subscribers
// imported from csv, and returns the config path and the common flags.
func digestSetup(t *testing.T, c cliCase, csv string) (cfg string, flags []string) {
	t.Helper()
	cfg = tempConfig(t)
	path := writeFile(t, filepath.Dir(cfg), "subs.csv", csv)
	if code, _, stderr := c.run(t, "subscribers", "import", "--config", cfg, path); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	abs, err := filepath.Abs("../../content")
	if err != nil {
		t.Fatal(err)
	}
	return cfg, []string{"--config", cfg, "--content", abs, "--now", digestNow}
}

const fewSubscribers = "email,name,lang,topics\n" +
	"alice@example.org,Alice,fr,\n" +
	"bob@example.org,Bob,en,sobriete\n" +
	"carol@example.org,Carol,fr,nothing-matches\n"

func countDigests(t *testing.T, cfg string) int {
	t.Helper()
	n, err := openConfigStore(t, cfg).CountDigests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDigestPreview(t *testing.T) {
	c := cliCase{}
	cfg, flags := digestSetup(t, c, fewSubscribers)
	out := filepath.Join(t.TempDir(), "apercu.html")
	code, stdout, stderr := c.run(t, append([]string{"digest", "preview", "--out", out}, flags...)...)
	if code != 0 {
		t.Fatalf("preview: %d %s", code, stderr)
	}
	html, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(strings.TrimSuffix(out, ".html") + ".txt")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), `lang="fr"`) || !strings.Contains(string(text), "Bilan du mois du numérique responsable") {
		t.Errorf("preview files do not hold the French digest:\n%.300s\n%.300s", html, text)
	}
	if !strings.Contains(stdout, "5 publication(s)") {
		t.Errorf("preview output: %q", stdout)
	}

	// For one subscriber: their topics and language.
	code, stdout, _ = c.run(t, append([]string{"digest", "preview", "--out", out, "--subscriber", "bob@example.org"}, flags...)...)
	html, _ = os.ReadFile(out)
	if code != 0 || !strings.Contains(stdout, "1 publication(s)") || !strings.Contains(string(html), `lang="en"`) {
		t.Errorf("preview for bob: %d %q", code, stdout)
	}
	code, stdout, _ = c.run(t, append([]string{"digest", "preview", "--out", out, "--subscriber", "carol@example.org"}, flags...)...)
	if code != 0 || !strings.Contains(stdout, "would not get it") {
		t.Errorf("preview for carol (no matching topic): %d %q", code, stdout)
	}
	if n := countDigests(t, cfg); n != 0 {
		t.Errorf("preview created %d digest(s)", n)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "outbox")); !os.IsNotExist(err) {
		t.Errorf("preview wrote to the outbox: %v", err)
	}
}

func TestDigestSendConfirmation(t *testing.T) {
	cfg, flags := digestSetup(t, cliCase{}, fewSubscribers)
	send := append([]string{"digest", "send"}, flags...)

	code, _, stderr := cliCase{}.run(t, send...)
	if code != 1 || !strings.Contains(stderr, "--yes") {
		t.Errorf("send without a terminal nor --yes: %d %q", code, stderr)
	}
	code, stdout, _ := cliCase{terminal: true, stdin: "n\n"}.run(t, send...)
	if code != 1 || !strings.Contains(stdout, "to 3 active subscriber(s)") || !strings.Contains(stdout, "[y/N]") || !strings.Contains(stdout, "Cancelled") {
		t.Errorf("send answered no: %d %q", code, stdout)
	}
	if n := countDigests(t, cfg); n != 0 {
		t.Fatalf("%d digest(s) created without confirmation", n)
	}
	code, stdout, stderr = cliCase{terminal: true, stdin: "o\n"}.run(t, send...)
	if code != 0 || !strings.Contains(stdout, "2 sent, 0 failed, 1 skipped") {
		t.Errorf("send answered yes: %d %q %q", code, stdout, stderr)
	}
}

func TestDigestSendOutboxDryRunStatus(t *testing.T) {
	c := cliCase{}
	cfg, flags := digestSetup(t, c, fewSubscribers)
	dir := filepath.Dir(cfg)

	code, stdout, _ := c.run(t, append([]string{"digest", "send", "--dry-run"}, flags...)...)
	for _, want := range []string{"alice@example.org\t5 publication(s)", "bob@example.org\t1 publication(s)", "carol@example.org\tskipped", "2 would get the new digest, 1 would be skipped"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run lacks %q:\n%s", want, stdout)
		}
	}
	if code != 0 || countDigests(t, cfg) != 0 {
		t.Errorf("dry run: exit %d, %d digest(s)", code, countDigests(t, cfg))
	}

	code, stdout, stderr := c.run(t, append([]string{"digest", "send", "--yes"}, flags...)...)
	if code != 0 || !strings.Contains(stdout, "2 sent, 0 failed, 1 skipped") || !strings.Contains(stdout, "outbox") {
		t.Fatalf("send: %d %q %q", code, stdout, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "outbox", "*.eml"))
	if len(files) != 2 {
		t.Errorf("%d files in the outbox, want 2", len(files))
	}

	code, stdout, _ = c.run(t, append([]string{"digest", "send", "--yes"}, flags...)...)
	if code != 0 || !strings.Contains(stdout, "nothing new") {
		t.Errorf("second send: %d %q", code, stdout)
	}
	code, stdout, _ = c.run(t, "digest", "status", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "3 active") || !regexpLine(stdout, "1", "done", "5", "2", "0", "0", "0", "1") {
		t.Errorf("status:\n%s", stdout)
	}
}

// regexpLine reports whether a line of out has these fields, in order,
// separated by spaces (the date may come between).
func regexpLine(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < len(fields) || f[0] != fields[0] {
			continue
		}
		rest := f[len(f)-len(fields)+1:]
		if strings.Join(rest, " ") == strings.Join(fields[1:], " ") {
			return true
		}
	}
	return false
}

func TestDigestSendResumesAndRespectsLock(t *testing.T) {
	c := cliCase{}
	cfg, flags := digestSetup(t, c, fewSubscribers)
	st := openConfigStore(t, cfg)
	ctx := context.Background()
	d, err := st.CreateDigest(ctx, "interrupted", []store.DigestItem{{PublicationID: "https://x.example/a/", Title: "A",
		URL: "https://x.example/a/", Date: time.Now()}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	release, err := st.AcquireSendLock(ctx, "the server schedule")
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := c.run(t, append([]string{"digest", "send", "--yes"}, flags...)...)
	if code != 1 || !strings.Contains(stderr, `another send is in progress: "the server schedule"`) {
		t.Errorf("send while locked: %d %q", code, stderr)
	}
	release()

	code, stdout, stderr := c.run(t, append([]string{"digest", "send", "--yes"}, flags...)...)
	if code != 0 {
		t.Fatalf("send: %d %s", code, stderr)
	}
	resumed := fmt.Sprintf("Digest #%d (", d.ID)
	if !strings.Contains(stdout, resumed) || !strings.Contains(stdout, "resuming it first") ||
		!strings.Contains(stdout, fmt.Sprintf("Digest #%d: 1 sent, 0 failed, 2 skipped", d.ID)) ||
		!strings.Contains(stdout, fmt.Sprintf("Digest #%d created:", d.ID+1)) {
		t.Errorf("send did not resume then send the new digest:\n%s", stdout)
	}
}

func TestDigestSendTestCopy(t *testing.T) {
	srv := smtpserver.Start(t)
	c := cliCase{env: map[string]string{
		"BULLETIN_SMTP_HOST": srv.Host(), "BULLETIN_SMTP_PORT": strconv.Itoa(srv.Port()), "BULLETIN_SMTP_TLS": "none",
	}}
	cfg, flags := digestSetup(t, c, fewSubscribers)
	code, stdout, stderr := c.run(t, append([]string{"digest", "send", "--to", "editor@example.org"}, flags...)...)
	if code != 0 || !strings.Contains(stdout, "Test copy sent to editor@example.org") {
		t.Fatalf("send --to: %d %q %q", code, stdout, stderr)
	}
	msgs := srv.WaitFor(1, 5*time.Second)
	if len(msgs) != 1 || msgs[0].To[0] != "editor@example.org" || !strings.Contains(msgs[0].Header.Get("Subject"), "TEST") {
		t.Errorf("test copy: %d messages, first to %v", len(msgs), msgs[0].To)
	}
	if n := countDigests(t, cfg); n != 0 {
		t.Errorf("--to created %d digest(s)", n)
	}
	// Not a subscriber: said so; "view online" is the archive, not a
	// digest that does not exist yet.
	raw := string(msgs[0].Data)
	if !strings.Contains(stdout, "not a subscriber") || strings.Contains(raw, "digests/0") || !strings.Contains(raw, "digests/") {
		t.Errorf("test copy to a non-subscriber: stdout %q, archive link wrong", stdout)
	}
	// A subscriber's address gets their language, or the one asked for.
	for i, tc := range []struct {
		args    []string
		subject string
	}{
		{[]string{"--to", "bob@example.org"}, "new publications"},
		{[]string{"--to", "bob@example.org", "--lang", "fr"}, "nouvelles publications"},
	} {
		code, stdout, stderr := c.run(t, append(append([]string{"digest", "send"}, tc.args...), flags...)...)
		if code != 0 || strings.Contains(stdout, "not a subscriber") {
			t.Fatalf("%v: %d %q %q", tc.args, code, stdout, stderr)
		}
		m := srv.WaitFor(2+i, 5*time.Second)[1+i]
		if subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); !strings.Contains(subj, tc.subject) {
			t.Errorf("%v: subject %q, want %q in it", tc.args, subj, tc.subject)
		}
	}
	if code, _, _ := c.run(t, append([]string{"digest", "send", "--lang", "fr"}, flags...)...); code != 2 {
		t.Errorf("--lang without --to: exit %d, want 2", code)
	}
	// Once the digest went out and nothing is new, --to sends a copy of
	// the last digest, so that a template change can still be tried.
	if code, _, stderr := c.run(t, append([]string{"digest", "send", "--yes"}, flags...)...); code != 0 {
		t.Fatalf("send: %d %s", code, stderr)
	}
	sent := len(srv.WaitFor(3+2, 5*time.Second)) // 3 test copies, 2 deliveries
	code, stdout, stderr = c.run(t, append([]string{"digest", "send", "--to", "editor@example.org"}, flags...)...)
	if code != 0 || !strings.Contains(stdout, "test copy of the last digest (#1)") {
		t.Fatalf("--to with nothing new: %d %q %q", code, stdout, stderr)
	}
	if msgs := srv.WaitFor(sent+1, 5*time.Second); len(msgs) != sent+1 || msgs[sent].To[0] != "editor@example.org" {
		t.Errorf("no test copy of the last digest (%d messages)", len(msgs))
	}
}

func TestDigestSendInterruptedThenResumed(t *testing.T) {
	srv := smtpserver.Start(t, smtpserver.Delay(20*time.Millisecond))
	env := map[string]string{
		"BULLETIN_SMTP_HOST": srv.Host(), "BULLETIN_SMTP_PORT": strconv.Itoa(srv.Port()), "BULLETIN_SMTP_TLS": "none",
		"BULLETIN_SMTP_RATE": "0",
	}
	var csv strings.Builder
	csv.WriteString("email\n")
	for i := range 30 {
		fmt.Fprintf(&csv, "r%02d@example.net\n", i)
	}
	cfg, flags := digestSetup(t, cliCase{env: env}, csv.String())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // Ctrl-C once a few messages went out
		for deadline := time.Now().Add(10 * time.Second); srv.Count() < 3 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	code, _, stderr := cliCase{env: env, ctx: ctx}.run(t, append([]string{"digest", "send", "--yes"}, flags...)...)
	if code != 130 || !strings.Contains(stderr, "Interrupted") {
		t.Fatalf("interrupted send: exit %d, %q", code, stderr)
	}
	unfinished, err := openConfigStore(t, cfg).Unfinished(context.Background())
	if err != nil || len(unfinished) != 1 {
		t.Fatalf("no unfinished digest after the interruption: %v", err)
	}
	d := unfinished[0]
	if d.Deliveries.Sent != srv.Count() || d.Deliveries.Pending == 0 {
		t.Errorf("after Ctrl-C the ledger says %+v, the server got %d", d.Deliveries, srv.Count())
	}

	code, stdout, stderr := cliCase{env: env}.run(t, append([]string{"digest", "send", "--yes"}, flags...)...)
	if code != 0 || !strings.Contains(stdout, "resuming it first") {
		t.Fatalf("resume: %d %q %q", code, stdout, stderr)
	}
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
	}
	for i := range 30 {
		if addr := fmt.Sprintf("r%02d@example.net", i); got[addr] != 1 {
			t.Errorf("%s got %d messages, want 1", addr, got[addr])
		}
	}
}

// An address the SMTP server keeps answering 451 does not hold back the
// next digest: the next send resumes the digest left with only that
// deferred delivery, then creates and sends the new one, and exits 0. With
// the relay down, the resume stops the run before any new digest is
// created, and no attempt is counted.
func TestDigestSendDeferredDoesNotHoldBackTheNext(t *testing.T) {
	const grey = "grey@example.org"
	srv := smtpserver.Start(t, smtpserver.TempFail(grey, 1000))
	env := map[string]string{
		"BULLETIN_SMTP_HOST": srv.Host(), "BULLETIN_SMTP_PORT": strconv.Itoa(srv.Port()), "BULLETIN_SMTP_TLS": "none",
		"BULLETIN_SMTP_RETRIES": "0",
	}
	cfg, flags := digestSetup(t, cliCase{env: env}, "email\nalice@example.org\n"+grey+"\ncarol@example.org\n")
	send := func(env map[string]string, now string) (int, string, string) {
		args := append([]string{"digest", "send", "--yes"}, flags...)
		return cliCase{env: env}.run(t, append(args, "--now", now)...)
	}
	st := openConfigStore(t, cfg)
	ctx := context.Background()
	sub, err := st.GetByEmail(ctx, grey)
	if err != nil {
		t.Fatal(err)
	}
	attempts := func(digestID int64) int {
		t.Helper()
		d, err := st.Delivery(ctx, digestID, sub.ID)
		if err != nil || d.Status != store.DeliveryPending {
			t.Fatalf("delivery of digest %d to %s: %+v, %v; want pending", digestID, grey, d, err)
		}
		return d.Attempts
	}

	// A week before digestNow: the publication of 2026-11-24 is not out yet.
	code, stdout, stderr := send(env, "2026-11-18T12:00:00+01:00")
	if code != 0 || !strings.Contains(stdout, "Digest #1: 2 sent") || !strings.Contains(stderr, "Digest #1 is not finished: 1 delivery(ies) pending") {
		t.Fatalf("first send: exit %d\n%s\n%s", code, stdout, stderr)
	}

	down := maps.Clone(env)
	down["BULLETIN_SMTP_PORT"] = strconv.Itoa(closedPort(t))
	code, stdout, stderr = send(down, digestNow)
	if code != 1 || !strings.Contains(stderr, "sending stopped") || !strings.Contains(stderr, "unreachable") {
		t.Errorf("send with the relay down: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := countDigests(t, cfg); n != 1 {
		t.Errorf("%d digests after an outage during the resume, want 1: no new digest may start", n)
	}
	if n := attempts(1); n != 1 {
		t.Errorf("%d attempts after the outage, want 1: an outage counts none", n)
	}

	code, stdout, stderr = send(env, digestNow)
	if code != 0 || !strings.Contains(stdout, "Digest #1 (") || !strings.Contains(stdout, "resuming it first") ||
		!strings.Contains(stdout, "Digest #2 created: 1 publication(s), 3 recipient(s)") || !strings.Contains(stdout, "Digest #2: 2 sent") {
		t.Fatalf("send after a new publication: exit %d\n%s\n%s", code, stdout, stderr)
	}
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
	}
	if got["alice@example.org"] != 2 || got["carol@example.org"] != 2 || got[grey] != 0 {
		t.Errorf("messages received: %v, want 2 each for alice and carol, none for %s", got, grey)
	}
	if a1, a2 := attempts(1), attempts(2); a1 != 2 || a2 != 1 {
		t.Errorf("attempts to %s: %d for digest 1, %d for digest 2; want 2 and 1", grey, a1, a2)
	}
}

// closedPort returns a port of 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// TestMailpitEndToEnd runs the acceptance scenario against Mailpit (.ci/run
// starts it): import 500 subscribers, preview, send; each gets exactly one
// well-formed message; a second send sends nothing.
func TestMailpitEndToEnd(t *testing.T) {
	smtpAddr, api := os.Getenv("BULLETIN_TEST_MAILPIT_SMTP"), os.Getenv("BULLETIN_TEST_MAILPIT_API")
	if smtpAddr == "" || api == "" {
		t.Skip("BULLETIN_TEST_MAILPIT_SMTP and BULLETIN_TEST_MAILPIT_API are not set")
	}
	host, port, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	mp := mailpit{t: t, base: strings.TrimSuffix(api, "/")}
	mp.do(http.MethodDelete, "/api/v1/messages", nil)

	c := cliCase{env: map[string]string{
		"BULLETIN_SMTP_HOST": host, "BULLETIN_SMTP_PORT": port, "BULLETIN_SMTP_TLS": "none",
		"BULLETIN_SMTP_RATE": "0", "BULLETIN_SITE_URL": "https://bulletin.example.org/",
	}}
	const n = 500
	var csv strings.Builder
	csv.WriteString("email,name,lang,topics\n")
	for i := range n {
		topics := ""
		if i%5 == 0 {
			topics = "sobriete;mesure"
		}
		fmt.Fprintf(&csv, "lecteur%03d@example.net,Lecteur n°%d Élodie,%s,%s\n", i, i, []string{"fr", "en"}[i%2], topics)
	}
	cfg, flags := digestSetup(t, c, csv.String())
	preview := filepath.Join(filepath.Dir(cfg), "preview.html")
	if code, _, stderr := c.run(t, append([]string{"digest", "preview", "--out", preview}, flags...)...); code != 0 {
		t.Fatalf("preview: %d %s", code, stderr)
	}
	code, stdout, stderr := c.run(t, append([]string{"digest", "send", "--yes"}, flags...)...)
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("%d sent, 0 failed, 0 skipped", n)) {
		t.Fatalf("send: %d %q %q", code, stdout, stderr)
	}

	var list struct {
		Total    int `json:"total"`
		Messages []struct {
			ID string `json:"ID"`
			To []struct {
				Address string `json:"Address"`
			} `json:"To"`
		} `json:"messages"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mp.get(fmt.Sprintf("/api/v1/messages?limit=%d", 2*n), &list)
		if list.Total >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if list.Total != n || len(list.Messages) != n {
		t.Fatalf("Mailpit holds %d messages (%d listed), want %d", list.Total, len(list.Messages), n)
	}
	got := map[string]int{}
	ids := map[string]bool{}
	for _, m := range list.Messages {
		if len(m.To) != 1 {
			t.Errorf("message %s has %d recipients", m.ID, len(m.To))
			continue
		}
		got[m.To[0].Address]++
		var h map[string][]string
		mp.get("/api/v1/message/"+m.ID+"/headers", &h)
		for _, name := range []string{"From", "To", "Subject", "Date", "Message-Id", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"} {
			if len(h[name]) != 1 || h[name][0] == "" {
				t.Errorf("%s: header %s = %q", m.To[0].Address, name, h[name])
			}
		}
		if lu := strings.Join(h["List-Unsubscribe"], ""); !strings.Contains(lu, "<https://bulletin.example.org/") || !strings.Contains(lu, "<mailto:") {
			t.Errorf("%s: List-Unsubscribe %q lacks the https or mailto URL", m.To[0].Address, lu)
		}
		if p := strings.Join(h["List-Unsubscribe-Post"], ""); p != "List-Unsubscribe=One-Click" {
			t.Errorf("%s: List-Unsubscribe-Post %q", m.To[0].Address, p)
		}
		id := strings.Join(h["Message-Id"], "")
		if ids[id] {
			t.Errorf("Message-ID %s used twice", id)
		}
		ids[id] = true
		var body struct{ Text, HTML string }
		mp.get("/api/v1/message/"+m.ID, &body)
		if strings.TrimSpace(body.Text) == "" || !strings.Contains(body.HTML, "<html") {
			t.Errorf("%s: text part %d bytes, HTML part %d bytes", m.To[0].Address, len(body.Text), len(body.HTML))
		}
	}
	for i := range n {
		if addr := fmt.Sprintf("lecteur%03d@example.net", i); got[addr] != 1 {
			t.Errorf("%s got %d messages, want 1", addr, got[addr])
		}
	}

	code, stdout, _ = c.run(t, append([]string{"digest", "send", "--yes"}, flags...)...)
	if code != 0 || !strings.Contains(stdout, "nothing new") {
		t.Errorf("second send: %d %q", code, stdout)
	}
	mp.get("/api/v1/messages?limit=1", &list)
	if list.Total != n {
		t.Errorf("after the second send Mailpit holds %d messages, want %d", list.Total, n)
	}
}

// mailpit calls Mailpit's HTTP API.
type mailpit struct {
	t    *testing.T
	base string
}

func (m mailpit) do(method, path string, into any) {
	m.t.Helper()
	req, err := http.NewRequest(method, m.base+path, nil)
	if err != nil {
		m.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatalf("Mailpit API %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		m.t.Fatalf("Mailpit API %s %s: %s", method, path, resp.Status)
	}
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			m.t.Fatalf("Mailpit API %s %s: %v", method, path, err)
		}
	}
}

func (m mailpit) get(path string, into any) { m.t.Helper(); m.do(http.MethodGet, path, into) }

// TestSecretChangeWarned: a command signing with another secret than the
// one recorded with the database (BULLETIN_SECRET set for serve but not
// here, or changed) says that earlier links no longer work, once.
func TestSecretChangeWarned(t *testing.T) {
	first := cliCase{env: map[string]string{"BULLETIN_SECRET": "0123456789abcdef0123456789abcdef"}}
	cfg, flags := digestSetup(t, first, fewSubscribers)
	out := filepath.Join(filepath.Dir(cfg), "preview.html")
	preview := append([]string{"digest", "preview", "--out", out}, flags...)
	send := append([]string{"digest", "send", "--yes"}, flags...)
	const warning = "the signing secret is not the one of the emails already sent"
	for i, step := range []struct {
		c    cliCase
		args []string
		warn bool
	}{
		{first, preview, false},
		{first, preview, false},
		{cliCase{}, preview, false}, // another secret, but no email went out yet
		{first, send, false},        // back to the first: still nothing sent
		{cliCase{}, preview, true},  // BULLETIN_SECRET unset: the stored secret signs
		{cliCase{}, preview, false}, // recorded: said once
		{first, preview, true},
	} {
		code, _, stderr := step.c.run(t, step.args...)
		if code != 0 {
			t.Fatalf("step %d: exit %d: %s", i, code, stderr)
		}
		if strings.Contains(stderr, warning) != step.warn {
			t.Errorf("step %d: warning %v, want %v:\n%s", i, !step.warn, step.warn, stderr)
		}
		if strings.Contains(stderr, "0123456789abcdef") {
			t.Errorf("step %d: the secret is printed", i)
		}
	}
}

// TestDigestWarnsOfBackdatedItems: new items dated before the last digest
// (back-dated additions, or publications whose URL changed) are named
// before anything is sent; items dated after it are not counted.
func TestDigestWarnsOfBackdatedItems(t *testing.T) {
	c := cliCase{}
	_, flags := digestSetup(t, c, fewSubscribers)
	content := t.TempDir()
	if err := os.CopyFS(content, os.DirFS("../../content")); err != nil {
		t.Fatal(err)
	}
	flags = append(flags, "--content", content)
	if code, _, stderr := c.run(t, append([]string{"digest", "send", "--yes"}, flags...)...); code != 0 {
		t.Fatalf("first send: %d %s", code, stderr)
	}
	if code, _, stderr := c.run(t, append([]string{"digest", "send", "--dry-run"}, flags...)...); code != 0 || strings.Contains(stderr, "dated before") {
		t.Fatalf("nothing new: %d %s", code, stderr)
	}
	writeFile(t, filepath.Join(content, "actualites"), "ancien.md", "---\ntitle: Ancien\ndate: 2026-10-01\n---\n\nTexte.\n")
	writeFile(t, filepath.Join(content, "actualites"), "neuf.md", "---\ntitle: Neuf\ndate: 2026-11-26\n---\n\nTexte.\n")
	// Dated the day of the last digest (2026-11-25), at midnight: not
	// before it.
	writeFile(t, filepath.Join(content, "actualites"), "jour-meme.md", "---\ntitle: Jour même\ndate: 2026-11-25\n---\n\nTexte.\n")
	later := append(flags, "--now", "2026-12-02T12:00:00+01:00")
	code, _, stderr := c.run(t, append([]string{"digest", "send", "--dry-run"}, later...)...)
	if code != 0 || !strings.Contains(stderr, "1 of the 3 new publications are dated before the last digest (2026-11-25)") {
		t.Errorf("back-dated item not named: %d %s", code, stderr)
	}
}
