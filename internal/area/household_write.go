package area

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
)

// HouseholdInput describes a household to create or update. Code is the
// commune's own household number (optional, unique within the unit); Lat and
// Lon are both set or both nil.
type HouseholdInput struct {
	UnitID  int64    `json:"unit_id"`
	Code    string   `json:"code"`
	Address string   `json:"address"`
	Flags   Flags    `json:"flags"`
	Lat     *float64 `json:"lat"`
	Lon     *float64 `json:"lon"`
}

const maxAddressLen = 200

// checkHousehold validates in, returning it cleaned. Errors are apperr
// Invalid naming the field.
func checkHousehold(in HouseholdInput) (HouseholdInput, error) {
	in.Code, in.Address = cleanText(in.Code), cleanText(in.Address)
	if in.Address == "" {
		return in, apperr.InvalidField("address", "Vui lòng nhập địa chỉ.", "Please enter the address.")
	}
	if utf8.RuneCountInString(in.Address) > maxAddressLen {
		return in, apperr.InvalidField("address", "Địa chỉ dài quá 200 ký tự.", "The address is longer than 200 characters.")
	}
	if utf8.RuneCountInString(in.Code) > 30 {
		return in, apperr.InvalidField("code", "Mã hộ dài quá 30 ký tự.", "The household code is longer than 30 characters.")
	}
	if in.Flags&^AllFlags != 0 || in.Flags < 0 {
		return in, apperr.InvalidField("flags", "Đặc điểm hộ không hợp lệ.", "Invalid household flags.")
	}
	if (in.Lat == nil) != (in.Lon == nil) {
		return in, apperr.InvalidField("lat", "Cần cả vĩ độ và kinh độ.", "Both latitude and longitude are needed.")
	}
	if in.Lat != nil && (math.IsNaN(*in.Lat) || math.IsNaN(*in.Lon) || math.Abs(*in.Lat) > 90 || math.Abs(*in.Lon) > 180) {
		return in, apperr.InvalidField("lat", "Toạ độ không hợp lệ.", "Invalid coordinates.")
	}
	return in, nil
}

// householdUnit loads the unit a household is to be registered on and checks
// that p may manage households there and that it can hold them.
func householdUnit(ctx context.Context, tx *db.Tx, p *account.Principal, unitID int64) (Unit, error) {
	u, err := unitByID(ctx, tx, unitID)
	if err != nil {
		return Unit{}, err
	}
	if err := account.Authorize(p, account.ActManageHouseholds, u.Path); err != nil {
		return Unit{}, err
	}
	if !u.Current() || !u.Level.HoldsHouseholds() {
		return Unit{}, apperr.InvalidField("unit_id", "Hộ gia đình chỉ được đăng ký ở xã, phường hiện hành hoặc khu phố, tổ trực thuộc.",
			"Households are registered on a commune in force or a unit below it.")
	}
	return u, nil
}

// codeFree returns apperr Conflict when another household of the unit has
// the code.
func codeFree(ctx context.Context, tx *db.Tx, unitID int64, code string, selfID int64) error {
	if code == "" {
		return nil
	}
	var id int64
	err := tx.QueryRow(ctx, "SELECT id FROM households WHERE unit_id = ? AND code = ?", unitID, code).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case id != selfID:
		return errCodeTaken(code)
	}
	return nil
}

func errCodeTaken(code string) error {
	return apperr.New(apperr.Conflict, "Mã hộ "+code+" đã có trong đơn vị này.", "Household code "+code+" is already used in this unit.")
}

func logHousehold(ctx context.Context, tx *db.Tx, p *account.Principal, id int64, unitPath, detail string) error {
	return audit.Log(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: audit.HouseholdWrite,
		SubjectType: "household", SubjectID: strconv.FormatInt(id, 10), UnitPath: unitPath, Detail: detail})
}

// CreateHousehold registers a household on a current commune or a unit
// below it. The caller needs account.ActManageHouseholds on the unit. It
// returns apperr NotFound (unit), Unauthenticated, Forbidden, Invalid
// (naming the field; also for a unit that cannot hold households) or
// Conflict (the code is taken in the unit).
func (s *Service) CreateHousehold(ctx context.Context, p *account.Principal, in HouseholdInput) (Household, error) {
	var h Household
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		u, err := householdUnit(ctx, tx, p, in.UnitID)
		if err != nil {
			return err
		}
		if in, err = checkHousehold(in); err != nil {
			return err
		}
		if err := codeFree(ctx, tx, u.ID, in.Code, 0); err != nil {
			return err
		}
		id, err := insertHousehold(ctx, tx, u, in, db.Now())
		if err != nil {
			return err
		}
		if err := logHousehold(ctx, tx, p, id, u.Path, "create"); err != nil {
			return err
		}
		h, err = householdByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Household{}, err
	}
	return h, nil
}

