package web

// realtimeRoutes registers the realtime pages and API routes.
func (s *Server) realtimeRoutes() {}
