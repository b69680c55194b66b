package area

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
)

// AuditOrganisationWrite records a change to an organisation or its members.
const AuditOrganisationWrite = "organisation.changed"

// OrgKind is the kind of an organisation.
type OrgKind string

// The organisations of a commune.
const (
	OrgPeopleCommittee OrgKind = "people_committee" // Ủy ban nhân dân
	OrgPolice          OrgKind = "police"           // Công an
	OrgPartyCell       OrgKind = "party_cell"       // Chi bộ
	OrgFatherlandFront OrgKind = "fatherland_front" // Mặt trận Tổ quốc
	OrgWomenUnion      OrgKind = "women_union"      // Hội Phụ nữ
	OrgYouthUnion      OrgKind = "youth_union"      // Đoàn Thanh niên
	OrgVeterans        OrgKind = "veterans"         // Hội Cựu chiến binh
	OrgFarmers         OrgKind = "farmers"          // Hội Nông dân
	OrgHealthStation   OrgKind = "health_station"   // Trạm y tế
	OrgUrbanOrder      OrgKind = "urban_order"      // Đội trật tự đô thị
)

// OrgKinds lists every kind in display order.
var OrgKinds = []OrgKind{OrgPeopleCommittee, OrgPolice, OrgPartyCell, OrgFatherlandFront, OrgWomenUnion,
	OrgYouthUnion, OrgVeterans, OrgFarmers, OrgHealthStation, OrgUrbanOrder}

var orgLabels = map[OrgKind][2]string{
	OrgPeopleCommittee: {"Ủy ban nhân dân", "People's Committee"},
	OrgPolice:          {"Công an", "Police"},
	OrgPartyCell:       {"Chi bộ", "Party cell"},
	OrgFatherlandFront: {"Mặt trận Tổ quốc", "Fatherland Front"},
	OrgWomenUnion:      {"Hội Phụ nữ", "Women's Union"},
	OrgYouthUnion:      {"Đoàn Thanh niên", "Youth Union"},
	OrgVeterans:        {"Hội Cựu chiến binh", "Veterans' Association"},
	OrgFarmers:         {"Hội Nông dân", "Farmers' Association"},
	OrgHealthStation:   {"Trạm y tế", "Health station"},
	OrgUrbanOrder:      {"Đội trật tự đô thị", "Urban-order team"},
}

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool { _, ok := orgLabels[k]; return ok }

