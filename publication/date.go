package publication

import (
	"fmt"
	"strings"
	"time"
)

// Layouts with an explicit offset, tried first.
var zonedLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 -07:00",
	"2006-01-02 15:04 -0700",
	time.RFC1123Z,
	time.RFC1123,
}

// Layouts without an offset, read in the site's time zone.
var localLayouts = []string{
	"2006-01-02",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04",
	"2006/01/02",
}

// ParseDate reads a front-matter date: "2022-06-02" (quoted or not), with or
// without a time, RFC 3339 with an offset or "Z". A date without an offset
// is in loc. It is the one date parser of bulletin.
func ParseDate(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty date")
	}
	if loc == nil {
		loc = time.UTC
	}
	// The common date-only and local forms first: no layout with a zone can
	// read them, so trying those first is only slower.
	if !mayHaveZone(s) {
		for _, l := range localLayouts {
			if t, err := time.ParseInLocation(l, s, loc); err == nil {
				return t, nil
			}
		}
	}
	// ParseInLocation, so that a zone abbreviation ("CEST") is read in the
	// site's zone instead of as UTC; numeric offsets are unaffected.
	for _, l := range zonedLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.In(loc), nil
		}
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unparseable date %q (use 2006-01-02, 2006-01-02T15:04:05 or RFC 3339)", s)
}

// dateValue reads a date from a front-matter value.
func dateValue(v any, loc *time.Location) (time.Time, error) {
	switch x := v.(type) {
	case string:
		return ParseDate(x, loc)
	case time.Time:
		return x.In(loc), nil
	case int64:
		// A bare year or yyyymmdd is ambiguous: ask for a real date.
		return time.Time{}, fmt.Errorf("unparseable date %d (use 2006-01-02)", x)
	case nil:
		return time.Time{}, fmt.Errorf("empty date")
	default:
		return time.Time{}, fmt.Errorf("unparseable date %v (use 2006-01-02)", x)
	}
}

// mayHaveZone reports a date that may carry an offset or a zone name: a
// letter at the start (a day name), or Z, + or - after the date part.
func mayHaveZone(s string) bool {
	if s[0] < '0' || s[0] > '9' {
		return true
	}
	if len(s) <= 10 {
		return false
	}
	return strings.ContainsAny(s[10:], "Zz+-") || strings.IndexFunc(s[10:], func(r rune) bool { return r >= 'A' && r <= 'z' && r != 'T' && r != 't' }) >= 0
}
