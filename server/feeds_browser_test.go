package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// feedPage is what Chromium shows for a feed served by bulletin serve, as
// feedPageJS reads it.
type feedPage struct {
	ContentType string
	Title       string
	H1          []string
	Headings    []int    // the level of every heading, in order
	Landmarks   []string // header, main, footer at the top of body
	Banner      bool     // Chromium's notice that XSLT is going away is shown
	Inline      int      // script, style elements and style attributes
	MainWidth   string   // the computed max-width of main, set by bulletin.css
	LinkColor   string   // the computed colour of the first item's link
	Notice      []string // the lang of each paragraph of the notice
	Items       []feedPageEntry
}

// feedPageEntry is one item of a feed's page.
type feedPageEntry struct {
	Lang     *string // nil when the li has no lang attribute
	Title    string
	Href     string
	Datetime string
	Date     string
}

const feedPageJS = `(() => ({
	ContentType: document.contentType,
	Title: document.title,
	H1: [...document.querySelectorAll('h1')].map(h => h.textContent),
	Headings: [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => +h.tagName[1]),
	Landmarks: [...document.querySelectorAll('body > header, body > main, body > footer')].map(e => e.tagName.toLowerCase()),
	Banner: !!document.querySelector('xslt-warning-banner'),
	Inline: document.querySelectorAll('script, style, [style]').length,
	MainWidth: getComputedStyle(document.querySelector('main')).maxWidth,
	LinkColor: getComputedStyle(document.querySelector('main ol > li a') ?? document.body).color,
	Notice: [...document.querySelectorAll('main [role=note] > p')].map(p => p.getAttribute('lang') ?? ''),
	Items: [...document.querySelectorAll('main ol > li')].map(li => {
		const a = li.querySelector('h3 > a'), d = li.querySelector('time');
		return {
			Lang: li.getAttribute('lang'),
			Title: a?.textContent ?? '',
			Href: a?.getAttribute('href') ?? '',
			Datetime: d?.getAttribute('datetime') ?? '',
			Date: d?.textContent ?? '',
		};
	}),
}))()`