func insertHousehold(ctx context.Context, tx *db.Tx, u Unit, in HouseholdInput, now int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO households(unit_id, unit_path, code, address, address_fold, flags, lat, lon, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.ID, u.Path, nullStr(in.Code), in.Address, foldOf(in.Address), int(in.Flags), in.Lat, in.Lon, now, now).Scan(&id)
	if db.IsUniqueViolation(err) {
		return 0, errCodeTaken(in.Code)
	}
	return id, err
}

// UpdateHousehold replaces a household's code, address, flags and location
// with in; in.UnitID must be 0 or the household's unit (MoveHousehold moves
// it). The caller needs account.ActManageHouseholds on the household's unit.
// It returns apperr NotFound, Unauthenticated, Forbidden, Invalid or
// Conflict, as CreateHousehold.
func (s *Service) UpdateHousehold(ctx context.Context, p *account.Principal, id int64, in HouseholdInput) (Household, error) {
	var h Household
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		old, err := householdForChange(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if in.UnitID != 0 && in.UnitID != old.UnitID {
			return apperr.InvalidField("unit_id", "Dùng chức năng chuyển hộ để đổi đơn vị.", "Use move to change the household's unit.")
		}
		if in, err = checkHousehold(in); err != nil {
			return err
		}
		if err := codeFree(ctx, tx, old.UnitID, in.Code, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE households SET code = ?, address = ?, address_fold = ?, flags = ?, lat = ?, lon = ?, updated_at = ? WHERE id = ?`,
			nullStr(in.Code), in.Address, foldOf(in.Address), int(in.Flags), in.Lat, in.Lon, db.Now(), id)
		if db.IsUniqueViolation(err) {
			return errCodeTaken(in.Code)
		}
		if err != nil {
			return err
		}
		if err := logHousehold(ctx, tx, p, id, old.UnitPath, "update"); err != nil {
			return err
		}
		h, err = householdByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Household{}, err
	}
	return h, nil
}

// DeleteHousehold deletes a household and its residents. The caller needs
// account.ActManageHouseholds on the household's unit. It returns apperr
// NotFound, Unauthenticated or Forbidden.
func (s *Service) DeleteHousehold(ctx context.Context, p *account.Principal, id int64) error {
	return s.d.Write(ctx, func(tx *db.Tx) error {
		h, err := householdForChange(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM households WHERE id = ?", id); err != nil {
			return err
		}
		return logHousehold(ctx, tx, p, id, h.UnitPath, "delete ("+strconv.Itoa(h.Members)+" residents)")
	})
}

// MoveHousehold moves a household, with its residents, to another unit that
// can hold households. The caller needs account.ActManageHouseholds on both
// units. It returns apperr NotFound, Unauthenticated, Forbidden, Invalid
// (the target cannot hold households) or Conflict (the household's code is
// taken in the target).
func (s *Service) MoveHousehold(ctx context.Context, p *account.Principal, id, toUnitID int64) (Household, error) {
	var h Household
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		old, err := householdForChange(ctx, tx, p, id)
		if err != nil {
			return err
		}
		to, err := householdUnit(ctx, tx, p, toUnitID)
		if err != nil {
			return err
		}
		if to.ID == old.UnitID {
			h = old
			return nil
		}
		if err := codeFree(ctx, tx, to.ID, old.Code, id); err != nil {
			return err
		}
		now := db.Now()
		if _, err := tx.Exec(ctx, "UPDATE households SET unit_id = ?, unit_path = ?, updated_at = ? WHERE id = ?", to.ID, to.Path, now, id); err != nil {
			if db.IsUniqueViolation(err) {
				return errCodeTaken(old.Code)
			}
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE residents SET unit_path = ? WHERE household_id = ?", to.Path, id); err != nil {
			return err
		}
		from, to2 := strconv.FormatInt(old.UnitID, 10), strconv.FormatInt(to.ID, 10)
		if err := logHousehold(ctx, tx, p, id, old.UnitPath, "move out: unit "+from+" → "+to2); err != nil {
			return err
		}
		if err := logHousehold(ctx, tx, p, id, to.Path, "move in: unit "+from+" → "+to2); err != nil {
			return err
		}
		h, err = householdByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return Household{}, err
	}
	return h, nil
}
