package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Lock timing: a holder refreshes its heartbeat every lockHeartbeat; a lock
// whose heartbeat is older than lockTTL belongs to a dead or stuck holder.
const (
	lockTTL       = 30 * time.Second
	lockHeartbeat = 5 * time.Second
	busyTimeoutMS = 5000
)

// SQLite is the Store on one SQLite database file.
//
// It keeps two connection pools on the file: one connection for writes, so
// that writers of this process queue in Go instead of sleeping in SQLite's
// busy handler, and a few read-only connections that WAL lets run beside it.
// Other processes wait on the file lock for up to five seconds.
type SQLite struct {
	path   string
	write  *sql.DB
	read   *sql.DB
	logger *slog.Logger

	lockTTL       time.Duration
	lockHeartbeat time.Duration
	hostname      string
	pidNS         string

	markSent *sql.Stmt
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating if needed) the database at path, applies the
// pending migrations and returns the store. Close it when done.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("store: open: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &SQLite{
		path:          path,
		logger:        slog.Default(),
		lockTTL:       lockTTL,
		lockHeartbeat: lockHeartbeat,
		pidNS:         pidNamespace(),
	}
	if s.hostname, err = os.Hostname(); err != nil {
		s.hostname = "unknown"
	}

	// _txlock=immediate: a write transaction takes the write lock at BEGIN,
	// so two writers never both read then fail to upgrade (SQLITE_BUSY
	// without waiting); that is what serialises racing CreateDigest calls.
	s.write, err = sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS),
			"journal_mode(WAL)",
			"synchronous(NORMAL)",
			"foreign_keys(ON)",
		},
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxLifetime(0)
	s.write.SetConnMaxIdleTime(0)

	if err := s.migrateRetrying(ctx); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	var mode string
	if err := s.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("store: open %s: journal mode: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		s.logger.Warn("store: database is not in WAL mode; readers will block writers",
			"path", path, "journal_mode", mode)
	}

	s.read, err = sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS),
			"foreign_keys(ON)",
			"query_only(1)",
		},
	}))
	if err != nil {
		s.write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	readers := max(4, runtime.NumCPU())
	s.read.SetMaxOpenConns(readers)
	s.read.SetMaxIdleConns(readers)

	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// dsn builds a "file:" URI, escaping the path so that '?' or '#' in a
// directory name cannot be taken for parameters.
func dsn(absPath string, params url.Values) string {
	u := url.URL{Path: absPath}
	return "file:" + u.EscapedPath() + "?" + params.Encode()
}

func (s *SQLite) prepare(ctx context.Context) error {
	var err error
	if s.markSent, err = s.write.PrepareContext(ctx, sqlMarkSent); err != nil {
		return fmt.Errorf("prepare mark sent: %w", err)
	}
	return nil
}

// Close releases the database. Locks acquired through this store should be
// released first.
func (s *SQLite) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.markSent} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	if s.write != nil {
		errs = append(errs, s.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded files "NNNN_name.sql", in version order,
// and checks that versions start at 1 and have no gap or duplicate.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", name)
		}
		b, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrateRetrying runs migrate, retrying while the file is busy. SQLite
// does not always wait for the busy timeout around the switch of a new file
// to WAL, so two programs opening a fresh database together (the server and
// a CLI command) could otherwise fail at once.
func (s *SQLite) migrateRetrying(ctx context.Context) error {
	deadline := time.Now().Add(2 * busyTimeoutMS * time.Millisecond)
	for {
		err := s.migrate(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == sqliteBusy
}

// sqliteBusy is SQLITE_BUSY, the primary result code of a locked database.
const sqliteBusy = 5

// migrate applies the migrations newer than the recorded version, in order,
// in one transaction: a failure leaves the schema as it was. Concurrent
// openers serialise on the immediate transaction and the second finds
// nothing left to do.
func (s *SQLite) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrations: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrations: create version table: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrations: read version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("migrations: database schema version %d is newer than this program knows (%d); upgrade bulletin", current, len(ms))
	}
	if current == len(ms) {
		return nil
	}
	now := time.Now().Unix()
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, now); err != nil {
			return fmt.Errorf("migration %s: record version: %w", m.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrations: commit: %w", err)
	}
	s.logger.Info("store: schema migrated", "path", s.path, "from", current, "to", len(ms))
	return nil
}

// SchemaVersion returns the version of the last migration applied.
func (s *SQLite) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// unixTime converts a stored timestamp; NULL is the zero time.
func unixTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(n.Int64, 0).UTC()
}

// rowsAffected returns how many rows res changed, as an error-checked count.
func rowsAffected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}
