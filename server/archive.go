package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecoresponsable/bulletin/store"
	"github.com/ecoresponsable/bulletin/templates"
)

const (
	// archiveListed bounds the digests the archive page lists (twenty years
	// of weekly digests).
	archiveListed = 1000
	// archiveInFeed is how many digests the archive's Atom feed carries.
	archiveInFeed = 20
	// archiveMaxAge is the Cache-Control max-age of the archive.
	archiveMaxAge = 5 * time.Minute
	// archiveCached bounds the finished digests kept in memory.
	archiveCached = 2048
)

// The archive publishes the digests that were sent: the list and the feed
// show the finished ones (every delivery recorded), newest first. A digest
// still sending has its page too, since its emails link to it from the
// first one delivered.

// archiveCache keeps finished digests with their items: they never change,
// so the list reads each from the store once.
type archiveCache struct {
	mu   sync.Mutex
	done map[int64]store.Digest
}

// digest returns a digest with its items, from the cache when finished.
func (p *pages) digest(ctx context.Context, id int64) (store.Digest, error) {
	c := &p.archive
	c.mu.Lock()
	d, ok := c.done[id]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := p.s.opts.Store.GetDigest(ctx, id)
	if err != nil {
		return store.Digest{}, err
	}
	if d.Status == store.DigestDone {
		c.mu.Lock()
		if c.done == nil {
			c.done = map[int64]store.Digest{}
		}
		if len(c.done) < archiveCached {
			c.done[id] = d
		}
		c.mu.Unlock()
	}
	return d, nil
}

// finished returns the newest finished digests, at most limit, with items.
func (p *pages) finished(ctx context.Context, limit int) ([]store.Digest, error) {
	// At most one digest is sending at a time: one more covers it.
	list, err := p.s.opts.Store.ListDigests(ctx, limit+1)
	if err != nil {
		return nil, err
	}
	out := make([]store.Digest, 0, len(list))
	for _, d := range list {
		if d.Status != store.DigestDone || len(out) == limit {
			continue
		}
		full, err := p.digest(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, full)
	}
	return out, nil
}

// updated is when a digest last changed: when its send finished.
func updated(d store.Digest) time.Time {
	if !d.FinishedAt.IsZero() {
		return d.FinishedAt
	}
	return d.CreatedAt
}

// archiveEntry is one line of pages/archive.html.tmpl.
type archiveEntry struct {
	URL   string
	Date  time.Time // the digest's creation, in the site's time zone
	Count int       // its items
}

// archiveData is what pages/archive.html.tmpl receives.
type archiveData struct {
	Digests []archiveEntry
}

// archiveItem is one publication of pages/digest.html.tmpl.
type archiveItem struct {
	Title       string
	URL         string // absolute http(s)
	Description string
	Date        time.Time // in the site's time zone
	Tags        []string
	Thumbnail   string // absolute http(s), or empty
}

// digestData is what pages/digest.html.tmpl receives.
type digestData struct {
	Date       time.Time
	Count      int
	Items      []archiveItem
	ArchiveURL string
}

// handleArchive lists the finished digests, newest first.
func (p *pages) handleArchive(w http.ResponseWriter, r *http.Request) {
	list, err := p.finished(r.Context(), archiveListed)
	if err != nil {
		p.serverError(w, r, "archive", err)
		return
	}
	lang := p.pageLang(r)
	d := archiveData{Digests: make([]archiveEntry, len(list))}
	var modified time.Time
	for i, dg := range list {
		d.Digests[i] = archiveEntry{
			URL:   p.base + "digests/" + strconv.FormatInt(dg.ID, 10) + "?lang=" + lang,
			Date:  dg.CreatedAt.In(p.loc),
			Count: len(dg.Items),
		}
		if u := updated(dg); u.After(modified) {
			modified = u
		}
	}
	pg := p.withSwitch(p.newPage(lang, "archive.title", d), r)
	pg.NoIndex = false
	pg.FeedURL = p.base + "digests/feed.xml"
	p.renderCached(w, r, "archive", pg, modified)
}

// handleDigest shows the web version of one digest: every item, with the
// site's stylesheet (the email's HTML, with its inline styles, would not
// pass the Content-Security-Policy).
func (p *pages) handleDigest(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || len(raw) > 19 || strconv.FormatInt(id, 10) != raw {
		p.notFound(w, r)
		return
	}
	dg, err := p.digest(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		p.notFound(w, r)
		return
	}
	if err != nil {
		p.serverError(w, r, "digest page", err)
		return
	}
	lang := p.pageLang(r)
	d := digestData{Date: dg.CreatedAt.In(p.loc), Count: len(dg.Items), ArchiveURL: p.base + "digests/?lang=" + lang}
	var imgOrigins []string
	for _, it := range dg.Items {
		item := archiveItem{
			Title:       it.Title,
			URL:         webURL(it.URL),
			Description: it.Description,
			Date:        it.Date.In(p.loc),
			Tags:        p.tagLabels(it.Tags),
			Thumbnail:   webURL(it.Thumbnail),
		}
		if item.URL == "" {
			item.URL = p.siteURL
		}
		if o := origin(item.Thumbnail); o != "" && !slices.Contains(imgOrigins, o) {
			imgOrigins = append(imgOrigins, o)
		}
		d.Items = append(d.Items, item)
	}
	if len(imgOrigins) > 0 {
		// The thumbnails live on the site, usually another origin than
		// this server's: allow images from exactly those origins.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' "+strings.Join(imgOrigins, " ")+
			"; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	}
	title := templates.Tf(lang, "archive.entry", "date", templates.Date(lang, d.Date))
	pg := p.withSwitch(p.newPage(lang, "archive.title", d), r)
	pg.Title = title
	pg.NoIndex = false
	pg.FeedURL = p.base + "digests/feed.xml"
	modified := updated(dg)
	if dg.Status != store.DigestDone {
		modified = time.Time{} // still changing: no date to revalidate by
	}
	p.renderCached(w, r, "digest", pg, modified)
}

// webURL returns s if it is an absolute http(s) URL, else "".
func webURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// origin is the scheme://host of an absolute http(s) URL, for a CSP source
// ("" when the host holds anything a source may not).
func origin(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	for _, c := range u.Host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return ""
		}
	}
	return u.Scheme + "://" + u.Host
}

