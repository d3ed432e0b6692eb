package digest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/internal/testutil/smtpserver"
	"github.com/ecoresponsable/bulletin/mailer"
	"github.com/ecoresponsable/bulletin/store"
)

// The crash helper is this test binary re-run with crashHelperEnv set: it
// sends a digest and gets killed by the test.
const (
	crashHelperEnv = "DIGEST_CRASH_HELPER"
	crashDBEnv     = "DIGEST_CRASH_DB"
	crashSMTPEnv   = "DIGEST_CRASH_SMTP"
	crashDigestEnv = "DIGEST_CRASH_DIGEST"
)

const (
	crashSubscribers = 2000
	crashConcurrency = 4
	crashKillAfter   = 500
)

// crashHelper sends the digest named by the environment until killed.
func crashHelper() int {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, os.Getenv(crashDBEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	host, portStr, _ := net.SplitHostPort(os.Getenv(crashSMTPEnv))
	port, _ := strconv.Atoi(portStr)
	m, err := mailer.NewSMTP(mailer.SMTPConfig{Host: host, Port: port, TLS: mailer.TLSNone, HELO: "crash.test",
		Concurrency: crashConcurrency, Timeout: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	r, err := newSendRenderer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	id, _ := strconv.ParseInt(os.Getenv(crashDigestEnv), 10, 64)
	s := &Sender{Store: st, Mailer: m, Renderer: r, Concurrency: crashConcurrency, Holder: "crash helper"}
	if _, err := s.Send(ctx, id); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Reaching this line means the test did not kill us in time.
	return 3
}

// seedSubscribers inserts n active subscribers prefix<i>@example.net in one
// statement (one by one takes seconds under the race detector) and returns
// them.
func seedSubscribers(t *testing.T, st store.Store, path, prefix string, n int) []store.Subscriber {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ? - 1)
		INSERT INTO subscribers (email, name, lang, topics, status, created_at, updated_at)
		SELECT printf('%s%04d@example.net', ?, n), 'Lecteur ' || n, CASE n % 2 WHEN 0 THEN 'fr' ELSE 'en' END,
			'[]', 'active', ?, ? FROM seq`, n, prefix, t0.Unix(), t0.Unix()); err != nil {
		t.Fatalf("seed %d subscribers: %v", n, err)
	}
	var subs []store.Subscriber
	for sub, err := range st.ListByStatus(context.Background(), store.StatusActive) {
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, sub)
	}
	if len(subs) != n {
		t.Fatalf("seeded %d subscribers, want %d", len(subs), n)
	}
	return subs
}

// TestCrashKillAndResume kills a sending process with SIGKILL in the middle
// of a digest, then resumes the send: everyone gets the digest, at most the
// messages in flight are sent twice, and those carry the same Message-ID.
func TestCrashKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	ctx := context.Background()
	st, path := openStore(t)
	subs := seedSubscribers(t, st, path, "crash", crashSubscribers)
	d := createDigest(t, st, "a", "b", "c")
	srv := smtpserver.Start(t)

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"=1", crashDBEnv+"="+path,
		crashSMTPEnv+"="+srv.Addr(), crashDigestEnv+"="+strconv.FormatInt(d.ID, 10))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srv.WaitFor(crashKillAfter, 60*time.Second)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killedAt := srv.Count()
	if killedAt >= crashSubscribers {
		t.Fatalf("the helper sent all %d messages before it was killed; the test proves nothing", killedAt)
	}
	mid, err := st.GetDigest(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if mid.Status != store.DigestSending || mid.Deliveries.Pending == 0 {
		t.Fatalf("after the kill the digest is %s with %+v; want it unfinished", mid.Status, mid.Deliveries)
	}

	res, err := newSender(t, st, newSMTP(t, srv, nil)).Send(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Finished {
		t.Fatalf("resumed send did not finish: %+v", res)
	}

	count, ids := received(srv)
	dups := 0
	for _, sub := range subs {
		n := count[sub.Email]
		if n == 0 {
			t.Errorf("%s never got the digest", sub.Email)
			continue
		}
		dups += n - 1
		for _, id := range ids[sub.Email][1:] {
			if id != ids[sub.Email][0] {
				t.Errorf("%s got the digest twice with different Message-IDs: %q", sub.Email, ids[sub.Email])
			}
		}
		del, err := st.Delivery(ctx, d.ID, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if del.Status != store.DeliverySent || del.MessageID != ids[sub.Email][0] {
			t.Errorf("%s: ledger %s %q, received %q", sub.Email, del.Status, del.MessageID, ids[sub.Email][0])
		}
	}
	if dups > crashConcurrency {
		t.Errorf("%d duplicates, want at most %d (the messages in flight)", dups, crashConcurrency)
	}
	t.Logf("killed after %d messages (%d recorded), resumed %d; %d duplicate(s)",
		killedAt, mid.Deliveries.Sent, res.Sent, dups)
}
