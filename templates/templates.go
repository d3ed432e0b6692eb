// Package templates holds the embedded email and page templates of bulletin
// and the strings they show, in French and English.
//
// Files are laid out by kind and format:
//
//	email/digest.html.tmpl   the HTML part of the digest email (html/template)
//	email/digest.txt.tmpl    its plain-text part (text/template)
//	email/confirm.*.tmpl     the confirmation email (and the note to an
//	                         address already subscribed)
//	pages/NAME.html.tmpl     the server's pages, sharing pages/_layout.html.tmpl
//	pages/bulletin.css       the pages' stylesheet (see Set.Stylesheet)
//
// A template is named by its folder and base name without the format
// suffix: "email/digest" is both email/digest.html.tmpl (Set.HTML) and
// email/digest.txt.tmpl (Set.Text). Files whose name starts with "_" (for
// instance pages/_layout.html.tmpl) are partials: they are parsed into every
// template of the same folder and format, so they can hold shared {{define}}
// blocks.
//
// A folder given to Load (the digest.templates setting) overrides files by
// their path relative to it: dir/email/digest.html.tmpl replaces the
// embedded email/digest.html.tmpl. Every template has the functions of
// Funcs.
package templates

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	texttemplate "text/template"
)

// embedded holds the default templates; it is only read. Partials are
// named explicitly: a folder pattern leaves out files starting with "_".
//
//go:embed email pages pages/_*.tmpl
var embedded embed.FS

// stylesheetPath is where the pages' stylesheet is, embedded and in an
// override folder.
const stylesheetPath = "pages/bulletin.css"

// The suffixes that say which engine parses a file.
const (
	htmlSuffix = ".html.tmpl"
	textSuffix = ".txt.tmpl"
)

// Set holds parsed templates: the embedded ones, with files from an override
// folder replacing same-named ones. It is safe for concurrent use.
type Set struct {
	html map[string]*htmltemplate.Template
	text map[string]*texttemplate.Template
	css  []byte
}

// source is one template file to parse: its path in the layout
// ("email/digest.html.tmpl") and the name shown in errors (the embedded
// path, or the override file's path on disk).
type source struct {
	rel, shown string
	body       string
}

// Load parses the embedded templates, each replaced by the file of the same
// relative path in overrideDir when there is one ("" = embedded only). A
// template that does not parse is reported with its file and line; so is an
// override file that matches no embedded template (a misspelt name would
// otherwise be silently ignored), except partials ("_name"), which may be
// new.
func Load(overrideDir string) (*Set, error) {
	files := map[string]source{}
	err := fs.WalkDir(embedded, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || kind(p) == "" {
			return err
		}
		b, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		files[p] = source{rel: p, shown: "templates/" + p, body: string(b)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("templates: read embedded: %w", err)
	}
	if overrideDir != "" {
		if err := readOverrides(overrideDir, files); err != nil {
			return nil, err
		}
	}
	set, err := parse(files)
	if err != nil {
		return nil, err
	}
	if set.css, err = stylesheet(overrideDir); err != nil {
		return nil, err
	}
	return set, nil
}

// stylesheet reads the pages' stylesheet: the override folder's when it has
// one, else the embedded one.
func stylesheet(overrideDir string) ([]byte, error) {
	if overrideDir != "" {
		p := filepath.Join(overrideDir, filepath.FromSlash(stylesheetPath))
		b, err := os.ReadFile(p)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("templates: %w", err)
		}
	}
	b, err := embedded.ReadFile(stylesheetPath)
	if err != nil {
		return nil, fmt.Errorf("templates: read embedded %s: %w", stylesheetPath, err)
	}
	return b, nil
}

// Stylesheet returns the CSS the pages link to (pages/bulletin.css, from the
// override folder when it has one). Pages carry no inline style, so that
// the server's Content-Security-Policy can forbid them.
func (s *Set) Stylesheet() []byte { return s.css }

// readOverrides replaces entries of files with those found in dir.
func readOverrides(dir string, files map[string]source) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("templates: override folder: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("templates: override folder %s is not a folder", dir)
	}
	return fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("templates: override folder %s: %w", dir, err)
		}
		if d.IsDir() || kind(p) == "" {
			return nil
		}
		shown := filepath.Join(dir, filepath.FromSlash(p))
		if _, known := files[p]; !known && !isPartial(p) {
			return fmt.Errorf("templates: %s: no embedded template %s to override (known: %s)",
				shown, p, strings.Join(knownNames(files), ", "))
		}
		b, err := os.ReadFile(shown)
		if err != nil {
			return fmt.Errorf("templates: %w", err)
		}
		files[p] = source{rel: p, shown: shown, body: string(b)}
		return nil
	})
}

func knownNames(files map[string]source) []string {
	names := make([]string, 0, len(files))
	for p := range files {
		if !isPartial(p) {
			names = append(names, p)
		}
	}
	slices.Sort(names)
	return names
}

// parse builds every template with the partials of its folder and format.
func parse(files map[string]source) (*Set, error) {
	s := &Set{html: map[string]*htmltemplate.Template{}, text: map[string]*texttemplate.Template{}}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths) // deterministic partial order and first error
	for _, p := range paths {
		if isPartial(p) {
			continue
		}
		var partials []source
		for _, q := range paths {
			if isPartial(q) && path.Dir(q) == path.Dir(p) && kind(q) == kind(p) {
				partials = append(partials, files[q])
			}
		}
		name := strings.TrimSuffix(p, kind(p))
		var err error
		if kind(p) == htmlSuffix {
			s.html[name], err = parseHTML(files[p], partials)
		} else {
			s.text[name], err = parseText(files[p], partials)
		}
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func parseHTML(main source, partials []source) (*htmltemplate.Template, error) {
	t := htmltemplate.New(main.shown).Funcs(htmltemplate.FuncMap(Funcs()))
	if _, err := t.Parse(main.body); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, p := range partials {
		if _, err := t.New(p.shown).Parse(p.body); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
	}
	// html/template escapes a template when it first runs; running it now
	// on no data reports an escaping error (an action in an ambiguous
	// context, say) with its file and line at load time instead of at the
	// first email. Errors of the run itself (nil data) are expected.
	var escErr *htmltemplate.Error
	if err := t.Execute(io.Discard, nil); errors.As(err, &escErr) {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return t, nil
}

func parseText(main source, partials []source) (*texttemplate.Template, error) {
	t := texttemplate.New(main.shown).Funcs(Funcs())
	if _, err := t.Parse(main.body); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, p := range partials {
		if _, err := t.New(p.shown).Parse(p.body); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
	}
	return t, nil
}

// kind returns the format suffix of a template file, or "" for any other
// file (a README in the override folder, say).
func kind(p string) string {
	switch {
	case strings.HasSuffix(p, htmlSuffix):
		return htmlSuffix
	case strings.HasSuffix(p, textSuffix):
		return textSuffix
	}
	return ""
}

func isPartial(p string) bool { return strings.HasPrefix(path.Base(p), "_") }

// HTML executes the HTML template name ("email/digest") with data.
func (s *Set) HTML(w io.Writer, name string, data any) error {
	t, ok := s.html[name]
	if !ok {
		return fmt.Errorf("templates: no HTML template %q", name)
	}
	if err := t.Execute(w, data); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	return nil
}

// Text executes the plain-text template name ("email/digest") with data.
func (s *Set) Text(w io.Writer, name string, data any) error {
	t, ok := s.text[name]
	if !ok {
		return fmt.Errorf("templates: no text template %q", name)
	}
	if err := t.Execute(w, data); err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	return nil
}
