package web_test

// The request room's rows of the permission matrix (api_permission_test.go):
// who may do what, written from the allowed map in
// internal/account/permission.go.

import (
	"fmt"
	"net/http"
	"testing"
)

const (
	aHandle    = "requests.handle"
	aReqExport = "requests.export"
	aReqAdmin  = "requests.admin"
)

func init() {
	for role, acts := range map[string][]string{
		"group_head":         {aHandle},
		"neighbourhood_head": {aHandle},
		"police":             {aHandle, aReqExport},
		"health_staff":       {aHandle},
		"commune_official":   {aHandle, aReqExport},
		"commune_leader":     {aHandle, aReqExport},
		"admin":              {aHandle, aReqExport, aReqAdmin},
	} {
		mayDo[role] = append(mayDo[role], acts...)
	}
	for route, c := range requestMatrix {
		matrix[route] = c
	}
}

// newRequestIn files a public request in the place's household unit, on
// behalf of a caller with a phone number, as the administrator.
func (e *env) newRequestIn(t *testing.T, fx *fixture, place string) int64 {
	t.Helper()
	j := e.must(t, http.StatusCreated, "POST", "/requests", e.token(t, phoneAdmin), map[string]any{
		"type": "gop_y_khac", "description": fmt.Sprintf("Góp ý thử nghiệm số %d về vỉa hè.", e.next()), "unit_id": fx.hhUnit[place],
		"on_behalf": true, "reporter_name": "Bà Năm", "reporter_phone": "0912000111", "public": true,
	})
	return j.num("id")
}

