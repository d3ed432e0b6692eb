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
		if t, ok := parseLocalFast(s, loc); ok {
			return t, nil
		}
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

// dateValue reads a date from a front-matter value, to the second: feeds
// write whole seconds, so two dates that differ by a fraction must compare
// equal here too (ordering, telling updated dates apart).
func dateValue(v any, loc *time.Location) (time.Time, error) {
	switch x := v.(type) {
	case string:
		t, err := ParseDate(x, loc)
		return t.Truncate(time.Second), err
	case time.Time:
		return x.In(loc).Truncate(time.Second), nil
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

// parseLocalFast reads the two forms nearly every front matter uses,
// "2006-01-02" and "2006-01-02T15:04:05" (or with a space, or without
// seconds), as time.ParseInLocation would with the local layouts, without
// the errors that trying layouts in turn allocates; false for anything
// else, which the layouts then read.
func parseLocalFast(s string, loc *time.Location) (time.Time, bool) {
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	if len(s) != 10 && len(s) != 16 && len(s) != 19 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 ||
		day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return time.Time{}, false
	}
	hour, minute, sec := 0, 0, 0
	if len(s) > 10 {
		if s[10] != 'T' && s[10] != ' ' || s[13] != ':' {
			return time.Time{}, false
		}
		var ok4, ok5 bool
		hour, ok4 = num(s[11:13])
		minute, ok5 = num(s[14:16])
		if !ok4 || !ok5 || hour > 23 || minute > 59 {
			return time.Time{}, false
		}
		if len(s) == 19 {
			var ok6 bool
			sec, ok6 = num(s[17:19])
			if s[16] != ':' || !ok6 || sec > 59 {
				return time.Time{}, false
			}
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc), true
}

// isoDateLen is the length of a "YYYY-MM-DD" date.
const isoDateLen = len("2006-01-02")

// isISODate reports whether s starts with a date shaped "YYYY-MM-DD" (ASCII
// digits, as the \d{4}-\d{2}-\d{2} of Eleventy's file-name rules).
func isISODate(s string) bool {
	if len(s) < isoDateLen {
		return false
	}
	for i := 0; i < isoDateLen; i++ {
		if i == 4 || i == 7 {
			if s[i] != '-' {
				return false
			}
		} else if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// pathDate is the date Eleventy gives a file whose data has none: the first
// "YYYY-MM-DD" in its path (relative to the content folder), in a file or
// a folder name: posts/2026-01-01-hello.md, 2026-01-01/index.md,
// notes-2026-01-01.md. False when the path holds none.
func pathDate(source string) (string, bool) {
	for i := 0; i+isoDateLen <= len(source); i++ {
		if isISODate(source[i:]) {
			return source[i : i+isoDateLen], true
		}
	}
	return "", false
}
