package publication

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// corpusDir is a real Eleventy content folder shared beside the repository;
// the test is skipped where it is absent.
const corpusDir = "../../shared/corpus/minumeco-2023"

func TestCorpusMinumeco(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	opts := Options{
		SiteURL:    "https://ecoresponsable.numerique.gouv.fr/",
		Location:   paris(t),
		Now:        time.Date(2023, 2, 6, 12, 0, 0, 0, paris(t)),
		DataDir:    "_data",
		IgnoreTags: []string{"posts", "all"},
		Exclude:    []string{"_includes/**", "node_modules/**"},
		DisplayDir: "minumeco-2023",
	}
	s, err := Load(context.Background(), corpusDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]*Publication(nil), s.Publications...), s.Upcoming...)
	if err := Render(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	for _, d := range s.Diagnostics {
		if d.Severity == Error {
			t.Errorf("%s", d)
		}
	}
	if len(s.Publications) < 150 {
		t.Errorf("only %d publications (stats %+v)", len(s.Publications), s.Stats)
	}
	leftover := regexp.MustCompile(`(?i)<iframe|style=|<script`)
	for _, p := range all {
		if strings.Contains(p.Content, "{{") || strings.Contains(p.Content, "{%") {
			t.Errorf("%s: template syntax in content", p.Source)
		}
		if m := leftover.FindString(p.Content); m != "" {
			t.Errorf("%s: content contains %q", p.Source, m)
		}
		if err := checkSafeHTML(p.Content); err != nil {
			t.Errorf("%s: %v", p.Source, err)
		}
		for _, u := range []string{p.URL, p.ID, p.Thumbnail} {
			if u != "" && !strings.HasPrefix(u, "https://") {
				t.Errorf("%s: URL %q is not absolute", p.Source, u)
			}
		}
	}
	t.Logf("corpus: %+v, %d diagnostics", s.Stats, len(s.Diagnostics))
}
