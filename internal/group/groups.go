package group

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// Input describes a group to create or the settings to change.
type Input struct {
	UnitID         int64      `json:"unit_id"`
	OrganisationID int64      `json:"organisation_id,omitempty"`
	Name           string     `json:"name"`
	Description    string     `json:"description"`
	JoinPolicy     JoinPolicy `json:"join_policy"`
	AnnounceOnly   bool       `json:"announce_only"`
}

func clean(s string) string { return strings.Join(strings.Fields(vntext.NFC(s)), " ") }

func (in *Input) validate() error {
	in.Name, in.Description = clean(in.Name), strings.TrimSpace(vntext.NFC(in.Description))
	if in.Name == "" {
		return apperr.InvalidField("name", "Vui lòng nhập tên nhóm.", "Please enter the group's name.")
	}
	if utf8.RuneCountInString(in.Name) > 120 {
		return apperr.InvalidField("name", "Tên nhóm dài tối đa 120 ký tự.", "The name may be at most 120 characters.")
	}
	if utf8.RuneCountInString(in.Description) > 1000 {
		return apperr.InvalidField("description", "Mô tả dài tối đa 1000 ký tự.", "The description may be at most 1000 characters.")
	}
	if in.JoinPolicy == "" {
		in.JoinPolicy = PolicyAuto
	}
	if !in.JoinPolicy.Valid() {
		return apperr.InvalidField("join_policy", "Cách tham gia phải là: tự động, xin duyệt, hoặc qua lời mời.", "join_policy must be auto, approval or invite.")
	}
	return nil
}

