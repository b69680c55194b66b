package web

// groupRoutes registers the group room's pages and JSON API.
func (s *Server) groupRoutes() {
	if s.groups == nil {
		return
	}
	s.groupAPIRoutes()
	s.groupPageRoutes()
}
