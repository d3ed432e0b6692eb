package publication

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// parseFlatYAML parses, quickly, the front matter most files have: one
// "key: value" per line with plain, quoted or date values and flow lists of
// those, one level of nested mapping or block list of such values, blank
// lines and comment lines. For anything else (deeper nesting, numbers,
// escapes, block scalars, anchors…) it returns ok=false and the caller uses
// the full YAML parser; when it returns ok=true its result is exactly what
// that parser gives (FuzzFlatYAML checks it).
func parseFlatYAML(fm []byte, firstLine int) (*FrontMatter, bool) {
	var lines []string
	for len(fm) > 0 {
		var l []byte
		if i := bytes.IndexByte(fm, '\n'); i >= 0 {
			l, fm = fm[:i], fm[i+1:]
		} else {
			l, fm = fm, nil
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if !flatChars(string(l)) {
			return nil, false
		}
		lines = append(lines, string(l))
	}
	out := &FrontMatter{Data: map[string]any{}, Lines: map[string]int{}}
	for i := 0; i < len(lines); {
		l, cur := lines[i], firstLine+i
		i++
		if flatSkip(l) {
			continue
		}
		key, raw, ok := flatKeyValue(l)
		if !ok {
			return nil, false
		}
		if _, dup := out.Data[key]; dup {
			return nil, false
		}
		var v any
		if raw == "" {
			// A nested block: the lines that follow, indented or "- ".
			j := i
			for j < len(lines) && (flatSkip(lines[j]) || lines[j][0] == ' ' || lines[j][0] == '-') {
				j++
			}
			v, ok = flatBlock(lines[i:j])
			i = j
		} else {
			v, ok = flatValue(raw)
		}
		if !ok {
			return nil, false
		}
		out.Data[key] = v
		out.Lines[key] = cur
	}
	return out, true
}

// flatSkip reports blank and comment lines.
func flatSkip(l string) bool {
	t := strings.TrimLeft(l, " ")
	return t == "" || t[0] == '#'
}

// flatKeyValue splits "key: value" or "key:" at column 0.
func flatKeyValue(l string) (key, raw string, ok bool) {
	colon := strings.IndexByte(l, ':')
	if colon <= 0 || colon > 256 || !flatKey([]byte(l[:colon])) {
		return "", "", false
	}
	rest := l[colon+1:]
	if rest != "" && rest[0] != ' ' {
		return "", "", false
	}
	return l[:colon], strings.Trim(rest, " "), true
}

func flatValue(raw string) (any, bool) {
	if raw[0] == '[' {
		return flatList(raw)
	}
	return flatScalar(raw)
}

// flatBlock reads the lines under a "key:" line: nothing (null), a block
// list of scalars at one indentation, or a mapping of key: value at one
// indentation.
func flatBlock(lines []string) (any, bool) {
	var body []string
	for _, l := range lines {
		if !flatSkip(l) {
			body = append(body, l)
		}
	}
	if len(body) == 0 {
		return nil, true
	}
	indent := len(body[0]) - len(strings.TrimLeft(body[0], " "))
	if strings.HasPrefix(body[0][indent:], "- ") {
		list := make([]any, 0, len(body))
		for _, l := range body {
			if len(l)-len(strings.TrimLeft(l, " ")) != indent || !strings.HasPrefix(l[indent:], "- ") {
				return nil, false
			}
			item := strings.Trim(l[indent+2:], " ")
			if item == "" || item[0] == '[' {
				return nil, false
			}
			v, ok := flatScalar(item)
			if !ok {
				return nil, false
			}
			list = append(list, v)
		}
		return list, true
	}
	if indent == 0 {
		return nil, false
	}
	m := make(map[string]any, len(body))
	for _, l := range body {
		if len(l)-len(strings.TrimLeft(l, " ")) != indent {
			return nil, false
		}
		key, raw, ok := flatKeyValue(l[indent:])
		if !ok || raw == "" {
			return nil, false
		}
		if _, dup := m[key]; dup {
			return nil, false
		}
		v, ok := flatValue(raw)
		if !ok {
			return nil, false
		}
		m[key] = v
	}
	return m, true
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
		// Dates and small decimal integers; other numbers are left to the
		// full parser (octal, hexadecimal, floats, underscores…).
		if n, ok := smallInt(s); ok {
			return n, true
		}
		if !isDatePrefix(s) {
			return nil, false
		}
	}
	return s, true
}

// smallInt reads "0" or a decimal integer without a leading zero, up to 18
// digits, which YAML reads the same way.
func smallInt(s string) (int64, bool) {
	if len(s) > 18 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
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
