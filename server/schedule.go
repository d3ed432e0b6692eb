package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/ecoresponsable/bulletin/store"
)

// lastRunKey is the store setting holding the last scheduled slot that was
// run or skipped, so that a restart knows what it missed.
const lastRunKey = "schedule.last_slot"

// schedule is a cron expression read in the site's time zone.
type schedule struct {
	spec    cron.Schedule
	loc     *time.Location
	catchUp time.Duration
}

// parseSchedule reads a standard five-field cron expression ("0 9 * * 1").
func parseSchedule(expr string, loc *time.Location, catchUp time.Duration) (*schedule, error) {
	spec, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, fmt.Errorf("server: digest.schedule %q: %w", expr, err)
	}
	if loc == nil {
		loc = time.UTC
	}
	return &schedule{spec: spec, loc: loc, catchUp: catchUp}, nil
}

// cronHorizon is how far ahead cron.Schedule looks for a slot before it
// gives up (robfig/cron v3: five years).
const cronHorizon = 5 * 366 * 24 * time.Hour

// next is the first slot strictly after t, computed in the site's zone so
// that "09:00" stays 09:00 across daylight-saving changes. A slot the clock
// skips when it moves forward (02:30 on the night 02:00 becomes 03:00) runs
// right after the change, at 03:00, as classic cron does: cron.Schedule
// alone passes over it until a day when that time exists.
func (sc *schedule) next(t time.Time) time.Time {
	t = t.In(sc.loc)
	n := sc.spec.Next(t)
	_, change := t.ZoneBounds()
	for !change.IsZero() && (n.IsZero() || change.Before(n)) && change.Sub(t) < cronHorizon {
		if sc.skipsSlot(change) {
			return change
		}
		_, change = change.ZoneBounds()
	}
	return n
}

// skipsSlot reports whether the change of UTC offset at instant change
// makes the clock jump over a slot: the wall-clock times from change's
// reading before the jump up to its reading after do not exist that day.
func (sc *schedule) skipsSlot(change time.Time) bool {
	_, before := change.Add(-time.Nanosecond).Zone()
	_, after := change.Zone()
	if after <= before {
		return false
	}
	// The clock as it would have read without the jump (02:00 at +01:00):
	// a slot from there to the reading after the jump (03:00) is skipped.
	wall := change.In(time.FixedZone("", before))
	slot := sc.spec.Next(wall.Add(-time.Second))
	return !slot.IsZero() && slot.Before(wall.Add(time.Duration(after-before)*time.Second))
}

// missed returns the latest slot in (last, now], if any.
//
// It looks back from now over windows that double (1 h, 2 h, 4 h, …), so
// that a frequent schedule after a long outage costs a few dozen steps, not
// one per slot; it never looks further back than a year before the
// catch-up window.
func (sc *schedule) missed(last, now time.Time) (time.Time, bool) {
	if floor := now.Add(-sc.catchUp - 366*24*time.Hour); last.Before(floor) {
		last = floor
	}
	span := now.Sub(last) // saturates: no overflow below
	for w := min(time.Hour, span); ; {
		from := last
		if w < span {
			from = now.Add(-w)
		}
		var slot time.Time
		for t := sc.next(from); !t.IsZero() && !t.After(now); t = sc.next(t) {
			slot = t
		}
		if !slot.IsZero() || from.Equal(last) {
			return slot, !slot.IsZero()
		}
		if w > span/2 {
			w = span
		} else {
			w *= 2
		}
	}
}

// Waits before a slot whose new digest could not be created is tried
// again: the first, doubled at each new failure up to the last.
const (
	firstRetry = time.Minute
	maxRetry   = time.Hour
)

// scheduler runs an action at every slot of a schedule. Its clock and timer
// are injected so that tests can drive it.
type scheduler struct {
	sc    *schedule
	st    store.Store
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
	// run sends a slot's digest; it returns once the new digest was
	// created (or nothing was new), reporting true, while the digest itself
	// may still be sending. It reports false when that did not happen (a
	// send is already running, the resume of an earlier digest stopped, an
	// error), and the slot is then tried again.
	run func(ctx context.Context, slot time.Time) bool
	// start, when set, runs once at start-up unless a missed slot is
	// caught up (which does the same and more): resuming an interrupted
	// send.
	start func(ctx context.Context)
	log   *slog.Logger
}

// loop catches up a missed slot at start (within the catch-up window, else
// it is skipped and logged), then waits for each next slot until ctx ends.
// A slot whose new digest could not be created is tried again after a
// pause (growing from firstRetry to maxRetry) until it is or the next
// slot comes, which then takes its place.
func (s *scheduler) loop(ctx context.Context) {
	now := s.now()
	last, ok := s.lastSlot(ctx)
	if !ok {
		// First start: nothing was missed yet.
		last = now
		s.setLast(ctx, now)
	}
	var due time.Time // a slot whose send could not start yet
	caughtUp := false
	if slot, ok := s.sc.missed(last, now); ok {
		if late := now.Sub(slot); late <= s.sc.catchUp {
			s.log.Info("running a scheduled digest missed while the server was down", "slot", slot, "late", late.Round(time.Second))
			caughtUp = true
			if !s.fire(ctx, slot) {
				due = slot
			}
		} else {
			s.log.Warn("skipping a scheduled digest missed too long ago", "slot", slot, "late", late.Round(time.Second), "catch_up", s.sc.catchUp)
			s.setLast(ctx, slot)
		}
		last = slot
	}
	if !caughtUp && s.start != nil {
		s.start(ctx)
	}
	retry := firstRetry
	for {
		now = s.now()
		if last.Before(now) {
			last = now
		}
		next := s.sc.next(last)
		if next.IsZero() {
			s.log.Warn("digest.schedule never comes again: no scheduled digest will be sent")
			return
		}
		wait := next.Sub(now)
		if !due.IsZero() && retry < wait {
			wait = retry
			s.log.Info("scheduled digest to try again", "slot", due, "in", wait)
		} else {
			s.log.Info("next scheduled digest", "at", next)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.after(wait):
		}
		if ctx.Err() != nil {
			return
		}
		if s.now().Before(next) {
			// The pause before trying the due slot again ended (or the
			// clock changed: wait again).
			if !due.IsZero() {
				if s.fire(ctx, due) {
					due, retry = time.Time{}, firstRetry
				} else {
					retry = min(2*retry, maxRetry)
				}
			}
			continue
		}
		if !due.IsZero() {
			s.log.Warn("a scheduled digest that could not start gives way to the next slot", "slot", due, "next", next)
		}
		due, retry = time.Time{}, firstRetry
		if !s.fire(ctx, next) {
			due = next
		}
		last = next
	}
}

// fire runs a slot and records it once its new digest was created (or
// nothing was new): a crash while that digest is sent must not make the
// next start run the slot again (the unfinished digest is resumed
// instead), while a slot whose send could not start, or stopped while
// resuming earlier digests (an SMTP outage, a crash), must not be taken as
// done. It reports whether the slot was recorded.
func (s *scheduler) fire(ctx context.Context, slot time.Time) bool {
	if !s.run(ctx, slot) {
		return false
	}
	s.setLast(ctx, slot)
	return true
}

func (s *scheduler) lastSlot(ctx context.Context) (time.Time, bool) {
	v, ok, err := s.st.GetSetting(ctx, lastRunKey)
	if err != nil || !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, err == nil
}

func (s *scheduler) setLast(ctx context.Context, t time.Time) {
	if err := s.st.SetSetting(ctx, lastRunKey, t.UTC().Format(time.RFC3339)); err != nil {
		s.log.Error("record the schedule", "err", err)
	}
}
