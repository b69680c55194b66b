package area

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// Flags mark households that need particular care: reached in person when a
// notice goes out, visited first in an emergency.
type Flags int

// The flags, a bitmask.
const (
	FlagElderlyAlone Flags = 1 << iota // người cao tuổi neo đơn
	FlagDisability                     // có người khuyết tật
	FlagNoSmartphone                   // không có điện thoại thông minh
	FlagQuarantined                    // đang cách ly

	AllFlags = FlagElderlyAlone | FlagDisability | FlagNoSmartphone | FlagQuarantined
)

var flagLabels = []struct {
	flag   Flags
	vi, en string
}{
	{FlagElderlyAlone, "Neo đơn", "Elderly living alone"},
	{FlagDisability, "Khuyết tật", "Disability"},
	{FlagNoSmartphone, "Không có điện thoại thông minh", "No smartphone"},
	{FlagQuarantined, "Cách ly", "Quarantined"},
}

// Labels returns the names of the flags set in f, in lang ("en" or
// Vietnamese), in a fixed order.
func (f Flags) Labels(lang string) []string {
	var out []string
	for _, l := range flagLabels {
		if f&l.flag != 0 {
			if lang == "en" {
				out = append(out, l.en)
			} else {
				out = append(out, l.vi)
			}
		}
	}
	return out
}

// ParseFlags reads a comma- or semicolon-separated list of flag names, in
// Vietnamese or English, with or without diacritics ("neo đơn; khuyết tật").
// It returns apperr Invalid naming the first unknown name.
func ParseFlags(s string) (Flags, error) {
	var f Flags
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		p := foldOf(part)
		if p == "" {
			continue
		}
		found := false
		for _, l := range flagLabels {
			if p == foldOf(l.vi) || p == foldOf(l.en) {
				f |= l.flag
				found = true
			}
		}
		if !found {
			return 0, apperr.InvalidField("flags", "Đặc điểm hộ không hợp lệ: "+strings.TrimSpace(part)+" (dùng: neo đơn, khuyết tật, không có điện thoại thông minh, cách ly).",
				"Unknown household flag: "+strings.TrimSpace(part)+".")
		}
	}
	return f, nil
}

