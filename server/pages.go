package server

import "net/http"

// pageRoutes registers the subscription pages and the digest archive.
func (s *Server) pageRoutes(mux *http.ServeMux) {}