// TestBrowserFeedPage opens feeds served by bulletin serve in Chromium, as
// a person clicking a feed's link would: each is a page rendered by the
// server (no XSLT, so no banner announcing its removal), styled by
// bulletin.css, listing the feed's items, with no Content-Security-Policy
// violation.
func TestBrowserFeedPage(t *testing.T) {
	t.Parallel()
	ctx, violations := newBrowser(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := newPageEnv(t, "http://"+ln.Addr().String()+"/", nil)
	ts := httptest.NewUnstartedServer(e.h)
	ts.Listener.Close()
	ts.Listener = ln
	ts.Start()
	t.Cleanup(ts.Close)

	const english = "Digital sobriety week: our talks in English"
	for _, tc := range []struct{ path, h1, title string }{
		{"/feed.xml", "Exemple", "Exemple – flux RSS"},
		{"/atom.xml", "Exemple", "Exemple – flux Atom"},
		{"/tags/podcast/feed.xml", "Exemple — podcast", "Exemple — podcast – flux RSS"},
	} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 800), chromedp.Navigate(ts.URL+tc.path)); err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		p, err := chromedp.Run(ctx, chromedp.Evaluate[feedPage](feedPageJS))
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if p.ContentType != "text/html" || p.Banner || p.Inline != 0 {
			t.Errorf("%s: document.contentType %q, XSLT banner %v, %d inline scripts or styles", tc.path, p.ContentType, p.Banner, p.Inline)
		}
		if len(p.H1) != 1 || p.H1[0] != tc.h1 || p.Title != tc.title {
			t.Errorf("%s: h1 %q, title %q; want h1 %q, title %q", tc.path, p.H1, p.Title, tc.h1, tc.title)
		}
		for i, l := range p.Headings {
			if (i == 0) != (l == 1) || i > 0 && l > p.Headings[i-1]+1 {
				t.Errorf("%s: heading levels %v", tc.path, p.Headings)
				break
			}
		}
		if strings.Join(p.Landmarks, " ") != "header main footer" {
			t.Errorf("%s: landmarks %q", tc.path, p.Landmarks)
		}
		if strings.Join(p.Notice, " ") != "fr en " {
			t.Errorf("%s: the notice's paragraphs have lang %q, want fr, en, then the address", tc.path, p.Notice)
		}
		if p.MainWidth != "640px" || p.LinkColor != "rgb(0, 0, 145)" {
			t.Errorf("%s: main max-width %q, link colour %q: bulletin.css not applied", tc.path, p.MainWidth, p.LinkColor)
		}
		if len(p.Items) < 2 {
			t.Fatalf("%s: %d items", tc.path, len(p.Items))
		}
		found := false
		for _, it := range p.Items {
			if it.Title == "" || !strings.HasPrefix(it.Href, "http://localhost:8080/") {
				t.Errorf("%s: item %q links to %q", tc.path, it.Title, it.Href)
			}
			if _, err := time.Parse(time.RFC3339, it.Datetime); err != nil || it.Date == "" {
				t.Errorf("%s: %q's date is <time datetime=%q>%s", tc.path, it.Title, it.Datetime, it.Date)
			}
			if it.Title == english {
				found = true
				if it.Lang == nil || *it.Lang != "en" {
					t.Errorf("%s: the English item has lang %v, want en", tc.path, deref(it.Lang))
				}
			} else if it.Lang != nil {
				t.Errorf("%s: %q, in the page's language, has lang=%q", tc.path, it.Title, *it.Lang)
			}
		}
		if !found && tc.path != "/tags/podcast/feed.xml" {
			t.Errorf("%s: no item %q", tc.path, english)
		}
		if tc.path == "/feed.xml" {
			shootPage(t, ctx, "feed-375.png")
		}
	}
	if v := violations(); len(v) > 0 {
		t.Errorf("the browser reports Content-Security-Policy violations:\n%s", strings.Join(v, "\n"))
	}
}

// shootPage saves a screenshot of the tab under testdata/out/.
func shootPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join("testdata", "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// xslPage is what a feed made a page by feed.xsl shows, as xslPageJS
// reads it.
type xslPage struct {
	ContentType string
	Title       string
	H1          string
	BodyWidth   string // the computed max-width of body, set by feed.xsl's <style>
	Banner      bool   // Chromium's notice that XSLT is going away is shown
	Items       []xslPageItem
}

// xslPageItem is one li of the list of publications.
type xslPageItem struct {
	Lang     *string // nil when the li has no lang attribute
	Title    string
	Href     string
	DateTag  string // "TIME", "SPAN" or "" for no date
	Datetime string
	Date     string
}

const xslPageJS = `(() => ({
	ContentType: document.contentType,
	Title: document.title,
	H1: document.querySelector('h1')?.textContent ?? '',
	BodyWidth: document.body ? getComputedStyle(document.body).maxWidth : '',
	Banner: !!document.querySelector('xslt-warning-banner'),
	Items: [...document.querySelectorAll('main ol > li')].map(li => {
		const a = li.querySelector('a'), d = li.querySelector('.date');
		return {
			Lang: li.getAttribute('lang'),
			Title: a?.textContent ?? '',
			Href: a?.getAttribute('href') ?? '',
			DateTag: d ? d.tagName : '',
			Datetime: d?.getAttribute('datetime') ?? '',
			Date: d?.textContent ?? '',
		};
	}),
}))()`

// openXSLPage opens url in the tab of ctx and reads the page.
func openXSLPage(t *testing.T, ctx context.Context, url string) xslPage {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[xslPage](xslPageJS))
	if err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return p
}

