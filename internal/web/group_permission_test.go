package web_test

// The group room's rows of the permission matrix (api_permission_test.go),
// written from the allowed map in internal/account/permission.go and the
// membership rules of internal/group: an automatic group is seen by those
// who live in its unit and by officials allowed groups.manage over it.

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/group"
)

const aGroups = "groups.manage"

func init() {
	for _, role := range []string{"group_head", "neighbourhood_head", "police", "commune_official", "commune_leader", "admin"} {
		mayDo[role] = append(mayDo[role], aGroups)
	}
	for route, c := range groupMatrix {
		matrix[route] = c
	}
}

// livesIn: where each demo actor's own unit is, so that the automatic
// group of that place counts them in.
var livesIn = map[string][]string{"group head": {pTo1}, "resident": {pTo1}, "resident of Sài Gòn": {pOther}}

func (a actor) seesGroup(place string) bool {
	return a.can(aGroups, place) || slices.Contains(livesIn[a.name], place)
}

// groupFx holds, per environment, an automatic group on each place's
// household unit, made by the administrator.
type groupFx struct {
	once  sync.Once
	group map[string]int64
	path  map[string]string
}

var (
	groupFxMu sync.Mutex
	groupFxs  = map[*env]*groupFx{}
)

func (m matrixCtx) gfx() *groupFx {
	groupFxMu.Lock()
	fx := groupFxs[m.e]
	if fx == nil {
		fx = &groupFx{group: map[string]int64{}, path: map[string]string{}}
		groupFxs[m.e] = fx
	}
	groupFxMu.Unlock()
	fx.once.Do(func() {
		for _, tg := range targets {
			fx.group[tg.hhPlace] = m.newGroup(tg.hhPlace, group.PolicyAuto)
			u, err := m.e.areas.Unit(context.Background(), m.fx.hhUnit[tg.hhPlace])
			if err != nil {
				m.t.Fatal(err)
			}
			fx.path[tg.hhPlace] = u.Path
		}
	})
	return fx
}

// newGroup makes a group on the place's household unit as the administrator.
func (m matrixCtx) newGroup(place string, policy group.JoinPolicy) int64 {
	g, err := m.e.app.Groups.Create(context.Background(), m.fx.admin, group.Input{UnitID: m.fx.hhUnit[place], Name: fmt.Sprintf("Nhóm thử %d", m.e.next()), JoinPolicy: policy})
	if err != nil {
		m.t.Fatalf("create group: %v", err)
	}
	return g.ID
}

// gid is the shared group of the case's place.
func (m matrixCtx) gid() int64 { return m.gfx().group[m.hh] }

// newMessage posts in the case's group as p (the administrator when nil).
func (m matrixCtx) newMessage(p *account.Principal) int64 {
	if p == nil {
		p = m.fx.admin
	}
	msg, err := m.e.app.Groups.Post(context.Background(), p, m.gid(), group.PostInput{Body: fmt.Sprintf("Tin thử %d", m.e.next())})
	if err != nil {
		m.t.Fatalf("post: %v", err)
	}
	return msg.ID
}

// ownMessage is a message of the actor when the actor may post, else of the
// administrator.
func (m matrixCtx) ownMessage() int64 {
	if m.a.phone != "" && m.a.seesGroup(m.hh) {
		return m.newMessage(m.e.principal(m.t, m.a.phone))
	}
	return m.newMessage(nil)
}

// newMember returns a fresh account that lives in the place and has joined
// its group.
func (m matrixCtx) newMember() *account.Principal {
	id := m.e.newAccount(m.t, account.RoleVolunteer, m.fx.hhUnit[m.hh])
	p := &account.Principal{AccountID: id, Name: "Thành viên thử", Grants: []account.Grant{{Role: account.RoleVolunteer, UnitID: m.fx.hhUnit[m.hh], UnitPath: m.gfx().path[m.hh]}}}
	if _, err := m.e.app.Groups.Join(context.Background(), p, m.gid()); err != nil {
		m.t.Fatalf("join: %v", err)
	}
	return p
}

func (m matrixCtx) newInvite(gid int64) group.Invite {
	inv, err := m.e.app.Groups.CreateInvite(context.Background(), m.fx.admin, gid, 0)
	if err != nil {
		m.t.Fatalf("invite: %v", err)
	}
	return inv
}

func gpath(gid int64, rest string) string { return fmt.Sprintf("/groups/%d%s", gid, rest) }

