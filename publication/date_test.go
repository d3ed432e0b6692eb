package publication

import (
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 in the site's zone
	}{
		// Dates without an offset are in Europe/Paris, summer or winter time.
		{"2022-06-02", "2022-06-02T00:00:00+02:00"},
		{"2022-01-15", "2022-01-15T00:00:00+01:00"},
		{"  2022-06-02\n", "2022-06-02T00:00:00+02:00"},
		{"2022-06-02T10:30:00", "2022-06-02T10:30:00+02:00"},
		{"2022-06-02T10:30", "2022-06-02T10:30:00+02:00"},
		{"2022-06-02 10:30:00", "2022-06-02T10:30:00+02:00"},
		{"2022-06-02 10:30", "2022-06-02T10:30:00+02:00"},
		{"2022-06-02T10:30:00.250", "2022-06-02T10:30:00.25+02:00"},
		{"2022/06/02", "2022-06-02T00:00:00+02:00"},
		// The day clocks go forward (27 March 2022, 02:00 → 03:00).
		{"2022-03-27", "2022-03-27T00:00:00+01:00"},
		{"2022-03-27T01:59:00", "2022-03-27T01:59:00+01:00"},
		{"2022-03-27T12:00:00", "2022-03-27T12:00:00+02:00"},
		// The day clocks go back (30 October 2022).
		{"2022-10-30T12:00:00", "2022-10-30T12:00:00+01:00"},
		// An explicit offset is kept as an instant and shown in the site zone.
		{"2022-06-02T10:30:00Z", "2022-06-02T12:30:00+02:00"},
		{"2022-06-02T10:30:00+02:00", "2022-06-02T10:30:00+02:00"},
		{"2022-06-02T10:30:00-05:00", "2022-06-02T17:30:00+02:00"},
		{"2022-06-02T10:30:00.5+02:00", "2022-06-02T10:30:00.5+02:00"},
		{"2022-06-02T10:30:00+0200", "2022-06-02T10:30:00+02:00"},
		{"2022-06-02T10:30+02:00", "2022-06-02T10:30:00+02:00"},
		{"2022-06-02 10:30:00+02:00", "2022-06-02T10:30:00+02:00"},
		{"2022-06-02 10:30:00Z", "2022-06-02T12:30:00+02:00"},
		{"2022-06-02 10:30:00 +0200", "2022-06-02T10:30:00+02:00"},
		{"2022-06-02 10:30:00 +02:00", "2022-06-02T10:30:00+02:00"},
		{"2022-06-02 10:30 +0200", "2022-06-02T10:30:00+02:00"},
		{"Thu, 02 Jun 2022 10:30:00 +0200", "2022-06-02T10:30:00+02:00"},
		{"Thu, 02 Jun 2022 08:30:00 GMT", "2022-06-02T10:30:00+02:00"},
		// A zone abbreviation of the site's zone means that zone, not UTC.
		{"Thu, 02 Jun 2022 10:30:00 CEST", "2022-06-02T10:30:00+02:00"},
	}
	loc := paris(t)
	for _, tt := range tests {
		got, err := ParseDate(tt.in, loc)
		if err != nil {
			t.Errorf("ParseDate(%q): %v", tt.in, err)
			continue
		}
		if s := got.Format(time.RFC3339Nano); s != tt.want {
			t.Errorf("ParseDate(%q) = %s, want %s", tt.in, s, tt.want)
		}
		if got.Location() != loc {
			t.Errorf("ParseDate(%q) is in %v, want the site zone", tt.in, got.Location())
		}
	}
}

func TestParseDateRejects(t *testing.T) {
	for _, in := range []string{
		"", "   ", "hier", "02/06/2022", "2022-13-01", "2022-02-30", "2022-06-02T25:00:00",
		"2022-06", "2022", "20220602", "2022-06-02T10:30:00+25:00", "2022-06-02 extra",
		"2022-06-02T10:30:00 Europe/Paris",
	} {
		if got, err := ParseDate(in, paris(t)); err == nil {
			t.Errorf("ParseDate(%q) = %v, want an error", in, got)
		}
	}
	_, err := ParseDate("hier", paris(t))
	if err == nil || err.Error() != `unparseable date "hier" (use 2006-01-02, 2006-01-02T15:04:05 or RFC 3339)` {
		t.Errorf("message: %v", err)
	}
}

func TestParseDateNilLocationIsUTC(t *testing.T) {
	got, err := ParseDate("2022-06-02", nil)
	if err != nil || !got.Equal(time.Date(2022, 6, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestDateValue(t *testing.T) {
	loc := paris(t)
	if got, err := dateValue("2022-06-02", loc); err != nil || got.Format(time.RFC3339) != "2022-06-02T00:00:00+02:00" {
		t.Errorf("string: %v %v", got, err)
	}
	utc := time.Date(2022, 6, 2, 8, 0, 0, 0, time.UTC)
	if got, err := dateValue(utc, loc); err != nil || !got.Equal(utc) || got.Location() != loc {
		t.Errorf("time.Time: %v %v", got, err)
	}
	// Whole seconds, as feeds write them: 10:00:00.1 and 10:00:00.7 are
	// the same date (else they look distinct here and equal in a feed).
	for _, v := range []any{"2026-11-27T10:00:00.1Z", "2026-11-27T10:00:00.7Z", time.Date(2026, 11, 27, 10, 0, 0, 999_999_999, time.UTC)} {
		if got, err := dateValue(v, loc); err != nil || !got.Equal(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("dateValue(%v) = %v, %v: want whole seconds", v, got, err)
		}
	}
	for _, v := range []any{int64(2022), nil, true, 1.5, []any{"2022-06-02"}, map[string]any{"a": 1}} {
		if _, err := dateValue(v, loc); err == nil {
			t.Errorf("dateValue(%#v) accepted", v)
		} else if !strings.Contains(err.Error(), "date") {
			t.Errorf("dateValue(%#v): %v does not talk about a date", v, err)
		}
	}
}

// FuzzParseLocalFast checks the fast path against the layouts it stands
// for: whenever it reads a date, ParseInLocation with one of the local
// layouts reads the same instant.
func FuzzParseLocalFast(f *testing.F) {
	for _, s := range []string{"2022-06-02", "2025-10-15T21:14:24", "2024-02-29 08:00", "2023-02-29", "2024-13-01", "0000-01-01T24:00:00", "2022-06-02T15:04:60"} {
		f.Add(s)
	}
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		f.Skip(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseLocalFast(s, loc)
		var want time.Time
		found := false
		for _, l := range localLayouts {
			if w, err := time.ParseInLocation(l, s, loc); err == nil {
				want, found = w, true
				break
			}
		}
		if ok && (!found || !got.Equal(want) || got.Location() != want.Location()) {
			t.Errorf("parseLocalFast(%q) = %v, layouts give %v (found %v)", s, got, want, found)
		}
		if !ok && found && len(s) == 10 && s[4] == '-' {
			t.Errorf("parseLocalFast(%q) refused a plain date the layouts read", s)
		}
	})
}
