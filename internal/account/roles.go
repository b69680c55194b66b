package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

var (
	errGrantNotFound = apperr.NotFoundf("quyền được cấp", "Role grant")
	errUnitNotFound  = apperr.NotFoundf("đơn vị hành chính", "Unit")
	errDuplicate     = apperr.New(apperr.Conflict, "Tài khoản đã có vai trò này tại đơn vị này.", "The account already holds this role on this unit.")
	errBadRole       = apperr.InvalidField("role", "Vai trò không hợp lệ.", "Unknown role.")
)

// Grants returns the roles the account holds, oldest first, each with its
// unit's path and name. An account without grants (or no account at all)
// has an empty list. It checks no permission: callers authorise.
func (s *Service) Grants(ctx context.Context, accountID int64) ([]Grant, error) {
	rows, err := s.d.Query(ctx, `SELECT g.id, g.role, g.unit_id, g.unit_path, u.name
		FROM role_grants g JOIN units u ON u.id = g.unit_id WHERE g.account_id = ? ORDER BY g.id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("grants: %w", err)
	}
	defer rows.Close()
	out := []Grant{}
	for rows.Next() {
		var g Grant
		if err := rows.Scan(&g.ID, &g.Role, &g.UnitID, &g.UnitPath, &g.UnitName); err != nil {
			return nil, fmt.Errorf("grants: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("grants: %w", err)
	}
	return out, nil
}

// GrantRole gives the account role on the unit (unitID, whose path is
// unitPath) and its subtree. p must be allowed to by AuthorizeGrant. It
// returns apperr Unauthenticated or Forbidden; Invalid for an unknown role
// or a unitPath that is not unitID's; NotFound for an unknown account or
// unit; Conflict when the account already holds the role there.
func (s *Service) GrantRole(ctx context.Context, p *Principal, accountID int64, role Role, unitID int64, unitPath string) (Grant, error) {
	if !role.Valid() {
		return Grant{}, errBadRole
	}
	if err := AuthorizeGrant(p, role, unitPath); err != nil {
		return Grant{}, err
	}
	return s.grant(ctx, p, accountID, role, unitID, unitPath)
}

// GrantRoleSystem is GrantRole without a principal or permission check, for
// the `trothu user` command and the demo seeder. It returns the same errors
// but Unauthenticated and Forbidden.
func (s *Service) GrantRoleSystem(ctx context.Context, accountID int64, role Role, unitID int64) (Grant, error) {
	if !role.Valid() {
		return Grant{}, errBadRole
	}
	return s.grant(ctx, nil, accountID, role, unitID, "")
}

// grant inserts the grant; unitPath "" means "whatever unitID's path is".
func (s *Service) grant(ctx context.Context, p *Principal, accountID int64, role Role, unitID int64, unitPath string) (Grant, error) {
	g := Grant{Role: role, UnitID: unitID}
	now := db.Millis(s.now())
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		err := tx.QueryRow(ctx, "SELECT path, name FROM units WHERE id = ?", unitID).Scan(&g.UnitPath, &g.UnitName)
		if errors.Is(err, sql.ErrNoRows) {
			return errUnitNotFound
		}
		if err != nil {
			return fmt.Errorf("grant unit: %w", err)
		}
		if unitPath != "" && unitPath != g.UnitPath {
			return apperr.InvalidField("unit", "Đơn vị không khớp.", "The unit's path does not match its id.")
		}
		var one int
		err = tx.QueryRow(ctx, "SELECT 1 FROM accounts WHERE id = ?", accountID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return errAccountNotFound
		}
		if err != nil {
			return fmt.Errorf("grant account: %w", err)
		}
		err = tx.QueryRow(ctx, "SELECT 1 FROM role_grants WHERE account_id = ? AND role = ? AND unit_id = ?", accountID, string(role), unitID).Scan(&one)
		if err == nil {
			return errDuplicate
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("grant: %w", err)
		}
		if g.ID, err = insertGrant(ctx, tx, accountID, role, unitID, g.UnitPath, actorID(p), now); err != nil {
			return err
		}
		return audit.Log(ctx, tx, audit.Entry{At: now, ActorID: actorID(p), ActorName: actorName(p), Action: audit.RoleGranted,
			SubjectType: "account", SubjectID: strconv.FormatInt(accountID, 10), UnitPath: g.UnitPath,
			Detail: fmt.Sprintf("%s on %s (grant %d)", role, g.UnitName, g.ID)})
	})
	if err != nil {
		return Grant{}, err
	}
	return g, nil
}

func insertGrant(ctx context.Context, tx *db.Tx, accountID int64, role Role, unitID int64, unitPath string, by, now int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO role_grants(account_id, role, unit_id, unit_path, granted_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, accountID, string(role), unitID, unitPath, nullID(by), now).Scan(&id)
	switch {
	case db.IsUniqueViolation(err):
		return 0, errDuplicate
	case err != nil:
		return 0, fmt.Errorf("insert grant: %w", err)
	}
	return id, nil
}

// RevokeRole removes a grant. p must be allowed to grant that role on that
// unit (AuthorizeGrant). It returns apperr Unauthenticated, Forbidden, or
// NotFound for an unknown grant.
func (s *Service) RevokeRole(ctx context.Context, p *Principal, grantID int64) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	now := db.Millis(s.now())
	return s.d.Write(ctx, func(tx *db.Tx) error {
		var accountID int64
		var role Role
		var path string
		err := tx.QueryRow(ctx, "SELECT account_id, role, unit_path FROM role_grants WHERE id = ?", grantID).Scan(&accountID, &role, &path)
		if errors.Is(err, sql.ErrNoRows) {
			return errGrantNotFound
		}
		if err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		if err := AuthorizeGrant(p, role, path); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM role_grants WHERE id = ?", grantID); err != nil {
			return fmt.Errorf("revoke: %w", err)
		}
		return audit.Log(ctx, tx, audit.Entry{At: now, ActorID: p.AccountID, ActorName: p.Name, Action: audit.RoleRevoked,
			SubjectType: "account", SubjectID: strconv.FormatInt(accountID, 10), UnitPath: path,
			Detail: fmt.Sprintf("%s (grant %d)", role, grantID)})
	})
}

// AccountFilter selects accounts for ListAccounts.
type AccountFilter struct {
	Scope string // a unit path to narrow the list to; "" for all of p's scopes
	Query string // part of the name (case, diacritics and đ ignored) or of the phone number
	Role  Role   // only accounts holding this role within the scopes
	After int64  // continue after this account id (AccountPage.Next)
	Limit int    // default 50, at most 200
}

// AccountPage is one page of accounts, by id. Next is the After of the
// following page, 0 on the last.
type AccountPage struct {
	Accounts []Account `json:"accounts"`
	Next     int64     `json:"next,omitempty"`
}

// ListAccounts returns the accounts holding a grant within the subtrees
// where p may ActViewAccounts (narrowed by f.Scope), with masked phone
// numbers and their grants within those subtrees. It returns apperr
// Unauthenticated, Forbidden when p may view no accounts (or none under
// f.Scope), and Invalid for an unknown role.
func (s *Service) ListAccounts(ctx context.Context, p *Principal, f AccountFilter) (AccountPage, error) {
	if p == nil {
		return AccountPage{}, apperr.ErrUnauthenticated
	}
	visible := p.Scopes(ActViewAccounts)
	scopes := narrowScopes(visible, f.Scope)
	if len(scopes) == 0 {
		return AccountPage{}, apperr.ErrForbidden
	}
	if f.Role != "" && !f.Role.Valid() {
		return AccountPage{}, errBadRole
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var where strings.Builder
	var args []any
	where.WriteString("EXISTS (SELECT 1 FROM role_grants g WHERE g.account_id = a.id AND (")
	for i, sc := range scopes {
		if i > 0 {
			where.WriteString(" OR ")
		}
		lo, hi := db.SubtreeRange(sc)
		where.WriteString("(g.unit_path >= ? AND g.unit_path < ?)")
		args = append(args, lo, hi)
	}
	where.WriteString(")")
	if f.Role != "" {
		where.WriteString(" AND g.role = ?")
		args = append(args, string(f.Role))
	}
	where.WriteString(")")
	nameQuery := false
	if q := strings.TrimSpace(f.Query); q != "" {
		if digits, ok := phoneQuery(q); ok {
			where.WriteString(" AND a.phone LIKE ?")
			args = append(args, "%"+digits+"%")
		} else {
			nameQuery = true // names have no folded column: matched here, in Go
		}
	}
	batch := f.Limit + 1
	if nameQuery {
		batch = 500
	}
	q := "SELECT " + accountCols + " FROM accounts a WHERE a.id > ? AND " + where.String() + " ORDER BY a.id LIMIT " + strconv.Itoa(batch)
	var out []Account
	cursor := f.After
	for len(out) <= f.Limit {
		n, err := s.scanAccounts(ctx, q, append([]any{cursor}, args...), func(a Account) {
			cursor = a.ID
			if !nameQuery || vntext.FoldedContains(vntext.Fold(a.Name), f.Query) {
				out = append(out, a)
			}
		})
		if err != nil {
			return AccountPage{}, err
		}
		if n < batch {
			break
		}
	}
	var page AccountPage
	if len(out) > f.Limit {
		out = out[:f.Limit]
		page.Next = out[f.Limit-1].ID
	}
	if err := s.attachGrants(ctx, out, visible); err != nil {
		return AccountPage{}, err
	}
	for i := range out {
		out[i].Phone = vntext.MaskPhone(out[i].Phone)
	}
	page.Accounts = out
	if page.Accounts == nil {
		page.Accounts = []Account{}
	}
	return page, nil
}

func (s *Service) scanAccounts(ctx context.Context, q string, args []any, fn func(Account)) (int, error) {
	rows, err := s.d.Query(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return 0, fmt.Errorf("list accounts: %w", err)
		}
		n++
		fn(a)
	}
	return n, rows.Err()
}

// attachGrants fills in each account's grants that lie within scopes.
func (s *Service) attachGrants(ctx context.Context, accts []Account, scopes []string) error {
	if len(accts) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(accts))
	ph := make([]string, len(accts))
	args := make([]any, len(accts))
	for i, a := range accts {
		idx[a.ID] = i
		ph[i] = "?"
		args[i] = a.ID
		accts[i].Grants = []Grant{}
	}
	rows, err := s.d.Query(ctx, `SELECT g.account_id, g.id, g.role, g.unit_id, g.unit_path, u.name
		FROM role_grants g JOIN units u ON u.id = g.unit_id WHERE g.account_id IN (`+strings.Join(ph, ",")+`) ORDER BY g.id`, args...)
	if err != nil {
		return fmt.Errorf("list grants: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var g Grant
		if err := rows.Scan(&id, &g.ID, &g.Role, &g.UnitID, &g.UnitPath, &g.UnitName); err != nil {
			return fmt.Errorf("list grants: %w", err)
		}
		if inScopes(g.UnitPath, scopes) {
			accts[idx[id]].Grants = append(accts[idx[id]].Grants, g)
		}
	}
	return rows.Err()
}

// narrowScopes intersects the subtrees in scopes with the one at narrow.
func narrowScopes(scopes []string, narrow string) []string {
	if narrow == "" {
		return scopes
	}
	if !strings.HasSuffix(narrow, "/") {
		narrow += "/"
	}
	var out []string
	for _, sc := range scopes {
		switch {
		case strings.HasPrefix(narrow, sc):
			return []string{narrow}
		case strings.HasPrefix(sc, narrow):
			out = append(out, sc)
		}
	}
	return out
}

func inScopes(path string, scopes []string) bool {
	for _, sc := range scopes {
		if strings.HasPrefix(path, sc) {
			return true
		}
	}
	return false
}

// phoneQuery returns the national digits of a query that is (part of) a
// phone number: digits with the separators people type, at least three.
func phoneQuery(q string) (string, bool) {
	var b strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '+' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	d := b.String()
	if len(d) < 3 {
		return "", false
	}
	if strings.HasPrefix(q, "+84") || strings.HasPrefix(d, "84") && len(d) >= 11 {
		d = d[2:]
	}
	return strings.TrimPrefix(d, "0"), true
}
