package publication

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// parseFlatYAML parses, quickly, the front matter most files have: one
// "key: value" per line with plain, quoted or date values and flow lists of
// those, blank lines and comment lines. For anything else (nesting, numbers,
// escapes, block scalars, anchors…) it returns ok=false and the caller uses
// the full YAML parser; when it returns ok=true its result is exactly what
// that parser gives (FuzzFlatYAML checks it).
func parseFlatYAML(fm []byte, firstLine int) (*FrontMatter, bool) {
	out := &FrontMatter{Data: map[string]any{}, Lines: map[string]int{}}
	line := firstLine
	for len(fm) > 0 {
		var l []byte
		if i := bytes.IndexByte(fm, '\n'); i >= 0 {
			l, fm = fm[:i], fm[i+1:]
		} else {
			l, fm = fm, nil
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		cur := line
		line++
		if !flatChars(string(l)) {
			return nil, false
		}
		if len(bytes.TrimRight(l, " ")) == 0 {
			continue
		}
		if l[0] == '#' {
			continue
		}
		colon := bytes.IndexByte(l, ':')
		if colon <= 0 || colon > 256 || !flatKey(l[:colon]) || colon+1 >= len(l) || l[colon+1] != ' ' {
			return nil, false
		}
		key := string(l[:colon])
		if _, dup := out.Data[key]; dup {
			return nil, false
		}
		raw := strings.TrimRight(string(l[colon+2:]), " ")
		raw = strings.TrimLeft(raw, " ")
		if raw == "" {
			return nil, false
		}
		var v any
		var ok bool
		if raw[0] == '[' {
			v, ok = flatList(raw)
		} else {
			v, ok = flatScalar(raw)
		}
		if !ok {
			return nil, false
		}
		out.Data[key] = v
		out.Lines[key] = cur
	}
	return out, true
}

func flatKey(k []byte) bool {
	for i, c := range k {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// flatChars refuses characters YAML treats specially anywhere (tabs,
// controls, line and byte-order marks) or that are not valid UTF-8.
func flatChars(s string) bool {
	for _, r := range s {
		switch {
		case r == utf8.RuneError, r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0,
			r == '\u2028', r == '\u2029', r == '\ufeff', r >= 0xfffe:
			return false
		}
	}
	return true
}

// flatScalar reads a quoted string, a plain string, a boolean, a null, or a
// date (kept as text, as the full parser's timestamps are).
func flatScalar(s string) (any, bool) {
	switch s[0] {
	case '"':
		if len(s) < 2 || s[len(s)-1] != '"' {
			return nil, false
		}
		in := s[1 : len(s)-1]
		if strings.ContainsAny(in, "\"\\") {
			return nil, false
		}
		return in, true
	case '\'':
		if len(s) < 2 || s[len(s)-1] != '\'' {
			return nil, false
		}
		in := s[1 : len(s)-1]
		if strings.Contains(strings.ReplaceAll(in, "''", ""), "'") {
			return nil, false
		}
		return strings.ReplaceAll(in, "''", "'"), true
	}
	return flatPlain(s)
}

func flatPlain(s string) (any, bool) {
	switch s[0] {
	case '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '+', '.', '~', '<', '=':
		return nil, false
	}
	if strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return nil, false
	}
	switch s {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	case "null", "Null", "NULL":
		return nil, true
	}
	if s[0] >= '0' && s[0] <= '9' {
		// Only dates: numbers are left to the full parser.
		if !isDatePrefix(s) {
			return nil, false
		}
	}
	return s, true
}

// isDatePrefix reports "dddd-dd-dd" followed by nothing, "T" or a space,
// which YAML never reads as a number.
func isDatePrefix(s string) bool {
	if len(s) < 10 {
		return false
	}
	for i := 0; i < 10; i++ {
		c := s[i]
		if i == 4 || i == 7 {
			if c != '-' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) == 10 || s[10] == 'T' || s[10] == 't' || s[10] == ' '
}

// flowPlain keeps, in flow lists, to plain words made of letters, digits,
// spaces and "_-./", whose reading flow context cannot change.
func flowPlain(s string) bool {
	for _, r := range s {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == ' ', r == '_', r == '-', r == '.', r == '/':
		default:
			return false
		}
	}
	return true
}

// flatList reads a flow sequence of simple scalars: [a, "b", 'c'].
func flatList(s string) (any, bool) {
	if s[len(s)-1] != ']' {
		return nil, false
	}
	in := strings.TrimSpace(s[1 : len(s)-1])
	out := []any{}
	if in == "" {
		return out, true
	}
	for _, e := range strings.Split(in, ",") {
		e = strings.Trim(e, " ")
		if e == "" || strings.ContainsAny(e, "[]{}") {
			return nil, false
		}
		if e[0] != '"' && e[0] != '\'' && !flowPlain(e) {
			return nil, false
		}
		v, ok := flatScalar(e)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}
