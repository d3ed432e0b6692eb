package publication

import (
	"bytes"
	"fmt"
)

// Limits on the Markdown constructs goldmark (1.8.7) takes more than
// linear time to render. Within them a body renders in well under a second;
// past them, a few hundred kilobytes could hold a build for minutes and a
// 10 MB file for hours. No hand-written page comes near them.
const (
	// maxNesting is the most container blocks (block quotes, list items)
	// opened on one line: "> > > …" costs the square of the depth.
	maxNesting = 100
	// maxBracketWork bounds the sum, over paragraphs, of the square of the
	// number of closed brackets: goldmark costs that much for "[a]" lines
	// without a blank line between them (20,000 of them take 0.26 s here).
	maxBracketWork = 400_000_000
	// maxDestScan bounds the bytes goldmark reads looking for the end of
	// link destinations that never end, as in "[a]([a]([a](…" (~7 ns each).
	maxDestScan = 32 << 20
)

// tooComplex returns the line of body (1 for the first) where its Markdown
// passes one of those limits, with why; 0 when it stays within them. It
// reads body once and stops there: its own cost is linear whatever the
// input.
func tooComplex(body []byte) (int, string) {
	var fence []byte // the opening fence, inside a fenced code block
	closed, opened := 0, 0
	work, scanned := 0, 0
	line := 0
	for start := 0; start < len(body); {
		line++
		end := bytes.IndexByte(body[start:], '\n')
		if end < 0 {
			end = len(body)
		} else {
			end += start
		}
		l, at := body[start:end], start
		start = end + 1
		depth, rest := containers(l)
		if fence != nil {
			if closesFence(rest, fence) {
				fence = nil
			}
			continue
		}
		if depth > maxNesting && !thematicBreak(l) {
			return line, fmt.Sprintf("Markdown blocks nested %d deep on one line (at most %d can be rendered in reasonable time)", depth, maxNesting)
		}
		if f := openingFence(rest); f != nil {
			fence = f
		}
		if fence != nil || len(bytes.TrimSpace(rest)) == 0 {
			// The paragraph, if any, ends here.
			closed, opened = 0, 0
			continue
		}
		for i := 0; i < len(l); i++ {
			switch l[i] {
			case '\\':
				i++
			case '[':
				opened++
			case ']':
				if opened == 0 {
					continue
				}
				opened--
				// The square grows by 2n+1 with the nth closer.
				work += 2*closed + 1
				closed++
				if work > maxBracketWork {
					return line, fmt.Sprintf("%d links or bracketed texts in one paragraph (add blank lines between them)", closed)
				}
				if i+1 < len(l) && l[i+1] == '(' {
					scanned += destinationScan(body[at+i+2:], maxDestScan-scanned+1)
					if scanned > maxDestScan {
						return line, "too many links whose address never ends (a \"(\" with no \")\")"
					}
				}
			}
		}
	}
	return 0, ""
}

// containers counts the block quote and list item markers that open a
// line, and returns what follows them.
func containers(l []byte) (int, []byte) {
	depth := 0
	i := 0
	for {
		for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
			i++
		}
		if i == len(l) {
			return depth, l[i:]
		}
		switch c := l[i]; {
		case c == '>':
			depth++
			i++
			continue
		case c == '-' || c == '+' || c == '*':
			if i+1 == len(l) || l[i+1] == ' ' || l[i+1] == '\t' {
				depth++
				i++
				continue
			}
		case c >= '0' && c <= '9':
			j := i
			for j < len(l) && j-i < 9 && l[j] >= '0' && l[j] <= '9' {
				j++
			}
			if j < len(l) && (l[j] == '.' || l[j] == ')') && (j+1 == len(l) || l[j+1] == ' ' || l[j+1] == '\t') {
				depth++
				i = j + 1
				continue
			}
		}
		return depth, l[i:]
	}
}

// thematicBreak reports whether l is a line of three or more '-', '*' or
// '_' (the same one), with blanks between them ("- - -", "* * *").
func thematicBreak(l []byte) bool {
	var mark byte
	n := 0
	for _, c := range l {
		switch c {
		case ' ', '\t', '\r':
		case '-', '*', '_':
			if mark != 0 && c != mark {
				return false
			}
			mark = c
			n++
		default:
			return false
		}
	}
	return n >= 3
}

// openingFence returns the fence ("```", "~~~~"…) that rest opens, or nil.
func openingFence(rest []byte) []byte {
	if len(rest) < 3 || (rest[0] != '`' && rest[0] != '~') {
		return nil
	}
	n := 0
	for n < len(rest) && rest[n] == rest[0] {
		n++
	}
	if n < 3 || (rest[0] == '`' && bytes.IndexByte(rest[n:], '`') >= 0) {
		return nil
	}
	return rest[:n]
}

// closesFence reports whether rest closes a fenced code block opened by
// fence: at least as many of the same character, then only blanks.
func closesFence(rest, fence []byte) bool {
	n := 0
	for n < len(rest) && rest[n] == fence[0] {
		n++
	}
	return n >= len(fence) && len(bytes.TrimSpace(rest[n:])) == 0
}

// destinationScan returns how many bytes of s, which follows "](", a
// CommonMark link destination reads before it ends, at most limit:
// blanks and one line break, then either "<…>" on one line, or
// non-blank bytes up to a ")" that closes no "(" of its own.
func destinationScan(s []byte, limit int) int {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && s[i] == '\n' {
		i++
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	if i < len(s) && s[i] == '<' {
		for ; i < len(s) && i < limit; i++ {
			if s[i] == '>' || s[i] == '\n' {
				break
			}
		}
		return min(i, limit)
	}
	depth := 0
	for ; i < len(s) && i < limit; i++ {
		c := s[i]
		if c <= ' ' {
			break
		}
		switch c {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return i
			}
			depth--
		}
	}
	return min(i, limit)
}
