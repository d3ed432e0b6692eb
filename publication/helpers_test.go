package publication

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// testSiteURL is the site URL of the fixture sites.
const testSiteURL = "https://example.org/"

// paris is the site time zone of every test.
func paris(tb testing.TB) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		tb.Fatalf("load Europe/Paris: %v", err)
	}
	return loc
}

// testNow is the "current time" of the fixture sites.
func testNow(tb testing.TB) time.Time {
	return time.Date(2024, 6, 1, 12, 0, 0, 0, paris(tb))
}

// writeFiles writes files (slash-separated path → content) under dir.
func writeFiles(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// testOptions are the options of the fixture sites; diagnostics name the
// content folder "site".
func testOptions(tb testing.TB) Options {
	return Options{
		SiteURL:    testSiteURL,
		Location:   paris(tb),
		Now:        testNow(tb),
		DataDir:    "_data",
		IgnoreTags: []string{"posts", "all"},
		DisplayDir: "site",
	}
}

// loadFiles writes files into a temporary folder and loads it.
func loadFiles(tb testing.TB, files map[string]string, opts Options) *Site {
	tb.Helper()
	dir := tb.TempDir()
	writeFiles(tb, dir, files)
	s, err := Load(context.Background(), dir, opts)
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return s
}

// diagStrings formats every diagnostic of s.
func diagStrings(s *Site) []string {
	out := make([]string, 0, len(s.Diagnostics))
	for _, d := range s.Diagnostics {
		out = append(out, d.String())
	}
	return out
}

// bySource indexes the published and upcoming publications by source.
func bySource(s *Site) map[string]*Publication {
	m := map[string]*Publication{}
	for _, p := range s.Publications {
		m[p.Source] = p
	}
	for _, p := range s.Upcoming {
		m[p.Source] = p
	}
	return m
}

// newTestLoader builds a loader as Load does, for tests that call
// parseSource directly. It looks no media file up.
func newTestLoader(tb testing.TB, global map[string]any) *loader {
	tb.Helper()
	site, err := url.Parse(testSiteURL)
	if err != nil {
		tb.Fatal(err)
	}
	if global == nil {
		global = map[string]any{}
	}
	return &loader{
		dir: tb.TempDir(), display: "site",
		opts: Options{SiteURL: testSiteURL, Location: paris(tb), Now: testNow(tb), Lang: "fr", MaxFileSize: 10 << 20},
		site: site, global: global,
		dirData: map[string]map[string]any{}, tplData: map[string]map[string]any{},
		ignore: map[string]bool{"posts": true, "all": true},
	}
}

// checkSafeHTML parses content as a browser would and reports what no reader
// may receive: template syntax, script, style, event handlers, frames,
// javascript: URLs, or a URL attribute that is not absolute.
func checkSafeHTML(content string) error {
	for _, bad := range []string{"<script", "<iframe", "<style"} {
		if strings.Contains(strings.ToLower(content), bad) {
			return fmt.Errorf("content contains %q", bad)
		}
	}
	nodes, err := html.ParseFragment(strings.NewReader(content), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return fmt.Errorf("parse content: %w", err)
	}
	var walk func(n *html.Node) error
	walk = func(n *html.Node) error {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "iframe", "embed", "object", "form", "link", "meta", "base":
				return fmt.Errorf("element <%s> in content", n.Data)
			}
			for _, a := range n.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case key == "style" || strings.HasPrefix(key, "on") || key == "srcdoc":
					return fmt.Errorf("attribute %s on <%s>", key, n.Data)
				case key == "href" || key == "src" || key == "poster" || key == "cite":
					if err := checkAbsURL(a.Val); err != nil {
						return fmt.Errorf("<%s %s>: %w", n.Data, key, err)
					}
				case key == "srcset":
					for _, c := range strings.Split(a.Val, ",") {
						f := strings.Fields(c)
						if len(f) == 0 {
							continue
						}
						if err := checkAbsURL(f[0]); err != nil {
							return fmt.Errorf("<%s srcset>: %w", n.Data, err)
						}
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range nodes {
		if err := walk(n); err != nil {
			return err
		}
	}
	return nil
}

// checkAbsURL accepts absolute http(s) URLs with a host, mailto: and tel:.
func checkAbsURL(v string) error {
	u, err := url.Parse(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("URL %q does not parse: %w", v, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return fmt.Errorf("URL %q has no host", v)
		}
		return nil
	case "mailto", "tel":
		return nil
	}
	return fmt.Errorf("URL %q is not absolute http(s)/mailto/tel", v)
}
