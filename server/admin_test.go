package server

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/internal/testutil/smtpserver"
	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/store"
)

const adminToken = "s3cret-admin-token"

// newAdminEnv is a page server with the admin API on, a slow SMTP server
// (so that a send lasts long enough to collide with another) and n active
// subscribers.
func newAdminEnv(t *testing.T, n int, delay time.Duration) *pageEnv {
	t.Helper()
	slow := smtpserver.Start(t, smtpserver.Delay(delay))
	m, err := mailer.NewSMTP(mailer.SMTPConfig{Host: slow.Host(), Port: slow.Port(), TLS: mailer.TLSNone, HELO: "bulletin.test", Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e := newPageEnv(t, testPublicURL, func(o *Options) {
		o.AdminToken = adminToken
		o.Mailer = m
		o.Digest = DigestOptions{FirstSince: 3650 * 24 * time.Hour, Concurrency: 2, BounceAfter: 3}
	})
	e.smtp = slow
	for i := 0; i < n; i++ {
		if _, err := e.st.Add(context.Background(), store.NewSubscriber{Email: "lecteur" + strconv.Itoa(i) + "@example.org", Lang: "fr"}, e.clock.now()); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestAdminAuth(t *testing.T) {
	e := newAdminEnv(t, 0, 0)
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer nope", http.StatusUnauthorized},
		{"token without scheme", adminToken, http.StatusUnauthorized},
		{"longer token", "Bearer " + adminToken + "x", http.StatusUnauthorized},
		{"right token", "Bearer " + adminToken, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res response
			if tc.auth == "" {
				res = e.get("/admin/subscribers.csv")
			} else {
				res = e.get("/admin/subscribers.csv", "Authorization", tc.auth)
			}
			if res.status != tc.want {
				t.Fatalf("status %d, want %d", res.status, tc.want)
			}
			if tc.want == http.StatusUnauthorized && !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	// Without a configured token the routes do not exist.
	off := newPageEnv(t, testPublicURL, nil)
	if res := off.get("/admin/subscribers.csv", "Authorization", "Bearer "+adminToken); res.status != http.StatusNotFound {
		t.Fatalf("admin route without a token configured: %d", res.status)
	}
	if res := off.request(http.MethodPost, "/admin/digests/send", nil, "Authorization", "Bearer x"); res.status == http.StatusAccepted {
		t.Fatal("a send started without an admin token configured")
	}
}

func TestAdminPreviewSendProgressAnd409(t *testing.T) {
	e := newAdminEnv(t, 40, 40*time.Millisecond)
	auth := []string{"Authorization", "Bearer " + adminToken}

	res := e.request(http.MethodPost, "/admin/digests/preview", nil, auth...)
	if res.status != 200 || !strings.Contains(res.header.Get("Content-Type"), "text/html") || !strings.Contains(res.body, "<html") {
		t.Fatalf("preview: %d %s", res.status, res.header.Get("Content-Type"))
	}
	if n, _ := e.st.CountDigests(context.Background()); n != 0 {
		t.Fatal("preview created a digest")
	}

	res = e.request(http.MethodPost, "/admin/digests/send", nil, auth...)
	if res.status != http.StatusAccepted {
		t.Fatalf("send: %d %s", res.status, res.body)
	}
	var started struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(res.body), &started); err != nil || started.ID == 0 {
		t.Fatalf("send answer %q: %v", res.body, err)
	}

	// A second send while the first runs is refused and changes nothing.
	second := e.request(http.MethodPost, "/admin/digests/send", nil, auth...)
	if second.status != http.StatusConflict {
		t.Fatalf("second send: %d %s", second.status, second.body)
	}
	if n, _ := e.st.CountDigests(context.Background()); n != 1 {
		t.Fatalf("%d digests after a refused second send", n)
	}

	progress := e.get("/admin/digests/"+strconv.FormatInt(started.ID, 10), auth...)
	var p map[string]any
	if err := json.Unmarshal([]byte(progress.body), &p); err != nil || progress.status != 200 {
		t.Fatalf("progress: %d %s", progress.status, progress.body)
	}
	for _, k := range []string{"sent", "failed", "pending", "skipped", "status"} {
		if _, ok := p[k]; !ok {
			t.Errorf("progress lacks %s: %s", k, progress.body)
		}
	}

	e.srv.WaitSends()
	d, err := e.st.GetDigest(context.Background(), started.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != store.DigestDone || d.Deliveries.Sent != 40 || e.smtp.Count() != 40 {
		t.Fatalf("after the send: status %s, sent %d, received %d", d.Status, d.Deliveries.Sent, e.smtp.Count())
	}
	again := e.request(http.MethodPost, "/admin/digests/send", nil, auth...)
	if again.status != 200 || !strings.Contains(again.body, "nothing-new") {
		t.Fatalf("send with nothing new: %d %s", again.status, again.body)
	}
	if res := e.get("/admin/digests/999", auth...); res.status != 404 {
		t.Fatalf("unknown digest: %d", res.status)
	}
}

// TestAdminSendRefusedWhileTheCLISends: the store's lock, held by another
// process, makes the server answer 409 and create nothing.
func TestAdminSendRefusedWhileTheCLISends(t *testing.T) {
	e := newAdminEnv(t, 3, 0)
	release, err := e.st.AcquireSendLock(context.Background(), "bulletin digest send (test)")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	res := e.request(http.MethodPost, "/admin/digests/send", nil, "Authorization", "Bearer "+adminToken)
	if res.status != http.StatusConflict {
		t.Fatalf("status %d, want 409: %s", res.status, res.body)
	}
	if n, _ := e.st.CountDigests(context.Background()); n != 0 {
		t.Fatal("a digest was created while another process held the send lock")
	}
}

// TestAdminSubscribersCSV: the export's columns, and no cell a spreadsheet
// would read as a formula (OWASP CSV injection): addresses, names and topics
// are typed by others.
func TestAdminSubscribersCSV(t *testing.T) {
	e := newAdminEnv(t, 2, 0)
	for _, in := range []store.NewSubscriber{
		{Email: "formule@example.org", Name: "=HYPERLINK(\"x\")", Lang: "en", Topics: []string{"podcast", "video"}},
		{Email: "=cmd|'/Ccalc'!A0@example.org", Name: "+33 6 12 34 56 78", Topics: []string{"-moins", "@y"}},
		{Email: "-moins@example.org", Name: "'=déjà protégé", Lang: "fr", Topics: []string{"'citation"}},
	} {
		if _, err := e.st.Add(context.Background(), in, e.clock.now()); err != nil {
			t.Fatal(err)
		}
	}
	res := e.get("/admin/subscribers.csv", "Authorization", "Bearer "+adminToken)
	rows, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || strings.Join(rows[0], ",") != "email,name,lang,topics,status" {
		t.Fatalf("rows: %v", rows)
	}
	for _, r := range rows {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would be read as a formula", cell)
			}
		}
	}
	// The same cells as `bulletin subscribers export`, whose import reads
	// them back (cmd/bulletin TestSubscribersExportFormulas).
	for _, want := range []string{
		`formule@example.org,"'=HYPERLINK(""x"")",en,podcast;video,active`,
		`'=cmd|'/Ccalc'!A0@example.org,'+33 6 12 34 56 78,,'-moins;@y,active`,
		`'-moins@example.org,''=déjà protégé,fr,'citation,active`,
	} {
		if !strings.Contains(res.body, want+"\n") {
			t.Errorf("the export lacks the row %s:\n%s", want, res.body)
		}
	}
}

func TestMetricsFromTheStore(t *testing.T) {
	e := newAdminEnv(t, 3, 0)
	res := e.get("/metrics")
	for _, want := range []string{`bulletin_subscribers{status="active"} 3`, `bulletin_digests 0`, `bulletin_deliveries{status="sent"} 0`, "bulletin_send_rate 0"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
