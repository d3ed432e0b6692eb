package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecoresponsable/bulletin/feed"
)

// asset is one feed file held in memory, with what conditional and
// compressed responses need computed once.
type asset struct {
	path        string
	body        []byte
	gz          []byte // nil when compression does not pay
	etag        string // strong, of the identity body
	etagGz      string // strong, of the gzip body
	contentType string
	modified    time.Time // second precision, as HTTP dates are
	format      string    // rss, atom, json, opml, xsl
	name        string    // label for metrics: "site", "tag:x", "type:y", "opml", "xsl"

	// page is, for an RSS or Atom feed, the HTML page a browser gets
	// instead (see serveAsset), counted in the metrics as the feed; nil for
	// the other files.
	page *asset
}

// newAsset holds body with its ETags and its gzip form.
func newAsset(path string, body []byte, contentType string) *asset {
	a := &asset{path: path, body: body, contentType: contentType}
	sum := sha256.Sum256(body)
	a.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
	if len(body) > 512 {
		a.gz = gzipBytes(body)
		a.etagGz = `"` + hex.EncodeToString(sum[:16]) + `-gz"`
	}
	return a
}

// dateFrom gives a the Last-Modified of old when old has the same bytes,
// else now (see buildAssets).
func (a *asset) dateFrom(old *asset, now time.Time) {
	if old != nil && old.etag == a.etag {
		a.modified = old.modified
	} else {
		a.modified = now.UTC().Truncate(time.Second)
	}
}

// assetSet is every feed file of one build, by URL path ("/feed.xml").
type assetSet struct {
	byPath map[string]*asset
	built  time.Time
	pubs   int
}

// memSink collects generated files in memory.
type memSink struct {
	mu    sync.Mutex
	files map[string]*bytes.Buffer
}

func (m *memSink) Create(path string) (io.WriteCloser, error) {
	b := &bytes.Buffer{}
	m.mu.Lock()
	m.files[path] = b
	m.mu.Unlock()
	return nopCloser{b}, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// pageType is the Content-Type of the page a browser gets for a feed.
const pageType = "text/html; charset=utf-8"

// buildAssets generates every output of set in memory, and renders with
// page the HTML page of each RSS and Atom feed. prev is the set being
// replaced: a file whose bytes did not change keeps its Last-Modified, so
// that clients' conditional requests keep answering 304; any other file
// dates from now, the build (see the comment in holdOutput). The files
// are compressed, and the pages rendered, on every core.
func buildAssets(ctx context.Context, set *feed.Set, prev *assetSet, now time.Time, page func(feed.Listing) ([]byte, error)) (*assetSet, error) {
	sink := &memSink{files: map[string]*bytes.Buffer{}}
	if err := set.Generate(ctx, sink); err != nil {
		return nil, fmt.Errorf("server: generate feeds: %w", err)
	}
	outs := set.Outputs()
	held := make([]*asset, len(outs))
	errs := make([]error, len(outs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(outs)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(outs); i = int(next.Add(1) - 1) {
				buf, ok := sink.files[outs[i].Path]
				if !ok {
					continue
				}
				if errs[i] = ctx.Err(); errs[i] != nil {
					return
				}
				held[i], errs[i] = holdOutput(set, outs[i], buf.Bytes(), prev, now, page)
			}
		})
	}
	wg.Wait()
	out := &assetSet{byPath: map[string]*asset{}, built: now, pubs: len(set.Publications())}
	for i, a := range held {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if a != nil {
			out.byPath[a.path] = a
		}
	}
	return out, nil
}

// holdOutput makes the asset of one output of set, whose bytes are body,
// with its page when it is an RSS or Atom feed.
func holdOutput(set *feed.Set, o feed.Output, body []byte, prev *assetSet, now time.Time, page func(feed.Listing) ([]byte, error)) (*asset, error) {
	a := newAsset("/"+strings.TrimPrefix(o.Path, "/"), body, o.MediaType+"; charset=utf-8")
	a.format, a.name = o.Format, assetName(o)
	old := prev.get(a.path)
	// A file seen unchanged keeps its date; a new or changed one, and every
	// file of the first build, dates from now. Not from its newest
	// publication: a process before a restart may have served other bytes
	// with a later date (a rebuild's, after an edit that changed no
	// publication date), and a client sending only If-Modified-Since would
	// get a wrong 304. Every date served before is at most the time of
	// that process's builds, so now is never earlier. The cost: after a
	// restart, such clients fetch each feed once more.
	a.dateFrom(old, now)
	l, ok := set.Listing(o.Path)
	if !ok {
		return a, nil
	}
	html, err := page(l)
	if err != nil {
		return nil, err
	}
	a.page = newAsset(a.path, html, pageType)
	var oldPage *asset
	if old != nil {
		oldPage = old.page
	}
	a.page.dateFrom(oldPage, now)
	return a, nil
}

func (s *assetSet) get(path string) *asset {
	if s == nil {
		return nil
	}
	return s.byPath[path]
}

func assetName(o feed.Output) string {
	switch o.Kind {
	case "tag", "type":
		return o.Kind + ":" + o.Key
	case "site":
		return "site"
	}
	return o.Format
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	if buf.Len() >= len(b) {
		return nil
	}
	return buf.Bytes()
}

