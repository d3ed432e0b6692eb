package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/ecoresponsable/bulletin/store"
)

func paris(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Mondays 09:00 in Paris stay 09:00 local across the autumn and spring
// changes: 07:00 UTC in summer time, 08:00 UTC in winter time.
func TestScheduleAcrossDST(t *testing.T) {
	loc := paris(t)
	sc, err := parseSchedule("0 9 * * 1", loc, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		after time.Time
		want  time.Time // UTC
	}{
		// Autumn: clocks go back on Sunday 25 October 2026.
		{time.Date(2026, 10, 19, 9, 0, 0, 0, loc), time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC)},
		{time.Date(2026, 10, 12, 9, 30, 0, 0, loc), time.Date(2026, 10, 19, 7, 0, 0, 0, time.UTC)},
		// Spring: clocks go forward on Sunday 28 March 2027.
		{time.Date(2027, 3, 22, 9, 0, 0, 0, loc), time.Date(2027, 3, 29, 7, 0, 0, 0, time.UTC)},
		{time.Date(2027, 3, 15, 10, 0, 0, 0, loc), time.Date(2027, 3, 22, 8, 0, 0, 0, time.UTC)},
	} {
		got := sc.next(tc.after)
		if !got.Equal(tc.want) || got.In(loc).Hour() != 9 {
			t.Errorf("next after %v = %v (%v local), want %v", tc.after, got.UTC(), got.In(loc), tc.want)
		}
	}
	if _, err := parseSchedule("every monday", loc, 0); err == nil {
		t.Error("a bad cron expression was accepted")
	}
}

