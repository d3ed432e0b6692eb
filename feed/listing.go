package feed

import "time"

// Listing is one RSS or Atom feed as a page shows it to a person (the
// server answers a browser asking for a feed with such a page): what the
// feed says of itself, where it is, and its items newest first. The text
// is the feed's own, without the characters XML cannot carry.
type Listing struct {
	// Output is the feed file shown.
	Output Output
	// Title and Description are the feed's (its RSS title and
	// description, its Atom title and subtitle).
	Title, Description string
	// Language is the feed's language tag ("fr").
	Language string
	// SiteURL is the site's home page, absolute.
	SiteURL string
	// Others are the same feed in its other formats, in the order RSS,
	// Atom, JSON Feed.
	Others []Output
	Items  []ListingItem
}

// ListingItem is one item of a Listing.
type ListingItem struct {
	Title string
	// URL is the publication's absolute URL.
	URL string
	// Summary is the publication's description, plain text ("" for none).
	Summary string
	// Date is the publication's date, in its location.
	Date time.Time
	// Lang is the item's language tag: its own, else the feed's.
	Lang string
}

// Listing returns the RSS or Atom feed written at path (the Path of one of
// Outputs), false when no RSS or Atom feed is written there.
func (s *Set) Listing(path string) (Listing, bool) {
	f, ok := s.listed[path]
	if !ok {
		return Listing{}, false
	}
	out := f.atom
	if f.rss >= 0 && s.outputs[f.rss].Path == path {
		out = f.rss
	}
	l := Listing{
		Output:      s.outputs[out],
		Title:       cleanXML(f.title),
		Description: cleanXML(s.opts.SiteDescription),
		Language:    s.opts.Language,
		SiteURL:     s.opts.SiteURL,
		Items:       make([]ListingItem, len(f.items)),
	}
	for _, i := range []int{f.rss, f.atom, f.json} {
		if i >= 0 && s.outputs[i].Path != path {
			l.Others = append(l.Others, s.outputs[i])
		}
	}
	for n, p := range f.items {
		c := s.common(p)
		lang := p.Lang
		if lang == "" {
			lang = s.opts.Language
		}
		l.Items[n] = ListingItem{Title: cleanXML(c.title), URL: p.URL, Summary: cleanXML(p.Description), Date: p.Date, Lang: lang}
	}
	return l, true
}
