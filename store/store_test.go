package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Helper processes: the test binary re-runs itself with STORE_TEST_HELPER set
// to act as a second bulletin process on the same database file.
const (
	helperEnv = "STORE_TEST_HELPER"
	dbEnv     = "STORE_TEST_DB"
	startEnv  = "STORE_TEST_START"
)

func TestMain(m *testing.M) {
	// Keep warnings (a lock taken over...) visible, not the routine notices.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	switch mode := os.Getenv(helperEnv); mode {
	case "":
		os.Exit(m.Run())
	case "hold-lock":
		os.Exit(helperHoldLock())
	case "create-digest":
		os.Exit(helperCreateDigest())
	default:
		fmt.Fprintf(os.Stderr, "unknown helper %q\n", mode)
		os.Exit(2)
	}
}

// helperHoldLock takes the send lock, says so on stdout and waits to be killed.
func helperHoldLock() int {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, os.Getenv(dbEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := s.AcquireSendLock(ctx, "helper process"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	return 0
}

// helperCreateDigest waits for the agreed start time, then races to create a
// digest and prints what happened.
func helperCreateDigest() int {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, os.Getenv(dbEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	var start int64
	fmt.Sscan(os.Getenv(startEnv), &start)
	time.Sleep(time.Until(time.Unix(0, start)))
	d, err := s.CreateDigest(ctx, "race", []DigestItem{{PublicationID: fmt.Sprintf("race-%d", os.Getpid())}}, time.Now())
	switch {
	case err == nil:
		fmt.Printf("created %d\n", d.ID)
	case errors.Is(err, ErrUnfinished):
		fmt.Println("unfinished")
	default:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// helperCmd prepares a helper process working on the database at path.
func helperCmd(t *testing.T, mode, path string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode, dbEnv + "=" + path}, env...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// at returns a fixed instant plus the given minutes, so tests do not depend
// on the clock.
func at(minutes int) time.Time {
	return time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute)
}

func openAt(tb testing.TB, path string) *SQLite {
	tb.Helper()
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		tb.Fatalf("OpenSQLite(%s): %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func openTest(tb testing.TB) (*SQLite, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "bulletin.db")
	return openAt(tb, path), path
}

// seedActive inserts n active subscribers named prefix<i>@example.org in one
// statement, as a large list would be after an import.
func seedActive(tb testing.TB, s *SQLite, prefix string, n int) {
	tb.Helper()
	_, err := s.write.ExecContext(context.Background(), `WITH RECURSIVE seq(n) AS
		(SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
		INSERT INTO subscribers (email, name, lang, topics, status, created_at, updated_at)
		SELECT ? || n || '@example.org', 'User ' || n, 'fr', '[]', 'active', ?, ? FROM seq`,
		n, prefix, at(0).Unix(), at(0).Unix())
	if err != nil {
		tb.Fatalf("seed %d subscribers: %v", n, err)
	}
}

func mustAdd(t *testing.T, s *SQLite, email string) Subscriber {
	t.Helper()
	sub, err := s.Add(context.Background(), NewSubscriber{Email: email, Name: "N", Lang: "fr"}, at(0))
	if err != nil {
		t.Fatalf("Add(%s): %v", email, err)
	}
	return sub
}

func TestMigrationsFreshAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub dir?#", "bulletin.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	want, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(want) {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, len(want))
	}
	if _, err := s.Add(ctx, NewSubscriber{Email: "a@example.org"}, at(0)); err != nil {
		t.Fatal(err)
	}
	pragmas := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "1", "busy_timeout": "5000"}
	for name, wantValue := range pragmas {
		var got string
		if err := s.write.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		if !strings.EqualFold(got, wantValue) {
			t.Errorf("PRAGMA %s = %s, want %s", name, got, wantValue)
		}
	}
	if _, err := s.read.ExecContext(ctx, `DELETE FROM subscribers`); err == nil {
		t.Error("the read pool accepted a write")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not created at the given path: %v", err)
	}

	s2 := openAt(t, path)
	var applied int
	if err := s2.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(want) {
		t.Errorf("after reopen %d migration rows, want %d (each applied once)", applied, len(want))
	}
	if _, err := s2.GetByEmail(ctx, "a@example.org"); err != nil {
		t.Errorf("data lost across reopen: %v", err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulletin.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := OpenSQLite(ctx, path); err == nil {
		s.Close()
		t.Fatal("OpenSQLite accepted a database from a newer version")
	} else if !strings.Contains(err.Error(), "999") {
		t.Errorf("error %q does not name the database version", err)
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bulletin.db")
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := OpenSQLite(context.Background(), path)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent open: %v", err)
		}
	}
}

// readLine reads one line of a helper's output, or fails after a while.
func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line := make(chan string, 1)
	go func() {
		s, _ := r.ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case l := <-line:
		return l
	case <-time.After(15 * time.Second):
		t.Fatal("helper process did not answer")
		return ""
	}
}