// A slot inside the hour the clock skips in spring (Paris, Sunday 29 March
// 2026, 02:00 → 03:00) runs right after the change, once, as classic cron
// does; the schedule goes on as usual after it, and zones without a jump
// are unaffected.
func TestScheduleSpringForwardGap(t *testing.T) {
	loc := paris(t)
	change := time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC) // 03:00 CEST
	for _, tc := range []struct {
		expr  string
		after time.Time
		want  []time.Time // the next slots, in order
	}{
		{"30 2 * * 0", time.Date(2026, 3, 22, 3, 0, 0, 0, loc),
			[]time.Time{change, time.Date(2026, 4, 5, 2, 30, 0, 0, loc)}},
		{"*/20 2 * * *", time.Date(2026, 3, 29, 1, 50, 0, 0, loc),
			[]time.Time{change, time.Date(2026, 3, 30, 2, 0, 0, 0, loc), time.Date(2026, 3, 30, 2, 20, 0, 0, loc)}},
		{"0 * * * *", time.Date(2026, 3, 29, 0, 30, 0, 0, loc),
			[]time.Time{time.Date(2026, 3, 29, 1, 0, 0, 0, loc), change, time.Date(2026, 3, 29, 4, 0, 0, 0, loc)}},
		// 03:30 exists: nothing changes.
		{"30 3 * * 0", time.Date(2026, 3, 22, 4, 0, 0, 0, loc),
			[]time.Time{time.Date(2026, 3, 29, 3, 30, 0, 0, loc)}},
	} {
		sc, err := parseSchedule(tc.expr, loc, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		after := tc.after
		for i, want := range tc.want {
			got := sc.next(after)
			if !got.Equal(want) {
				t.Errorf("%s: slot %d after %v = %v, want %v", tc.expr, i, after, got, want)
				break
			}
			after = got
		}
	}
	sc, err := parseSchedule("30 2 * * 0", time.UTC, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sc.next(time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC)), time.Date(2026, 3, 29, 2, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("UTC: next = %v, want %v", got, want)
	}
	// A missed-slot look-back finds the run of the skipped slot too.
	sc, err = parseSchedule("30 2 * * 0", loc, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := sc.missed(change.Add(-6*time.Hour), change.Add(time.Hour)); !ok || !got.Equal(change) {
		t.Errorf("missed = %v, %v; want %v", got, ok, change)
	}
}

// fakeTimer lets a test decide when the scheduler's waits end.
type fakeTimer struct {
	mu    sync.Mutex
	waits []time.Duration
	fire  chan time.Time
}

func (f *fakeTimer) after(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	return f.fire
}

func newScheduler(t *testing.T, clock *testClock, catchUp time.Duration) (*scheduler, *store.SQLite, *fakeTimer, chan time.Time) {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sc, err := parseSchedule("0 9 * * 1", paris(t), catchUp)
	if err != nil {
		t.Fatal(err)
	}
	timer := &fakeTimer{fire: make(chan time.Time)}
	runs := make(chan time.Time, 10)
	return &scheduler{sc: sc, st: st, now: clock.now, after: timer.after, log: slog.New(slog.DiscardHandler),
		run: func(_ context.Context, slot time.Time) bool { runs <- slot; return true }}, st, timer, runs
}

func at(c *testClock, t time.Time) { c.ns.Store(t.UnixNano()) }

// A Monday 09:00 run missed while the server was down runs once at start
// when it is less than catch_up old; older, it is skipped.
func TestSchedulerCatchUp(t *testing.T) {
	loc := paris(t)
	monday9 := time.Date(2026, 11, 23, 9, 0, 0, 0, loc)
	for _, tc := range []struct {
		name     string
		startAt  time.Time
		wantRun  bool
		lastSeen time.Time
	}{
		{"inside the window", monday9.Add(3 * time.Hour), true, monday9.Add(-7 * 24 * time.Hour)},
		{"outside the window", monday9.Add(30 * time.Hour), false, monday9.Add(-7 * 24 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newTestClock()
			s, st, timer, runs := newScheduler(t, clock, 24*time.Hour)
			if err := st.SetSetting(context.Background(), lastRunKey, tc.lastSeen.UTC().Format(time.RFC3339)); err != nil {
				t.Fatal(err)
			}
			at(clock, tc.startAt)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { s.loop(ctx); close(done) }()
			if tc.wantRun {
				select {
				case slot := <-runs:
					if !slot.Equal(monday9) {
						t.Fatalf("caught up slot %v, want %v", slot, monday9)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the missed run did not run")
				}
			}
			// Wait until the loop sleeps towards the next Monday, then check
			// nothing (more) ran and the slot is recorded.
			deadline := time.Now().Add(5 * time.Second)
			for {
				timer.mu.Lock()
				n := len(timer.waits)
				timer.mu.Unlock()
				if n > 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			select {
			case slot := <-runs:
				t.Fatalf("unexpected run of %v", slot)
			default:
			}
			last, ok := s.lastSlot(context.Background())
			if !ok || !last.Equal(monday9) {
				t.Fatalf("recorded last slot %v, want %v", last, monday9)
			}
			timer.mu.Lock()
			wait := timer.waits[0]
			timer.mu.Unlock()
			if next := monday9.Add(7 * 24 * time.Hour); wait != next.Sub(tc.startAt) {
				t.Errorf("waits %v for the next slot, want %v", wait, next.Sub(tc.startAt))
			}
			cancel()
			<-done
		})
	}
}

// The loop fires each slot when its timer ends, at 09:00 Paris time, and
// never twice for one slot; the first start never catches up.
func TestSchedulerFiresEachSlot(t *testing.T) {
	loc := paris(t)
	clock := newTestClock()
	s, _, timer, runs := newScheduler(t, clock, 24*time.Hour)
	// First start on a Monday at 10:00: the 09:00 slot is not caught up.
	at(clock, time.Date(2026, 10, 19, 10, 0, 0, 0, loc))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.loop(ctx)
	for i, want := range []time.Time{
		time.Date(2026, 10, 26, 9, 0, 0, 0, loc), // first Monday in winter time
		time.Date(2026, 11, 2, 9, 0, 0, 0, loc),
	} {
		// Let the clock reach the slot, then end the wait.
		waitForWaits(t, timer, i+1)
		at(clock, want)
		timer.fire <- want
		select {
		case slot := <-runs:
			if !slot.Equal(want) || slot.In(loc).Hour() != 9 {
				t.Fatalf("run %d at %v, want %v", i, slot, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("slot %v did not run", want)
		}
	}
	select {
	case slot := <-runs:
		t.Fatalf("extra run %v", slot)
	default:
	}
}

// A slot whose send could not start is not recorded, and is tried again
// after a pause that grows (1 min, then 2 min) until it starts; then it is
// recorded and the loop waits for the next slot.
func TestSchedulerTriesASlotAgainUntilItStarts(t *testing.T) {
	loc := paris(t)
	clock := newTestClock()
	s, _, timer, runs := newScheduler(t, clock, 24*time.Hour)
	refusals := 2
	s.run = func(_ context.Context, slot time.Time) bool {
		runs <- slot
		if refusals > 0 {
			refusals--
			return false
		}
		return true
	}
	at(clock, time.Date(2026, 10, 19, 10, 0, 0, 0, loc))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.loop(ctx)
	slot := time.Date(2026, 10, 26, 9, 0, 0, 0, loc)
	waitForWaits(t, timer, 1)
	for i, now := range []time.Time{slot, slot.Add(time.Minute), slot.Add(3 * time.Minute)} {
		at(clock, now)
		timer.fire <- now
		select {
		case got := <-runs:
			if !got.Equal(slot) {
				t.Fatalf("run %d of %v, want %v", i, got, slot)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d of the slot did not happen", i)
		}
		waitForWaits(t, timer, i+2)
		last, _ := s.lastSlot(context.Background())
		if started := i == 2; last.Equal(slot) != started {
			t.Errorf("run %d: recorded slot %v; want the slot recorded only once its send started", i, last)
		}
	}
	timer.mu.Lock()
	waits := append([]time.Duration(nil), timer.waits...)
	timer.mu.Unlock()
	if want := slot.AddDate(0, 0, 7).Sub(slot.Add(3 * time.Minute)); len(waits) != 4 ||
		waits[1] != time.Minute || waits[2] != 2*time.Minute || waits[3] != want {
		t.Errorf("waits %v, want [… 1m 2m %v]", waits, want)
	}
}

func waitForWaits(t *testing.T, f *fakeTimer, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		got := len(f.waits)
		f.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("the scheduler did not wait %d times", n)
}

// countingSchedule counts the calls to a cron schedule's Next.
type countingSchedule struct {
	cron.Schedule
	calls int
}

func (c *countingSchedule) Next(t time.Time) time.Time {
	c.calls++
	return c.Schedule.Next(t)
}

// TestMissedLooksBackInFewSteps: missed finds the latest slot in
// (last, now] — none when there is none — and a frequent schedule after a
// long outage takes a few hundred steps, not one per slot (a minute
// schedule down for two years used to take half a million).
func TestMissedLooksBackInFewSteps(t *testing.T) {
	loc := paris(t)
	now := time.Date(2026, 11, 27, 10, 0, 30, 0, loc) // a Friday
	tests := []struct {
		expr     string
		last     time.Time
		want     time.Time // zero: none
		maxCalls int
		catchUp  time.Duration
	}{
		{"* * * * *", now.AddDate(-2, 0, 0), time.Date(2026, 11, 27, 10, 0, 0, 0, loc), 150, 30 * 24 * time.Hour},
		{"*/5 * * * *", now.Add(-3 * time.Minute), time.Date(2026, 11, 27, 10, 0, 0, 0, loc), 10, time.Hour},
		{"*/5 * * * *", now.Add(-10 * time.Second), time.Time{}, 10, time.Hour},
		{"0 9 * * 1", now.AddDate(0, -3, 0), time.Date(2026, 11, 23, 9, 0, 0, 0, loc), 40, 24 * time.Hour},
		{"0 9 * * 1", time.Date(2026, 11, 23, 9, 0, 0, 0, loc), time.Time{}, 40, 24 * time.Hour},
		{"0 9 1 * *", now.AddDate(-5, 0, 0), time.Date(2026, 11, 1, 9, 0, 0, 0, loc), 60, 24 * time.Hour},
		{"0 9 1 1 *", now.AddDate(-5, 0, 0), time.Date(2026, 1, 1, 9, 0, 0, 0, loc), 60, 24 * time.Hour},
		// The clock went back: nothing was missed.
		{"* * * * *", now.Add(time.Hour), time.Time{}, 5, time.Hour},
	}
	for _, tc := range tests {
		sc, err := parseSchedule(tc.expr, loc, tc.catchUp)
		if err != nil {
			t.Fatal(err)
		}
		c := &countingSchedule{Schedule: sc.spec}
		sc.spec = c
		got, ok := sc.missed(tc.last, now)
		if ok != !tc.want.IsZero() || !got.Equal(tc.want) {
			t.Errorf("%s from %s: missed = %s, %v; want %s", tc.expr, tc.last, got, ok, tc.want)
		}
		if c.calls > tc.maxCalls {
			t.Errorf("%s from %s: %d steps, want at most %d", tc.expr, tc.last, c.calls, tc.maxCalls)
		}
	}
}

// FuzzMissed: the look-back finds the same slot as walking every slot
// from last, for any schedule the parser accepts and any outage up to
// ninety days.
func FuzzMissed(f *testing.F) {
	f.Add("*/7 * * * *", int64(3600), int64(0))
	f.Add("0 9 * * 1", int64(10*24*3600), int64(3*24*3600))
	f.Add("30 23 31 * *", int64(80*24*3600), int64(-7200))
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		f.Fatal(err)
	}
	base := time.Date(2026, 3, 29, 1, 30, 0, 0, loc) // next to a DST change
	f.Fuzz(func(t *testing.T, expr string, outage, shift int64) {
		sc, err := parseSchedule(expr, loc, time.Hour)
		if err != nil {
			return
		}
		now := base.Add(time.Duration(shift%(200*24*3600)) * time.Second)
		last := now.Add(-time.Duration(outage%(90*24*3600)) * time.Second)
		var want time.Time
		for s := sc.next(last); !s.IsZero() && !s.After(now); s = sc.next(s) {
			want = s
		}
		got, ok := sc.missed(last, now)
		if !got.Equal(want) || ok == want.IsZero() {
			t.Fatalf("%q, last %s, now %s: missed = %s, %v; walking every slot gives %s", expr, last, now, got, ok, want)
		}
	})
}
