package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// sendLockName is the row of the locks table that guards sending.
const sendLockName = "send"

// AcquireSendLock takes the send lock for holder (a description such as
// "cli digest send" or "server schedule"), so that no two sends run at once,
// whichever processes or hosts they run in. While held, a goroutine refreshes
// its heartbeat; release stops it and frees the lock (calling it again does
// nothing).
//
// A lock held by someone else is taken over when its heartbeat is older than
// the TTL (30 s), or at once when it was taken on this host by a process
// that no longer exists; otherwise the result is a *LockedError (errors.Is
// ErrLocked) saying who holds it. A second acquisition in the same process
// also fails.
func (s *SQLite) AcquireSendLock(ctx context.Context, holder string) (func(), error) {
	l, err := s.HoldSendLock(ctx, holder)
	if err != nil {
		return nil, err
	}
	return l.Release, nil
}

// SendLock is a send lock held by this process (see HoldSendLock).
type SendLock struct {
	lost    chan struct{}
	release func()
}

// Lost is closed when the lock was taken over by another holder, because
// this process stalled past the TTL (stopped with Ctrl-Z, a paused virtual
// machine): whoever sends under the lock must then stop at once, since
// another sender now works on the same deliveries.
func (l *SendLock) Lost() <-chan struct{} { return l.lost }

// Release stops the heartbeat and frees the lock if it is still this
// process's; calling it again does nothing.
func (l *SendLock) Release() { l.release() }

// HoldSendLock is AcquireSendLock for a sender that must learn when it
// loses the lock (SendLock.Lost).
func (s *SQLite) HoldSendLock(ctx context.Context, holder string) (*SendLock, error) {
	token, err := randomHex(16)
	if err != nil {
		return nil, fmt.Errorf("store: acquire send lock: %w", err)
	}
	if err := s.acquire(ctx, sendLockName, holder, token); err != nil {
		return nil, err
	}

	stop := make(chan struct{})
	done := make(chan struct{})
	lost := make(chan struct{})
	go s.heartbeat(sendLockName, token, stop, done, lost)
	var once sync.Once
	release := func() {
		once.Do(func() {
			close(stop)
			<-done
			ctx, cancel := context.WithTimeout(context.Background(), 2*busyTimeoutMS*time.Millisecond)
			defer cancel()
			if _, err := s.write.ExecContext(ctx, `DELETE FROM locks WHERE name = ? AND token = ?`,
				sendLockName, token); err != nil {
				s.logger.Error("store: release send lock", "holder", holder, "err", err)
			}
		})
	}
	return &SendLock{lost: lost, release: release}, nil
}

func (s *SQLite) acquire(ctx context.Context, name, holder, token string) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: acquire %s lock: %w", name, err)
	}
	defer tx.Rollback()

	now := time.Now()
	var (
		cur                 LockedError
		curNS               string
		acquired, heartbeat int64
	)
	err = tx.QueryRowContext(ctx, `SELECT holder, pid, hostname, pid_ns, acquired_at, heartbeat_at
		FROM locks WHERE name = ?`, name).Scan(&cur.Holder, &cur.PID, &cur.Hostname, &curNS, &acquired, &heartbeat)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("store: acquire %s lock: %w", name, err)
	default:
		cur.Since = time.Unix(acquired, 0).UTC()
		cur.Heartbeat = time.Unix(heartbeat, 0).UTC()
		stale := now.Sub(cur.Heartbeat) > s.lockTTL
		dead := cur.Hostname == s.hostname && curNS == s.pidNS && cur.PID != os.Getpid() && !processAlive(cur.PID)
		if !stale && !dead {
			return fmt.Errorf("store: acquire %s lock: %w", name, &cur)
		}
		reason := "heartbeat expired"
		if dead {
			reason = "holder process is gone"
		}
		s.logger.Warn("store: taking over lock", "lock", name, "reason", reason,
			"previous_holder", cur.Holder, "previous_pid", cur.PID, "previous_host", cur.Hostname,
			"last_heartbeat", cur.Heartbeat)
	}

	if _, err := tx.ExecContext(ctx, `INSERT INTO locks
		(name, holder, token, pid, hostname, pid_ns, acquired_at, heartbeat_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, token = excluded.token,
			pid = excluded.pid, hostname = excluded.hostname, pid_ns = excluded.pid_ns,
			acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`,
		name, holder, token, os.Getpid(), s.hostname, s.pidNS, now.Unix(), now.Unix()); err != nil {
		return fmt.Errorf("store: acquire %s lock: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: acquire %s lock: commit: %w", name, err)
	}
	return nil
}

// heartbeat keeps the lock alive until stop is closed. If the lock was taken
// over (this process stalled past the TTL), it says so loudly and closes
// lost, so that this process's sender stops.
func (s *SQLite) heartbeat(name, token string, stop <-chan struct{}, done, lost chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.lockHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.lockHeartbeat)
		res, err := s.write.ExecContext(ctx, `UPDATE locks SET heartbeat_at = ? WHERE name = ? AND token = ?`,
			time.Now().Unix(), name, token)
		cancel()
		if err != nil {
			s.logger.Error("store: lock heartbeat", "lock", name, "err", err)
			continue
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			s.logger.Error("store: lock was taken over by another holder; stop this send", "lock", name)
			close(lost)
			return
		}
	}
}

// pidNamespace identifies this process's PID namespace, so that a pid is
// only checked against processes that share it (two containers can share a
// host name but not their pids).
func pidNamespace() string {
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return ns
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
