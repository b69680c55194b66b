package area

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
)

// AuditUnitWrite records a change to a local unit (khu phố, tổ).
const AuditUnitWrite = "unit.changed"

// UnitInput describes a local unit to create or rename. Level may be empty
// when Kind implies it; Kind may be empty for the level's usual kind.
type UnitInput struct {
	Level  Level  `json:"level"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
}

// LocalKinds lists the kinds a local unit of each level may have, the usual
// one first.
var LocalKinds = map[Level][]string{
	LevelNeighbourhood: {"Khu phố", "Ấp", "Thôn", "Bản", "Làng", "Xóm", "Khóm", "Buôn", "Plei", "Phum", "Sóc"},
	LevelGroup:         {"Tổ dân phố", "Tổ nhân dân", "Tổ"},
}

const maxNameLen = 100

// localKind finds the canonical kind and its level for a kind as typed.
func localKind(level Level, kind string) (Level, string, bool) {
	k := foldOf(kind)
	for _, l := range []Level{LevelNeighbourhood, LevelGroup} {
		if level != "" && level != l {
			continue
		}
		for _, c := range LocalKinds[l] {
			if foldOf(c) == k {
				return l, c, true
			}
		}
	}
	return "", "", false
}

// kindOfName guesses a local unit's kind from its name ("Tổ 5" → "Tổ",
// "Ấp Bình Minh" → "Ấp"); empty when the name does not say.
func kindOfName(name string) string {
	f := foldOf(name)
	best := ""
	for _, l := range []Level{LevelNeighbourhood, LevelGroup} {
		for _, k := range LocalKinds[l] {
			if kf := foldOf(k); (f == kf || strings.HasPrefix(f, kf+" ")) && len(k) > len(best) {
				best = k
			}
		}
	}
	return best
}

// localFullName is "Khu phố 3" for kind "Khu phố" and name "3" or "Khu phố 3".
func localFullName(kind, name string) string {
	if f, k := foldOf(name), foldOf(kind); f == k || strings.HasPrefix(f, k+" ") {
		return name
	}
	return kind + " " + name
}

// checkUnitInput validates in for a unit under parent and fills in level,
// kind and name. It returns apperr Invalid naming the field at fault.
func checkUnitInput(parent Unit, in UnitInput) (UnitInput, error) {
	in.Name, in.NameEN, in.Kind = cleanText(in.Name), cleanText(in.NameEN), cleanText(in.Kind)
	if !parent.Current() {
		return in, apperr.InvalidField("parent_id", "Không thể tạo đơn vị dưới một đơn vị đã giải thể.", "Units cannot be created under a unit no longer in force.")
	}
	var allowed []Level
	switch parent.Level {
	case LevelCommune:
		allowed = []Level{LevelNeighbourhood, LevelGroup}
	case LevelNeighbourhood:
		allowed = []Level{LevelGroup}
	default:
		return in, apperr.InvalidField("parent_id", "Khu phố, ấp, thôn chỉ được tạo dưới xã, phường; tổ dân phố dưới xã, phường hoặc khu phố.",
			"Neighbourhoods are created under a commune, residential groups under a commune or a neighbourhood.")
	}
	switch {
	case in.Kind != "":
		l, k, ok := localKind(in.Level, in.Kind)
		if !ok {
			return in, apperr.InvalidField("kind", "Loại đơn vị không hợp lệ: "+in.Kind+".", "Unknown kind of unit: "+in.Kind+".")
		}
		in.Level, in.Kind = l, k
	default:
		// "Tổ 5" says its kind; otherwise the level's usual kind.
		l, k, ok := localKind(in.Level, kindOfName(in.Name))
		switch {
		case ok:
			in.Level, in.Kind = l, k
		case in.Level == "":
			in.Level = allowed[0]
			in.Kind = LocalKinds[in.Level][0]
		case in.Level.Local():
			in.Kind = LocalKinds[in.Level][0]
		}
	}
	ok := false
	for _, l := range allowed {
		ok = ok || l == in.Level
	}
	if !ok {
		return in, apperr.InvalidField("level", in.Level.Label("vi")+" không thể nằm dưới "+parent.FullName+".",
			in.Level.Label("en")+" cannot be placed under "+parent.FullName+".")
	}
	if in.Name == "" {
		return in, apperr.InvalidField("name", "Vui lòng nhập tên.", "Please enter a name.")
	}
	if utf8.RuneCountInString(in.Name) > maxNameLen || utf8.RuneCountInString(in.NameEN) > maxNameLen {
		return in, apperr.InvalidField("name", "Tên dài quá 100 ký tự.", "The name is longer than 100 characters.")
	}
	return in, nil
}

// checkSiblings returns apperr Conflict when another unit under parentID
// already has the name (or full name), ignoring diacritics and case.
func checkSiblings(ctx context.Context, tx *db.Tx, parentID, selfID int64, name, fullName string) error {
	rows, err := tx.Query(ctx, "SELECT id, name_fold, full_name FROM units WHERE parent_id = ? AND valid_to IS NULL", parentID)
	if err != nil {
		return err
	}
	defer rows.Close()
	nf, ff := foldOf(name), foldOf(fullName)
	for rows.Next() {
		var id int64
		var f, full string
		if err := rows.Scan(&id, &f, &full); err != nil {
			return err
		}
		if id != selfID && (f == nf || foldOf(full) == ff) {
			return apperr.New(apperr.Conflict, "Đã có đơn vị tên "+full+" ở đây.", "There is already a unit named "+full+" here.")
		}
	}
	return rows.Err()
}

// CreateUnit creates a local unit under parentID: a neighbourhood (khu phố,
// ấp, thôn…) under a commune, or a residential group (tổ) under a commune or
// a neighbourhood. The caller needs account.ActManageUnits on the parent.
// It returns apperr NotFound for an unknown parent, Unauthenticated or
// Forbidden without the permission, Invalid for a bad level, kind or name,
// and Conflict when a sibling already has the name.
func (s *Service) CreateUnit(ctx context.Context, p *account.Principal, parentID int64, in UnitInput) (Unit, error) {
	var u Unit
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		var err error
		u, err = createUnit(ctx, tx, p, parentID, in)
		return err
	})
	if err != nil {
		return Unit{}, err
	}
	return u, nil
}

func createUnit(ctx context.Context, tx *db.Tx, p *account.Principal, parentID int64, in UnitInput) (Unit, error) {
	parent, err := unitByID(ctx, tx, parentID)
	if err != nil {
		return Unit{}, err
	}
	if err := account.Authorize(p, account.ActManageUnits, parent.Path); err != nil {
		return Unit{}, err
	}
	if in, err = checkUnitInput(parent, in); err != nil {
		return Unit{}, err
	}
	u := Unit{ParentID: parentID, Level: in.Level, Name: in.Name, FullName: localFullName(in.Kind, in.Name),
		Kind: in.Kind, NameEN: in.NameEN, ValidFrom: today()}
	if err := checkSiblings(ctx, tx, parentID, 0, u.Name, u.FullName); err != nil {
		return Unit{}, err
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:]) // crypto/rand never fails on supported platforms
	err = tx.QueryRow(ctx, `INSERT INTO units(parent_id, path, level, name, full_name, kind, name_en, name_fold, valid_from, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		parentID, tempPrefix+hex.EncodeToString(rnd[:]), u.Level, u.Name, u.FullName, u.Kind, u.NameEN, foldOf(u.Name), u.ValidFrom, db.Now()).Scan(&u.ID)
	if err != nil {
		return Unit{}, err
	}
	u.Path = parent.Path + strconv.FormatInt(u.ID, 10) + "/"
	if _, err := tx.Exec(ctx, "UPDATE units SET path = ? WHERE id = ?", u.Path, u.ID); err != nil {
		return Unit{}, err
	}
	return u, logUnit(ctx, tx, p, u, "create "+u.FullName)
}

