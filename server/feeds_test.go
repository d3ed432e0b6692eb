package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecoresponsable/bulletin/feed"
	"github.com/ecoresponsable/bulletin/publication"
)

// copyDir copies the sample content into a temporary folder the test may
// change.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func sampleLoader(dir string) func(ctx context.Context, now time.Time) (*publication.Site, error) {
	loc, _ := time.LoadLocation("Europe/Paris")
	return func(ctx context.Context, now time.Time) (*publication.Site, error) {
		return publication.Load(ctx, dir, publication.Options{
			SiteURL: "http://localhost:8080/", Location: loc, Now: now, Lang: "fr",
			DataDir: "_data", IgnoreTags: []string{"posts", "all"}, Exclude: []string{"README.md"},
			Permalinks: []publication.PermalinkRule{{Pattern: "actualites/**", Permalink: "/actualites/:slug/"}},
		})
	}
}

func sampleFeedOptions() feed.Options {
	return feed.Options{
		SiteTitle: "Exemple", SiteDescription: "Un site d'exemple", SiteURL: "http://localhost:8080/",
		Language: "fr", Author: publication.Author{Name: "Équipe", Email: "equipe@example.org"},
		Generator: "bulletin test", Limit: 50, RSSPath: "feed.xml", AtomPath: "atom.xml", JSONPath: "feed.json",
		Tags: true, Types: true, TagPath: "tags/{slug}/", TypePath: "types/{slug}/", OPMLPath: "feeds.opml", XSLPath: "feed.xsl",
	}
}

func newFeedServer(t *testing.T, dir string, now func() time.Time) *Server {
	t.Helper()
	s, err := New(context.Background(), Options{
		ContentDir: dir, LoadSite: sampleLoader(dir), Feeds: sampleFeedOptions(),
		RebuildInterval: -1, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	return func() time.Time { return t }
}

func get(t *testing.T, h http.Handler, path string, headers ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestFeedsConditionalGET(t *testing.T) {
	s := newFeedServer(t, copyDir(t, "../content"), fixedClock())
	h := s.Handler()
	for _, tc := range []struct{ path, ctype string }{
		{"/feed.xml", "application/rss+xml; charset=utf-8"},
		{"/atom.xml", "application/atom+xml; charset=utf-8"},
		{"/feed.json", "application/feed+json; charset=utf-8"},
		{"/tags/podcast/feed.xml", "application/rss+xml; charset=utf-8"},
		{"/feeds.opml", "text/x-opml; charset=utf-8"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res := get(t, h, tc.path)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != 200 || len(body) == 0 {
				t.Fatalf("status %d, %d bytes", res.StatusCode, len(body))
			}
			if got := res.Header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			etag, lm := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
			if !strings.HasPrefix(etag, `"`) || lm == "" || res.Header.Get("Cache-Control") == "" {
				t.Fatalf("validators missing: ETag %q Last-Modified %q", etag, lm)
			}
			if res := get(t, h, tc.path, "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: status %d, want 304", res.StatusCode)
			}
			if res := get(t, h, tc.path, "If-Modified-Since", lm); res.StatusCode != http.StatusNotModified {
				t.Errorf("If-Modified-Since: status %d, want 304", res.StatusCode)
			}
			if res := get(t, h, tc.path, "If-None-Match", `"other"`, "If-Modified-Since", lm); res.StatusCode != 200 {
				t.Errorf("a non-matching If-None-Match must win over If-Modified-Since: %d", res.StatusCode)
			}
			old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)
			if res := get(t, h, tc.path, "If-Modified-Since", old); res.StatusCode != 200 {
				t.Errorf("an old If-Modified-Since must get 200: %d", res.StatusCode)
			}
		})
	}
}

func TestFeedsGzipCORSAndHeaders(t *testing.T) {
	s := newFeedServer(t, copyDir(t, "../content"), fixedClock())
	h := s.Handler()
	plain := get(t, h, "/feed.json")
	plainBody, _ := io.ReadAll(plain.Body)
	res := get(t, h, "/feed.json", "Accept-Encoding", "br, gzip")
	if res.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip not used: %v", res.Header)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, plainBody) {
		t.Fatal("gzip body differs from the plain one")
	}
	if res.Header.Get("ETag") == plain.Header.Get("ETag") {
		t.Fatal("the gzip and identity bodies share a strong ETag")
	}
	if got := get(t, h, "/feed.json", "Accept-Encoding", "gzip", "If-None-Match", res.Header.Get("ETag")); got.StatusCode != 304 {
		t.Fatalf("gzip ETag revalidation: %d", got.StatusCode)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("JSON feed without CORS")
	}
	if get(t, h, "/feed.xml").Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS is for the JSON feed only")
	}
	for k, v := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
	} {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q", k, got)
		}
	}
	if !strings.HasPrefix(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("CSP = %q", res.Header.Get("Content-Security-Policy"))
	}
	req := httptest.NewRequest(http.MethodHead, "/feed.xml", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Fatalf("HEAD: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	if res := get(t, h, "/nope.xml"); res.StatusCode != 404 {
		t.Fatalf("unknown path: %d", res.StatusCode)
	}
}