// Create makes a group on a unit (or an organisation of it), with p as its
// owner. p needs account.ActManageGroups on the unit. It returns Invalid
// for bad input and NotFound for a missing unit or organisation.
func (s *Service) Create(ctx context.Context, p *account.Principal, in Input) (Group, error) {
	if p == nil {
		return Group{}, apperr.ErrUnauthenticated
	}
	if err := in.validate(); err != nil {
		return Group{}, err
	}
	unitID, unitPath := in.UnitID, ""
	if in.OrganisationID != 0 {
		err := s.d.QueryRow(ctx, "SELECT unit_id, unit_path FROM organisations WHERE id = ?", in.OrganisationID).Scan(&unitID, &unitPath)
		if errors.Is(err, sql.ErrNoRows) {
			return Group{}, apperr.NotFoundf("tổ chức", "Organisation")
		} else if err != nil {
			return Group{}, err
		}
	} else {
		u, err := s.areas.Unit(ctx, in.UnitID)
		if err != nil {
			return Group{}, err
		}
		if !u.Current() {
			return Group{}, apperr.InvalidField("unit_id", "Đơn vị này đã thôi hoạt động.", "This unit no longer exists.")
		}
		unitPath = u.Path
	}
	if err := account.Authorize(p, account.ActManageGroups, unitPath); err != nil {
		return Group{}, err
	}
	now := s.nowMs()
	var id int64
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO community_groups(unit_id, unit_path, organisation_id, name, name_fold, description, join_policy, announce_only, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			unitID, unitPath, nullID(in.OrganisationID), in.Name, vntext.Fold(in.Name), in.Description, in.JoinPolicy, boolInt(in.AnnounceOnly), p.AccountID, now).Scan(&id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO group_members(group_id, account_id, role, state, joined_at, updated_at) VALUES (?, ?, 'owner', 'active', ?, ?)`,
			id, p.AccountID, now, now); err != nil {
			return err
		}
		return audit.Log(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: "group.created", SubjectType: "group",
			SubjectID: strconv.FormatInt(id, 10), UnitPath: unitPath, Detail: in.Name})
	})
	if err != nil {
		return Group{}, err
	}
	return s.group(ctx, id)
}

// Update changes a group's name, description, join policy and announce-only
// mode. Only its moderators may; the change is audited.
func (s *Service) Update(ctx context.Context, p *account.Principal, id int64, in Input) (Group, error) {
	a, err := s.moderate(ctx, p, id)
	if err != nil {
		return Group{}, err
	}
	if err := in.validate(); err != nil {
		return Group{}, err
	}
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE community_groups SET name = ?, name_fold = ?, description = ?, join_policy = ?, announce_only = ? WHERE id = ?",
			in.Name, vntext.Fold(in.Name), in.Description, in.JoinPolicy, boolInt(in.AnnounceOnly), id); err != nil {
			return err
		}
		return s.auditLog(ctx, tx, a, "group.updated", "group", id, string(in.JoinPolicy)+" announce_only="+strconv.FormatBool(in.AnnounceOnly))
	})
	if err != nil {
		return Group{}, err
	}
	g, err := s.group(ctx, id)
	if err == nil {
		s.publish(ctx, Topic(id), "group", g)
	}
	return g, err
}

func (s *Service) auditLog(ctx context.Context, tx *db.Tx, a access, action, subjectType string, subjectID int64, detail string) error {
	return audit.Log(ctx, tx, audit.Entry{ActorID: a.p.AccountID, ActorName: a.p.Name, Action: action, SubjectType: subjectType,
		SubjectID: strconv.FormatInt(subjectID, 10), UnitPath: a.g.UnitPath, Detail: "group " + strconv.FormatInt(a.g.ID, 10) + ": " + detail})
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Detail is a group as one viewer sees it.
type Detail struct {
	Group
	Role        Role   `json:"role,omitempty"`  // "" when not a member
	State       string `json:"state,omitempty"` // "pending" while a request waits
	CanModerate bool   `json:"can_moderate"`
	CanPost     bool   `json:"can_post"` // top-level posts (replies are open to every member)
	Unread      int    `json:"unread"`
	LastReadID  int64  `json:"last_read_id"`
	MutedUntil  int64  `json:"muted_until,omitempty"`
}

func (s *Service) detail(ctx context.Context, a access) (Detail, error) {
	d := Detail{Group: a.g, Role: a.role, State: a.state, CanModerate: a.canModerate(), LastReadID: a.lastRead, MutedUntil: a.muted}
	if a.state == "" && a.canView() {
		d.Role, d.State = a.joinRole(), StateActive
	}
	d.CanPost = a.canView() && a.state != StatePending && a.muted <= s.nowMs() && (!a.g.AnnounceOnly || d.CanModerate)
	if a.canView() {
		n, err := s.unread(ctx, a.g.ID, a.lastRead, a.p.AccountID)
		if err != nil {
			return d, err
		}
		d.Unread = n
	}
	return d, nil
}

// Get returns the group as p sees it. Anyone signed in may see the name and
// policy of a group (to ask to join); messages need membership.
func (s *Service) Get(ctx context.Context, p *account.Principal, id int64) (Detail, error) {
	a, err := s.load(ctx, p, id)
	if err != nil {
		return Detail{}, err
	}
	return s.detail(ctx, a)
}

// unread counts the visible messages after lastRead that others wrote,
// capped at 100 (shown as "99+").
func (s *Service) unread(ctx context.Context, groupID, lastRead, me int64) (int, error) {
	var n int
	err := s.d.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM group_messages WHERE group_id = ? AND id > ? AND deleted_at = 0 AND hidden_at = 0
		AND (author_id IS NULL OR author_id <> ?) LIMIT 100) t`, groupID, lastRead, me).Scan(&n)
	return n, err
}

