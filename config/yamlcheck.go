package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decodeYAML reads a configuration file's text into cfg. Every problem is
// reported at once, each as "path:line: message" naming the dotted key
// (site.title), with the nearest known key when a key is unknown, so that
// whoever edits the file can fix it in one go. An empty file keeps the
// defaults.
func decodeYAML(path string, data []byte, cfg *Config) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return syntaxError(path, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	c := &checker{path: path, values: map[int]valueAt{}, lines: map[int]bool{}}
	c.check(doc.Content[0], reflect.TypeOf(*cfg), "")
	dropNulls(doc.Content[0]) // after check, which names unknown keys even with no value
	// Decoded into a copy: a file with problems changes nothing, and the
	// decoder still reports the values of the wrong type among them.
	next := *cfg
	if err := doc.Decode(&next); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				c.typeError(msg)
			}
		} else {
			c.problems = append(c.problems, problem{err: fmt.Errorf("config: %s: %s", path, oneLine.Replace(err.Error()))})
		}
	}
	if len(c.problems) > 0 {
		slices.SortStableFunc(c.problems, func(a, b problem) int { return a.line - b.line })
		errs := make([]error, len(c.problems))
		for i, p := range c.problems {
			errs[i] = p.err
		}
		return errors.Join(errs...)
	}
	*cfg = next
	return nil
}

// dropNulls removes, at every level, the keys written with no value
// ("xsl:", "exclude: ~"), so that such a key keeps its default whatever its
// type: the decoder would leave a text key as it was but empty a list.
// "" and [] are the way to write an empty value.
func dropNulls(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return
	}
	kept := n.Content[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
			continue
		}
		dropNulls(v)
		kept = append(kept, k, v)
	}
	n.Content = kept
}

var yamlLine = regexp.MustCompile(`(?s)^(?:yaml: )?line (\d+): (.*)$`)

// oneLine keeps a message on one line: the decoder's messages may quote
// values with line breaks.
var oneLine = strings.NewReplacer("\n", `\n`, "\r", `\r`)

// syntaxError turns "yaml: line 3: did not find expected key" into
// "config: path:3: did not find expected key".
func syntaxError(path string, err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("config: %s:%s: %s", path, m[1], oneLine.Replace(m[2]))
	}
	return fmt.Errorf("config: %s: %s", path, oneLine.Replace(strings.TrimPrefix(err.Error(), "yaml: ")))
}

// valueAt is the key a scalar value of the file sets, to name it in the
// decoder's messages, which give only a line.
type valueAt struct {
	key    string
	value  string
	secret bool
}

// checker walks a configuration file's YAML against the Config type.
type checker struct {
	path     string
	problems []problem
	values   map[int]valueAt
	lines    map[int]bool // the lines with a problem
}

// problem is one problem of the file, at a line (0: the whole file).
type problem struct {
	line int
	err  error
}

func (c *checker) report(line int, format string, args ...any) {
	c.lines[line] = true
	c.problems = append(c.problems, problem{line, fmt.Errorf("config: %s:%d: %s", c.path, line, oneLine.Replace(fmt.Sprintf(format, args...)))})
}

var durationType = reflect.TypeOf(Duration(0))