// renderCached writes an archive page with validators: its ETag is the hash
// of the body, Last-Modified the given date (none when zero), and a
// matching conditional request gets 304.
func (p *pages) renderCached(w http.ResponseWriter, r *http.Request, name string, pg *page, modified time.Time) {
	var buf bytes.Buffer
	if err := p.tpl.HTML(&buf, "pages/"+name, pg); err != nil {
		p.serverError(w, r, "render "+name, err)
		return
	}
	serveCached(w, r, buf.Bytes(), "text/html; charset=utf-8", modified)
}

// serveCached answers with body, its ETag and Last-Modified, or 304.
func serveCached(w http.ResponseWriter, r *http.Request, body []byte, contentType string, modified time.Time) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(archiveMaxAge/time.Second)))
	h.Add("Vary", "Accept-Language")
	modified = modified.UTC().Truncate(time.Second)
	if !modified.IsZero() {
		h.Set("Last-Modified", modified.Format(http.TimeFormat))
	}
	conditional := r.Header.Get("If-None-Match") != "" || !modified.IsZero()
	if conditional && notModified(r, etag, etag, modified) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// The archive's Atom feed (RFC 4287), written with encoding/xml.
type atomFeed struct {
	XMLName   xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang      string      `xml:"xml:lang,attr"`
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Updated   string      `xml:"updated"`
	Links     []atomLink  `xml:"link"`
	Author    atomPerson  `xml:"author"`
	Generator string      `xml:"generator"`
	Entries   []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Updated   string      `xml:"updated"`
	Published string      `xml:"published"`
	Link      atomLink    `xml:"link"`
	Summary   string      `xml:"summary"`
	Content   atomContent `xml:"content"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// handleArchiveFeed writes the Atom feed of the newest finished digests:
// one entry per digest, its content the list of its publications.
func (p *pages) handleArchiveFeed(w http.ResponseWriter, r *http.Request) {
	list, err := p.finished(r.Context(), archiveInFeed)
	if err != nil {
		p.serverError(w, r, "archive feed", err)
		return
	}
	lang := p.pageLang(r)
	feedURL := p.link("digests/feed.xml")
	f := atomFeed{
		Lang:      lang,
		ID:        p.link("digests/"),
		Title:     templates.Tf(lang, "archive.feed_title", "site", p.siteTitle),
		Links:     []atomLink{{Rel: "self", Type: "application/atom+xml", Href: feedURL}, {Rel: "alternate", Type: "text/html", Href: p.link("digests/")}},
		Author:    atomPerson{Name: p.siteTitle},
		Generator: "bulletin",
	}
	if p.publicURL == "" {
		f.ID = "urn:bulletin:digests" // an id must be absolute; the links may be relative
	}
	var newest time.Time
	for _, d := range list {
		link := p.link("digests/" + strconv.FormatInt(d.ID, 10))
		id := link
		if p.publicURL == "" {
			id = "urn:bulletin:digest:" + strconv.FormatInt(d.ID, 10)
		}
		up := updated(d)
		if up.After(newest) {
			newest = up
		}
		f.Entries = append(f.Entries, atomEntry{
			ID:        id,
			Title:     templates.Tf(lang, "archive.entry", "date", templates.Date(lang, d.CreatedAt.In(p.loc))),
			Updated:   up.UTC().Format(time.RFC3339),
			Published: d.CreatedAt.UTC().Format(time.RFC3339),
			Link:      atomLink{Rel: "alternate", Type: "text/html", Href: link},
			Summary:   templates.Plural(lang, "archive.count", len(d.Items)),
			Content:   atomContent{Type: "html", Body: p.itemsHTML(lang, d.Items)},
		})
	}
	if newest.IsZero() {
		newest = p.s.assets.Load().built // no digest yet: the feed is as old as the server's content
	}
	f.Updated = newest.UTC().Format(time.RFC3339)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		p.serverError(w, r, "archive feed", err)
		return
	}
	buf.WriteByte('\n')
	serveCached(w, r, buf.Bytes(), "application/atom+xml; charset=utf-8", newest)
}

// itemsHTML is the content of a feed entry: the digest's publications as
// a list of links with their dates, escaped.
func (p *pages) itemsHTML(lang string, items []store.DigestItem) string {
	var b strings.Builder
	b.WriteString("<ul>")
	for _, it := range items {
		href := webURL(it.URL)
		if href == "" {
			href = p.siteURL
		}
		b.WriteString(`<li><a href="` + html.EscapeString(href) + `">` + html.EscapeString(it.Title) + "</a> – " +
			html.EscapeString(templates.Date(lang, it.Date.In(p.loc))))
		if desc := strings.TrimSpace(it.Description); desc != "" {
			b.WriteString("<br>" + html.EscapeString(desc))
		}
		b.WriteString("</li>")
	}
	b.WriteString("</ul>")
	return b.String()
}

// tagLabels are the names shown for an archived item's tags, blank ones
// left out.
func (p *pages) tagLabels(tags []string) []string {
	var out []string
	for _, t := range tags {
		if strings.TrimSpace(t) != "" {
			out = append(out, p.labels.Of(t))
		}
	}
	return out
}
