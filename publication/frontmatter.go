package publication

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FrontMatter is the parsed YAML header of a file.
type FrontMatter struct {
	// Data holds every key with plain Go values (map[string]any, []any,
	// string, int, float64, bool, nil). Timestamps stay strings so that
	// dates are read in the site's time zone, not in UTC.
	Data map[string]any
	// Lines gives the 1-based file line of each top-level key.
	Lines map[string]int
	// BodyLine is the file line the body starts on.
	BodyLine int
}

// LineError is an error located at a line of a file.
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// SplitFrontMatter separates the front matter from the body. A file that
// does not start with a "---" line has no front matter: fm is nil and body is
// the whole input. An opening "---" without a closing one is an error.
func SplitFrontMatter(src []byte) (fm []byte, body []byte, bodyLine int, err error) {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	first, rest, found := cutLine(src)
	if strings.TrimRight(string(first), " \t\r") != "---" {
		return nil, src, 1, nil
	}
	if !found {
		return nil, nil, 0, &LineError{Line: 1, Msg: "front matter is not closed: add a line with --- after it"}
	}
	line := 2
	start := rest
	offset := 0
	for len(rest) > 0 {
		l, next, _ := cutLine(rest)
		t := strings.TrimRight(string(l), " \t\r")
		if t == "---" || t == "..." {
			return start[:offset], next, line + 1, nil
		}
		offset += len(rest) - len(next)
		rest = next
		line++
	}
	return nil, nil, 0, &LineError{Line: 1, Msg: "front matter is not closed: add a line with --- after it"}
}

func cutLine(b []byte) (line, rest []byte, found bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, nil, false
	}
	return b[:i], b[i+1:], true
}

// ParseFrontMatter parses a YAML front matter block. firstLine is the file
// line of the block's first line, so that errors name file lines.
func ParseFrontMatter(fm []byte, firstLine int) (*FrontMatter, error) {
	if len(bytes.TrimSpace(fm)) == 0 {
		return &FrontMatter{Data: map[string]any{}, Lines: map[string]int{}}, nil
	}
	if flat, ok := parseFlatYAML(fm, firstLine); ok {
		return flat, nil
	}
	return parseFullYAML(fm, firstLine)
}

// parseFullYAML parses front matter with the YAML library.
func parseFullYAML(fm []byte, firstLine int) (*FrontMatter, error) {
	out := &FrontMatter{Data: map[string]any{}, Lines: map[string]int{}}
	lines := newLineMap(fm, firstLine)
	var doc yaml.Node
	if err := yaml.Unmarshal(fm, &doc); err != nil {
		return nil, yamlError(err, lines)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return out, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &LineError{Line: lines.file(root.Line), Msg: "front matter must be a YAML mapping (key: value lines)"}
	}
	budget := maxNodes
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, &LineError{Line: lines.file(k.Line), Msg: "front matter keys must be plain strings"}
		}
		if first, dup := out.Lines[k.Value]; dup {
			// YAML forbids it, and so Eleventy's parser (js-yaml).
			return nil, &LineError{Line: lines.file(k.Line), Msg: fmt.Sprintf("key %q is given twice (first on line %d)", k.Value, first)}
		}
		val, err := nodeValueBudget(v, 0, &budget)
		if err != nil {
			return nil, &LineError{Line: lines.file(v.Line), Msg: fmt.Sprintf("%s: %v", k.Value, err)}
		}
		out.Data[k.Value] = val
		out.Lines[k.Value] = lines.file(k.Line)
	}
	return out, nil
}

// lineMap gives the file line of each YAML line: yaml.v3 also ends lines at
// a lone CR, NEL, LS and PS, where the file (and every other diagnostic)
// counts only "\n".
type lineMap []int

func newLineMap(fm []byte, firstLine int) lineMap {
	m := lineMap{firstLine}
	line := firstLine
	for i := 0; i < len(fm); i++ {
		switch {
		case fm[i] == '\n':
			line++
			m = append(m, line)
		case fm[i] == '\r' && (i+1 == len(fm) || fm[i+1] != '\n'),
			fm[i] == 0xC2 && i+1 < len(fm) && fm[i+1] == 0x85,
			fm[i] == 0xE2 && i+2 < len(fm) && fm[i+1] == 0x80 && (fm[i+2] == 0xA8 || fm[i+2] == 0xA9):
			m = append(m, line)
		}
	}
	return m
}

// file returns the file line of 1-based YAML line n; past the end (an
// error at the end of the input) it is the line after the last one.
func (m lineMap) file(n int) int {
	if n < 1 {
		return m[0]
	}
	return m[min(n, len(m))-1]
}

func yamlError(err error, lines lineMap) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		return yamlMessage(te.Errors[0], lines)
	}
	return yamlMessage(err.Error(), lines)
}

// yamlParserProblems are the problems the YAML parser (not the scanner)
// reports. For those, yaml.v3 prints a 0-based line number (go-yaml #205),
// while scanner errors are 1-based.
var yamlParserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found undefined tag handle":             true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

func yamlMessage(msg string, lines lineMap) error {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		problem := msg[len(m[0]):]
		if yamlParserProblems[problem] {
			n++
		}
		return &LineError{Line: lines.file(n), Msg: "invalid YAML: " + problem}
	}
	return &LineError{Line: lines.file(1), Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// maxDepth and maxNodes bound nesting and alias expansion so that hostile
// input ("billion laughs") cannot exhaust the stack or the memory.
const (
	maxDepth = 64
	maxNodes = 100_000
)

// nodeValueBudget converts a YAML node into plain Go values, keeping
// timestamps as strings and resolving aliases; every node visited spends one
// unit of budget.
func nodeValueBudget(n *yaml.Node, depth int, budget *int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nesting is too deep")
	}
	*budget--
	if *budget < 0 {
		return nil, errors.New("too many values (alias expansion?)")
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, nil
		}
		return nodeValueBudget(n.Alias, depth+1, budget)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValueBudget(n.Content[0], depth+1, budget)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		explicit := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				mv, err := nodeValueBudget(v, depth+1, budget)
				if err != nil {
					return nil, err
				}
				if mm, ok := mv.(map[string]any); ok {
					for mk, mvv := range mm {
						if _, set := m[mk]; !set {
							m[mk] = mvv
						}
					}
				}
				continue
			}
			var key string
			if k.Kind == yaml.ScalarNode {
				key = k.Value
			} else {
				return nil, errors.New("mapping keys must be plain strings")
			}
			if explicit[key] {
				// YAML forbids it, and so Eleventy's parser (js-yaml).
				return nil, fmt.Errorf("key %q is given twice", key)
			}
			explicit[key] = true
			val, err := nodeValueBudget(v, depth+1, budget)
			if err != nil {
				return nil, err
			}
			m[key] = val
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValueBudget(c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!timestamp", "!!str", "!!binary":
			return n.Value, nil
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return n.Value, nil
			}
			return b, nil
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				return n.Value, nil
			}
			return i, nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return n.Value, nil
			}
			return f, nil
		default:
			return n.Value, nil
		}
	}
	return nil, nil
}
