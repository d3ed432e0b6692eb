package server

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ecoresponsable/bulletin/publication"
	"github.com/ecoresponsable/bulletin/templates"
)

// pageRoutes registers the subscription pages and the digest archive. The
// archive needs only the store; the pages that carry signed links need the
// signer, and subscribing needs the mailer and renderer too: without them
// those routes do not exist (and a warning says why).
func (s *Server) pageRoutes(mux *http.ServeMux) {
	p := s.pages
	mux.HandleFunc("GET /digests/{$}", p.handleArchive)
	mux.HandleFunc("GET /digests", func(w http.ResponseWriter, r *http.Request) {
		// A fixed target: nothing of the request goes into it.
		http.Redirect(w, r, p.base+"digests/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /digests/{id}", p.handleDigest)
	mux.HandleFunc("GET /digests/feed.xml", p.handleArchiveFeed)
	if s.opts.Signer == nil {
		s.log.Warn("no token signer: the subscription pages are disabled")
		return
	}
	mux.HandleFunc("GET /confirm", p.handleConfirmForm)
	mux.HandleFunc("POST /confirm", p.handleConfirm)
	mux.HandleFunc("GET /unsubscribe", p.handleUnsubscribeForm)
	mux.HandleFunc("POST /unsubscribe", p.handleUnsubscribe)
	mux.HandleFunc("GET /preferences", p.handlePreferences)
	mux.HandleFunc("POST /preferences", p.handlePreferences)
	if !p.canSubscribe {
		s.log.Warn("no mailer, digest renderer or public URL: subscribing is disabled")
		return
	}
	mux.HandleFunc("GET /subscribe", p.handleSubscribeForm)
	mux.HandleFunc("POST /subscribe", p.handleSubscribe)
}

// pages holds what the pages share (the feeds' pages for browsers, the
// subscription pages, the archive): settings worked out once, the
// stylesheet, the rate limiter and the archive cache.
type pages struct {
	s            *Server
	tpl          *templates.Set
	publicURL    string // with a trailing slash; "" when unknown (links are then relative)
	base         string // the path bulletin's pages live under, from PublicURL: "/" or "/lettre/"
	siteURL      string
	siteTitle    string
	lang         string // the default language
	loc          *time.Location
	secure       bool // PublicURL is https: the CSRF cookie is Secure
	canSubscribe bool
	hasArchive   bool               // the digest archive is served (there is a store)
	labels       publication.Labels // the names shown for tags, those of the feeds
	css          *asset
	cssURL       string
	limiter      *rateLimiter
	archive      archiveCache
}

func newPages(s *Server) (*pages, error) {
	o := s.opts
	tpl := o.Templates
	if tpl == nil {
		var err error
		if tpl, err = templates.Load(""); err != nil {
			return nil, err
		}
	}
	p := &pages{
		s:         s,
		tpl:       tpl,
		base:      "/",
		siteTitle: o.SiteTitle,
		lang:      templates.Lang(cmp.Or(o.Lang, o.Feeds.Language)),
		loc:       o.Location,
		limiter:   newRateLimiter(o.SubscribeRate, maxRateKeys),
		labels:    o.Feeds.Labels,
	}
	if p.loc == nil {
		p.loc = time.UTC
	}
	if p.siteTitle == "" {
		p.siteTitle = o.Feeds.SiteTitle
	}
	if u, err := url.Parse(strings.TrimSpace(o.PublicURL)); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
		u.RawQuery, u.Fragment = "", ""
		u.Path = strings.TrimSuffix(u.Path, "/") + "/"
		p.publicURL = u.String()
		p.base = u.EscapedPath()
		p.secure = u.Scheme == "https"
	}
	// The confirmation link must point at PublicURL: never at the Host a
	// request claims, which anyone can set.
	p.canSubscribe = o.Store != nil && o.Signer != nil && o.Mailer != nil && o.Renderer != nil && p.publicURL != ""
	p.hasArchive = o.Store != nil
	p.siteURL = o.Feeds.SiteURL
	if p.siteURL == "" {
		p.siteURL = p.base
	}
	body := tpl.Stylesheet()
	sum := sha256.Sum256(body)
	p.css = newAsset("/assets/bulletin.css", body, "text/css; charset=utf-8")
	p.css.modified, p.css.format, p.css.name = s.now().UTC().Truncate(time.Second), "css", "css"
	// The version in the URL changes with the content, so browsers may
	// keep the file long.
	p.cssURL = p.base + "assets/bulletin.css?v=" + hex.EncodeToString(sum[:4])
	return p, nil
}

// handleStylesheet serves pages/bulletin.css with validators and gzip.
func (p *pages) handleStylesheet(w http.ResponseWriter, r *http.Request) {
	serveAsset(w, r, p.css, 7*24*time.Hour)
}

// page is what every page template receives (see
// templates/pages/_layout.html.tmpl); Data is the page's own.
type page struct {
	Lang      string // "fr" or "en"
	Title     string
	HeadTitle string // the document's <title>, when not "Title – SiteTitle"
	SiteTitle string
	SiteURL   string
	Base      string // the path bulletin's pages live under, with a trailing slash
	CSS       string
	FeedURL   string // the archive's Atom feed, announced in <head> when set
	// AltLang and AltURL offer this page in the other language ("" = no
	// switch, e.g. on the answer to a POST).
	AltLang, AltURL string
	CanSubscribe    bool
	Archive         bool // the digest archive exists (the footer links to it)
	NoIndex         bool // pages reached with a token, or answering a form
	Data            any
}

// newPage fills the frame of a page in lang; titleKey names its title.
func (p *pages) newPage(lang, titleKey string, data any) *page {
	return &page{
		Lang: lang, Title: templates.T(lang, titleKey), SiteTitle: p.siteTitle, SiteURL: p.siteURL,
		Base: p.base, CSS: p.cssURL, CanSubscribe: p.canSubscribe, Archive: p.hasArchive, NoIndex: true, Data: data,
	}
}

// withSwitch offers the page in the other language: the same path and
// query with lang replaced. Only the query parameters a page uses (token)
// are kept, so the link never carries anything else from the request.
func (p *pages) withSwitch(pg *page, r *http.Request) *page {
	alt := otherLang(pg.Lang)
	q := url.Values{"lang": {alt}}
	if tok := r.URL.Query().Get("token"); tok != "" {
		q.Set("token", tok)
	}
	pg.AltLang = alt
	pg.AltURL = p.base + strings.TrimPrefix(r.URL.Path, "/") + "?" + q.Encode()
	return pg
}

// otherLang is the language of the strings that is not lang: "fr" for
// "en", else "en".
func otherLang(lang string) string {
	if lang == "en" {
		return "fr"
	}
	return "en"
}

// render writes a page with status, after running its template into a
// buffer, so that a failing template gives a clean 500. Pages are not cached
// unless the caller set Cache-Control.
func (p *pages) render(w http.ResponseWriter, status int, name string, pg *page) {
	var buf bytes.Buffer
	if err := p.tpl.HTML(&buf, "pages/"+name, pg); err != nil {
		p.s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	h.Add("Vary", "Accept-Language")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorData is what pages/error.html.tmpl receives.
type errorData struct {
	Message  string
	LinkURL  string
	LinkText string
}

// fail answers with the error page: titleKey and messageKey name its
// strings; a link back to the subscription form or the archive follows.
func (p *pages) fail(w http.ResponseWriter, r *http.Request, status int, titleKey, messageKey string) {
	lang := p.pageLang(r)
	d := errorData{Message: templates.T(lang, messageKey)}
	switch {
	case status == http.StatusNotFound:
		d.LinkURL, d.LinkText = p.base+"digests/?lang="+lang, templates.T(lang, "error.back_archive")
	case p.canSubscribe:
		d.LinkURL, d.LinkText = p.base+"subscribe?lang="+lang, templates.T(lang, "error.back_form")
	}
	p.render(w, status, "error", p.newPage(lang, titleKey, d))
}

// badLink is the answer to every token that does not verify: the same page
// whatever the reason (forged, expired, wrong purpose, unknown subscriber).
func (p *pages) badLink(w http.ResponseWriter, r *http.Request) {
	p.fail(w, r, http.StatusBadRequest, "error.link_title", "error.link")
}

func (p *pages) notFound(w http.ResponseWriter, r *http.Request) {
	p.fail(w, r, http.StatusNotFound, "error.notfound_title", "error.notfound")
}

func (p *pages) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	p.s.log.Error(what, "path", r.URL.Path, "err", err)
	p.fail(w, r, http.StatusInternalServerError, "error.server_title", "error.server")
}

// pageLang chooses the language of a page: ?lang=fr|en, else the
// preferred of French and English in Accept-Language, else the site's.
func (p *pages) pageLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "fr" || l == "en" {
		return l
	}
	if l := acceptLanguage(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return p.lang
}

// acceptLanguage returns "fr" or "en", whichever Accept-Language prefers
// (by q, then by order), or "" when it names neither.
func acceptLanguage(h string) string {
	best, bestQ := "", 0
	for i, part := range strings.Split(h, ",") {
		if i >= 32 { // a header is short; ignore the rest of a long one
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if primary != "fr" && primary != "en" {
			continue
		}
		q, ok := weight(params) // in thousandths (assets.go)
		if !ok {
			q = 0
		}
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// link is the absolute URL of one of bulletin's pages (path without the
// leading slash) when PublicURL is known, else a path under base.
func (p *pages) link(path string) string {
	if p.publicURL != "" {
		return p.publicURL + path
	}
	return p.base + path
}
