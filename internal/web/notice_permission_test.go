package web_test

// The notice room's rows of the permission matrix (api_permission_test.go),
// written from the allowed map in internal/account/permission.go.

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/trothu/trothu/internal/notify"
)

const (
	aSend  = "notices.send"
	aReach = "notices.reach"
	aProxy = "notices.proxy_ack"
)

func init() {
	for role, acts := range map[string][]string{
		"volunteer":          {aProxy},
		"group_head":         {aSend, aReach, aProxy},
		"neighbourhood_head": {aSend, aReach, aProxy},
		"police":             {aReach, aProxy},
		"health_staff":       {aReach},
		"commune_official":   {aSend, aReach, aProxy},
		"commune_leader":     {aSend, aReach, aProxy},
		"admin":              {aSend, aReach, aProxy},
	} {
		mayDo[role] = append(mayDo[role], acts...)
	}
	for route, c := range noticeMatrix {
		matrix[route] = c
	}
}

// noticeFx holds, per environment, a notice to each place's household unit
// and to the unit above it, sent by the administrator.
type noticeFx struct {
	once     sync.Once
	atHH     map[string]int64
	atBox    map[string]int64
	endpoint *notify.TestEndpoint
}

var (
	noticeFxMu sync.Mutex
	noticeFxs  = map[*env]*noticeFx{}
)

// newNotice sends a notice to unitID as the administrator and returns its id.
func (e *env) newNotice(t *testing.T, unitID int64, extra map[string]any) int64 {
	t.Helper()
	body := map[string]any{"unit_id": unitID, "title": fmt.Sprintf("Thông báo thử %d", e.next()), "body": "Nội dung thông báo thử nghiệm."}
	for k, v := range extra {
		body[k] = v
	}
	return e.must(t, http.StatusCreated, "POST", "/notices", e.token(t, phoneAdmin), body).num("id")
}

func (e *env) noticeFixture(t *testing.T, fx *fixture) *noticeFx {
	t.Helper()
	noticeFxMu.Lock()
	nf := noticeFxs[e]
	if nf == nil {
		nf = &noticeFx{}
		noticeFxs[e] = nf
	}
	noticeFxMu.Unlock()
	nf.once.Do(func() {
		nf.atHH, nf.atBox = map[string]int64{}, map[string]int64{}
		for _, tg := range targets {
			nf.atHH[tg.hhPlace] = e.newNotice(t, fx.hhUnit[tg.hhPlace], nil)
			nf.atBox[tg.hhPlace] = e.newNotice(t, fx.container[tg.hhPlace], nil)
		}
		ep, err := notify.NewTestEndpoint()
		if err != nil {
			t.Fatal(err)
		}
		shared.Cleanup(ep.Close)
		nf.endpoint = ep
	})
	if nf.atHH == nil || len(nf.atHH) != len(targets) {
		t.Fatal("notice fixture: its setup failed in an earlier test")
	}
	return nf
}

// pdfUpload returns a multipart body with a small PDF in the field file.
func pdfUpload(t *testing.T) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	f, err := mw.CreateFormFile("file", "lich-tiem-chung.pdf")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// residentHere reports whether the actor is a resident living in place.
func residentHere(m matrixCtx) bool {
	return m.a.role == "resident" && slices.Contains(m.a.covers, m.hh)
}

