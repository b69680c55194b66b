// Package area owns the administrative tree and the people in it: the
// national units (country → province → [district] → commune/ward), kept
// effective-dated so that the July 2025 reform's merges carry data across;
// the local units a commune creates below itself (khu phố, ấp, thôn → tổ);
// households, residents and their protected citizen-ID numbers; and the
// organisations of each unit (UBND, công an, chi bộ, đoàn thể, trạm y tế).
//
// Every unit has a materialised path "/id/id/…/" and every row that belongs
// to a unit carries that path, so "this unit and everything under it" is one
// index range scan (db.SubtreeRange) on both engines.
//
// Errors are *apperr.Error for anything a user can act on (invalid input,
// not found, conflict, forbidden); anything else is an internal error from
// the database. "Not found" is always an error.
package area

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// Level is the rank of a unit in the tree.
type Level string

// The levels, from the top. District exists only in the historical
// (pre-2025) tree; neighbourhood and group are created locally and are
// optional: a group may sit directly under a commune.
const (
	LevelCountry       Level = "country"
	LevelProvince      Level = "province"
	LevelDistrict      Level = "district"
	LevelCommune       Level = "commune"
	LevelNeighbourhood Level = "neighbourhood" // khu phố, ấp, thôn, bản, làng…
	LevelGroup         Level = "group"         // tổ dân phố, tổ nhân dân
)

// Levels lists every level from the top down.
var Levels = []Level{LevelCountry, LevelProvince, LevelDistrict, LevelCommune, LevelNeighbourhood, LevelGroup}

var levelLabels = map[Level][2]string{
	LevelCountry:       {"Quốc gia", "Country"},
	LevelProvince:      {"Tỉnh, thành phố", "Province"},
	LevelDistrict:      {"Quận, huyện", "District"},
	LevelCommune:       {"Xã, phường", "Commune"},
	LevelNeighbourhood: {"Khu phố, ấp, thôn", "Neighbourhood"},
	LevelGroup:         {"Tổ dân phố", "Residential group"},
}

// Valid reports whether l is a known level.
func (l Level) Valid() bool { _, ok := levelLabels[l]; return ok }

// Label returns the level's name in lang ("en" or Vietnamese).
func (l Level) Label(lang string) string {
	v, ok := levelLabels[l]
	if !ok {
		return string(l)
	}
	if lang == "en" {
		return v[1]
	}
	return v[0]
}

// Local reports whether units of level l are created by a commune rather
// than imported from the national list.
func (l Level) Local() bool { return l == LevelNeighbourhood || l == LevelGroup }

// HoldsHouseholds reports whether households may be registered directly on
// a current unit of level l: a commune or anything below it.
func (l Level) HoldsHouseholds() bool {
	return l == LevelCommune || l == LevelNeighbourhood || l == LevelGroup
}

// Unit is a node of the administrative tree. ValidTo is empty for a unit in
// force; historical (pre-2025) units have ValidTo "2025-07-01".
type Unit struct {
	ID        int64  `json:"id"`
	ParentID  int64  `json:"parent_id,omitempty"`
	Path      string `json:"-"`
	Level     Level  `json:"level"`
	Code      string `json:"code,omitempty"`
	Name      string `json:"name"`
	FullName  string `json:"full_name"`
	Kind      string `json:"kind"`
	NameEN    string `json:"name_en,omitempty"`
	ValidFrom string `json:"valid_from,omitempty"`
	ValidTo   string `json:"valid_to,omitempty"`
}

// Current reports whether u is in force.
func (u Unit) Current() bool { return u.ValidTo == "" }

// UnitSummary is a unit with what lies directly and wholly under it.
type UnitSummary struct {
	Unit
	Children   int `json:"children"`   // direct child units
	Households int `json:"households"` // households in the whole subtree
}

// Service is the area room. It is safe for concurrent use.
type Service struct {
	d      *db.DB
	aead   cipher.AEAD // citizen-ID encryption
	macKey []byte      // citizen-ID uniqueness
	now    func() time.Time
}

// NewService returns the area service over d. secretKey protects citizen-ID
// numbers (encryption and a keyed hash for uniqueness); it must be at least
// 32 bytes and must not change once numbers are stored. NewService panics on
// a shorter key: the configuration is validated at start-up, so a short key
// here is a programming error.
func NewService(d *db.DB, secretKey []byte) *Service {
	if len(secretKey) < 32 {
		panic("area: secret key must be at least 32 bytes")
	}
	aead, macKey := citizenIDKeys(secretKey)
	return &Service{d: d, aead: aead, macKey: macKey, now: time.Now}
}

// vnZone is Asia/Ho_Chi_Minh, which has had no daylight saving since 1975.
var vnZone = time.FixedZone("ICT", 7*3600)

const unitCols = `u.id, COALESCE(u.parent_id, 0), u.path, u.level, COALESCE(u.code, ''), u.name, u.full_name, u.kind, u.name_en, COALESCE(u.valid_from, ''), COALESCE(u.valid_to, '')`

type scanner interface{ Scan(dest ...any) error }

func scanUnit(r scanner, u *Unit, extra ...any) error {
	return r.Scan(append([]any{&u.ID, &u.ParentID, &u.Path, &u.Level, &u.Code, &u.Name, &u.FullName, &u.Kind, &u.NameEN, &u.ValidFrom, &u.ValidTo}, extra...)...)
}

// querier is what reads need from *db.DB and *db.Tx alike.
type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func errUnitNotFound() error { return apperr.NotFoundf("đơn vị", "Unit") }

// notFound turns sql.ErrNoRows into a NotFound error for the named thing
// and passes any other error through.
func notFound(err error, vi, en string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFoundf(vi, en)
	}
	return err
}

// pathIDs returns the ids of a materialised path, root first.
func pathIDs(path string) []int64 {
	var ids []int64
	for _, s := range strings.Split(strings.Trim(path, "/"), "/") {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// cleanText returns s in NFC with surrounding white space trimmed and inner
// runs collapsed. Unlike vntext.Normalize it keeps the tone-mark placement
// people chose for their own names ("Hòa" stays "Hòa"); search folds both.
func cleanText(s string) string {
	return strings.Join(strings.Fields(vntext.NFC(s)), " ")
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func today() string { return time.Now().In(vnZone).Format(time.DateOnly) }
