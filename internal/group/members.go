package group

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// Member is a membership as moderators see it. Phone numbers are masked.
type Member struct {
	AccountID  int64  `json:"account_id"`
	Name       string `json:"name"`
	Phone      string `json:"phone"` // masked
	Role       Role   `json:"role"`
	State      string `json:"state"`
	MutedUntil int64  `json:"muted_until,omitempty"`
	JoinedAt   int64  `json:"joined_at"`
}

// Members lists a group's members in state (default active) by account id
// after after, at most limit (default 50). Members see the active list;
// moderators every state (pending requests, banned…).
func (s *Service) Members(ctx context.Context, p *account.Principal, id int64, state string, after int64, limit int) ([]Member, error) {
	a, err := s.view(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if state == "" {
		state = StateActive
	}
	if state != StateActive && !a.canModerate() {
		return nil, apperr.ErrForbidden
	}
	limit = PageLimit(limit)
	rows, err := s.d.Query(ctx, `SELECT m.account_id, a.name, a.phone, m.role, m.state, m.muted_until, m.joined_at FROM group_members m JOIN accounts a ON a.id = m.account_id
		WHERE m.group_id = ? AND m.state = ? AND m.account_id > ? ORDER BY m.account_id LIMIT `+strconv.Itoa(limit), id, state, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.AccountID, &m.Name, &m.Phone, &m.Role, &m.State, &m.MutedUntil, &m.JoinedAt); err != nil {
			return nil, err
		}
		m.Phone = vntext.MaskPhone(m.Phone)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Join makes p a member: at once for an auto group p belongs to, as a
// pending request for an approval group p lives under. Invite-only groups
// need Accept. A banned account cannot join again.
func (s *Service) Join(ctx context.Context, p *account.Principal, id int64) (Detail, error) {
	a, err := s.load(ctx, p, id)
	if err != nil {
		return Detail{}, err
	}
	switch {
	case a.state == StateBanned:
		return Detail{}, apperr.New(apperr.Forbidden, "Bạn đã bị chặn khỏi nhóm này.", "You are banned from this group.")
	case a.member(), a.state == StatePending:
		return s.detail(ctx, a)
	}
	state := ""
	switch {
	case a.oversee || (a.g.JoinPolicy == PolicyAuto && a.eligible):
		state = StateActive
	case a.g.JoinPolicy == PolicyApproval && placedIn(p, a.g.UnitPath):
		state = StatePending
	default:
		return Detail{}, apperr.New(apperr.Forbidden, "Chỉ tham gia nhóm này được bằng lời mời.", "This group can be joined by invitation only.")
	}
	if err := s.setMembership(ctx, a, p.AccountID, a.joinRole(), state, "group.join"); err != nil {
		return Detail{}, err
	}
	if state == StatePending {
		s.publish(ctx, Topic(id), "join_request", map[string]any{"account_id": p.AccountID, "name": p.Name})
	}
	return s.Get(ctx, p, id)
}

// Leave ends p's membership; an auto group does not take p back until p
// joins again.
func (s *Service) Leave(ctx context.Context, p *account.Principal, id int64) error {
	a, err := s.load(ctx, p, id)
	if err != nil {
		return err
	}
	if a.state == StateBanned || a.state == StateLeft {
		return nil
	}
	if a.state == "" && !a.canView() {
		return apperr.ErrForbidden
	}
	if a.role == RoleOwner {
		return apperr.New(apperr.Conflict, "Chủ nhóm không thể rời nhóm; hãy chuyển quyền chủ nhóm trước.", "The owner cannot leave; hand the group over first.")
	}
	return s.setMembership(ctx, a, p.AccountID, RoleMember, StateLeft, "group.leave")
}

// setMembership upserts account's row of a's group, audited.
func (s *Service) setMembership(ctx context.Context, a access, accountID int64, role Role, state, action string) error {
	now := s.nowMs()
	return s.d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO group_members(group_id, account_id, role, state, joined_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (group_id, account_id) DO UPDATE SET role = excluded.role, state = excluded.state, updated_at = excluded.updated_at`,
			a.g.ID, accountID, role, state, now, now); err != nil {
			return err
		}
		return s.auditLog(ctx, tx, a, action, "account", accountID, string(role)+" "+state)
	})
}

// MemberAction is what a moderator does to a member.
type MemberAction string

// The member actions.
const (
	ActApprove MemberAction = "approve" // a pending request
	ActReject  MemberAction = "reject"
	ActMute    MemberAction = "mute" // Minutes long (default 24 h)
	ActUnmute  MemberAction = "unmute"
	ActRemove  MemberAction = "remove"
	ActBan     MemberAction = "ban"
	ActPromote MemberAction = "promote" // to moderator
	ActDemote  MemberAction = "demote"  // to member
	// ActTransfer makes the member the owner (see TransferOwnership).
	ActTransfer MemberAction = "transfer"
)

// Moderate applies act to a member of group id. Only moderators may; the
// owner cannot be acted on, and every action is audited. It returns
// NotFound when the account has no row in the group. ActTransfer is
// TransferOwnership, with its own rule and errors.
func (s *Service) Moderate(ctx context.Context, p *account.Principal, id, accountID int64, act MemberAction, minutes int) error {
	if act == ActTransfer {
		return s.TransferOwnership(ctx, p, id, accountID)
	}
	a, err := s.moderate(ctx, p, id)
	if err != nil {
		return err
	}
	var role Role
	var state string
	err = s.d.QueryRow(ctx, "SELECT role, state FROM group_members WHERE group_id = ? AND account_id = ?", id, accountID).Scan(&role, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFoundf("thành viên", "Member")
	} else if err != nil {
		return err
	}
	if role == RoleOwner {
		return apperr.New(apperr.Conflict, "Không thể áp dụng với chủ nhóm.", "This cannot be done to the group's owner.")
	}
	now := s.nowMs()
	var q string
	var args []any
	switch act {
	case ActApprove:
		if state != StatePending {
			return apperr.New(apperr.Conflict, "Yêu cầu này đã được xử lý.", "This request was already handled.")
		}
		q = "UPDATE group_members SET state = 'active', joined_at = ?, updated_at = ? WHERE group_id = ? AND account_id = ?"
		args = []any{now, now}
	case ActReject, ActRemove:
		q, args = "UPDATE group_members SET state = 'removed', updated_at = ? WHERE group_id = ? AND account_id = ?", []any{now}
	case ActBan:
		q, args = "UPDATE group_members SET state = 'banned', updated_at = ? WHERE group_id = ? AND account_id = ?", []any{now}
	case ActMute:
		if minutes <= 0 {
			minutes = 24 * 60
		}
		q, args = "UPDATE group_members SET muted_until = ?, updated_at = ? WHERE group_id = ? AND account_id = ?", []any{now + int64(minutes)*60000, now}
	case ActUnmute:
		q, args = "UPDATE group_members SET muted_until = 0, updated_at = ? WHERE group_id = ? AND account_id = ?", []any{now}
	case ActPromote:
		q, args = "UPDATE group_members SET role = 'moderator', updated_at = ? WHERE group_id = ? AND account_id = ?", []any{now}
	case ActDemote:
		q, args = "UPDATE group_members SET role = 'member', updated_at = ? WHERE group_id = ? AND account_id = ?", []any{now}
	default:
		return apperr.InvalidField("action", "Thao tác không hợp lệ.", "Unknown action.")
	}
	args = append(args, id, accountID)
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return err
		}
		return s.auditLog(ctx, tx, a, "group.member_"+string(act), "account", accountID, "")
	})
	if err != nil {
		return err
	}
	s.publish(ctx, AccountTopic(accountID), "membership", map[string]any{"group_id": id, "action": act})
	s.publish(ctx, Topic(id), "member", map[string]any{"account_id": accountID, "action": act})
	return nil
}

// Invite is an invite link's record; Token is only set when it is created.
type Invite struct {
	ID        int64  `json:"id"`
	GroupID   int64  `json:"group_id"`
	Token     string `json:"token,omitempty"`
	CreatedAt int64  `json:"created_at"`
	ExpiresAt int64  `json:"expires_at"`
	RevokedAt int64  `json:"revoked_at,omitempty"`
	Uses      int    `json:"uses"`
}

func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// CreateInvite makes an invite link for group id that expires after ttl
// (default 7 days, at most 30). Only moderators may. The token is returned
// once; only its hash is stored.
func (s *Service) CreateInvite(ctx context.Context, p *account.Principal, id int64, ttl time.Duration) (Invite, error) {
	a, err := s.moderate(ctx, p, id)
	if err != nil {
		return Invite{}, err
	}
	if ttl <= 0 {
		ttl = InviteTTL
	}
	ttl = min(ttl, 30*24*time.Hour)
	var b [18]byte
	_, _ = rand.Read(b[:])
	inv := Invite{GroupID: id, Token: base64.RawURLEncoding.EncodeToString(b[:]), CreatedAt: s.nowMs()}
	inv.ExpiresAt = inv.CreatedAt + ttl.Milliseconds()
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRow(ctx, "INSERT INTO group_invites(group_id, token_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
			id, tokenHash(inv.Token), p.AccountID, inv.CreatedAt, inv.ExpiresAt).Scan(&inv.ID); err != nil {
			return err
		}
		return s.auditLog(ctx, tx, a, "group.invite_created", "invite", inv.ID, "")
	})
	return inv, err
}

// Invites lists group id's invite links, newest first (moderators only).
func (s *Service) Invites(ctx context.Context, p *account.Principal, id int64) ([]Invite, error) {
	if _, err := s.moderate(ctx, p, id); err != nil {
		return nil, err
	}
	rows, err := s.d.Query(ctx, "SELECT id, group_id, created_at, expires_at, revoked_at, uses FROM group_invites WHERE group_id = ? ORDER BY id DESC LIMIT 50", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Invite
	for rows.Next() {
		var i Invite
		if err := rows.Scan(&i.ID, &i.GroupID, &i.CreatedAt, &i.ExpiresAt, &i.RevokedAt, &i.Uses); err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// RevokeInvite stops an invite link of group id from working.
func (s *Service) RevokeInvite(ctx context.Context, p *account.Principal, id, inviteID int64) error {
	a, err := s.moderate(ctx, p, id)
	if err != nil {
		return err
	}
	return s.d.Write(ctx, func(tx *db.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE group_invites SET revoked_at = ? WHERE id = ? AND group_id = ? AND revoked_at = 0", s.nowMs(), inviteID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.NotFoundf("lời mời", "Invite")
		}
		return s.auditLog(ctx, tx, a, "group.invite_revoked", "invite", inviteID, "")
	})
}

var errInviteInvalid = apperr.New(apperr.NotFound, "Lời mời không còn hiệu lực (đã hết hạn hoặc bị thu hồi).", "This invite is no longer valid (expired or revoked).")

// InviteGroup returns the group an invite token leads to, without joining.
func (s *Service) InviteGroup(ctx context.Context, p *account.Principal, token string) (Group, error) {
	if p == nil {
		return Group{}, apperr.ErrUnauthenticated
	}
	var gid, exp, rev int64
	err := s.d.QueryRow(ctx, "SELECT group_id, expires_at, revoked_at FROM group_invites WHERE token_hash = ?", tokenHash(token)).Scan(&gid, &exp, &rev)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (rev != 0 || exp <= s.nowMs())) {
		return Group{}, errInviteInvalid
	} else if err != nil {
		return Group{}, err
	}
	return s.group(ctx, gid)
}

// AcceptInvite makes p an active member of the invite's group. It returns
// NotFound for an unknown, expired or revoked token and Forbidden when p
// was banned.
func (s *Service) AcceptInvite(ctx context.Context, p *account.Principal, token string) (Detail, error) {
	g, err := s.InviteGroup(ctx, p, token)
	if err != nil {
		return Detail{}, err
	}
	a, err := s.load(ctx, p, g.ID)
	if err != nil {
		return Detail{}, err
	}
	if a.state == StateBanned {
		return Detail{}, apperr.New(apperr.Forbidden, "Bạn đã bị chặn khỏi nhóm này.", "You are banned from this group.")
	}
	if !a.member() {
		role := a.joinRole()
		if err := s.setMembership(ctx, a, p.AccountID, role, StateActive, "group.join_invite"); err != nil {
			return Detail{}, err
		}
		err := s.d.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE group_invites SET uses = uses + 1 WHERE token_hash = ?", tokenHash(token))
			return err
		})
		if err != nil {
			return Detail{}, err
		}
		s.publish(ctx, Topic(g.ID), "member", map[string]any{"account_id": p.AccountID, "action": "joined"})
	}
	return s.Get(ctx, p, g.ID)
}
