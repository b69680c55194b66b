package web

// noticeRoutes registers the notices pages and API routes.
func (s *Server) noticeRoutes() {}
