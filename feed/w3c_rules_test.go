package feed

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/ecoresponsable/bulletin/publication"
)

// Rules learnt by running the W3C Feed Validation Service's own code
// (w3c/feedvalidator) on the sample site and the shared corpus, which
// TestValidatorRules did not check before: each test below failed on what
// the validator flagged (DuplicateUpdated, MissingTextualContent, NotHtml,
// InvalidURLAttribute).

// validatorHTTPURL reports whether the validator's httpURL rule, used for
// enclosure/@url, accepts u: http or https, a host with at least one dot
// (or an IPv4 address), an optional port, then "/" or nothing, and only
// URI characters (non-ASCII must be percent-encoded).
func validatorHTTPURL(u string) bool {
	return validatorHTTPRe.MatchString(u) && validatorFullURIRe.MatchString(u)
}

var (
	validatorHTTPRe    = regexp.MustCompile(`(?i)^(http|https)://(([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([A-Z0-9\-]+\.)+))([A-Z0-9][-A-Z0-9]*)(:\d+)?(/|$)`)
	validatorFullURIRe = regexp.MustCompile(`^[a-zA-Z][0-9a-zA-Z+\-.]*:(//)?[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]+$`)
)

// htmlParseProblem returns what an HTML5 parser has to repair in the
// fragment s, or "" when it parses as written. The validator parses item
// content with html5lib in strict mode, where any parse error is a NotHtml
// warning. Here the fragment is parsed by golang.org/x/net/html and its
// elements counted: the parser creates an element for a stray </p> or
// </br>, re-opens formatting elements closed out of order, and a missing or
// extra end tag shows as a count of end tags that differs from the start
// tags (for elements whose end tag cannot be implied).
func htmlParseProblem(s string) string {
	starts, ends := map[string]int{}, map[string]int{}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		name, _ := z.TagName()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			starts[string(name)]++
		case html.EndTagToken:
			ends[string(name)]++
		}
	}
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		return err.Error()
	}
	built := map[string]int{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			built[n.Data]++
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		walk(n)
	}
	optionalEnd := " p li dt dd option optgroup rb rp rt rtc tbody thead tfoot tr td th caption colgroup "
	void := " area base br col embed hr img input link meta param source track wbr "
	for name, n := range built {
		if name != "tbody" && n != starts[name] { // tbody is implied in tables
			return fmt.Sprintf("<%s>: %d start tag(s) but %d element(s) once parsed", name, starts[name], n)
		}
	}
	for name, n := range ends {
		if strings.Contains(void, " "+name+" ") {
			return "end tag </" + name + ">"
		}
		if !strings.Contains(optionalEnd, " "+name+" ") && n != starts[name] {
			return fmt.Sprintf("<%s>: %d start tag(s), %d end tag(s)", name, starts[name], n)
		}
	}
	for name, n := range starts {
		if !strings.Contains(optionalEnd+void, " "+name+" ") && ends[name] != n {
			return fmt.Sprintf("<%s>: %d start tag(s), %d end tag(s)", name, n, ends[name])
		}
	}
	return ""
}

// The verdicts below are those of the validator itself (html5lib strict,
// and its httpURL rule), so the Go checks cannot drift from it unnoticed.
func TestHTMLParseProblem(t *testing.T) {
	tests := []struct {
		html string
		ok   bool
	}{
		{`<p>a</p><div><p>b</p></div>`, true},
		{`<ul><li>a<li>b</ul>`, true},
		{`<table><tr><td>x</td></tr></table>`, true},
		{`<img src="x" alt=""><p>b`, true},
		{`<p>a<br></p>`, true},
		{`<div><div>x</div></div></div>`, false},                              // "End tag (div) seen too early"
		{`<section><div><table><tr><td>x</td></tr></table></section>`, false}, // "End tag (section) seen too early"
		{`<p>a<div>b</div></p>`, false},                                       // "Unexpected end tag (p). Ignored."
		{`<p><em>a</p>b</em>`, false},                                         // "Unexpected end tag (p). Ignored."
		{`<div>a`, false},                                                     // "Expected closing tag. Unexpected end of file."
		{`<p>x</br></p>`, false},                                              // "Unexpected end tag (br)"
	}
	for _, tt := range tests {
		if got := htmlParseProblem(tt.html); (got == "") != tt.ok {
			t.Errorf("htmlParseProblem(%q) = %q, want ok=%v", tt.html, got, tt.ok)
		}
	}
}

func TestValidatorHTTPURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://localhost:8080/podcasts/audio/episode-2.mp3", false}, // the sample site's URL
		{"http://127.0.0.1:8080/podcasts/a.mp3", true},
		{"https://bulletin.example.org/a.mp3", true},
		{"https://exemple.org", true},
		{"https://exemple.org/guides/%C3%A9co/a.mp3", true},
		{"https://exemple.org/é.mp3", false},
		{"https://exemple.org:8443/a b.mp3", false},
		{"ftp://exemple.org/a.mp3", false},
	}
	for _, tt := range tests {
		if got := validatorHTTPURL(tt.url); got != tt.ok {
			t.Errorf("validatorHTTPURL(%q) = %v, want %v", tt.url, got, tt.ok)
		}
	}
}

