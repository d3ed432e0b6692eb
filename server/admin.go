package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ecoresponsable/bulletin/digest"
	"github.com/ecoresponsable/bulletin/store"
)

// adminRoutes registers the editors' API when an admin token is set; with
// none, the routes do not exist (404).
func (s *Server) adminRoutes(mux *http.ServeMux) {
	if s.opts.AdminToken == "" {
		return
	}
	mux.Handle("POST /admin/digests/preview", s.admin(s.handleAdminPreview))
	mux.Handle("POST /admin/digests/send", s.admin(s.handleAdminSend))
	mux.Handle("GET /admin/digests/{id}", s.admin(s.handleAdminDigest))
	mux.Handle("GET /admin/subscribers.csv", s.admin(s.handleAdminSubscribers))
}

// admin checks "Authorization: Bearer <token>" in constant time (both
// sides hashed first, so that the comparison does not leak the length).
func (s *Server) admin(next http.HandlerFunc) http.Handler {
	want := sha256.Sum256([]byte(s.opts.AdminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="bulletin admin"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong admin token"})
			return
		}
		next(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// handleAdminPreview returns the HTML of the digest that would go out now
// (a new one of what is new, else the oldest unfinished one), for a reader
// of every topic in the site's language; it changes nothing.
func (s *Server) handleAdminPreview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.now()
	site, err := s.opts.LoadSite(ctx, now)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	items, _, err := digest.Select(ctx, s.opts.Store, site.Publications, now, s.opts.Digest.FirstSince, s.opts.Digest.MaxItems)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	d := &store.Digest{Status: store.DigestSending, CreatedAt: now, Items: items}
	if len(items) == 0 {
		unfinished, err := s.opts.Store.Unfinished(ctx)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		if len(unfinished) == 0 {
			writeJSON(w, http.StatusOK, map[string]string{"status": "nothing-new"})
			return
		}
		d = &unfinished[0]
	}
	lang := s.opts.Lang
	if l := r.URL.Query().Get("lang"); l == "fr" || l == "en" {
		lang = l
	}
	html, _, _, err := s.opts.Renderer.Preview(*d, store.Subscriber{Email: "apercu@example.org", Lang: lang, Status: store.StatusActive})
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(html))
}

// handleAdminSend starts a send: 202 with the id of the first digest it
// sends (an unfinished one it resumes before a new one, or the new one),
// 200 when nothing is new, 409 when a send is already running (here or in
// the CLI).
func (s *Server) handleAdminSend(w http.ResponseWriter, r *http.Request) {
	id, err := s.startSend(s.sendContext(), "admin", sendDue, nil)
	switch {
	case errors.Is(err, errBusy):
		_, cur := s.sendRunning()
		writeJSON(w, http.StatusConflict, map[string]any{"error": "a digest is already being sent", "digest": cur})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	case id == 0:
		writeJSON(w, http.StatusOK, map[string]string{"status": "nothing-new"})
	default:
		w.Header().Set("Location", "/admin/digests/"+strconv.FormatInt(id, 10))
		writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "status": "sending"})
	}
}

// handleAdminDigest reports a digest's progress from the ledger.
func (s *Server) handleAdminDigest(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such digest"})
		return
	}
	d, err := s.opts.Store.GetDigest(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such digest"})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	running, cur := s.sendRunning()
	out := map[string]any{
		"id": d.ID, "status": string(d.Status), "subject": d.Subject,
		"created_at": d.CreatedAt.Format(time.RFC3339), "items": len(d.Items),
		"sent": d.Deliveries.Sent, "failed": d.Deliveries.Failed,
		"pending": d.Deliveries.Pending, "deferred": d.Deliveries.Deferred, "skipped": d.Deliveries.Skipped,
		"running": running && cur == d.ID,
	}
	if !d.FinishedAt.IsZero() {
		out["finished_at"] = d.FinishedAt.Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleAdminSubscribers exports every subscriber as CSV, the columns and
// cell protection of `bulletin subscribers export` (whose import reads this
// file back).
func (s *Server) handleAdminSubscribers(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="subscribers.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"email", "name", "lang", "topics", "status"})
	for sub, err := range s.opts.Store.Export(r.Context()) {
		if err != nil {
			s.log.Error("export subscribers", "err", err)
			break
		}
		_ = cw.Write(store.CSVRow(sub))
	}
	cw.Flush()
}
