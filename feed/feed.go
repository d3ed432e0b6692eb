// Package feed writes RSS, Atom, JSON Feed, OPML and the XSL view for a set
// of publications.
//
// Plan decides which feeds exist (the site feeds, one per tag and one per
// type) and which publications each holds; Generate streams every file into a
// Sink; Build writes a Set into an output folder atomically and keeps a
// manifest of what it wrote.
package feed

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ecoresponsable/bulletin/publication"
)

// Options is what the feeds need to know about the site and where to write.
// The CLI fills it from the configuration.
type Options struct {
	SiteTitle, SiteDescription string
	// SiteURL is the absolute URL of the site, with a trailing slash.
	SiteURL string
	// Language is the site's language, e.g. "fr".
	Language string
	// Author is the feed-level author, also used for items that have none.
	Author publication.Author
	// Logo and Icon are absolute URLs, or "" for none.
	Logo, Icon string
	Rights     string
	// Generator names the tool, e.g. "bulletin v0.1.0".
	Generator string
	// Limit is the number of items per feed; 0 means all.
	Limit int
	// RSSPath, AtomPath and JSONPath are the site feeds' paths relative to
	// the output root, with "/"; "" means that format is not written.
	RSSPath, AtomPath, JSONPath string
	// Tags and Types turn the per-tag and per-type feeds on.
	Tags, Types bool
	// Labels are the names readers see for tags and types: the titles of
	// their feeds and the label of Atom categories. Items keep the tag as
	// their category.
	Labels publication.Labels
	// TagPath and TypePath are folder patterns containing {slug}; the feeds
	// inside keep the base names of RSSPath, AtomPath and JSONPath.
	TagPath, TypePath string
	// OPMLPath and XSLPath are the paths of the OPML list and of the XSL
	// stylesheet; "" means not written.
	OPMLPath, XSLPath string
	// TTL is the RSS ttl in minutes; 0 omits it.
	TTL int
}

// Output formats.
const (
	FormatRSS  = "rss"
	FormatAtom = "atom"
	FormatJSON = "json"
	FormatOPML = "opml"
	FormatXSL  = "xsl"
)

// Output kinds.
const (
	KindSite  = "site"
	KindTag   = "tag"
	KindType  = "type"
	KindIndex = "index"
)

// Media types of the outputs, as the HTTP server should send them.
const (
	MediaTypeRSS  = "application/rss+xml"
	MediaTypeAtom = "application/atom+xml"
	MediaTypeJSON = "application/feed+json"
	MediaTypeOPML = "text/x-opml"
	// MediaTypeXSL is an XML type every browser accepts for an XSLT
	// stylesheet referenced by xml-stylesheet.
	MediaTypeXSL = "application/xml"
)

// FormatName is the name people know a feed format by ("RSS", "Atom",
// "JSON Feed"), as the outputs' titles show it; other formats keep their
// code.
func FormatName(format string) string {
	switch format {
	case FormatRSS:
		return "RSS"
	case FormatAtom:
		return "Atom"
	case FormatJSON:
		return "JSON Feed"
	}
	return format
}

// Output describes one file produced.
type Output struct {
	// Path is relative to the output root, with "/".
	Path string
	// Format is rss, atom, json, opml or xsl.
	Format string
	// Kind is site, tag, type or index (OPML and XSL).
	Kind string
	// Key is the tag or type name, as written, for tag and type feeds.
	Key       string
	Title     string
	URL       string
	MediaType string
}

// Set is a plan of feeds: which exist, which publications each contains.
type Set struct {
	opts Options
	pubs []*publication.Publication // sorted newest first, ids unique
	// updated holds the Updated instants made distinct (see
	// distinctUpdated), for the publications that share theirs.
	updated map[*publication.Publication]time.Time
	feeds   []*feedSpec
	outputs []Output
	// listed maps the path of each RSS and Atom output to its feed (see
	// Listing).
	listed  map[string]*feedSpec
	xslHref string
	merged  []Merge
	err     error
}

// feedSpec is one feed, written in up to three formats.
type feedSpec struct {
	kind, key string
	title     string
	items     []*publication.Publication
	// idx are the items' positions in Set.pubs, in the same order.
	idx []int32
	// updated is the newest Updated of the items, published the newest Date.
	updated, published time.Time
	// rss, atom and json index s.outputs; -1 when the format is off.
	rss, atom, json int
}