// Household is a hộ gia đình registered on a commune or a unit below it.
type Household struct {
	ID             int64     `json:"id"`
	UnitID         int64     `json:"unit_id"`
	UnitPath       string    `json:"-"`
	UnitName       string    `json:"unit_name"`
	Code           string    `json:"code,omitempty"`
	Address        string    `json:"address"`
	HeadResidentID int64     `json:"head_resident_id,omitempty"`
	HeadName       string    `json:"head_name,omitempty"`
	Flags          Flags     `json:"flags"`
	Lat            *float64  `json:"lat,omitempty"`
	Lon            *float64  `json:"lon,omitempty"`
	Members        int       `json:"members"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// HouseholdDetail is a household with its members, the head first.
type HouseholdDetail struct {
	Household
	Residents []Resident `json:"residents"`
}

const householdCols = `h.id, h.unit_id, h.unit_path, u.full_name, COALESCE(h.code, ''), h.address,
	COALESCE(h.head_resident_id, 0), COALESCE(hr.full_name, ''), h.flags, h.lat, h.lon,
	(SELECT COUNT(*) FROM residents m WHERE m.household_id = h.id), h.created_at, h.updated_at`

const householdFrom = ` FROM households h JOIN units u ON u.id = h.unit_id
	LEFT JOIN residents hr ON hr.id = h.head_resident_id AND hr.household_id = h.id`

func scanHousehold(r scanner, h *Household) error {
	var lat, lon sql.NullFloat64
	var created, updated int64
	if err := r.Scan(&h.ID, &h.UnitID, &h.UnitPath, &h.UnitName, &h.Code, &h.Address, &h.HeadResidentID, &h.HeadName,
		&h.Flags, &lat, &lon, &h.Members, &created, &updated); err != nil {
		return err
	}
	if lat.Valid && lon.Valid {
		h.Lat, h.Lon = &lat.Float64, &lon.Float64
	}
	h.CreatedAt, h.UpdatedAt = db.Time(created), db.Time(updated)
	return nil
}

func householdByID(ctx context.Context, q querier, id int64) (Household, error) {
	var h Household
	err := scanHousehold(q.QueryRow(ctx, "SELECT "+householdCols+householdFrom+" WHERE h.id = ?", id), &h)
	if errors.Is(err, sql.ErrNoRows) {
		return Household{}, apperr.NotFoundf("hộ gia đình", "Household")
	}
	return h, err
}

// HouseholdFilter selects households in a unit's subtree. Query matches
// the household code exactly, or has every word in the address or every word
// in one member's name, ignoring case and diacritics ("nguyen van hoc" finds
// "Nguyễn Văn Học"); Flags keeps households having all those flags. After is the
// Next of the previous page; Limit defaults to 50 and is at most 200.
type HouseholdFilter struct {
	Query string
	Flags Flags
	After string
	Limit int
}

// HouseholdPage is one page of households, in the order of their units'
// paths and then ids; Next is empty on the last page.
type HouseholdPage struct {
	Items []Household `json:"items"`
	Next  string      `json:"next,omitempty"`
}

func encodeCursor(path string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(path + " " + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (string, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		path, ids, ok := strings.Cut(string(b), " ")
		if id, err := strconv.ParseInt(ids, 10, 64); ok && err == nil && strings.HasPrefix(path, "/") {
			return path, id, nil
		}
	}
	return "", 0, apperr.InvalidField("after", "Tham số phân trang không hợp lệ.", "Invalid page cursor.")
}

// ListHouseholds returns a page of the households registered anywhere in the
// subtree of unitID. The caller needs account.ActViewHouseholds on the unit.
// It returns apperr NotFound for an unknown unit, Unauthenticated or
// Forbidden without the permission, and Invalid for a bad cursor.
func (s *Service) ListHouseholds(ctx context.Context, p *account.Principal, unitID int64, f HouseholdFilter) (HouseholdPage, error) {
	u, err := s.Unit(ctx, unitID)
	if err != nil {
		return HouseholdPage{}, err
	}
	if err := account.Authorize(p, account.ActViewHouseholds, u.Path); err != nil {
		return HouseholdPage{}, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 200)
	lo, hi := db.SubtreeRange(u.Path)
	where := []string{"h.unit_path >= ? AND h.unit_path < ?"}
	args := []any{lo, hi}
	if f.After != "" {
		path, id, err := decodeCursor(f.After)
		if err != nil {
			return HouseholdPage{}, err
		}
		where = append(where, "(h.unit_path, h.id) > (?, ?)")
		args = append(args, path, id)
	}
	if f.Flags != 0 {
		where = append(where, "(h.flags & ?) = ?")
		args = append(args, int(f.Flags), int(f.Flags))
	}
	if terms := vntext.SearchTerms(f.Query); len(terms) > 0 {
		// Every word in the address, or every word in one member's name. The
		// members are matched once over the subtree's residents (one index
		// range) rather than once per household.
		addr := make([]string, len(terms))
		name := make([]string, len(terms))
		var addrArgs, nameArgs []any
		for i, t := range terms {
			addr[i], name[i] = "h.address_fold LIKE ?", "r.name_fold LIKE ?"
			addrArgs = append(addrArgs, "%"+t+"%")
			nameArgs = append(nameArgs, "%"+t+"%")
		}
		where = append(where, "(h.code = ? OR ("+strings.Join(addr, " AND ")+`) OR h.id IN (SELECT r.household_id FROM residents r
			WHERE r.unit_path >= ? AND r.unit_path < ? AND `+strings.Join(name, " AND ")+"))")
		args = append(args, strings.TrimSpace(f.Query))
		args = append(args, addrArgs...)
		args = append(append(args, lo, hi), nameArgs...)
	}
	// The page is cut in a subquery first, so that names and counts are
	// looked up for its rows only, whatever the planner thinks of the filter.
	rows, err := s.d.Query(ctx, "SELECT "+householdCols+" FROM (SELECT h.* FROM households h WHERE "+strings.Join(where, " AND ")+
		" ORDER BY h.unit_path, h.id LIMIT "+strconv.Itoa(f.Limit+1)+`) h
		JOIN units u ON u.id = h.unit_id
		LEFT JOIN residents hr ON hr.id = h.head_resident_id AND hr.household_id = h.id
		ORDER BY h.unit_path, h.id`, args...)
	if err != nil {
		return HouseholdPage{}, err
	}
	defer rows.Close()
	page := HouseholdPage{Items: []Household{}}
	for rows.Next() {
		var h Household
		if err := scanHousehold(rows, &h); err != nil {
			return HouseholdPage{}, err
		}
		page.Items = append(page.Items, h)
	}
	if err := rows.Err(); err != nil {
		return HouseholdPage{}, err
	}
	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		last := page.Items[f.Limit-1]
		page.Next = encodeCursor(last.UnitPath, last.ID)
	}
	return page, nil
}

// Household returns a household with its members. The caller needs
// account.ActViewHouseholds on the household's unit, or to be a member of
// the household (a resident looking at their own). Phone numbers are shown
// in full to officials with that permission and to each resident for
// themself, masked otherwise; citizen-ID numbers are always masked (see
// RevealCitizenID). It returns apperr NotFound, Unauthenticated or
// Forbidden.
func (s *Service) Household(ctx context.Context, p *account.Principal, id int64) (HouseholdDetail, error) {
	h, err := householdByID(ctx, s.d, id)
	if err != nil {
		return HouseholdDetail{}, err
	}
	if !p.Can(account.ActViewHouseholds, h.UnitPath) {
		own, err := s.isMember(ctx, p, id)
		if err != nil {
			return HouseholdDetail{}, err
		}
		if !own {
			return HouseholdDetail{}, account.Authorize(p, account.ActViewHouseholds, h.UnitPath)
		}
	}
	rs, err := s.residents(ctx, p, h)
	if err != nil {
		return HouseholdDetail{}, err
	}
	return HouseholdDetail{Household: h, Residents: rs}, nil
}

func (s *Service) isMember(ctx context.Context, p *account.Principal, householdID int64) (bool, error) {
	if p == nil || p.ResidentID == 0 {
		return false, nil
	}
	var hid int64
	err := s.d.QueryRow(ctx, "SELECT household_id FROM residents WHERE id = ?", p.ResidentID).Scan(&hid)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return hid == householdID, err
}

// MyHousehold returns the household of the resident p's account is linked
// to, as Household shows it. It returns apperr Unauthenticated for an
// anonymous p and NotFound when the account is not linked to a resident.
func (s *Service) MyHousehold(ctx context.Context, p *account.Principal) (HouseholdDetail, error) {
	if p == nil {
		return HouseholdDetail{}, apperr.ErrUnauthenticated
	}
	notLinked := apperr.New(apperr.NotFound, "Tài khoản của bạn chưa được gắn với hộ gia đình nào.", "Your account is not linked to a household.")
	if p.ResidentID == 0 {
		return HouseholdDetail{}, notLinked
	}
	var hid int64
	err := s.d.QueryRow(ctx, "SELECT household_id FROM residents WHERE id = ?", p.ResidentID).Scan(&hid)
	if errors.Is(err, sql.ErrNoRows) {
		return HouseholdDetail{}, notLinked
	}
	if err != nil {
		return HouseholdDetail{}, err
	}
	return s.Household(ctx, p, hid)
}
