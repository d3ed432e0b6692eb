package feed

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// This file escapes the texts of items straight into a byte slice, giving
// the bytes encoding/xml and encoding/json gave when the items went through
// them (encode_test.go compares): the items are hundreds of thousands, and
// those packages spent most of the time of Generate on them, token by token
// and field by field.
//
// Long texts are looked at eight bytes at a time (one uint64), for a byte
// that may need attention, with the usual tricks: x has a byte below n
// (n <= 0x80) when (x - n*swarOnes) & ^x & swarHighs is not zero, and a
// byte equal to c when x ^ c*swarOnes has a zero byte. In such a mask, the
// lowest set bit is in the first byte that matches (false hits, from the
// borrow, only come after a true one), so a scan can jump to it.

// The bytes 0x01 and 0x80, eight times.
const (
	swarOnes  = 0x0101010101010101
	swarHighs = 0x8080808080808080
)

// below returns the mask of the bytes of x less than n (n <= 0x80), exact
// up to its first set bit.
func below(x uint64, n byte) uint64 { return (x - swarOnes*uint64(n)) & ^x & swarHighs }

// equal returns the mask of the bytes of x equal to c, exact up to its
// first set bit.
func equal(x uint64, c byte) uint64 {
	y := x ^ (swarOnes * uint64(c))
	return (y - swarOnes) & ^y & swarHighs
}

// load64 reads the eight bytes of s at i, the first in the low byte.
func load64(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(bytesOf(s[i : i+8]))
}

// bytesOf returns a read-only view of the bytes of s, without the copy a
// conversion makes.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// xmlMode is what appendXML writes a text as.
type xmlMode uint8

const (
	// xmlText is character data, escaped as encoding/xml's
	// Encoder.EncodeToken escapes a CharData: newlines are kept.
	xmlText xmlMode = iota
	// xmlAttr is an attribute value, escaped as EncodeToken escapes the
	// attributes of a StartElement: newlines too become references.
	xmlAttr
	// xmlHTML is character data holding the text as HTML: escapeHTML,
	// then as xmlText ("&" becomes "&amp;amp;").
	xmlHTML
)

// xmlNext returns the index of the first byte of s from i on that
// appendXML must look at (a control character, one of "&'<>, or 0xC2 and
// 0xEF which may start a character cleanXML removes), len(s) when none.
func xmlNext(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		x := load64(s, i)
		m := below(x, 0x20) |
			equal(x, '"') |
			equal(x|swarOnes*0x01, '\'') | // & or '
			equal(x|swarOnes*0x02, '>') | // < or >
			equal(x, 0xC2) |
			equal(x, 0xEF)
		if m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '&', '\'', '<', '>', 0xC2, 0xEF:
			return i
		default:
			if c < 0x20 {
				return i
			}
		}
	}
	return i
}