var noticeMatrix = map[string]func(m matrixCtx) mcase{
	"POST /api/v1/notices": func(m matrixCtx) mcase {
		return mcase{path: "/notices", body: map[string]any{"unit_id": m.fx.hhUnit[m.hh], "title": "Họp tổ", "body": "Họp tổ tối thứ Bảy."}, allowed: m.a.can(aSend, m.hh)}
	},
	"POST /api/v1/notices/preview": func(m matrixCtx) mcase {
		return mcase{path: "/notices/preview", body: map[string]any{"unit_id": m.fx.hhUnit[m.hh]}, allowed: m.a.can(aSend, m.hh)}
	},
	"GET /api/v1/notices":       func(m matrixCtx) mcase { return mcase{path: "/notices", allowed: m.a.phone != ""} },
	"GET /api/v1/notices/inbox": func(m matrixCtx) mcase { return mcase{path: "/notices/inbox", allowed: m.a.phone != ""} },
	"GET /api/v1/notices/{id}": func(m matrixCtx) mcase {
		nf := m.e.noticeFixture(m.t, m.fx)
		return mcase{path: fmt.Sprintf("/notices/%d", nf.atHH[m.hh]), allowed: m.a.can(aReach, m.hh) || residentHere(m), denied: http.StatusNotFound}
	},
	"POST /api/v1/notices/{id}/ack": func(m matrixCtx) mcase {
		nf := m.e.noticeFixture(m.t, m.fx)
		return mcase{path: fmt.Sprintf("/notices/%d/ack", nf.atHH[m.hh]), allowed: residentHere(m), denied: http.StatusNotFound}
	},
	"POST /api/v1/notices/{id}/households/{hid}/ack": func(m matrixCtx) mcase {
		id := m.e.newNotice(m.t, m.fx.hhUnit[m.hh], nil) // fresh: a household acknowledges once
		return mcase{path: fmt.Sprintf("/notices/%d/households/%d/ack", id, m.fx.readHH[m.hh]), body: map[string]string{"note": "Đã đến nhà"}, allowed: m.a.can(aProxy, m.hh)}
	},
	"POST /api/v1/notices/{id}/notes": func(m matrixCtx) mcase {
		nf := m.e.noticeFixture(m.t, m.fx)
		return mcase{path: fmt.Sprintf("/notices/%d/notes", nf.atBox[m.hh]), body: map[string]any{"unit_id": m.fx.hhUnit[m.hh], "body": "Ghi chú của tổ."},
			allowed: m.a.can(aSend, m.hh)}
	},
	"POST /api/v1/notices/{id}/attachments": func(m matrixCtx) mcase {
		nf := m.e.noticeFixture(m.t, m.fx)
		body, ct := pdfUpload(m.t)
		return mcase{path: fmt.Sprintf("/notices/%d/attachments", nf.atHH[m.hh]), body: body, contentType: ct, allowed: m.a.can(aSend, m.hh)}
	},
	"GET /api/v1/notices/{id}/reach": func(m matrixCtx) mcase {
		nf := m.e.noticeFixture(m.t, m.fx)
		return mcase{path: fmt.Sprintf("/notices/%d/reach", nf.atHH[m.hh]), allowed: m.a.can(aReach, m.hh)}
	},
	"GET /api/v1/notices/{id}/unreached": func(m matrixCtx) mcase {
		nf := m.e.noticeFixture(m.t, m.fx)
		return mcase{path: fmt.Sprintf("/notices/%d/unreached", nf.atHH[m.hh]), allowed: m.a.can(aReach, m.hh)}
	},
	"GET /api/v1/units/{id}/notice-history": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/units/%d/notice-history", m.fx.hhUnit[m.hh]), allowed: m.a.can(aReach, m.hh)}
	},
	"GET /api/v1/push/key": func(m matrixCtx) mcase { return mcase{path: "/push/key", allowed: true} },
	"POST /api/v1/push/subscriptions": func(m matrixCtx) mcase {
		sub := m.e.noticeFixture(m.t, m.fx).endpoint.Subscription()
		return mcase{path: "/push/subscriptions", body: map[string]any{"endpoint": sub.Endpoint, "keys": map[string]string{"p256dh": sub.P256dh, "auth": sub.Auth}},
			allowed: m.a.phone != ""}
	},
	"GET /api/v1/me/notify-prefs": func(m matrixCtx) mcase { return mcase{path: "/me/notify-prefs", allowed: m.a.phone != ""} },
	"PUT /api/v1/me/notify-prefs": func(m matrixCtx) mcase {
		return mcase{path: "/me/notify-prefs", body: map[string]any{"digest": false}, allowed: m.a.phone != ""}
	},
	"POST /api/v1/me/email": func(m matrixCtx) mcase {
		return mcase{path: "/me/email", body: map[string]any{"email": "can-bo@example.vn"}, allowed: m.a.phone != ""}
	},
}