func logUnit(ctx context.Context, tx *db.Tx, p *account.Principal, u Unit, detail string) error {
	return audit.Log(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: AuditUnitWrite,
		SubjectType: "unit", SubjectID: strconv.FormatInt(u.ID, 10), UnitPath: u.Path, Detail: detail})
}

// localUnitForChange loads a local unit and checks that p may change it
// (account.ActManageUnits on its parent).
func localUnitForChange(ctx context.Context, tx *db.Tx, p *account.Principal, id int64) (Unit, Unit, error) {
	u, err := unitByID(ctx, tx, id)
	if err != nil {
		return Unit{}, Unit{}, err
	}
	parent, err := unitByID(ctx, tx, u.ParentID)
	if err != nil {
		return Unit{}, Unit{}, err
	}
	if err := account.Authorize(p, account.ActManageUnits, parent.Path); err != nil {
		return Unit{}, Unit{}, err
	}
	if !u.Level.Local() {
		return Unit{}, Unit{}, apperr.New(apperr.Invalid, "Chỉ đổi tên hoặc xoá được khu phố, ấp, thôn và tổ; đơn vị hành chính lấy từ danh mục quốc gia.",
			"Only neighbourhoods and residential groups can be renamed or deleted; administrative units come from the national list.")
	}
	return u, parent, nil
}