// appendXML appends s to dst as XML text of the given mode: without the
// characters cleanXML removes, then escaped as encoding/xml escapes. Its
// escapes are those of encoding/xml: &#34; &#39; &amp; &lt; &gt; and, for
// the characters XML would normalise, &#x9; &#xD; and in attributes &#xA;.
// encoding/xml also turns characters XML cannot carry into U+FFFD; cleanXML
// having removed them, that never happens here.
func appendXML(dst []byte, s string, mode xmlMode) []byte {
	if !utf8.ValidString(s) {
		s = cleanXML(s) // rare: a copy without the invalid bytes
	}
	start := 0 // s[start:i] is still to be copied as is
	for i := xmlNext(s, 0); i < len(s); i = xmlNext(s, i) {
		var esc string
		n := 1 // bytes replaced by esc
		switch c := s[i]; c {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
			if mode == xmlHTML {
				esc = "&amp;amp;"
			}
		case '<':
			esc = "&lt;"
			if mode == xmlHTML {
				esc = "&amp;lt;"
			}
		case '>':
			esc = "&gt;"
			if mode == xmlHTML {
				esc = "&amp;gt;"
			}
		case '\t':
			esc = "&#x9;"
		case '\n':
			if mode != xmlAttr {
				i++
				continue
			}
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		case 0xC2: // U+0080 to U+00BF; removed up to U+009F (C1 controls)
			if s[i+1] > 0x9F {
				i += 2
				continue
			}
			n = 2
		case 0xEF: // U+F000 to U+FFFF; removed from U+FFFD on
			if s[i+1] != 0xBF || s[i+2] < 0xBD {
				i++ // the next bytes hold neither 0xC2 nor 0xEF
				continue
			}
			n = 3
		default: // other control characters, removed
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		i += n
		start = i
	}
	return append(dst, s[start:]...)
}

// appendElem appends, after line (a newline and the indentation), the
// element <name>value</name>, with value as XML text of the given mode
// (written even when empty, as <name></name>).
func appendElem(dst []byte, line, name, value string, mode xmlMode) []byte {
	dst = append(dst, line...)
	dst = append(dst, '<')
	dst = append(dst, name...)
	dst = append(dst, '>')
	dst = appendXML(dst, value, mode)
	dst = append(dst, '<', '/')
	dst = append(dst, name...)
	return append(dst, '>')
}

// appendAttr appends the attribute name="value", after a space; nothing
// when value is empty.
func appendAttr(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, '=', '"')
	dst = appendXML(dst, value, xmlAttr)
	return append(dst, '"')
}

// appendCDATA appends s as encoding/xml writes a ",cdata" field: nothing
// when s is empty, else in a CDATA section, split where s holds "]]>".
// s must be free of what cleanXML removes.
func appendCDATA(dst []byte, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, "<![CDATA["...)
	for {
		before, after, ok := strings.Cut(s, "]]>")
		if !ok {
			break
		}
		dst = append(dst, before...)
		dst = append(dst, "]]]]><![CDATA[>"...)
		s = after
	}
	dst = append(dst, s...)
	return append(dst, "]]>"...)
}

// jsonNext returns the index of the first byte of s from i on that
// appendJSON must look at (a control character, a quote, a backslash, or
// 0xE2 which may start U+2028 or U+2029), len(s) when none. s must be valid
// UTF-8.
func jsonNext(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		x := load64(s, i)
		m := below(x, 0x20) | equal(x, '"') | equal(x, '\\') | equal(x, 0xE2)
		if m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == 0xE2 {
			return i
		}
	}
	return i
}

const hexDigits = "0123456789abcdef"

// appendJSON appends s as a JSON string, escaped as encoding/json escapes
// it with SetEscapeHTML(false): \" \\ \b \f \n \r \t, \u00XX for the other
// control characters, \u2028 and \u2029, and \ufffd for each byte that is
// not part of valid UTF-8.
func appendJSON(dst []byte, s string) []byte {
	return appendJSONValid(dst, s, utf8.ValidString(s))
}

// appendJSONValid is appendJSON for a string known to be valid UTF-8 or
// not.
func appendJSONValid(dst []byte, s string, valid bool) []byte {
	if !valid {
		return appendJSONInvalid(dst, s)
	}
	dst = append(dst, '"')
	start := 0
	for i := jsonNext(s, 0); i < len(s); i = jsonNext(s, i) {
		c := s[i]
		if c == 0xE2 { // U+2000 to U+2FFF
			if s[i+1] != 0x80 || s[i+2]&^1 != 0xA8 {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[s[i+2]&0xF])
			i += 3
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = appendJSONByte(dst, c)
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONByte appends the escape of an ASCII control character, quote
// or backslash.
func appendJSONByte(dst []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// appendJSONInvalid is appendJSON for a string that is not valid UTF-8,
// character by character as encoding/json does.
func appendJSONInvalid(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendJSONByte(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == utf8.RuneError && size == 1:
			esc = `\ufffd`
		case r == '\u2028':
			esc = `\u2028`
		case r == '\u2029':
			esc = `\u2029`
		default:
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
