package feed

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/ecoresponsable/bulletin/publication"
)

// wantFeeds lists the fixture's feeds: folder, title, item ids in order.
func wantFeeds() []struct {
	dir, title string
	ids        []string
} {
	return []struct {
		dir, title string
		ids        []string
	}{
		{"", "Le Bulletin", []string{idSummer, idPodcast, idVideo, idNote, idCode}},
		{"tags/c-rust/", "Le Bulletin — C++ & Rust", []string{idSummer}},
		{"tags/ecologie/", "Le Bulletin — Écologie", []string{idSummer, idPodcast}},
		{"tags/podcast/", "Le Bulletin — podcast", []string{idPodcast}},
		{"tags/video/", "Le Bulletin — vidéo", []string{idVideo}},
		{"tags/" + slug("日本") + "/", "Le Bulletin — 日本", []string{idNote}},
		{"types/news/", "Le Bulletin — type\u00a0: news", []string{idSummer}},
		{"types/podcast/", "Le Bulletin — type\u00a0: podcast", []string{idPodcast}},
		{"types/video/", "Le Bulletin — type\u00a0: video", []string{idVideo}},
	}
}

// TestFeedsParse reads every feed back with gofeed and checks it against
// the publications it was made from.
func TestFeedsParse(t *testing.T) {
	pubs := fixture()
	byID := map[string]*publication.Publication{}
	for _, p := range pubs {
		byID[p.ID] = p
	}
	opts := testOptions()
	_, sink := generate(t, pubs, opts)

	for _, wf := range wantFeeds() {
		for _, file := range []string{"feed.xml", "atom.xml", "feed.json"} {
			name := wf.dir + file
			t.Run(name, func(t *testing.T) {
				buf, ok := sink.files[name]
				if !ok {
					t.Fatalf("%s not generated", name)
				}
				f, err := gofeed.NewParser().ParseString(buf.String())
				if err != nil {
					t.Fatalf("gofeed: %v", err)
				}
				if f.Title != wf.title {
					t.Errorf("title %q, want %q", f.Title, wf.title)
				}
				if f.Link != opts.SiteURL {
					t.Errorf("home link %q, want %q", f.Link, opts.SiteURL)
				}
				if want, _ := url.JoinPath(opts.SiteURL, name); f.FeedLink != want {
					t.Errorf("self link %q, want %q", f.FeedLink, want)
				}
				if f.Language != "fr" {
					t.Errorf("language %q", f.Language)
				}
				var got []string
				var newest time.Time
				for _, it := range f.Items {
					got = append(got, it.GUID)
					if p := byID[it.GUID]; p != nil && p.Updated.After(newest) {
						newest = p.Updated
					}
				}
				if !slices.Equal(got, wf.ids) {
					t.Fatalf("item ids %v, want %v", got, wf.ids)
				}
				if f.FeedType != "json" && (f.UpdatedParsed == nil || !f.UpdatedParsed.Equal(newest)) {
					t.Errorf("feed updated %v, want the newest item update %v", f.UpdatedParsed, newest)
				}
				for _, it := range f.Items {
					checkItem(t, f.FeedType, it, byID[it.GUID], opts)
				}
			})
		}
	}
}