// Plan decides which feeds exist and which publications each contains,
// newest first with Limit applied. Configuration problems (an output path
// outside the output folder, two outputs on one path) are kept and returned
// by Err, Generate and Build.
func Plan(pubs []*publication.Publication, opts Options) *Set {
	s := &Set{opts: opts, pubs: sortPubs(pubs)}
	s.updated = distinctUpdated(s.pubs)
	var errs []error
	if u, err := url.Parse(opts.SiteURL); err != nil || !u.IsAbs() || u.Host == "" {
		errs = append(errs, fmt.Errorf("feed: site URL %q is not an absolute URL", opts.SiteURL))
	} else {
		// Feeds need the URL in its escaped form ("mon%20blog").
		s.opts.SiteURL = u.String()
		if !strings.HasSuffix(s.opts.SiteURL, "/") {
			s.opts.SiteURL += "/"
		}
		if p := cleanPath(opts.XSLPath); p != "" {
			s.xslHref = strings.TrimSuffix(u.EscapedPath(), "/") + "/" + escapePath(p)
		}
		// Every feed needs a title, and an Atom feed an author, which
		// falls back to the site's title: without one, the host stands in.
		if strings.TrimSpace(s.opts.SiteTitle) == "" {
			s.opts.SiteTitle = u.Hostname()
		}
	}
	opts = s.opts

	site := &feedSpec{kind: KindSite, title: opts.SiteTitle, items: s.pubs, idx: make([]int32, len(s.pubs))}
	for i := range site.idx {
		site.idx[i] = int32(i)
	}
	s.add(site, opts.RSSPath, opts.AtomPath, opts.JSONPath)
	if opts.Tags {
		errs = append(errs, s.addGroups(KindTag, opts.TagPath, func(p *publication.Publication) []string { return p.Tags }))
	}
	if opts.Types {
		errs = append(errs, s.addGroups(KindType, opts.TypePath, func(p *publication.Publication) []string {
			if p.Type == "" {
				return nil
			}
			return []string{p.Type}
		}))
	}
	if p := cleanPath(opts.OPMLPath); p != "" {
		s.outputs = append(s.outputs, Output{Path: p, Format: FormatOPML, Kind: KindIndex,
			Title: opts.SiteTitle, URL: s.url(p), MediaType: MediaTypeOPML})
	}
	if p := cleanPath(opts.XSLPath); p != "" {
		s.outputs = append(s.outputs, Output{Path: p, Format: FormatXSL, Kind: KindIndex,
			Title: opts.SiteTitle, URL: s.url(p), MediaType: MediaTypeXSL})
	}
	for _, p := range []string{opts.RSSPath, opts.AtomPath, opts.JSONPath, opts.OPMLPath, opts.XSLPath} {
		if strings.HasSuffix(p, "/") {
			errs = append(errs, fmt.Errorf("feed: output path %q names a folder, not a file", p))
		}
	}
	errs = append(errs, checkPaths(s.outputs))
	s.err = errors.Join(errs...)
	return s
}

// Err reports a configuration problem found by Plan, nil when none.
func (s *Set) Err() error { return s.err }

// Publications returns the union of every feed's items, newest first: the
// publications whose bodies must be rendered before Generate.
func (s *Set) Publications() []*publication.Publication {
	in := make(map[*publication.Publication]bool, len(s.pubs))
	for _, f := range s.feeds {
		for _, p := range f.items {
			in[p] = true
		}
	}
	out := make([]*publication.Publication, 0, len(in))
	for _, p := range s.pubs {
		if in[p] {
			out = append(out, p)
		}
	}
	return out
}

// Outputs lists every file Generate writes, site feeds first.
func (s *Set) Outputs() []Output { return slices.Clone(s.outputs) }

// add registers a feed and its outputs; an empty path leaves a format out.
func (s *Set) add(f *feedSpec, rssPath, atomPath, jsonPath string) {
	if s.opts.Limit > 0 && len(f.items) > s.opts.Limit {
		f.items, f.idx = f.items[:s.opts.Limit], f.idx[:s.opts.Limit]
	}
	for _, p := range f.items {
		if u := s.updatedOf(p); u.After(f.updated) {
			f.updated = u
		}
		if p.Date.After(f.published) {
			f.published = p.Date
		}
	}
	f.rss, f.atom, f.json = -1, -1, -1
	out := func(p, format, mediaType, label string) int {
		if p == "" {
			return -1
		}
		p = cleanPath(p)
		s.outputs = append(s.outputs, Output{Path: p, Format: format, Kind: f.kind, Key: f.key,
			Title: f.title + " (" + label + ")", URL: s.url(p), MediaType: mediaType})
		return len(s.outputs) - 1
	}
	f.rss = out(rssPath, FormatRSS, MediaTypeRSS, FormatName(FormatRSS))
	f.atom = out(atomPath, FormatAtom, MediaTypeAtom, FormatName(FormatAtom))
	f.json = out(jsonPath, FormatJSON, MediaTypeJSON, FormatName(FormatJSON))
	s.feeds = append(s.feeds, f)
	if s.listed == nil {
		s.listed = map[string]*feedSpec{}
	}
	for _, i := range []int{f.rss, f.atom} {
		if i >= 0 {
			s.listed[s.outputs[i].Path] = f
		}
	}
}