// cspViolations is violations() without those of the inline onclick of
// Chromium's XSLT banner (Chromium 156 adds it to every page made by XSLT;
// the feeds' policy blocks it, and feed.xsl itself has no script).
func cspViolations(violations func() []string, banner bool) []string {
	var v []string
	for _, m := range violations() {
		if !banner || !strings.HasPrefix(m, "Executing inline event handler") {
			v = append(v, m)
		}
	}
	return v
}

// staticHost serves the feeds of h as a static host set up for feed.xsl
// does: every file's bytes as a feed reader gets them, RSS and Atom as
// application/xml (the type browsers apply an xml-stylesheet to), with
// the headers h sends along, its Content-Security-Policy included.
func staticHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := httptest.NewRequest(http.MethodGet, r.URL.Path, nil)
		req.Header.Set("Accept", acceptReader)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		if strings.HasSuffix(r.URL.Path, ".xml") {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	})
}

// TestBrowserFeedXSL opens the feeds as a static host serves them (where
// bulletin does not serve, feed.xsl still makes them a page, in browsers
// that keep XSLT) and checks that feed.xsl made each a styled page
// listing its items, not XML shown as text, with no Content-Security-
// Policy violation under the policy the server gives the feeds' bytes.
func TestBrowserFeedXSL(t *testing.T) {
	t.Parallel()
	ctx, violations := newBrowser(t)
	s := newFeedServer(t, copyDir(t, "../content"), fixedClock())
	ts := httptest.NewServer(staticHost(s.Handler()))
	t.Cleanup(ts.Close)

	banner := false
	for _, path := range []string{"/feed.xml", "/atom.xml", "/tags/podcast/feed.xml"} {
		p := openXSLPage(t, ctx, ts.URL+path)
		banner = banner || p.Banner
		if p.ContentType != "text/html" || len(p.Items) == 0 {
			t.Errorf("%s: not made a page by feed.xsl: document.contentType %q, %d items", path, p.ContentType, len(p.Items))
			continue
		}
		if p.H1 == "" || p.Title != p.H1+" · flux / feed" {
			t.Errorf("%s: title %q, h1 %q", path, p.Title, p.H1)
		}
		if it := p.Items[0]; it.Title == "" || !strings.HasPrefix(it.Href, "http://localhost:8080/") {
			t.Errorf("%s: first item %q links to %q", path, it.Title, it.Href)
		}
		if p.BodyWidth != "672px" {
			t.Errorf("%s: body max-width %q, want 672px (42rem): feed.xsl's <style> not applied", path, p.BodyWidth)
		}
	}
	if v := cspViolations(violations, banner); len(v) > 0 {
		t.Errorf("the browser reports Content-Security-Policy violations:\n%s", strings.Join(v, "\n"))
	}
}