var groupMatrix = map[string]func(m matrixCtx) mcase{
	"GET /api/v1/groups": func(m matrixCtx) mcase { return mcase{path: "/groups", allowed: m.a.phone != ""} },
	"POST /api/v1/groups": func(m matrixCtx) mcase {
		return mcase{path: "/groups", body: map[string]any{"unit_id": m.fx.hhUnit[m.hh], "name": fmt.Sprintf("Nhóm mới %d", m.e.next())}, allowed: m.a.can(aGroups, m.hh)}
	},
	"GET /api/v1/groups/search": func(m matrixCtx) mcase { return mcase{path: "/groups/search?q=tin+thu", allowed: m.a.phone != ""} },
	"GET /api/v1/units/{id}/groups": func(m matrixCtx) mcase {
		return mcase{path: fmt.Sprintf("/units/%d/groups", m.fx.container[m.hh]), allowed: m.a.phone != ""}
	},
	"GET /api/v1/groups/{id}": func(m matrixCtx) mcase { return mcase{path: gpath(m.gid(), ""), allowed: m.a.phone != ""} },
	"PATCH /api/v1/groups/{id}": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.newGroup(m.hh, group.PolicyAuto), ""), body: map[string]any{"name": "Đổi tên", "join_policy": "approval"}, allowed: m.a.can(aGroups, m.hh)}
	},
	"POST /api/v1/groups/{id}/join": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), "/join"), allowed: m.a.seesGroup(m.hh)}
	},
	"POST /api/v1/groups/{id}/leave": func(m matrixCtx) mcase {
		// The administrator owns the fresh group: an owner cannot leave.
		c := mcase{path: gpath(m.newGroup(m.hh, group.PolicyAuto), "/leave"), allowed: m.a.seesGroup(m.hh) && m.a.role != "admin"}
		if m.a.role == "admin" {
			c.denied = http.StatusConflict
		}
		return c
	},
	"GET /api/v1/groups/{id}/messages": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), "/messages?limit=5"), allowed: m.a.seesGroup(m.hh)}
	},
	"POST /api/v1/groups/{id}/messages": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), "/messages"), body: map[string]any{"body": "Xin chào cả tổ"}, allowed: m.a.seesGroup(m.hh)}
	},
	"PATCH /api/v1/groups/{id}/messages/{mid}": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), fmt.Sprintf("/messages/%d", m.ownMessage())), body: map[string]any{"body": "Đã sửa"}, allowed: m.a.seesGroup(m.hh)}
	},
	"DELETE /api/v1/groups/{id}/messages/{mid}": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), fmt.Sprintf("/messages/%d", m.ownMessage())), allowed: m.a.seesGroup(m.hh)}
	},
	"GET /api/v1/groups/{id}/messages/{mid}/history": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), fmt.Sprintf("/messages/%d/history", m.newMessage(nil))), allowed: m.a.can(aGroups, m.hh)}
	},
	"POST /api/v1/groups/{id}/messages/{mid}/reactions": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), fmt.Sprintf("/messages/%d/reactions", m.newMessage(nil))), body: map[string]any{"emoji": "👍"}, allowed: m.a.seesGroup(m.hh)}
	},
	"POST /api/v1/groups/{id}/messages/{mid}/pin": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), fmt.Sprintf("/messages/%d/pin", m.newMessage(nil))), body: map[string]any{"on": false}, allowed: m.a.can(aGroups, m.hh)}
	},
	"POST /api/v1/groups/{id}/messages/{mid}/hide": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), fmt.Sprintf("/messages/%d/hide", m.newMessage(nil))), body: map[string]any{"on": true}, allowed: m.a.can(aGroups, m.hh)}
	},
	"POST /api/v1/groups/{id}/messages/{mid}/report": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), fmt.Sprintf("/messages/%d/report", m.newMessage(nil))), body: map[string]any{"reason": "Thử"}, allowed: m.a.seesGroup(m.hh)}
	},
	"GET /api/v1/groups/{id}/pinned": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), "/pinned"), allowed: m.a.seesGroup(m.hh)}
	},
	"GET /api/v1/groups/{id}/mentions": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), "/mentions?q=nguyen"), allowed: m.a.seesGroup(m.hh)}
	},
	"POST /api/v1/groups/{id}/read": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), "/read"), body: map[string]any{"last_read_id": m.newMessage(nil)}, allowed: m.a.seesGroup(m.hh)}
	},
	"GET /api/v1/groups/{id}/search": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), "/search?q=tin+thu"), allowed: m.a.seesGroup(m.hh)}
	},
	"GET /api/v1/groups/{id}/members": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), "/members"), allowed: m.a.seesGroup(m.hh)}
	},
	"POST /api/v1/groups/{id}/members/{account}": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), fmt.Sprintf("/members/%d", m.newMember().AccountID)), body: map[string]any{"action": "mute", "minutes": 5}, allowed: m.a.can(aGroups, m.hh)}
	},
	"GET /api/v1/groups/{id}/invites": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), "/invites"), allowed: m.a.can(aGroups, m.hh)}
	},
	"POST /api/v1/groups/{id}/invites": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), "/invites"), body: map[string]any{"hours": 2}, allowed: m.a.can(aGroups, m.hh)}
	},
	"DELETE /api/v1/groups/{id}/invites/{invite}": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), fmt.Sprintf("/invites/%d", m.newInvite(m.gid()).ID)), allowed: m.a.can(aGroups, m.hh)}
	},
	"GET /api/v1/groups/{id}/reports": func(m matrixCtx) mcase {
		return mcase{path: gpath(m.gid(), "/reports"), allowed: m.a.can(aGroups, m.hh)}
	},
	"POST /api/v1/groups/{id}/reports/{report}/dismiss": func(m matrixCtx) mcase {
		ctx := context.Background()
		mid := m.newMessage(nil)
		if err := m.e.app.Groups.ReportMessage(ctx, m.newMember(), m.gid(), mid, "thử"); err != nil {
			m.t.Fatalf("report: %v", err)
		}
		rs, err := m.e.app.Groups.Reports(ctx, m.fx.admin, m.gid(), true, 0, 100)
		if err != nil {
			m.t.Fatal(err)
		}
		var rid int64
		for _, r := range rs {
			if r.MessageID == mid {
				rid = r.ID
			}
		}
		return mcase{path: gpath(m.gid(), fmt.Sprintf("/reports/%d/dismiss", rid)), allowed: m.a.can(aGroups, m.hh)}
	},
	"GET /api/v1/group-invites/{token}": func(m matrixCtx) mcase {
		return mcase{path: "/group-invites/" + m.newInvite(m.gid()).Token, allowed: m.a.phone != ""}
	},
	"POST /api/v1/group-invites/{token}/accept": func(m matrixCtx) mcase {
		gid := m.newGroup(m.hh, group.PolicyInvite)
		return mcase{path: "/group-invites/" + m.newInvite(gid).Token + "/accept", allowed: m.a.phone != ""}
	},
}