// RenameUnit changes the name, kind or English name of a local unit (its
// level cannot change). The caller needs account.ActManageUnits on the
// unit's parent. It returns apperr NotFound, Unauthenticated, Forbidden,
// Invalid (a national unit, or bad input) or Conflict (a sibling has the
// name).
func (s *Service) RenameUnit(ctx context.Context, p *account.Principal, id int64, in UnitInput) (Unit, error) {
	var u Unit
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		var parent Unit
		var err error
		if u, parent, err = localUnitForChange(ctx, tx, p, id); err != nil {
			return err
		}
		if in.Level == "" {
			in.Level = u.Level
		}
		if in.Level != u.Level {
			return apperr.InvalidField("level", "Không thể đổi cấp của đơn vị.", "The level of a unit cannot change.")
		}
		if in.Kind == "" {
			in.Kind = u.Kind
		}
		if in, err = checkUnitInput(parent, in); err != nil {
			return err
		}
		old := u.FullName
		u.Name, u.Kind, u.NameEN, u.FullName = in.Name, in.Kind, in.NameEN, localFullName(in.Kind, in.Name)
		if err := checkSiblings(ctx, tx, u.ParentID, u.ID, u.Name, u.FullName); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE units SET name = ?, full_name = ?, kind = ?, name_en = ?, name_fold = ? WHERE id = ?",
			u.Name, u.FullName, u.Kind, u.NameEN, foldOf(u.Name), u.ID); err != nil {
			return err
		}
		return logUnit(ctx, tx, p, u, "rename "+old+" → "+u.FullName)
	})
	if err != nil {
		return Unit{}, err
	}
	return u, nil
}

// DeleteUnit deletes an empty local unit: one without child units,
// households, organisations or role grants. The caller needs
// account.ActManageUnits on the unit's parent. It returns apperr NotFound,
// Unauthenticated, Forbidden, Invalid (a national unit) or Conflict (the
// unit is not empty, or other records still refer to it).
func (s *Service) DeleteUnit(ctx context.Context, p *account.Principal, id int64) error {
	return s.d.Write(ctx, func(tx *db.Tx) error {
		u, _, err := localUnitForChange(ctx, tx, p, id)
		if err != nil {
			return err
		}
		var children, households, orgs, grants int
		err = tx.QueryRow(ctx, `SELECT
			(SELECT COUNT(*) FROM units WHERE parent_id = ?),
			(SELECT COUNT(*) FROM households WHERE unit_id = ?),
			(SELECT COUNT(*) FROM organisations WHERE unit_id = ?),
			(SELECT COUNT(*) FROM role_grants WHERE unit_id = ?)`, id, id, id, id).Scan(&children, &households, &orgs, &grants)
		if err != nil {
			return err
		}
		if children+households+orgs+grants > 0 {
			return apperr.New(apperr.Conflict,
				"Không thể xoá "+u.FullName+": còn "+strconv.Itoa(children)+" đơn vị trực thuộc, "+strconv.Itoa(households)+" hộ, "+
					strconv.Itoa(orgs)+" tổ chức và "+strconv.Itoa(grants)+" phân quyền.",
				"Cannot delete "+u.FullName+": it still has "+strconv.Itoa(children)+" units, "+strconv.Itoa(households)+" households, "+
					strconv.Itoa(orgs)+" organisations and "+strconv.Itoa(grants)+" role grants.")
		}
		if _, err := tx.Exec(ctx, "DELETE FROM units WHERE id = ?", id); err != nil {
			if db.IsForeignKeyViolation(err) {
				return apperr.Wrap(err, apperr.Conflict, "Không thể xoá "+u.FullName+": còn dữ liệu khác gắn với đơn vị này.",
					"Cannot delete "+u.FullName+": other records still refer to it.")
			}
			return err
		}
		return logUnit(ctx, tx, p, u, "delete "+u.FullName)
	})
}
