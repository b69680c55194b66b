package area

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// Gender is stored as a code; Label gives the words.
type Gender string

// The genders. Empty means not recorded.
const (
	GenderMale   Gender = "male"
	GenderFemale Gender = "female"
	GenderOther  Gender = "other"
)

// Label returns the gender in lang ("en" or Vietnamese); empty when not
// recorded.
func (g Gender) Label(lang string) string {
	vi, en := map[Gender]string{GenderMale: "Nam", GenderFemale: "Nữ", GenderOther: "Khác"}, map[Gender]string{GenderMale: "Male", GenderFemale: "Female", GenderOther: "Other"}
	if lang == "en" {
		return en[g]
	}
	return vi[g]
}

// ParseGender reads a gender as people write it ("Nam", "nữ", "nu",
// "female", "khác"…). Empty gives "". It returns apperr Invalid otherwise.
func ParseGender(s string) (Gender, error) {
	switch foldOf(s) {
	case "":
		return "", nil
	case "nam", "male", "m":
		return GenderMale, nil
	case "nu", "female", "f":
		return GenderFemale, nil
	case "khac", "other":
		return GenderOther, nil
	}
	return "", apperr.InvalidField("gender", "Giới tính phải là Nam, Nữ hoặc Khác.", "Gender must be male, female or other.")
}

// Resident is a member of a household as the caller may see them: Phone is
// filled only for officials allowed to view households and for the resident
// themself; PhoneMasked and CitizenIDMasked are always safe to show.
type Resident struct {
	ID              int64  `json:"id"`
	HouseholdID     int64  `json:"household_id"`
	FullName        string `json:"full_name"`
	BirthYear       int    `json:"birth_year,omitempty"`
	Gender          Gender `json:"gender,omitempty"`
	Relation        string `json:"relation,omitempty"`
	IsHead          bool   `json:"is_head"`
	Phone           string `json:"phone,omitempty"`        // "+84…"
	PhoneMasked     string `json:"phone_masked,omitempty"` // "091****678"
	CitizenIDMasked string `json:"citizen_id_masked,omitempty"`
}

// ResidentInput describes a resident to add or update. Phone and CitizenID
// are as typed; BirthYear 0 means unknown. On update an empty CitizenID keeps
// the stored number (forms never hold it in clear); ClearCitizenID removes
// it. A Relation of "Chủ hộ" also makes the resident the head.
type ResidentInput struct {
	FullName       string `json:"full_name"`
	BirthYear      int    `json:"birth_year"`
	Gender         Gender `json:"gender"`
	Relation       string `json:"relation"`
	Phone          string `json:"phone"`
	CitizenID      string `json:"citizen_id"`
	IsHead         bool   `json:"is_head"`
	ClearCitizenID bool   `json:"clear_citizen_id"`
}

const relationHead = "Chủ hộ"

