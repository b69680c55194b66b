package web

// requestRoutes registers the request room's pages, JSON API and the
// Open311 GeoReport v2 endpoints. The geo index arrives with the server's
// dependencies, so it is handed to the request service here for routing
// by GPS.
func (s *Server) requestRoutes() {
	if s.requests == nil {
		return
	}
	if s.geo != nil {
		s.requests.SetLocator(s.geo)
	}
	s.api("GET", "/request-types", s.apiRequestTypes)
	s.api("POST", "/request-types", s.apiRequestTypeSave)
	s.api("GET", "/request-calendar", s.apiRequestCalendar)
	s.api("PUT", "/request-calendar", s.apiRequestCalendarSave)
	s.api("GET", "/requests/route", s.apiRequestRoute)
	s.api("GET", "/requests/nearby", s.apiRequestNearby)
	s.api("GET", "/requests", s.apiRequestPublicList)
	s.api("POST", "/requests", s.apiRequestCreate)
	s.api("GET", "/requests/queue", s.apiRequestQueue)
	s.api("GET", "/requests/queue/export", s.apiRequestExport)
	s.api("POST", "/requests/queue/assign", s.apiRequestBulkAssign)
	s.api("GET", "/requests/mine", s.apiRequestMine)
	s.api("GET", "/requests/{id}", apiByID(s, s.requests.Get))
	s.api("GET", "/requests/{id}/timeline", s.apiRequestTimeline)
	s.api("POST", "/requests/{id}/actions", s.apiRequestAction)
	s.api("POST", "/requests/{id}/confirm", apiByID(s, s.requests.Confirm))
	s.api("POST", "/requests/{id}/reopen", s.apiRequestReopen)
	s.api("POST", "/requests/{id}/rating", s.apiRequestRate)
	s.api("PUT", "/requests/{id}/follow", s.apiRequestFollow)
	s.api("DELETE", "/requests/{id}/follow", s.apiRequestUnfollow)
	s.api("GET", "/units/{id}/request-stats", s.apiRequestStats)
	s.api("GET", "/me/request-notifications", s.apiRequestNotifications)
	s.api("GET", "/open311-keys", s.apiOpen311Keys)
	s.api("POST", "/open311-keys", s.apiOpen311KeyCreate)
	s.api("DELETE", "/open311-keys/{id}", apiByIDNoContent(s, s.requests.RevokeAPIKey))

	s.open311Routes()
	s.requestMapRoutes() // request_map.go: map, statistics page, outlines
	s.requestPageRoutes()
	s.requestAdminRoutes()
	s.requestNotifyRoutes() // request_admin_pages.go, request_notify_pages.go
}
