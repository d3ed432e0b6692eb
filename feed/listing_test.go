package feed

import (
	"encoding/xml"
	"slices"
	"testing"
)

// TestListing: the listing of an RSS or Atom output is that feed's title,
// description, language, address, other formats and items, newest first;
// other outputs have none.
func TestListing(t *testing.T) {
	pubs := fixture()
	pubs[1].Title = "Épisode 1\x00 : la mer" // what XML cannot carry goes
	pubs[2].Lang = ""                        // the feed's language stands in
	s := Plan(pubs, testOptions())

	l, ok := s.Listing("feed.xml")
	if !ok {
		t.Fatal("no listing for feed.xml")
	}
	if l.Output.Path != "feed.xml" || l.Output.Format != FormatRSS || l.Output.URL != "https://exemple.org/blog/feed.xml" {
		t.Errorf("output %+v", l.Output)
	}
	if l.Title != "Le Bulletin" || l.Description != "Nouvelles & notes de l'équipe" || l.Language != "fr" || l.SiteURL != "https://exemple.org/blog/" {
		t.Errorf("title %q, description %q, language %q, site %q", l.Title, l.Description, l.Language, l.SiteURL)
	}
	if got := pathsOf(l.Others); !slices.Equal(got, []string{"atom.xml", "feed.json"}) {
		t.Errorf("other formats %v", got)
	}
	type item struct{ title, url, summary, lang, date string }
	var got []item
	for _, it := range l.Items {
		got = append(got, item{it.Title, it.URL, it.Summary, it.Lang, it.Date.Format("2006-01-02 15:04")})
	}
	want := []item{
		{"Été à la cité", "https://exemple.org/blog/ete-a-la-cite/", "Un résumé <court> & précis.", "fr", "2024-07-14 10:00"},
		{"Épisode 1 : la mer", "https://exemple.org/blog/episode-1/", "Notre premier épisode.", "fr", "2024-06-01 08:00"},
		{"Vidéo : l’atelier", "https://exemple.org/blog/video-atelier/", "L'atelier en images.", "fr", "2024-05-10 18:30"},
		{"Note du Japon", "https://exemple.org/blog/note-japon/", "", "fr", "2024-05-10 18:30"},
		{"Code: a[b[0]]>1", "https://exemple.org/blog/code/", "", "en", "2024-04-01 12:00"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("items\n got %q\nwant %q", got, want)
	}

	l, ok = s.Listing("tags/ecologie/atom.xml")
	if !ok {
		t.Fatal("no listing for a tag's Atom feed")
	}
	if l.Output.Format != FormatAtom || l.Title != "Le Bulletin — Écologie" || len(l.Items) != 2 {
		t.Errorf("tag feed: %s %q, %d items", l.Output.Format, l.Title, len(l.Items))
	}
	if got := pathsOf(l.Others); !slices.Equal(got, []string{"tags/ecologie/feed.xml", "tags/ecologie/feed.json"}) {
		t.Errorf("tag feed: other formats %v", got)
	}
	for _, p := range []string{"feed.json", "feeds.opml", "feed.xsl", "tags/ecologie/feed.json", "nope.xml"} {
		if _, ok := s.Listing(p); ok {
			t.Errorf("%s has a listing", p)
		}
	}

	opts := testOptions()
	opts.JSONPath, opts.Limit = "", 2
	l, _ = Plan(fixture(), opts).Listing("atom.xml")
	if got := pathsOf(l.Others); len(l.Items) != 2 || !slices.Equal(got, []string{"feed.xml"}) {
		t.Errorf("limit 2, no JSON Feed: %d items, other formats %v", len(l.Items), got)
	}
}

// TestListingMatchesFeeds: every RSS feed written lists the items of its
// listing, in the same order, with the same titles and links.
func TestListingMatchesFeeds(t *testing.T) {
	s, sink := generate(t, fixture(), testOptions())
	n := 0
	for _, o := range s.Outputs() {
		if o.Format != FormatRSS {
			continue
		}
		n++
		var doc struct {
			Channel struct {
				Title string `xml:"title"`
				Items []struct {
					Title string `xml:"title"`
					Link  string `xml:"link"`
				} `xml:"item"`
			} `xml:"channel"`
		}
		if err := xml.Unmarshal(sink.files[o.Path].Bytes(), &doc); err != nil {
			t.Fatalf("%s: %v", o.Path, err)
		}
		l, ok := s.Listing(o.Path)
		if !ok || l.Title != doc.Channel.Title || len(l.Items) != len(doc.Channel.Items) {
			t.Errorf("%s: listing %q with %d items, feed %q with %d", o.Path, l.Title, len(l.Items), doc.Channel.Title, len(doc.Channel.Items))
			continue
		}
		for i, it := range doc.Channel.Items {
			if l.Items[i].Title != it.Title || l.Items[i].URL != it.Link {
				t.Errorf("%s, item %d: listing %q %s, feed %q %s", o.Path, i, l.Items[i].Title, l.Items[i].URL, it.Title, it.Link)
			}
		}
	}
	if n < 5 {
		t.Errorf("only %d RSS feeds", n)
	}
}

func pathsOf(outs []Output) []string {
	var p []string
	for _, o := range outs {
		p = append(p, o.Path)
	}
	return p
}