// TestBrowserFeedXSLItems checks, in Chromium, that feed.xsl gives an item
// in another language than the feed's its lang (RSS dc:language, Atom
// xml:lang) and shows every date as YYYY-MM-DD in a <time>, RSS dates
// included, which are RFC 822 text ("Tue, 24 Nov 2026 …"); the feeds are
// served as a static host does.
func TestBrowserFeedXSLItems(t *testing.T) {
	t.Parallel()
	ctx, _ := newBrowser(t)
	s := newFeedServer(t, copyDir(t, "../content"), fixedClock())
	mux := http.NewServeMux()
	mux.Handle("/", staticHost(s.Handler()))
	mux.HandleFunc("/odd-dates.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		_, _ = w.Write([]byte(oddDatesRSS))
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	const english = "Digital sobriety week: our talks in English"
	for _, tc := range []struct{ path, stamp string }{
		{"/feed.xml", "2025-09-22"},
		{"/atom.xml", "2025-09-22T14:00:00+02:00"},
	} {
		p := openXSLPage(t, ctx, ts.URL+tc.path)
		if len(p.Items) < 2 {
			t.Fatalf("%s: %d items", tc.path, len(p.Items))
		}
		found := false
		for _, it := range p.Items {
			if it.Title == english {
				found = true
				if it.Lang == nil || *it.Lang != "en" {
					t.Errorf("%s: the English item has lang %v, want en", tc.path, deref(it.Lang))
				}
				if it.DateTag != "TIME" || it.Datetime != tc.stamp || it.Date != "2025-09-22" {
					t.Errorf("%s: the English item's date is <%s datetime=%q>%s, want <time datetime=%q>2025-09-22",
						tc.path, it.DateTag, it.Datetime, it.Date, tc.stamp)
				}
				continue
			}
			if it.Lang != nil {
				t.Errorf("%s: %q, in the feed's language, has lang=%q", tc.path, it.Title, *it.Lang)
			}
			if it.DateTag != "TIME" || len(it.Date) != len("2006-01-02") || !strings.HasPrefix(it.Datetime, it.Date) {
				t.Errorf("%s: %q's date is <%s datetime=%q>%s, want a <time> with YYYY-MM-DD", tc.path, it.Title, it.DateTag, it.Datetime, it.Date)
			}
		}
		if !found {
			t.Errorf("%s: no item %q", tc.path, english)
		}
	}

	// RFC 822 dates as other generators write them, and text that is none.
	p := openXSLPage(t, ctx, ts.URL+"/odd-dates.xml")
	want := []xslPageItem{
		{DateTag: "TIME", Datetime: "2026-11-24", Date: "2026-11-24"},
		{DateTag: "TIME", Datetime: "2026-01-05", Date: "2026-01-05"},
		{DateTag: "TIME", Datetime: "2026-02-02", Date: "2026-02-02"},
		{DateTag: "TIME", Datetime: "2026-12-31", Date: "2026-12-31"},
		{DateTag: "SPAN", Date: "24 Abc 2026 10:00 GMT"},
		{DateTag: "SPAN", Date: "2026-11-24"},
		{DateTag: "SPAN", Date: "5.5 Jan 2026"},
		{DateTag: ""},
	}
	if len(p.Items) != len(want) {
		t.Fatalf("odd dates: %d items, want %d", len(p.Items), len(want))
	}
	for i, it := range p.Items {
		w := want[i]
		if it.DateTag != w.DateTag || it.Datetime != w.Datetime || it.Date != w.Date {
			t.Errorf("odd dates, %s: <%s datetime=%q>%s, want <%s datetime=%q>%s", it.Title, it.DateTag, it.Datetime, it.Date, w.DateTag, w.Datetime, w.Date)
		}
	}
}

// oddDatesRSS is an RSS feed with the dates other generators write, and
// some that are not dates, one per item, in the order of
// TestBrowserFeedItems.
const oddDatesRSS = `<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>
<rss version="2.0"><channel><title>Dates</title><link>http://localhost:8080/</link><description>d</description><language>fr</language>
<item><title>two digits, day name</title><link>http://localhost:8080/1</link><pubDate>Tue, 24 Nov 2026 00:00:00 +0100</pubDate></item>
<item><title>one digit, no day name</title><link>http://localhost:8080/2</link><pubDate>5 Jan 2026 10:00 GMT</pubDate></item>
<item><title>lower case, spaces</title><link>http://localhost:8080/3</link><pubDate>
  Mon,  2 feb 2026 08:00:00 GMT </pubDate></item>
<item><title>December</title><link>http://localhost:8080/4</link><pubDate>Thu, 31 Dec 2026 23:59:59 -0500</pubDate></item>
<item><title>no such month</title><link>http://localhost:8080/5</link><pubDate>24 Abc 2026 10:00 GMT</pubDate></item>
<item><title>ISO</title><link>http://localhost:8080/6</link><pubDate>2026-11-24</pubDate></item>
<item><title>not a day</title><link>http://localhost:8080/7</link><pubDate>5.5 Jan 2026</pubDate></item>
<item><title>none</title><link>http://localhost:8080/8</link></item>
</channel></rss>`

func deref(s *string) string {
	if s == nil {
		return "(none)"
	}
	return *s
}