// Label returns the kind's name in lang ("en" or Vietnamese).
func (k OrgKind) Label(lang string) string {
	l, ok := orgLabels[k]
	if !ok {
		return string(k)
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

// Organisation is a body working in a unit: the people's committee, the
// police, a Party cell, a mass organisation, the health station.
type Organisation struct {
	ID       int64   `json:"id"`
	UnitID   int64   `json:"unit_id"`
	UnitPath string  `json:"-"`
	Kind     OrgKind `json:"kind"`
	Name     string  `json:"name"`
	Members  int     `json:"members"`
}

// OrganisationInput describes an organisation to create. An empty Name
// becomes the kind and the unit's full name ("Công an Phường Sài Gòn").
type OrganisationInput struct {
	UnitID int64   `json:"unit_id"`
	Kind   OrgKind `json:"kind"`
	Name   string  `json:"name"`
}

// ListOrganisations returns the organisations of a unit (not of the units
// below it), by kind then name. It is public. It returns apperr NotFound
// for an unknown unit.
func (s *Service) ListOrganisations(ctx context.Context, unitID int64) ([]Organisation, error) {
	if _, err := s.Unit(ctx, unitID); err != nil {
		return nil, err
	}
	rows, err := s.d.Query(ctx, `SELECT o.id, o.unit_id, o.unit_path, o.kind, o.name,
		(SELECT COUNT(*) FROM organisation_members m WHERE m.organisation_id = o.id)
		FROM organisations o WHERE o.unit_id = ? ORDER BY o.id`, unitID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Organisation{}
	for rows.Next() {
		var o Organisation
		if err := rows.Scan(&o.ID, &o.UnitID, &o.UnitPath, &o.Kind, &o.Name, &o.Members); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rank := map[OrgKind]int{}
	for i, k := range OrgKinds {
		rank[k] = i
	}
	slices.SortStableFunc(out, func(a, b Organisation) int { return rank[a.Kind] - rank[b.Kind] })
	return out, nil
}

// CreateOrganisation creates an organisation in a unit in force. The caller
// needs account.ActManageOrgs on the unit. It returns apperr NotFound,
// Unauthenticated, Forbidden, Invalid (kind or name) or Conflict (the unit
// already has an organisation of that name).
func (s *Service) CreateOrganisation(ctx context.Context, p *account.Principal, in OrganisationInput) (Organisation, error) {
	var o Organisation
	err := s.d.Write(ctx, func(tx *db.Tx) error {
		u, err := unitByID(ctx, tx, in.UnitID)
		if err != nil {
			return err
		}
		if err := account.Authorize(p, account.ActManageOrgs, u.Path); err != nil {
			return err
		}
		if !u.Current() {
			return apperr.InvalidField("unit_id", "Đơn vị này không còn hiệu lực.", "This unit is no longer in force.")
		}
		if !in.Kind.Valid() {
			return apperr.InvalidField("kind", "Loại tổ chức không hợp lệ.", "Unknown kind of organisation.")
		}
		name := cleanText(in.Name)
		if name == "" {
			name = in.Kind.Label("vi") + " " + u.FullName
		}
		if utf8.RuneCountInString(name) > maxNameLen {
			return apperr.InvalidField("name", "Tên dài quá 100 ký tự.", "The name is longer than 100 characters.")
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM organisations WHERE unit_id = ? AND name_fold = ?", u.ID, foldOf(name)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return apperr.New(apperr.Conflict, "Đơn vị đã có tổ chức tên "+name+".", "The unit already has an organisation named "+name+".")
		}
		o = Organisation{UnitID: u.ID, UnitPath: u.Path, Kind: in.Kind, Name: name}
		err = tx.QueryRow(ctx, "INSERT INTO organisations(unit_id, unit_path, kind, name, name_fold, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
			u.ID, u.Path, string(in.Kind), name, foldOf(name), db.Now()).Scan(&o.ID)
		if err != nil {
			return err
		}
		return logOrg(ctx, tx, p, o, "create "+name)
	})
	if err != nil {
		return Organisation{}, err
	}
	return o, nil
}

func logOrg(ctx context.Context, tx *db.Tx, p *account.Principal, o Organisation, detail string) error {
	return audit.Log(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: AuditOrganisationWrite,
		SubjectType: "organisation", SubjectID: strconv.FormatInt(o.ID, 10), UnitPath: o.UnitPath, Detail: detail})
}

// orgForChange loads an organisation and checks that p may manage it.
func orgForChange(ctx context.Context, tx *db.Tx, p *account.Principal, orgID int64) (Organisation, error) {
	var o Organisation
	err := tx.QueryRow(ctx, "SELECT id, unit_id, unit_path, kind, name FROM organisations WHERE id = ?", orgID).
		Scan(&o.ID, &o.UnitID, &o.UnitPath, &o.Kind, &o.Name)
	if err != nil {
		return Organisation{}, notFound(err, "tổ chức", "Organisation")
	}
	return o, account.Authorize(p, account.ActManageOrgs, o.UnitPath)
}

// AddOrgMember adds a resident to an organisation with an optional title
// ("Bí thư", "Chủ tịch Hội"); adding a member again updates the title. The
// caller needs account.ActManageOrgs on the organisation's unit and
// account.ActViewHouseholds on the resident's. It returns apperr NotFound,
// Unauthenticated, Forbidden or Invalid (title too long).
func (s *Service) AddOrgMember(ctx context.Context, p *account.Principal, orgID, residentID int64, title string) error {
	title = cleanText(title)
	if utf8.RuneCountInString(title) > maxNameLen {
		return apperr.InvalidField("title", "Chức danh dài quá 100 ký tự.", "The title is longer than 100 characters.")
	}
	return s.d.Write(ctx, func(tx *db.Tx) error {
		o, err := orgForChange(ctx, tx, p, orgID)
		if err != nil {
			return err
		}
		var path string
		if err := tx.QueryRow(ctx, "SELECT unit_path FROM residents WHERE id = ?", residentID).Scan(&path); err != nil {
			return notFound(err, "cư dân", "Resident")
		}
		if err := account.Authorize(p, account.ActViewHouseholds, path); err != nil {
			return err
		}
		var have string
		err = tx.QueryRow(ctx, "SELECT title FROM organisation_members WHERE organisation_id = ? AND resident_id = ?", orgID, residentID).Scan(&have)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.Exec(ctx, "INSERT INTO organisation_members(organisation_id, resident_id, title) VALUES (?, ?, ?)", orgID, residentID, title)
		case err == nil && have != title:
			_, err = tx.Exec(ctx, "UPDATE organisation_members SET title = ? WHERE organisation_id = ? AND resident_id = ?", title, orgID, residentID)
		case err == nil:
			return nil
		}
		if err != nil {
			return err
		}
		return logOrg(ctx, tx, p, o, "member "+strconv.FormatInt(residentID, 10)+" added: "+title)
	})
}

// RemoveOrgMember removes a resident from an organisation. The caller needs
// account.ActManageOrgs on the organisation's unit. It returns apperr
// NotFound (no such organisation or member), Unauthenticated or Forbidden.
func (s *Service) RemoveOrgMember(ctx context.Context, p *account.Principal, orgID, residentID int64) error {
	return s.d.Write(ctx, func(tx *db.Tx) error {
		o, err := orgForChange(ctx, tx, p, orgID)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM organisation_members WHERE organisation_id = ? AND resident_id = ?", orgID, residentID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return apperr.NotFoundf("thành viên", "Member")
		}
		return logOrg(ctx, tx, p, o, "member "+strconv.FormatInt(residentID, 10)+" removed")
	})
}