// checkResident validates in, returning it cleaned with the phone in
// "+84…" form and the citizen ID normalised. Errors are apperr Invalid
// naming the field; the field names are the JSON ones.
func checkResident(in ResidentInput, thisYear int) (ResidentInput, error) {
	in.FullName, in.Relation = cleanText(in.FullName), cleanText(in.Relation)
	if in.FullName == "" {
		return in, apperr.InvalidField("full_name", "Vui lòng nhập họ tên.", "Please enter the full name.")
	}
	if utf8.RuneCountInString(in.FullName) > maxNameLen {
		return in, apperr.InvalidField("full_name", "Họ tên dài quá 100 ký tự.", "The name is longer than 100 characters.")
	}
	if in.BirthYear != 0 && (in.BirthYear < 1900 || in.BirthYear > thisYear) {
		return in, apperr.InvalidField("birth_year", "Năm sinh phải từ 1900 đến "+strconv.Itoa(thisYear)+".",
			"The birth year must be between 1900 and "+strconv.Itoa(thisYear)+".")
	}
	g, err := ParseGender(string(in.Gender))
	if err != nil {
		return in, err
	}
	in.Gender = g
	if utf8.RuneCountInString(in.Relation) > 50 {
		return in, apperr.InvalidField("relation", "Quan hệ với chủ hộ dài quá 50 ký tự.", "The relation is longer than 50 characters.")
	}
	if foldOf(in.Relation) == foldOf(relationHead) {
		in.IsHead = true
	}
	if in.IsHead && in.Relation == "" {
		in.Relation = relationHead
	}
	if in.Phone != "" {
		if in.Phone, err = vntext.NormalizePhone(in.Phone); err != nil {
			return in, apperr.InvalidField("phone", "Số điện thoại không hợp lệ (ví dụ: 0912 345 678).", "Invalid phone number (for example 0912 345 678).")
		}
	}
	if in.CitizenID != "" {
		if in.CitizenID, err = vntext.NormalizeCitizenID(in.CitizenID); err != nil {
			if errors.Is(err, vntext.ErrCitizenIDProvince) {
				return in, apperr.InvalidField("citizen_id", "Số CCCD không hợp lệ: ba chữ số đầu phải là mã tỉnh từ 001 đến 096.",
					"Invalid citizen ID: the first three digits must be a province code from 001 to 096.")
			}
			return in, apperr.InvalidField("citizen_id", "Số CCCD phải gồm đúng 12 chữ số.", "A citizen ID has exactly 12 digits.")
		}
	}
	return in, nil
}

func errCitizenIDTaken() error {
	return apperr.New(apperr.Conflict, "Số CCCD này đã được khai báo cho một cư dân khác.", "This citizen-ID number is already recorded for another resident.")
}

// citizenIDFree returns apperr Conflict when the number is recorded for a
// resident other than selfID.
func (s *Service) citizenIDFree(ctx context.Context, tx *db.Tx, mac string, selfID int64) error {
	var id int64
	err := tx.QueryRow(ctx, "SELECT id FROM residents WHERE cccd_hmac = ?", mac).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case id != selfID:
		return errCitizenIDTaken()
	}
	return nil
}

func (s *Service) thisYear() int { return s.now().In(vnZone).Year() }

// residents lists a household's members as p may see them, head first.
func (s *Service) residents(ctx context.Context, p *account.Principal, h Household) ([]Resident, error) {
	rows, err := s.d.Query(ctx, `SELECT id, household_id, full_name, COALESCE(birth_year, 0), gender, relation, COALESCE(phone, ''), COALESCE(cccd_last4, '')
		FROM residents WHERE household_id = ? ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END, id`, h.ID, h.HeadResidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Resident{}
	for rows.Next() {
		var r Resident
		var phone, last4 string
		if err := rows.Scan(&r.ID, &r.HouseholdID, &r.FullName, &r.BirthYear, &r.Gender, &r.Relation, &phone, &last4); err != nil {
			return nil, err
		}
		out = append(out, residentView(p, h.UnitPath, r, h.HeadResidentID, phone, last4))
	}
	return out, rows.Err()
}

func residentView(p *account.Principal, unitPath string, r Resident, headID int64, phone, last4 string) Resident {
	r.IsHead = r.ID == headID
	r.CitizenIDMasked = maskLast4(last4)
	if phone != "" {
		r.PhoneMasked = vntext.MaskPhone(phone)
		if p.Can(account.ActViewHouseholds, unitPath) || (p != nil && p.ResidentID == r.ID) {
			r.Phone = phone
		}
	}
	return r
}

// householdForChange loads a household and checks that p may change it.
func householdForChange(ctx context.Context, tx *db.Tx, p *account.Principal, id int64) (Household, error) {
	h, err := householdByID(ctx, tx, id)
	if err != nil {
		return Household{}, err
	}
	return h, account.Authorize(p, account.ActManageHouseholds, h.UnitPath)
}

func logResident(ctx context.Context, tx *db.Tx, p *account.Principal, residentID int64, unitPath, detail string) error {
	return audit.Log(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: audit.ResidentWrite,
		SubjectType: "resident", SubjectID: strconv.FormatInt(residentID, 10), UnitPath: unitPath, Detail: detail})
}

