package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func lockRow(t *testing.T, s *SQLite) (holder string, pid int, heartbeat int64, ok bool) {
	t.Helper()
	err := s.write.QueryRowContext(context.Background(),
		`SELECT holder, pid, heartbeat_at FROM locks WHERE name = 'send'`).Scan(&holder, &pid, &heartbeat)
	if err != nil {
		return "", 0, 0, false
	}
	return holder, pid, heartbeat, true
}

func TestSendLockExclusive(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	other := openAt(t, path)

	release, err := s.AcquireSendLock(ctx, "cli digest send")
	if err != nil {
		t.Fatal(err)
	}
	for name, st := range map[string]*SQLite{"same store": s, "other connection": other} {
		_, err := st.AcquireSendLock(ctx, "server schedule")
		var locked *LockedError
		if !errors.Is(err, ErrLocked) || !errors.As(err, &locked) {
			t.Fatalf("%s: second AcquireSendLock error = %v, want ErrLocked", name, err)
		}
		if !strings.Contains(err.Error(), `"cli digest send"`) || !strings.Contains(err.Error(), fmt.Sprint(locked.PID)) ||
			locked.Since.IsZero() {
			t.Errorf("%s: error %q does not say who holds the lock and since when", name, err)
		}
	}
	release()
	release()
	if _, _, _, held := lockRow(t, s); held {
		t.Error("lock row left after release")
	}
	release2, err := other.AcquireSendLock(ctx, "server schedule")
	if err != nil {
		t.Fatalf("AcquireSendLock after release: %v", err)
	}
	release2()
}

func TestSendLockHeartbeatAndStaleTakeover(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	s.lockHeartbeat = 20 * time.Millisecond
	release, err := s.AcquireSendLock(ctx, "stuck sender")
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	old := time.Now().Add(-time.Hour).Unix()
	if _, err := s.write.ExecContext(ctx, `UPDATE locks SET heartbeat_at = ?`, old); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, hb, _ := lockRow(t, s); hb > old {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the heartbeat was not refreshed")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Now the holder stops beating (as if stuck) and its heartbeat ages.
	release()
	if _, err := s.write.ExecContext(ctx, `INSERT INTO locks
		(name, holder, token, pid, hostname, pid_ns, acquired_at, heartbeat_at)
		VALUES ('send', 'stuck sender', 'tok', 1, 'elsewhere', '', ?, ?)`, old, old); err != nil {
		t.Fatal(err)
	}
	other := openAt(t, path)
	release2, err := other.AcquireSendLock(ctx, "new sender")
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	defer release2()
	if holder, _, _, _ := lockRow(t, s); holder != "new sender" {
		t.Errorf("lock held by %q after takeover", holder)
	}

	// A fresh lock of a live process elsewhere is respected.
	release2()
	now := time.Now().Unix()
	if _, err := s.write.ExecContext(ctx, `INSERT INTO locks
		(name, holder, token, pid, hostname, pid_ns, acquired_at, heartbeat_at)
		VALUES ('send', 'remote sender', 'tok', 1, 'elsewhere', '', ?, ?)`, now, now); err != nil {
		t.Fatal(err)
	}
	if _, err := other.AcquireSendLock(ctx, "new sender"); !errors.Is(err, ErrLocked) {
		t.Errorf("fresh remote lock: error = %v, want ErrLocked", err)
	}
}

func TestSendLockTakeoverFromTakenOverHolder(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	release, err := s.AcquireSendLock(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE locks SET heartbeat_at = 0`); err != nil {
		t.Fatal(err)
	}
	other := openAt(t, path)
	release2, err := other.AcquireSendLock(ctx, "second")
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	release()
	if holder, _, _, held := lockRow(t, s); !held || holder != "second" {
		t.Errorf("the old holder's release freed the new holder's lock (row: %q, %v)", holder, held)
	}
	release2()
}

// A process holding the lock is killed with SIGKILL: on the same host its
// lock is taken over at once, without waiting for the heartbeat to age.
func TestSendLockDeadProcessTakenOverAtOnce(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	cmd := helperCmd(t, "hold-lock", path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line := readLine(t, bufio.NewReader(out)); line != "locked" {
		t.Fatalf("helper said %q", line)
	}

	_, err = s.AcquireSendLock(ctx, "resume")
	var locked *LockedError
	if !errors.As(err, &locked) || locked.PID != cmd.Process.Pid || locked.Holder != "helper process" {
		t.Fatalf("while the helper lives: error = %v, want ErrLocked naming pid %d", err, cmd.Process.Pid)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, pid, hb, _ := lockRow(t, s); pid != cmd.Process.Pid || time.Since(time.Unix(hb, 0)) > s.lockTTL {
		t.Fatalf("test setup: lock row pid %d heartbeat %d is not the fresh lock of the dead helper", pid, hb)
	}
	release, err := s.AcquireSendLock(ctx, "resume")
	if err != nil {
		t.Fatalf("lock of a killed process not taken over: %v", err)
	}
	release()
}

// TestSendLockLostWhenTakenOver: the holder whose lock another took over
// (it stalled past the TTL) learns it through Lost at its next heartbeat;
// a holder whose lock is intact never does.
func TestSendLockLostWhenTakenOver(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	s.lockHeartbeat = 20 * time.Millisecond
	first, err := s.HoldSendLock(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()
	select {
	case <-first.Lost():
		t.Fatal("Lost closed while the lock is held")
	case <-time.After(100 * time.Millisecond):
	}
	other := openAt(t, path)
	other.lockTTL = -time.Hour // every heartbeat is too old: take it over
	second, err := other.HoldSendLock(ctx, "second")
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	defer second.Release()
	select {
	case <-first.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("the holder whose lock was taken over was not told")
	}
	select {
	case <-second.Lost():
		t.Error("the new holder was told it lost the lock")
	case <-time.After(100 * time.Millisecond):
	}
}