// TestDistinctUpdated checks how entries that share their updated instant
// are told apart: distinct in every feed (DuplicateUpdated), in the feed's
// order within the group, on the same day, stepping over instants already
// taken, the same in every feed and format, and the feed's own updated the
// newest of its entries'.
func TestDistinctUpdated(t *testing.T) {
	day := time.Date(2025, 2, 3, 0, 0, 0, 0, paris)
	pubs := fixture()
	byID := map[string]*publication.Publication{}
	for _, p := range pubs {
		p.Date, p.Updated = day, day
		byID[p.ID] = p
	}
	// Already one second after the others: the shared instants must step
	// over it.
	code := byID["https://exemple.org/blog/code/"]
	code.Updated = day.Add(time.Second)
	s, sink := generate(t, pubs, testOptions())

	atomUpdated := func(path string) (ids, times []string) {
		root, _ := parseRaw(t, sink.files[path].String())
		for _, e := range root.all("entry") {
			ids = append(ids, e.one("id").text)
			times = append(times, e.one("updated").text)
		}
		return ids, times
	}
	ids, times := atomUpdated("atom.xml")
	if len(ids) != len(pubs) {
		t.Fatalf("%d entries, want %d", len(ids), len(pubs))
	}
	want := map[string]string{}
	var prev, newest time.Time
	for i, id := range ids {
		u, err := time.Parse(time.RFC3339, times[i])
		if err != nil {
			t.Fatal(err)
		}
		want[id] = times[i]
		if u.After(newest) {
			newest = u
		}
		if id == code.ID {
			continue // not in the group that shared an instant
		}
		if !prev.IsZero() && !u.Before(prev) {
			t.Errorf("entry %d %s updated %s, not before the previous entry's %s", i, id, times[i], prev.Format(time.RFC3339))
		}
		if y, m, d := u.In(paris).Date(); y != 2025 || m != 2 || d != 3 {
			t.Errorf("%s moved to another day: %s", id, times[i])
		}
		if u.Sub(day) > time.Minute {
			t.Errorf("%s moved by more than the seconds needed: %s", id, times[i])
		}
		prev = u
	}
	if want[code.ID] != day.Add(time.Second).Format(time.RFC3339) {
		t.Errorf("%s: updated %s, want its own %s", code.ID, want[code.ID], day.Add(time.Second).Format(time.RFC3339))
	}
	root, _ := parseRaw(t, sink.files["atom.xml"].String())
	if got := root.one("updated").text; got != newest.Format(time.RFC3339) {
		t.Errorf("feed updated %s, want the newest entry's %s", got, newest.Format(time.RFC3339))
	}

	for _, o := range s.Outputs() {
		switch o.Format {
		case FormatAtom:
			tagIDs, tagTimes := atomUpdated(o.Path)
			for i, id := range tagIDs {
				if tagTimes[i] != want[id] {
					t.Errorf("%s: %s updated %s, %s in atom.xml", o.Path, id, tagTimes[i], want[id])
				}
			}
		case FormatRSS:
			root, _ := parseRaw(t, sink.files[o.Path].String())
			for _, it := range root.one("channel").all("item") {
				id := it.one("guid").text
				if got := it.one("atom:updated").text; got != want[id] {
					t.Errorf("%s: %s atom:updated %s, %s in atom.xml", o.Path, id, got, want[id])
				}
			}
		case FormatJSON:
			var doc struct {
				Items []struct {
					ID       string `json:"id"`
					Modified string `json:"date_modified"`
				} `json:"items"`
			}
			if err := json.Unmarshal(sink.files[o.Path].Bytes(), &doc); err != nil {
				t.Fatalf("%s: %v", o.Path, err)
			}
			for _, it := range doc.Items {
				if it.Modified != want[it.ID] {
					t.Errorf("%s: %s date_modified %s, %s in atom.xml", o.Path, it.ID, it.Modified, want[it.ID])
				}
			}
		}
	}
	for _, p := range pubs {
		if !p.Updated.Equal(day) && p != code {
			t.Errorf("%s: the publication's own Updated was changed to %s", p.ID, p.Updated)
		}
	}
}

// renderMarkdown loads and renders Markdown bodies with the publication
// package, as the build does, and returns their HTML by file name.
func renderMarkdown(t *testing.T, files map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		doc := "---\ntitle: " + name + "\ndate: 2024-03-01\n---\n" + body
		if err := os.WriteFile(filepath.Join(dir, name+".md"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	site, err := publication.Load(context.Background(), dir, publication.Options{
		SiteURL: "https://exemple.org/blog/", Location: paris, Lang: "fr",
		Now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := publication.Render(context.Background(), site.Publications); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range site.Publications {
		out[strings.TrimSuffix(filepath.Base(p.Source), ".md")] = p.Content
	}
	if len(out) != len(files) {
		t.Fatalf("rendered %d of %d files: %+v", len(out), len(files), site.Diagnostics)
	}
	return out
}
