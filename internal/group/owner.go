package group

import (
	"context"
	"database/sql"
	"errors"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
)

// TransferOwnership makes the active member to the owner of group id; the
// previous owner stays as a moderator and may then leave. The owner may do
// it, and so may an official overseeing the group (when the owner is gone).
// It returns Forbidden for anyone else, NotFound when to is not an active
// member and Conflict when to already owns the group. It is audited.
func (s *Service) TransferOwnership(ctx context.Context, p *account.Principal, id, to int64) error {
	a, err := s.load(ctx, p, id)
	if err != nil {
		return err
	}
	if !(a.member() && a.role == RoleOwner) && !a.oversee {
		return apperr.New(apperr.Forbidden, "Chỉ chủ nhóm được chuyển quyền chủ nhóm.", "Only the owner can hand the group over.")
	}
	var role Role
	var state string
	err = s.d.QueryRow(ctx, "SELECT role, state FROM group_members WHERE group_id = ? AND account_id = ?", id, to).Scan(&role, &state)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && state != StateActive) {
		return apperr.NotFoundf("thành viên", "Member")
	} else if err != nil {
		return err
	}
	if role == RoleOwner {
		return apperr.New(apperr.Conflict, "Người này đã là chủ nhóm.", "This member already owns the group.")
	}
	now := s.nowMs()
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE group_members SET role = 'moderator', updated_at = ? WHERE group_id = ? AND role = 'owner'", now, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE group_members SET role = 'owner', updated_at = ? WHERE group_id = ? AND account_id = ?", now, id, to); err != nil {
			return err
		}
		return s.auditLog(ctx, tx, a, "group.owner_transferred", "account", to, "")
	})
	if err != nil {
		return err
	}
	s.publish(ctx, AccountTopic(to), "membership", map[string]any{"group_id": id, "action": "owner"})
	s.publish(ctx, Topic(id), "member", map[string]any{"account_id": to, "action": "owner"})
	return nil
}
