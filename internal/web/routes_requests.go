package web

// requestRoutes registers the requests pages and API routes.
func (s *Server) requestRoutes() {}