var requestMatrix = map[string]func(m matrixCtx) mcase{
	"GET /api/v1/request-types": func(m matrixCtx) mcase { return mcase{path: "/request-types", allowed: true} },
	"POST /api/v1/request-types": func(m matrixCtx) mcase {
		return mcase{path: "/request-types", body: map[string]any{"code": fmt.Sprintf("thu_%d", m.e.next()), "name": "Loại thử nghiệm", "org_kind": "ward_office",
			"ack_hours": 8, "resolve_hours": 16, "urgent_ack_hours": 2, "urgent_resolve_hours": 8, "active": false}, allowed: m.a.canAnywhere(aReqAdmin)}
	},
	"GET /api/v1/request-calendar": func(m matrixCtx) mcase { return mcase{path: "/request-calendar", allowed: true} },
	"PUT /api/v1/request-calendar": func(m matrixCtx) mcase {
		day := []string{"07:30-11:30", "13:00-17:00"}
		return mcase{path: "/request-calendar", body: map[string]any{"hours": map[string]any{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}},
			allowed: m.a.canAnywhere(aReqAdmin)}
	},
	"GET /api/v1/request-territory": func(m matrixCtx) mcase { return mcase{path: "/request-territory", allowed: true} },
	"PUT /api/v1/request-territory": func(m matrixCtx) mcase {
		// Everywhere, as the other tests expect.
		return mcase{path: "/request-territory", body: map[string]any{"codes": []string{}}, allowed: m.a.canAnywhere(aReqAdmin)}
	},
	"GET /api/v1/requests/route": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/requests/route?type=gop_y_khac&unit_id=%d", m.fx.hhUnit[m.hh]), allowed: true}
	},
	"GET /api/v1/requests/nearby": func(m matrixCtx) mcase {
		pt := m.fx.point[m.hh]
		return mcase{path: fmt.Sprintf("/requests/nearby?type=ha_tang&lat=%f&lon=%f", pt[0], pt[1]), allowed: true}
	},
	"GET /api/v1/requests": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/requests?unit_id=%d", m.fx.container[m.hh]), allowed: true}
	},
	"POST /api/v1/requests": func(m matrixCtx) mcase {
		return mcase{path: "/requests", body: map[string]any{"type": "gop_y_khac", "description": "Người dân gọi điện góp ý về giờ tiếp dân.",
			"unit_id": m.fx.hhUnit[m.hh], "on_behalf": true, "reporter_name": "Ông Sáu"}, allowed: m.a.can(aHandle, m.hh)}
	},
	"GET /api/v1/requests/queue": func(m matrixCtx) mcase {
		m.e.newRequestIn(m.t, m.fx, m.hh)
		return mcase{path: fmt.Sprintf("/requests/queue?unit_id=%d", m.fx.hhUnit[m.hh]), allowed: m.a.can(aHandle, m.hh)}
	},
	"GET /api/v1/requests/queue/export": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/requests/queue/export?unit_id=%d", m.fx.hhUnit[m.hh]), allowed: m.a.can(aReqExport, m.hh) && m.a.can(aHandle, m.hh)}
	},
	"POST /api/v1/requests/queue/assign": func(m matrixCtx) mcase {
		id := m.e.newRequestIn(m.t, m.fx, m.hh)
		return mcase{path: "/requests/queue/assign", body: map[string]any{"ids": []int64{id}, "assignee_id": m.fx.admin.AccountID}, allowed: m.a.can(aHandle, m.hh)}
	},
	"GET /api/v1/requests/mine": func(m matrixCtx) mcase { return mcase{path: "/requests/mine", allowed: m.a.phone != ""} },
	"GET /api/v1/requests/{id}": func(m matrixCtx) mcase {
		id := m.e.newRequestIn(m.t, m.fx, m.hh)
		return mcase{path: fmt.Sprintf("/requests/%d", id), allowed: true, phonesOK: m.a.can(aHandle, m.hh)}
	},
	"GET /api/v1/requests/{id}/timeline": func(m matrixCtx) mcase {
		id := m.e.newRequestIn(m.t, m.fx, m.hh)
		return mcase{path: fmt.Sprintf("/requests/%d/timeline", id), allowed: true}
	},
	"POST /api/v1/requests/{id}/actions": func(m matrixCtx) mcase {
		id := m.e.newRequestIn(m.t, m.fx, m.hh)
		return mcase{path: fmt.Sprintf("/requests/%d/actions", id), body: map[string]any{"action": "note", "body": "Ghi chú nội bộ."}, allowed: m.a.can(aHandle, m.hh),
			phonesOK: m.a.can(aHandle, m.hh)}
	},
	// Only the reporter confirms, reopens and rates: nobody in the matrix filed these.
	"POST /api/v1/requests/{id}/confirm": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/requests/%d/confirm", m.e.newRequestIn(m.t, m.fx, m.hh))}
	},
	"POST /api/v1/requests/{id}/reopen": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/requests/%d/reopen", m.e.newRequestIn(m.t, m.fx, m.hh)), body: map[string]string{"reason": "Chưa xử lý xong."}}
	},
	"POST /api/v1/requests/{id}/rating": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/requests/%d/rating", m.e.newRequestIn(m.t, m.fx, m.hh)), body: map[string]any{"rating": 5}}
	},
	"PUT /api/v1/requests/{id}/follow": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/requests/%d/follow", m.e.newRequestIn(m.t, m.fx, m.hh)), allowed: m.a.phone != "", phonesOK: m.a.can(aHandle, m.hh)}
	},
	"DELETE /api/v1/requests/{id}/follow": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/requests/%d/follow", m.e.newRequestIn(m.t, m.fx, m.hh)), allowed: m.a.phone != "", phonesOK: m.a.can(aHandle, m.hh)}
	},
	"GET /api/v1/units/{id}/request-stats": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/units/%d/request-stats", m.fx.container[m.hh]), allowed: true}
	},
	"GET /api/v1/requests/map": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/requests/map?unit_id=%d", m.fx.container[m.hh]), allowed: true}
	},
	"GET /api/v1/units/{id}/boundary": func(m matrixCtx) mcase {
		m.e.storeDemoBoundaries(m.t)
		return mcase{path: fmt.Sprintf("/units/%d/boundary", m.fx.hhUnit[m.hh]), allowed: true}
	},
	"GET /api/v1/map/settings": func(m matrixCtx) mcase { return mcase{path: "/map/settings", allowed: true} },
	"GET /api/v1/me/request-notifications": func(m matrixCtx) mcase {
		return mcase{path: "/me/request-notifications", allowed: m.a.phone != ""}
	},
	"POST /api/v1/me/request-notifications/read": func(m matrixCtx) mcase {
		return mcase{path: "/me/request-notifications/read", body: map[string]any{"ids": []int64{}}, allowed: m.a.phone != ""}
	},
	"GET /api/v1/open311-keys": func(m matrixCtx) mcase { return mcase{path: "/open311-keys", allowed: m.a.canAnywhere(aReqAdmin)} },
	"POST /api/v1/open311-keys": func(m matrixCtx) mcase {
		return mcase{path: "/open311-keys", body: map[string]string{"name": "Cổng 1022"}, allowed: m.a.canAnywhere(aReqAdmin)}
	},
	"DELETE /api/v1/open311-keys/{id}": func(m matrixCtx) mcase {
		k := m.e.must(m.t, http.StatusCreated, "POST", "/open311-keys", m.e.token(m.t, phoneAdmin), map[string]string{"name": "Khoá để thu hồi"})
		return mcase{path: fmt.Sprintf("/open311-keys/%d", k.num("id")), allowed: m.a.canAnywhere(aReqAdmin)}
	},
}
