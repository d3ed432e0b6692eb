package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// maxBody bounds every request body (forms, admin calls).
const maxBody = 64 << 10

// Content-Security-Policy headers: siteCSP for every response but the RSS
// and Atom feeds' own bytes, which get feedCSP. Browsers get a page
// rendered by the server instead (see serveAsset), under siteCSP; a client
// that gets the feed and applies its feed.xsl needs the stylesheet's inline
// <style>, and Chromium checks the load of the xml-stylesheet against
// script-src, which 'self' allows.
const (
	siteCSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
	feedCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
)

// routes builds the handler: every route behind the security headers, the
// body limit, the access log and the metrics.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /", s.handleAsset)
	// The pages' stylesheet: the feeds' pages link to it too.
	mux.HandleFunc("GET /assets/bulletin.css", s.pages.handleStylesheet)
	if s.opts.Store != nil {
		s.pageRoutes(mux)  // pages.go, archive.go: subscription pages and the digest archive
		s.adminRoutes(mux) // admin.go: the editors' API, when an admin token is set
	}
	return s.middleware(mux)
}

// handleAsset serves the feed files (and OPML, XSL), and the feeds' pages
// for browsers, from memory.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) {
	a := s.assets.Load().get(r.URL.Path)
	if a == nil {
		http.NotFound(w, r)
		return
	}
	status := serveAsset(w, r, a, s.opts.CacheMaxAge)
	label := a.name // "opml", "xsl"
	if a.name != a.format {
		label += " " + a.format // "site rss", "tag:x atom"
	}
	s.metrics.feeds.WithLabelValues(label, strconv.Itoa(status)).Inc()
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	a := s.assets.Load()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, "ok\nfeeds built %s, %d files, %d publications\n", a.built.UTC().Format(time.RFC3339), len(a.byPath), a.pubs)
}

// statusWriter remembers the status code a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// middleware adds the security headers every response carries, bounds the
// request body, logs, counts and recovers.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h := w.Header()
		h.Set("Content-Security-Policy", siteCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic", "path", r.URL.Path, "panic", v)
				if sw.status == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}