// check reports what n, the value for key, holds that a value of type t
// cannot: unknown keys, a list or map where one value is expected and the
// reverse, durations that do not parse and numbers with a fraction where an
// integer is wanted. Other scalars of the wrong type are left to the
// decoder, whose messages typeError rewrites.
func (c *checker) check(n *yaml.Node, t reflect.Type, key string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value keeps the default
	}
	switch {
	case t == durationType:
		if n.Kind != yaml.ScalarNode {
			c.report(n.Line, "%s: want a duration such as 24h, 30m or 7d", key)
			return
		}
		if _, err := parseDuration(n.Value); err != nil {
			c.report(n.Line, "%s: %v", key, err)
		}
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.report(n.Line, "%s: want a section of keys (%s)", orTop(key), strings.Join(fieldNames(t), ", "))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				// "<<: *defaults" brings the keys of one section or of a list
				// of sections into this one.
				if v.Kind == yaml.AliasNode && v.Alias != nil {
					v = v.Alias
				}
				if v.Kind == yaml.SequenceNode {
					for _, m := range v.Content {
						c.check(m, t, key)
					}
				} else {
					c.check(v, t, key)
				}
				continue
			}
			f, ok := fieldByName(t, k.Value)
			if !ok {
				c.report(k.Line, "unknown key %s%s", join(key, k.Value), suggest(t, key, k.Value))
				continue
			}
			if f.Tag.Get("secret") != "" && v.Kind == yaml.ScalarNode {
				c.values[v.Line] = valueAt{key: join(key, k.Value), secret: true}
				continue
			}
			c.check(v, f.Type, join(key, k.Value))
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.report(n.Line, "%s: want a section of \"name: value\" lines", key)
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				c.report(k.Line, "%s: want a single value as name, not a %s", key, kindName(k.Kind))
				continue
			}
			c.check(v, t.Elem(), key+"."+k.Value)
		}
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			c.report(n.Line, "%s: want a list (one \"- item\" per line, or [a, b])", key)
			return
		}
		for i, item := range n.Content {
			c.check(item, t.Elem(), fmt.Sprintf("%s[%d]", key, i))
		}
	default:
		if n.Kind != yaml.ScalarNode {
			c.report(n.Line, "%s: want a single value, not a %s", key, kindName(n.Kind))
			return
		}
		if (t.Kind() == reflect.Int || t.Kind() == reflect.Int64) && n.ShortTag() == "!!float" {
			// The decoder would silently drop the fraction.
			c.report(n.Line, "%s: want an integer, not %q", key, n.Value)
			return
		}
		c.values[n.Line] = valueAt{key: key, value: n.Value}
	}
}

var typeErr = regexp.MustCompile("(?s)^line (\\d+): cannot unmarshal !!\\w+ `.*` into (\\S+)$")

// typeError rewrites one of the decoder's messages ("line 5: cannot
// unmarshal !!str `abc` into int") with the key it is about and what it
// wants; a secret's value is never repeated.
func (c *checker) typeError(msg string) {
	lm := yamlLine.FindStringSubmatch(msg)
	if lm == nil {
		c.problems = append(c.problems, problem{err: fmt.Errorf("config: %s: %s", c.path, oneLine.Replace(msg))})
		return
	}
	line, _ := strconv.Atoi(lm[1])
	if c.lines[line] {
		return // check reported it already, by its key
	}
	m := typeErr.FindStringSubmatch(msg)
	if m == nil {
		c.report(line, "%s", lm[2])
		return
	}
	want := map[string]string{"int": "an integer", "int64": "an integer", "float64": "a number", "bool": "true or false"}[m[2]]
	if want == "" {
		want = "a value of type " + m[2]
	}
	at, ok := c.values[line]
	switch {
	case !ok:
		c.report(line, "want %s", want)
	case at.secret:
		c.report(line, "%s: want %s", at.key, want)
	default:
		c.report(line, "%s: want %s, not %q", at.key, want, at.value)
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func orTop(key string) string {
	if key == "" {
		return "the file"
	}
	return key
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "section of keys"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// yamlKey is the key of a struct field in the file, "" for none.
func yamlKey(f reflect.StructField) string {
	if k, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); k != "-" {
		return k
	}
	return ""
}

// fieldByName is the field of struct type t whose YAML key is name.
func fieldByName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); name != "" && yamlKey(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// fieldNames are the YAML keys of struct type t.
func fieldNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if k := yamlKey(t.Field(i)); k != "" {
			names = append(names, k)
		}
	}
	return names
}

// suggest returns " (did you mean site.title?)" for an unknown key name in
// the section prefix of type t: a key of the same section spelled nearly
// the same, else a key of that name in another section, else "".
func suggest(t reflect.Type, prefix, name string) string {
	best, bestDist := "", 0
	for _, k := range fieldNames(t) {
		d := editDistance(strings.ToLower(name), k)
		if d <= max(1, len(k)/3) && (best == "" || d < bestDist) {
			best, bestDist = join(prefix, k), d
		}
	}
	if best == "" {
		var elsewhere []string
		walk(reflect.TypeOf(Config{}), "", func(key string, _ reflect.StructField) {
			if key == name || strings.HasSuffix(key, "."+name) || strings.HasPrefix(key, name+".") {
				elsewhere = append(elsewhere, key)
			}
		})
		if len(elsewhere) == 1 {
			best = elsewhere[0]
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of two neighbours each
// count one.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	if len(x) > 64 || len(y) > 64 {
		return max(len(x), len(y)) // no key is that long: not a typo
	}
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}
