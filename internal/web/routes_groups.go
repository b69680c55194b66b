package web

// groupRoutes registers the groups pages and API routes.
func (s *Server) groupRoutes() {}