// AddResident adds a member to a household. The caller needs
// account.ActManageHouseholds on the household's unit. It returns apperr
// NotFound, Unauthenticated, Forbidden, Invalid (naming the field) or
// Conflict when the citizen-ID number is already recorded for someone else.
func (s *Service) AddResident(ctx context.Context, p *account.Principal, householdID int64, in ResidentInput) (Resident, error) {
	var r Resident
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		h, err := householdForChange(ctx, tx, p, householdID)
		if err != nil {
			return err
		}
		if in, err = checkResident(in, s.thisYear()); err != nil {
			return err
		}
		var cid protectedID
		if in.CitizenID != "" {
			if cid, err = s.protect(in.CitizenID); err != nil {
				return err
			}
			if err := s.citizenIDFree(ctx, tx, cid.mac, 0); err != nil {
				return err
			}
		}
		now := db.Now()
		err = tx.QueryRow(ctx, `INSERT INTO residents(household_id, unit_path, full_name, name_fold, birth_year, gender, relation, phone,
			cccd_enc, cccd_hmac, cccd_last4, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			h.ID, h.UnitPath, in.FullName, foldOf(in.FullName), nullInt(int64(in.BirthYear)), string(in.Gender), in.Relation,
			nullStr(in.Phone), nullStr(cid.enc), nullStr(cid.mac), nullStr(cid.last4), now, now).Scan(&r.ID)
		if db.IsUniqueViolation(err) {
			return errCitizenIDTaken()
		}
		if err != nil {
			return err
		}
		head := h.HeadResidentID
		if in.IsHead {
			head = r.ID
		}
		if _, err := tx.Exec(ctx, "UPDATE households SET head_resident_id = ?, updated_at = ? WHERE id = ?", nullInt(head), now, h.ID); err != nil {
			return err
		}
		r = residentView(p, h.UnitPath, Resident{ID: r.ID, HouseholdID: h.ID, FullName: in.FullName, BirthYear: in.BirthYear,
			Gender: in.Gender, Relation: in.Relation}, head, in.Phone, cid.last4)
		return logResident(ctx, tx, p, r.ID, h.UnitPath, "add to household "+strconv.FormatInt(h.ID, 10))
	})
	if err != nil {
		return Resident{}, err
	}
	return r, nil
}

// residentHousehold returns the household of a resident, for changes.
func residentHousehold(ctx context.Context, tx *db.Tx, p *account.Principal, residentID int64) (Household, error) {
	var hid int64
	if err := tx.QueryRow(ctx, "SELECT household_id FROM residents WHERE id = ?", residentID).Scan(&hid); err != nil {
		return Household{}, notFound(err, "cư dân", "Resident")
	}
	return householdForChange(ctx, tx, p, hid)
}

// UpdateResident replaces a resident's details with in (see ResidentInput
// for the citizen ID). IsHead false on the current head leaves the household
// without a head. The caller needs account.ActManageHouseholds on the
// household's unit. It returns apperr NotFound, Unauthenticated, Forbidden,
// Invalid or Conflict, as AddResident.
func (s *Service) UpdateResident(ctx context.Context, p *account.Principal, residentID int64, in ResidentInput) (Resident, error) {
	var r Resident
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		h, err := residentHousehold(ctx, tx, p, residentID)
		if err != nil {
			return err
		}
		if in, err = checkResident(in, s.thisYear()); err != nil {
			return err
		}
		now := db.Now()
		var last4 string
		if err := tx.QueryRow(ctx, "SELECT COALESCE(cccd_last4, '') FROM residents WHERE id = ?", residentID).Scan(&last4); err != nil {
			return err
		}
		switch {
		case in.CitizenID != "":
			cid, err := s.protect(in.CitizenID)
			if err != nil {
				return err
			}
			if err := s.citizenIDFree(ctx, tx, cid.mac, residentID); err != nil {
				return err
			}
			last4 = cid.last4
			_, err = tx.Exec(ctx, "UPDATE residents SET cccd_enc = ?, cccd_hmac = ?, cccd_last4 = ? WHERE id = ?", cid.enc, cid.mac, cid.last4, residentID)
			if db.IsUniqueViolation(err) {
				return errCitizenIDTaken()
			}
			if err != nil {
				return err
			}
		case in.ClearCitizenID:
			last4 = ""
			if _, err := tx.Exec(ctx, "UPDATE residents SET cccd_enc = NULL, cccd_hmac = NULL, cccd_last4 = NULL WHERE id = ?", residentID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE residents SET full_name = ?, name_fold = ?, birth_year = ?, gender = ?, relation = ?, phone = ?, updated_at = ?
			WHERE id = ?`, in.FullName, foldOf(in.FullName), nullInt(int64(in.BirthYear)), string(in.Gender), in.Relation, nullStr(in.Phone), now, residentID); err != nil {
			return err
		}
		head := h.HeadResidentID
		switch {
		case in.IsHead:
			head = residentID
		case head == residentID:
			head = 0
		}
		if _, err := tx.Exec(ctx, "UPDATE households SET head_resident_id = ?, updated_at = ? WHERE id = ?", nullInt(head), now, h.ID); err != nil {
			return err
		}
		r = residentView(p, h.UnitPath, Resident{ID: residentID, HouseholdID: h.ID, FullName: in.FullName, BirthYear: in.BirthYear,
			Gender: in.Gender, Relation: in.Relation}, head, in.Phone, last4)
		return logResident(ctx, tx, p, residentID, h.UnitPath, "update")
	})
	if err != nil {
		return Resident{}, err
	}
	return r, nil
}