// addGroups adds one feed per distinct slug of the names keys returns. Names
// that share a slug ("Écologie", "écologie") are merged into one feed titled
// with the most used spelling (ties: the smallest in byte order).
func (s *Set) addGroups(kind, pattern string, keys func(*publication.Publication) []string) error {
	if !strings.Contains(pattern, "{slug}") {
		return fmt.Errorf("feed: %s path %q must contain {slug}", kind, pattern)
	}
	type group struct {
		slug  string
		names map[string]int
		items []*publication.Publication
		idx   []int32
	}
	groups := map[string]*group{}
	slugOf := map[string]string{}
	for i, p := range s.pubs {
		for _, name := range keys(p) {
			if strings.TrimSpace(name) == "" {
				continue
			}
			sl, ok := slugOf[name]
			if !ok {
				sl = slug(name)
				slugOf[name] = sl
			}
			g := groups[sl]
			if g == nil {
				g = &group{slug: sl, names: map[string]int{}}
				groups[sl] = g
			}
			g.names[name]++
			if n := len(g.items); n == 0 || g.items[n-1] != p {
				g.items = append(g.items, p)
				g.idx = append(g.idx, int32(i))
			}
		}
	}
	slugs := make([]string, 0, len(groups))
	for sl := range groups {
		slugs = append(slugs, sl)
	}
	slices.Sort(slugs)
	for _, sl := range slugs {
		g := groups[sl]
		name, best := "", 0
		for n, c := range g.names {
			if c > best || (c == best && n < name) {
				name, best = n, c
			}
		}
		dir := strings.ReplaceAll(pattern, "{slug}", sl)
		in := func(p string) string {
			if p == "" {
				return ""
			}
			return path.Join(dir, path.Base(p))
		}
		title := s.opts.SiteTitle + " — " + s.opts.Labels.Of(name)
		if kind == KindType {
			// A type and a tag can have the same name ("podcast"). French
			// puts a no-break space before a colon.
			prefix := "type: "
			if strings.HasPrefix(strings.ToLower(s.opts.Language), "fr") {
				prefix = "type\u00a0: "
			}
			title = s.opts.SiteTitle + " — " + prefix + s.opts.Labels.Of(name)
		}
		f := &feedSpec{kind: kind, key: name, title: title, items: g.items, idx: g.idx}
		s.add(f, in(s.opts.RSSPath), in(s.opts.AtomPath), in(s.opts.JSONPath))
		folds := map[string]bool{}
		for n := range g.names {
			folds[foldName(n)] = true
		}
		if len(folds) > 1 {
			names := slices.Sorted(maps.Keys(g.names))
			s.merged = append(s.merged, Merge{Kind: kind, Names: names, Dir: strings.TrimSuffix(dir, "/")})
		}
	}
	return nil
}

// Merge is a tag or type feed that gathers names differing by more than
// case and accents ("C", "C++" and "C#" all make the slug "c"): most
// likely distinct topics that the feed's readers get mixed.
type Merge struct {
	Kind  string   // KindTag or KindType
	Names []string // sorted
	Dir   string   // the feed's folder
}

// Merged lists the feeds that merge names differing by more than case and
// accents, for commands to warn about.
func (s *Set) Merged() []Merge { return s.merged }

// foldName is a name without case and accents, punctuation kept: names
// with the same fold are spellings of one name ("Vidéo", "video").
func foldName(n string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.TrimSpace(n)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// url returns the absolute URL of an output path.
func (s *Set) url(p string) string { return s.opts.SiteURL + escapePath(p) }

// escapePath percent-encodes each segment of a "/"-separated path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return strings.Join(segs, "/")
}

// cleanPath returns the canonical form of an output path, "" for none.
func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	return path.Clean(p)
}