func checkItem(t *testing.T, format string, it *gofeed.Item, p *publication.Publication, opts Options) {
	t.Helper()
	errorf := func(format string, args ...any) { t.Errorf("item %s: "+format, append([]any{p.ID}, args...)...) }
	if u, err := url.Parse(it.Link); err != nil || !u.IsAbs() || u.Host == "" || it.Link != p.URL {
		errorf("link %q, want %q", it.Link, p.URL)
	}
	if it.Title != p.Title {
		errorf("title %q, want %q", it.Title, p.Title)
	}
	if it.PublishedParsed == nil || !it.PublishedParsed.Equal(p.Date) {
		errorf("published %v, want %v", it.PublishedParsed, p.Date)
	}
	if it.UpdatedParsed == nil || !it.UpdatedParsed.Equal(p.Updated) {
		errorf("updated %v, want %v", it.UpdatedParsed, p.Updated)
	}
	if len(it.Categories)+len(p.Tags) > 0 && !slices.Equal(it.Categories, p.Tags) {
		errorf("categories %q, want %q", it.Categories, p.Tags)
	}
	if it.Content != p.Content {
		errorf("content %q, want %q", it.Content, p.Content)
	}
	wantDesc := p.Description
	if format == "rss" {
		wantDesc = escapeHTML(p.Description) // an RSS description is HTML
	}
	if it.Description != wantDesc {
		errorf("description %q, want %q", it.Description, wantDesc)
	}
	author := opts.Author.Name
	if p.Author != nil {
		author = p.Author.Name
	}
	person := it.Author
	if person == nil && len(it.Authors) > 0 {
		person = it.Authors[0] // gofeed fills only Authors from JSON Feed 1.1
	}
	if person == nil || person.Name != author {
		errorf("author %+v, want %q", person, author)
	}

	var want []string
	for i, e := range p.Enclosures {
		if format == "rss" && i > 0 {
			break // an RSS item carries one enclosure
		}
		want = append(want, fmt.Sprintf("%s %s %d", e.URL, e.Type, e.Length))
	}
	if format == "atom" && p.Image != nil {
		want = append(want, p.Image.URL+" image/jpeg 0")
	}
	var got []string
	for _, e := range it.Enclosures {
		n, _ := strconv.ParseInt(e.Length, 10, 64)
		got = append(got, fmt.Sprintf("%s %s %d", e.URL, e.Type, n))
	}
	if !slices.Equal(got, want) {
		errorf("enclosures %q, want %q", got, want)
	}

	if p.Image != nil && format != "atom" {
		if it.Image == nil || it.Image.URL != p.Image.URL {
			errorf("image %+v, want %q", it.Image, p.Image.URL)
		}
	}
	if format == "rss" && p.Image != nil {
		th := it.Extensions["media"]["thumbnail"]
		if len(th) != 1 || th[0].Attrs["url"] != p.Thumbnail {
			errorf("media:thumbnail %+v, want %q", th, p.Thumbnail)
		}
	}
}

func TestFeedsLimit(t *testing.T) {
	opts := testOptions()
	opts.Limit = 2
	_, sink := generate(t, fixture(), opts)
	for _, name := range []string{"feed.xml", "atom.xml", "feed.json", "tags/ecologie/feed.xml"} {
		f, err := gofeed.NewParser().ParseString(sink.files[name].String())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for _, it := range f.Items {
			got = append(got, it.GUID)
		}
		if want := []string{idSummer, idPodcast}; !slices.Equal(got, want) {
			t.Errorf("%s: items %v, want %v", name, got, want)
		}
	}
}

func TestFeedsEmpty(t *testing.T) {
	opts := testOptions()
	_, sink := generate(t, nil, opts)
	for _, name := range []string{"feed.xml", "atom.xml", "feed.json"} {
		f, err := gofeed.NewParser().ParseString(sink.files[name].String())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(f.Items) != 0 {
			t.Errorf("%s: %d items", name, len(f.Items))
		}
	}
	if len(sink.files) != 5 {
		t.Errorf("without publications, %d files: %v; want the site feeds, OPML and XSL", len(sink.files), sink.paths())
	}
}

// TestTextNotXMLSafe checks that characters XML cannot carry, and those
// the feed validator flags (C1 controls, U+FFFD), are dropped rather than
// escaped to U+FFFD, so that the feeds stay well-formed and clean.
func TestTextNotXMLSafe(t *testing.T) {
	pubs := fixture()
	code := pubs[0]
	code.Content = "<p>form\ffeed, C1 \u0085, \uFFFD and ]]> end</p>"
	code.Title = "Bell\a title"
	code.Tags = []string{"tab\ttag\x00"}
	opts := testOptions()
	opts.SiteTitle = "Site\x1b"
	_, sink := generate(t, pubs, opts)
	for _, name := range []string{"feed.xml", "atom.xml"} {
		doc := sink.files[name].String()
		f, err := gofeed.NewParser().ParseString(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		it := f.Items[len(f.Items)-1]
		if want := "<p>formfeed, C1 ,  and ]]> end</p>"; it.Content != want {
			t.Errorf("%s: content %q, want %q", name, it.Content, want)
		}
		if it.Title != "Bell title" || f.Title != "Site" || !slices.Equal(it.Categories, []string{"tab\ttag"}) {
			t.Errorf("%s: title %q, feed title %q, categories %q", name, it.Title, f.Title, it.Categories)
		}
		if strings.ContainsAny(doc, "\f\a\x00\x1b\u0085\uFFFD") {
			t.Errorf("%s holds a character it should not", name)
		}
	}
}