// DeleteResident removes a resident from their household (and from every
// organisation; an account linked to them is unlinked). The caller needs
// account.ActManageHouseholds on the household's unit. It returns apperr
// NotFound, Unauthenticated or Forbidden.
func (s *Service) DeleteResident(ctx context.Context, p *account.Principal, residentID int64) error {
	return s.d.Write(ctx, func(tx *db.Tx) error {
		h, err := residentHousehold(ctx, tx, p, residentID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM residents WHERE id = ?", residentID); err != nil {
			return err
		}
		head := h.HeadResidentID
		if head == residentID {
			head = 0
		}
		if _, err := tx.Exec(ctx, "UPDATE households SET head_resident_id = ?, updated_at = ? WHERE id = ?", nullInt(head), db.Now(), h.ID); err != nil {
			return err
		}
		return logResident(ctx, tx, p, residentID, h.UnitPath, "delete from household "+strconv.FormatInt(h.ID, 10))
	})
}

// ResidentRef links a resident to where they live, for account sign-in.
type ResidentRef struct {
	ResidentID  int64  `json:"resident_id"`
	HouseholdID int64  `json:"household_id"`
	UnitID      int64  `json:"unit_id"`
	UnitPath    string `json:"-"`
	Name        string `json:"name"`
}

// ResidentByPhone finds the resident with the given phone number (any form
// NormalizePhone accepts). When several share it (a family phone), the
// household head wins, then the lowest id. It returns apperr Invalid for a
// malformed number and NotFound when no resident has it.
func (s *Service) ResidentByPhone(ctx context.Context, phone string) (ResidentRef, error) {
	e164, err := vntext.NormalizePhone(phone)
	if err != nil {
		return ResidentRef{}, apperr.InvalidField("phone", "Số điện thoại không hợp lệ.", "Invalid phone number.")
	}
	var r ResidentRef
	err = s.d.QueryRow(ctx, `SELECT r.id, r.household_id, h.unit_id, h.unit_path, r.full_name
		FROM residents r JOIN households h ON h.id = r.household_id
		WHERE r.phone = ?
		ORDER BY CASE WHEN h.head_resident_id = r.id THEN 0 ELSE 1 END, r.id LIMIT 1`, e164).
		Scan(&r.ResidentID, &r.HouseholdID, &r.UnitID, &r.UnitPath, &r.Name)
	if err != nil {
		return ResidentRef{}, notFound(err, "cư dân có số điện thoại này", "Resident with this phone")
	}
	return r, nil
}