// checkPaths rejects output paths that leave the output folder, that use
// bulletin's own names, or that two outputs share.
func checkPaths(outs []Output) error {
	var errs []error
	seen := map[string]string{}
	for _, o := range outs {
		switch {
		case !filepath.IsLocal(filepath.FromSlash(o.Path)):
			errs = append(errs, fmt.Errorf("feed: output path %q must be inside the output folder", o.Path))
		case strings.HasPrefix(path.Base(o.Path), ".bulletin-"):
			errs = append(errs, fmt.Errorf("feed: output path %q uses a name reserved by bulletin", o.Path))
		case seen[o.Path] != "":
			errs = append(errs, fmt.Errorf("feed: %s and %s would both be written to %s", seen[o.Path], describe(o), o.Path))
		default:
			seen[o.Path] = describe(o)
		}
	}
	return errors.Join(errs...)
}

func describe(o Output) string {
	if o.Key != "" {
		return fmt.Sprintf("the %s feed of %s %q", o.Format, o.Kind, o.Key)
	}
	return fmt.Sprintf("the %s %s output", o.Kind, o.Format)
}

// sortPubs returns the publications newest first, ties by id, keeping the
// first of several publications that share an id (feeds need unique ids).
func sortPubs(in []*publication.Publication) []*publication.Publication {
	out := make([]*publication.Publication, 0, len(in))
	for _, p := range in {
		if p != nil {
			out = append(out, p)
		}
	}
	newestFirst := func(a, b *publication.Publication) int {
		if c := b.Date.Compare(a.Date); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	}
	if !slices.IsSortedFunc(out, newestFirst) { // the loader sorts already
		slices.SortStableFunc(out, newestFirst)
	}
	seen := make(map[string]bool, len(out))
	return slices.DeleteFunc(out, func(p *publication.Publication) bool {
		dup := seen[p.ID]
		seen[p.ID] = true
		return dup
	})
}

// updatedOf is the last-modified instant written for p.
func (s *Set) updatedOf(p *publication.Publication) time.Time {
	if u, ok := s.updated[p]; ok {
		return u
	}
	return p.Updated
}

// distinctUpdated gives the publications that share their Updated instant
// with others (typically pages dated by day only, all at midnight) distinct
// instants, a few seconds apart, and returns them; the others are absent.
// The feed validator warns about two Atom entries with the same updated
// (DuplicateUpdated): readers use it to tell entries' versions apart. Of a
// group, the last in feed order (pubs: newest first, then by id) keeps the
// instant and each one before it gets the next free second after the one
// below, so that within a group sorting by updated agrees with the feed,
// and a day-only date stays on its day. Computed once over all
// publications, so an entry has the same updated in every feed and format.
// An entry's instant moves by a second or two when another publication
// with the same instant appears: the price of telling them apart without
// inventing times of day.
func distinctUpdated(pubs []*publication.Publication) map[*publication.Publication]time.Time {
	groups := make(map[int64][]*publication.Publication, len(pubs))
	for _, p := range pubs {
		k := p.Updated.UnixNano()
		groups[k] = append(groups[k], p)
	}
	if len(groups) == len(pubs) {
		return nil
	}
	keys := make([]int64, 0, len(groups))
	for k, g := range groups {
		if len(g) > 1 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make(map[*publication.Publication]time.Time)
	for _, k := range keys {
		g := groups[k]
		t := g[len(g)-1].Updated
		for i := len(g) - 2; i >= 0; i-- {
			t = t.Add(time.Second)
			for groups[t.UnixNano()] != nil {
				t = t.Add(time.Second)
			}
			groups[t.UnixNano()] = g[i : i+1]
			out[g[i]] = t
		}
	}
	return out
}

// maxSlug bounds a tag's or type's folder name in bytes, well below the
// 255 bytes file systems allow for one name.
const maxSlug = 200

// slug turns a tag or type into a path segment with publication.Slug. A
// name that leaves nothing (only punctuation) gets "tag-" and a hash of the
// name, so that it still has a stable folder of its own; one longer than
// maxSlug bytes is cut (between characters) and gets the hash too, so that
// two long names that start alike keep folders of their own.
func slug(name string) string {
	s := publication.Slug(name)
	if s != "" && len(s) <= maxSlug {
		return s
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	if s == "" {
		return fmt.Sprintf("tag-%08x", h.Sum32())
	}
	cut := maxSlug - 9
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s-%08x", strings.TrimRight(s[:cut], "-"), h.Sum32())
}