// serveAsset answers GET and HEAD for one feed file: 304 when the client's
// copy is current (If-None-Match first, else If-Modified-Since), gzip when
// accepted, CORS for JSON feeds.
//
// An RSS or Atom feed goes to a client that prefers text/html (a browser,
// see prefersPage) as its HTML page, to any other as the feed, and always
// with Vary: Accept. Each variant has its own ETags (of its own bytes) and
// Last-Modified: a shared cache that holds both may revalidate with every
// ETag it has and then freshen and serve the stored response whose ETag
// the 304 names (RFC 9111 §4.3.1, §4.3.4), so a shared ETag could hand the
// feed to a browser, or the page to a feed reader.
func serveAsset(w http.ResponseWriter, r *http.Request, a *asset, maxAge time.Duration) (status int) {
	h := w.Header()
	vary := "Accept-Encoding"
	if a.page != nil {
		vary = "Accept-Encoding, Accept"
		if feedType, _, _ := strings.Cut(a.contentType, ";"); prefersPage(r, feedType) {
			a = a.page
		} else {
			// The feed's own bytes keep the policy that lets feed.xsl's
			// inline style work, for a client that applies it.
			h.Set("Content-Security-Policy", feedCSP)
		}
	}
	useGz := a.gz != nil && acceptsGzip(r)
	etag, body := a.etag, a.body
	if useGz {
		etag, body = a.etagGz, a.gz
	}
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", etag)
	h.Set("Last-Modified", a.modified.Format(http.TimeFormat))
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(maxAge.Seconds())))
	h.Add("Vary", vary)
	if a.format == feed.FormatJSON {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	if notModified(r, etag, a.etag, a.modified) {
		for _, k := range []string{"Content-Type", "Content-Length"} {
			h.Del(k)
		}
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	if useGz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return http.StatusOK
}

// notModified evaluates the conditional headers of RFC 9110 §13: when
// If-None-Match is present, If-Modified-Since is ignored. Either ETag of the
// variant served (identity or gzip) matches, since both stand for the same
// content.
func notModified(r *http.Request, current, identity string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == current || t == identity {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !modified.After(t)
	}
	return false
}

// acceptsGzip reports whether the request's Accept-Encoding accepts gzip
// (RFC 9110 §12.5.3): the weight of a "gzip" (or "x-gzip") entry, else that
// of "*", must be above zero; with neither, or no header, the answer is no.
// An entry whose weight does not parse counts for nothing.
func acceptsGzip(r *http.Request) bool {
	gzipQ, anyQ := -1, -1
	for _, line := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(line, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q, ok := weight(params)
			if !ok {
				continue
			}
			switch coding = strings.ToLower(strings.TrimSpace(coding)); {
			case (coding == "gzip" || coding == "x-gzip") && gzipQ < 0:
				gzipQ = q
			case coding == "*" && anyQ < 0:
				anyQ = q
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return anyQ > 0
}

// prefersPage reports whether the request's Accept header (RFC 9110
// §12.5.1) weighs text/html above feedType, the feed's own media type, and
// above the generic XML types: a browser, which then gets the feed's
// page. Browsers send "text/html,…,application/xml;q=0.9,*/*;q=0.8"; feed
// readers name feed or XML types, or "*/*", or send no Accept at all, and
// a tie goes to the feed, so they keep getting its media type.
func prefersPage(r *http.Request, feedType string) bool {
	accept := r.Header.Values("Accept")
	html := acceptWeight(accept, "text/html")
	if html <= 0 {
		return false
	}
	for _, t := range []string{feedType, "application/xml", "text/xml"} {
		if acceptWeight(accept, t) >= html {
			return false
		}
	}
	return true
}

// acceptWeight is the weight in thousandths that the lines of an Accept
// header give mediaType (lower case, no parameters): that of the most
// specific range matching it, "type/subtype" before "type/*" before
// "*/*", the highest when several are as specific; 0 when none matches. An
// entry whose weight does not parse counts for nothing; media type
// parameters are ignored, as the feeds come in one variant of each type.
func acceptWeight(lines []string, mediaType string) int {
	mainType, _, _ := strings.Cut(mediaType, "/")
	best, q := -1, 0
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ",") {
			rng, params, _ := strings.Cut(part, ";")
			rng = strings.TrimSpace(rng)
			var level int
			switch {
			case strings.EqualFold(rng, mediaType):
				level = 2
			case rng == "*/*":
				level = 0
			case len(rng) == len(mainType)+2 && strings.EqualFold(rng[:len(mainType)], mainType) && rng[len(mainType):] == "/*":
				level = 1
			default:
				continue
			}
			w, ok := weight(params)
			if !ok || level < best || (level == best && w <= q) {
				continue
			}
			best, q = level, w
		}
	}
	return q
}

// weight reads the parameters of one element of an Accept-* header
// (";q=0.5") and returns its weight in thousandths: 1000 when there is no
// q, false when q is not a qvalue.
func weight(params string) (int, bool) {
	q := 1000
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		var ok bool
		if q, ok = parseQValue(strings.TrimSpace(v)); !ok {
			return 0, false
		}
	}
	return q, true
}

// parseQValue reads a qvalue of RFC 9110 §12.4.2 in thousandths:
// ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ).
func parseQValue(s string) (int, bool) {
	if s == "" || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	whole := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return whole, true
	}
	frac := s[2:]
	if s[1] != '.' || len(frac) > 3 {
		return 0, false
	}
	n := 0
	for i := range 3 {
		d := 0
		if i < len(frac) {
			if frac[i] < '0' || frac[i] > '9' {
				return 0, false
			}
			d = int(frac[i] - '0')
		}
		n = n*10 + d
	}
	if whole == 1000 && n != 0 {
		return 0, false
	}
	return whole + n, true
}
