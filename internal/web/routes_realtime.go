package web

import (
	"context"
	"strconv"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
)

// realtimeRoutes registers /events and makes the topic registry; it runs
// before the other rooms' routes, which add their authorizers to it.
func (s *Server) realtimeRoutes() {
	s.topicAuth = map[string]TopicAuthorizer{
		"group": func(ctx context.Context, p *account.Principal, id string) error {
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil || s.groups == nil {
				return apperr.NotFoundf("nhóm", "Group")
			}
			return s.groups.CanSubscribe(ctx, p, n)
		},
	}
	s.handle("GET /events", s.events)
}