// TestRebuildKeepsValidators: a rebuild of unchanged content keeps every
// ETag and Last-Modified; a changed publication changes its feeds' ETag
// and dates them from the rebuild, leaving the other feeds alone.
func TestRebuildKeepsValidators(t *testing.T) {
	dir := copyDir(t, "../content")
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	s := newFeedServer(t, dir, func() time.Time { return now })
	h := s.Handler()
	before := map[string][2]string{}
	for _, p := range []string{"/feed.xml", "/tags/podcast/feed.xml", "/tags/video/atom.xml"} {
		r := get(t, h, p)
		before[p] = [2]string{r.Header.Get("ETag"), r.Header.Get("Last-Modified")}
	}
	now = now.Add(time.Hour)
	if err := s.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	for p, v := range before {
		r := get(t, h, p)
		if r.Header.Get("ETag") != v[0] || r.Header.Get("Last-Modified") != v[1] {
			t.Errorf("%s validators changed on an unchanged rebuild", p)
		}
	}
	page := filepath.Join(dir, "podcasts", "episode-1-poids-des-courriels.md")
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, bytes.Replace(b, []byte("title:"), []byte("title: Nouveau titre —"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	s.rebuildIfChanged(context.Background(), false)
	r := get(t, h, "/tags/podcast/feed.xml")
	if r.Header.Get("ETag") == before["/tags/podcast/feed.xml"][0] {
		t.Fatal("the podcast feed did not change after its publication did")
	}
	if lm, _ := http.ParseTime(r.Header.Get("Last-Modified")); !lm.Equal(now.Truncate(time.Second)) {
		t.Errorf("changed feed Last-Modified = %v, want the rebuild time %v", lm, now)
	}
	if get(t, h, "/tags/video/atom.xml").Header.Get("ETag") != before["/tags/video/atom.xml"][0] {
		t.Error("a feed the change does not touch got a new ETag")
	}
	body, _ := io.ReadAll(r.Body)
	if !strings.Contains(string(body), "Nouveau titre") {
		t.Error("the rebuilt feed does not carry the new title")
	}
}

func TestHealthAndMetrics(t *testing.T) {
	s := newFeedServer(t, copyDir(t, "../content"), fixedClock())
	h := s.Handler()
	get(t, h, "/feed.xml")
	etag := get(t, h, "/feed.xml").Header.Get("ETag")
	get(t, h, "/feed.xml", "If-None-Match", etag)
	get(t, h, "/feeds.opml")
	if res := get(t, h, "/healthz"); res.StatusCode != 200 {
		t.Fatalf("healthz %d", res.StatusCode)
	}
	res := get(t, h, "/metrics")
	body, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`bulletin_feed_requests_total{feed="site rss",status="200"} 2`,
		`bulletin_feed_requests_total{feed="site rss",status="304"} 1`,
		`bulletin_feed_requests_total{feed="opml",status="200"} 1`,
		`bulletin_http_requests_total{code="200",route="GET /healthz"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestAcceptsGzip: a weight of zero, however it is spelled, refuses gzip
// (RFC 9110 §12.4.2, §12.5.3); "*" speaks for gzip when gzip is not named.
func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZip", true},
		{"x-gzip", true},
		{"br, gzip", true},
		{"deflate, br", false},
		{"gzip;q=1", true},
		{"gzip;q=1.0", true},
		{"gzip;q=1.000", true},
		{"gzip;q=0.5", true},
		{"gzip;q=0.001", true},
		{"gzip; q=0.8", true},
		{"gzip;q=0", false},
		{"gzip;q=0.", false},
		{"gzip;q=0.0", false},
		{"gzip;q=0.000", false},
		{"gzip;q=0.0, br", false},
		{"gzip; Q=0", false},
		{"gzip;q=0.5000", false}, // not a qvalue: the entry counts for nothing
		{"gzip;q=1.5", false},
		{"gzip;q=2", false},
		{"gzip;q=-1", false},
		{"gzip;q=", false},
		{"gzip;q=0x1", false},
		{"*", true},
		{"*;q=0", false},
		{"br, *;q=0.1", true},
		{"*;q=0, gzip", true},
		{"gzip;q=0, *", false},
		{"identity, *;q=0", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/feed.xml", nil)
		if tc.header != "" {
			r.Header.Set("Accept-Encoding", tc.header)
		}
		if got := acceptsGzip(r); got != tc.want {
			t.Errorf("Accept-Encoding %q: acceptsGzip = %v, want %v", tc.header, got, tc.want)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/feed.xml", nil)
	r.Header.Add("Accept-Encoding", "br")
	r.Header.Add("Accept-Encoding", "gzip")
	if !acceptsGzip(r) {
		t.Error("gzip named on a second Accept-Encoding line is not seen")
	}

	s := newFeedServer(t, copyDir(t, "../content"), fixedClock())
	res := get(t, s.Handler(), "/feed.json", "Accept-Encoding", "gzip;q=0.0")
	if ce := res.Header.Get("Content-Encoding"); ce != "" {
		t.Errorf("gzip;q=0.0 answered with Content-Encoding %q", ce)
	}
}

// TestLastModifiedAfterRestart: a feed served with a rebuild's date, whose
// content then changed again while the server was stopped, must not answer
// 304 after the restart to a client sending only that date, even though
// no publication date changed.
func TestLastModifiedAfterRestart(t *testing.T) {
	dir := copyDir(t, "../content")
	page := filepath.Join(dir, "podcasts", "episode-1-poids-des-courriels.md")
	retitle := func(title string) {
		t.Helper()
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(page, bytes.Replace(b, []byte("title:"), []byte("title: "+title+" —"), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	first := newFeedServer(t, dir, clock)
	retitle("Premier titre")
	now = now.Add(time.Hour)
	first.rebuildIfChanged(context.Background(), false)
	seen := get(t, first.Handler(), "/tags/podcast/feed.xml")
	lm := seen.Header.Get("Last-Modified")

	// Stopped, edited, started again.
	retitle("Second titre")
	now = now.Add(time.Hour)
	h := newFeedServer(t, dir, clock).Handler()
	res := get(t, h, "/tags/podcast/feed.xml", "If-Modified-Since", lm)
	if res.StatusCode != http.StatusOK || res.Header.Get("ETag") == seen.Header.Get("ETag") {
		t.Fatalf("If-Modified-Since %s of other bytes after a restart: %d, want 200 with the new feed", lm, res.StatusCode)
	}
	if got, _ := http.ParseTime(res.Header.Get("Last-Modified")); !got.After(mustParseTime(t, lm)) {
		t.Errorf("Last-Modified went back from %s to %s", lm, res.Header.Get("Last-Modified"))
	}
	if res := get(t, h, "/tags/podcast/feed.xml", "If-Modified-Since", res.Header.Get("Last-Modified")); res.StatusCode != http.StatusNotModified {
		t.Errorf("the new date itself: %d, want 304", res.StatusCode)
	}
}

func mustParseTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := http.ParseTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestRebuildLogsMergedNames: tags that differ by more than case and
// accents but share one feed are logged at each build.
func TestRebuildLogsMergedNames(t *testing.T) {
	dir := copyDir(t, "../content")
	for i, tag := range []string{"C", "C++"} {
		body := fmt.Sprintf("---\ntitle: T%d\ndate: 2024-01-0%d\ntags: [%q]\n---\nx\n", i, i+1, tag)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("c%d.md", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	_, err := New(context.Background(), Options{
		ContentDir: dir, LoadSite: sampleLoader(dir), Feeds: sampleFeedOptions(),
		RebuildInterval: -1, Now: fixedClock(), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `share one feed`) || !strings.Contains(logs.String(), `names="[C C++]"`) || !strings.Contains(logs.String(), "feed=tags/c/") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// Accept headers as clients send them.
const (
	acceptChromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
	acceptFirefox  = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	acceptReader   = "application/rss+xml, application/rdf+xml;q=0.8, application/atom+xml;q=0.6, application/xml;q=0.4, text/xml;q=0.4"
)

// TestFeedsForBrowsers: a client preferring text/html (a browser) gets an
// RSS or Atom feed as an HTML page rendered by the server; any other
// client gets the feed's media type. Both variants say Vary: Accept and
// have ETags of their own; the page has the site's policy, the feed the
// one that lets feed.xsl's inline style work.
func TestFeedsForBrowsers(t *testing.T) {
	s := newFeedServer(t, copyDir(t, "../content"), fixedClock())
	h := s.Handler()
	const page = "text/html; charset=utf-8"
	const rss = "application/rss+xml; charset=utf-8"
	for _, tc := range []struct{ accept, want string }{
		{acceptChromium, page},
		{acceptFirefox, page},
		{"text/html", page},
		{"TEXT/HTML, application/rss+xml;q=0.5", page},
		{"text/html, */*;q=0.8", page},
		{"text/*, application/rss+xml;q=0.5, text/xml;q=0.5", page},
		{"", rss},
		{"*/*", rss},
		{acceptReader, rss},
		{"application/atom+xml,application/rss+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7", rss},
		{"application/xml, text/xml", rss},
		{"application/rss+xml, text/html", rss}, // a tie goes to the feed
		{"text/html, application/xml", rss},
		{"text/html;q=0.5, */*", rss},
		{"text/html;q=0, */*", rss},
		{"text/*, application/rss+xml;q=0.5", rss},        // text/xml weighs as much as text/html
		{"text/html;q=2, application/rss+xml;q=0.5", rss}, // not a qvalue: the entry counts for nothing
	} {
		res := get(t, h, "/feed.xml", "Accept", tc.accept)
		if got := res.Header.Get("Content-Type"); res.StatusCode != 200 || got != tc.want {
			t.Errorf("Accept %q: %d, Content-Type %q, want %q", tc.accept, res.StatusCode, got, tc.want)
		}
	}

	for _, tc := range []struct{ path, feedType string }{
		{"/feed.xml", rss},
		{"/atom.xml", "application/atom+xml; charset=utf-8"},
		{"/tags/podcast/feed.xml", rss},
	} {
		t.Run(tc.path, func(t *testing.T) {
			etags := map[string]string{}
			for _, v := range []struct{ name, accept, encoding, ctype string }{
				{"page", acceptChromium, "", page},
				{"page gzip", acceptChromium, "gzip, deflate, br, zstd", page},
				{"feed", acceptReader, "", tc.feedType},
				{"feed gzip", acceptReader, "gzip", tc.feedType},
			} {
				res := get(t, h, tc.path, "Accept", v.accept, "Accept-Encoding", v.encoding)
				if got := res.Header.Get("Content-Type"); got != v.ctype {
					t.Errorf("%s: Content-Type %q, want %q", v.name, got, v.ctype)
				}
				if got := res.Header.Values("Vary"); len(got) != 1 || got[0] != "Accept-Encoding, Accept" {
					t.Errorf("%s: Vary %q, want Accept-Encoding, Accept", v.name, got)
				}
				if got, want := res.Header.Get("Content-Security-Policy"), map[bool]string{true: siteCSP, false: feedCSP}[v.ctype == page]; got != want {
					t.Errorf("%s: Content-Security-Policy %q, want %q", v.name, got, want)
				}
				etag := res.Header.Get("ETag")
				for other, e := range etags {
					if e == etag {
						t.Errorf("%s and %s share the ETag %s", v.name, other, etag)
					}
				}
				etags[v.name] = etag
				// The variant's own ETag validates it; the other variant's
				// does not, since a cache would then serve its stored copy,
				// of the other Content-Type.
				again := get(t, h, tc.path, "Accept", v.accept, "Accept-Encoding", v.encoding, "If-None-Match", etag)
				if again.StatusCode != http.StatusNotModified || again.Header.Get("ETag") != etag ||
					again.Header.Get("Vary") != "Accept-Encoding, Accept" {
					t.Errorf("%s: If-None-Match %s: %d, ETag %q, Vary %q", v.name, etag, again.StatusCode, again.Header.Get("ETag"), again.Header.Get("Vary"))
				}
			}
			for _, v := range []struct{ accept, inm string }{
				{acceptChromium, etags["feed"]},
				{acceptChromium, etags["feed gzip"]},
				{acceptReader, etags["page"]},
				{acceptReader, etags["page gzip"]},
			} {
				if res := get(t, h, tc.path, "Accept", v.accept, "If-None-Match", v.inm); res.StatusCode != 200 {
					t.Errorf("Accept %q with the other variant's ETag %s: %d, want 200", v.accept, v.inm, res.StatusCode)
				}
			}
		})
	}

	// The other files keep their type, the site's policy and Vary.
	for _, path := range []string{"/feed.json", "/feeds.opml", "/feed.xsl"} {
		res := get(t, h, path, "Accept", acceptChromium)
		if ct := res.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/xml") != (path == "/feed.xsl") {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if got := res.Header.Get("Vary"); got != "Accept-Encoding" {
			t.Errorf("%s: Vary %q", path, got)
		}
		if got := res.Header.Get("Content-Security-Policy"); got != siteCSP {
			t.Errorf("%s: Content-Security-Policy %q", path, got)
		}
	}
}