// Mine returns the groups p belongs to, newest activity first, with unread
// counts. Auto groups p is eligible for become memberships here.
func (s *Service) Mine(ctx context.Context, p *account.Principal) ([]Detail, error) {
	if p == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if err := s.joinEligible(ctx, p); err != nil {
		return nil, err
	}
	rows, err := s.d.Query(ctx, "SELECT "+groupCols+`, m.role, m.last_read_id, m.muted_until`+groupFrom+
		` JOIN group_members m ON m.group_id = g.id WHERE m.account_id = ? AND m.state = 'active' ORDER BY g.last_message_at DESC, g.id LIMIT 500`, p.AccountID)
	if err != nil {
		return nil, err
	}
	var out []Detail
	for rows.Next() {
		var g Group
		var d Detail
		if err := scanGroup(rows, &g, &d.Role, &d.LastReadID, &d.MutedUntil); err != nil {
			rows.Close()
			return nil, err
		}
		d.Group, d.State = g, StateActive
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := s.nowMs()
	for i := range out {
		d := &out[i]
		d.CanModerate = d.Role.Moderates() || p.Can(account.ActManageGroups, d.UnitPath)
		d.CanPost = d.MutedUntil <= now && (!d.AnnounceOnly || d.CanModerate)
		if d.Unread, err = s.unread(ctx, d.ID, d.LastReadID, p.AccountID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// joinEligible gives p a membership of every auto group p belongs to by
// place (or organisation) and has no row in yet.
func (s *Service) joinEligible(ctx context.Context, p *account.Principal) error {
	var paths []any
	seen := map[string]bool{}
	for _, g := range p.Grants {
		for _, a := range ancestorPaths(g.UnitPath) {
			if !seen[a] {
				seen[a] = true
				paths = append(paths, a)
			}
		}
	}
	q := `SELECT g.id FROM community_groups g WHERE g.join_policy = 'auto' AND (
		(g.organisation_id IS NULL AND g.unit_path IN (` + placeholders(len(paths)) + `))
		OR g.organisation_id IN (SELECT organisation_id FROM organisation_members WHERE resident_id = ?))
		AND NOT EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND m.account_id = ?)`
	args := append(paths, p.ResidentID, p.AccountID)
	ids, err := db.Column[int64](s.d.Query(ctx, q, args...))
	if err != nil || len(ids) == 0 {
		return err
	}
	now := s.nowMs()
	return s.d.Write(ctx, func(tx *db.Tx) error {
		for _, id := range ids {
			if _, err := tx.Exec(ctx, `INSERT INTO group_members(group_id, account_id, role, state, joined_at, updated_at) VALUES (?, ?, 'member', 'active', ?, ?)
				ON CONFLICT (group_id, account_id) DO NOTHING`, id, p.AccountID, now, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// GroupIDs returns the ids of the groups p is an active member of, for the
// realtime subscription of p's open streams.
func (s *Service) GroupIDs(ctx context.Context, p *account.Principal) ([]int64, error) {
	if p == nil {
		return nil, nil
	}
	return db.Column[int64](s.d.Query(ctx, "SELECT group_id FROM group_members WHERE account_id = ? AND state = 'active' ORDER BY group_id LIMIT 1000", p.AccountID))
}

// Topics returns the realtime topics of p's groups: "group:{id}" for each
// active membership and "group:{id}:mod" (reports) where p moderates.
func (s *Service) Topics(ctx context.Context, p *account.Principal) ([]string, error) {
	if p == nil {
		return nil, nil
	}
	rows, err := s.d.Query(ctx, "SELECT group_id, role FROM group_members WHERE account_id = ? AND state = 'active' ORDER BY group_id LIMIT 1000", p.AccountID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		var role Role
		if err := rows.Scan(&id, &role); err != nil {
			return nil, err
		}
		out = append(out, Topic(id))
		if role.Moderates() {
			out = append(out, Topic(id)+":mod")
		}
	}
	return out, rows.Err()
}

// CanSubscribe returns nil when p may receive group id's events.
func (s *Service) CanSubscribe(ctx context.Context, p *account.Principal, id int64) error {
	_, err := s.view(ctx, p, id)
	return err
}

// InUnit returns the groups of a unit's subtree that p may see or ask to
// join, at most limit (default 50) after the group id after.
func (s *Service) InUnit(ctx context.Context, p *account.Principal, unitID, after int64, limit int) ([]Group, error) {
	if p == nil {
		return nil, apperr.ErrUnauthenticated
	}
	u, err := s.areas.Unit(ctx, unitID)
	if err != nil {
		return nil, err
	}
	limit = PageLimit(limit)
	lo, hi := db.SubtreeRange(u.Path)
	rows, err := s.d.Query(ctx, "SELECT "+groupCols+groupFrom+" WHERE g.unit_path >= ? AND g.unit_path < ? AND g.id > ? ORDER BY g.id LIMIT "+strconv.Itoa(limit*4),
		lo, hi, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Group
	for rows.Next() && len(out) < limit {
		var g Group
		if err := scanGroup(rows, &g); err != nil {
			return nil, err
		}
		if p.Can(account.ActManageGroups, g.UnitPath) || (g.JoinPolicy != PolicyInvite && placedIn(p, g.UnitPath)) {
			out = append(out, g)
		}
	}
	return out, rows.Err()
}

// placedIn reports whether one of p's units lies in the subtree at path.
func placedIn(p *account.Principal, path string) bool {
	for _, g := range p.Grants {
		if g.UnitPath != "" && strings.HasPrefix(g.UnitPath, path) {
			return true
		}
	}
	return false
}
