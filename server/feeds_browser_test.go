package server

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// feedPage is what a feed opened in Chromium shows, as feedPageJS reads it.
type feedPage struct {
	ContentType string
	Title       string
	H1          string
	BodyWidth   string // the computed max-width of body, set by feed.xsl's <style>
	Banner      bool   // Chromium's notice that XSLT is going away is shown
	Items       []feedPageItem
}

// feedPageItem is one li of the list of publications.
type feedPageItem struct {
	Lang     *string // nil when the li has no lang attribute
	Title    string
	Href     string
	DateTag  string // "TIME", "SPAN" or "" for no date
	Datetime string
	Date     string
}

const feedPageJS = `(() => ({
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

// openFeedPage opens url in the tab of ctx and reads the page.
func openFeedPage(t *testing.T, ctx context.Context, url string) feedPage {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	p, err := chromedp.Run(ctx, chromedp.Evaluate[feedPage](feedPageJS))
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

// TestBrowserFeedPage opens the feeds served by bulletin serve in Chromium
// and checks that feed.xsl made each a styled page listing its items, not
// XML shown as text, with no Content-Security-Policy violation.
func TestBrowserFeedPage(t *testing.T) {
	t.Parallel()
	ctx, violations := newBrowser(t)
	s := newFeedServer(t, copyDir(t, "../content"), fixedClock())
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)

	banner := false
	for _, path := range []string{"/feed.xml", "/atom.xml", "/tags/podcast/feed.xml"} {
		p := openFeedPage(t, ctx, ts.URL+path)
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
