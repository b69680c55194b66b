package area

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// ExportHouseholdsCSV writes every household in the subtree of unitID, one
// row per resident (one row for a household without residents), in the
// format ImportHouseholdsCSV reads, with a byte-order mark so that Excel
// opens it as UTF-8. Phone numbers are in the national form "0…"; citizen-ID
// numbers are masked ("********1234"), so a re-import keeps everything else.
// The caller needs account.ActExportHouseholds on the unit; the export is
// recorded (audit.DataExported) before any data is written. It returns
// apperr NotFound, Unauthenticated or Forbidden, or w's error.
func (s *Service) ExportHouseholdsCSV(ctx context.Context, p *account.Principal, unitID int64, w io.Writer) error {
	u, err := s.Unit(ctx, unitID)
	if err != nil {
		return err
	}
	if err := account.Authorize(p, account.ActExportHouseholds, u.Path); err != nil {
		return err
	}
	err = audit.Record(ctx, s.d, audit.Entry{ActorID: p.AccountID, ActorName: p.Name, Action: audit.DataExported,
		SubjectType: "households", SubjectID: strconv.FormatInt(u.ID, 10), UnitPath: u.Path, Detail: "csv"})
	if err != nil {
		return err
	}
	names, err := s.relativeNames(ctx, u)
	if err != nil {
		return err
	}
	lo, hi := db.SubtreeRange(u.Path)
	rows, err := s.d.Query(ctx, `SELECT h.id, h.unit_id, COALESCE(h.code, ''), h.address, h.flags, COALESCE(h.head_resident_id, 0),
		COALESCE(r.id, 0), COALESCE(r.full_name, ''), COALESCE(r.birth_year, 0), COALESCE(r.gender, ''), COALESCE(r.relation, ''),
		COALESCE(r.phone, ''), COALESCE(r.cccd_last4, '')
		FROM households h LEFT JOIN residents r ON r.household_id = h.id
		WHERE h.unit_path >= ? AND h.unit_path < ?
		ORDER BY h.unit_path, h.id, CASE WHEN r.id = h.head_resident_id THEN 0 ELSE 1 END, r.id`, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	rec := make([]string, len(CSVColumns))
	for rows.Next() {
		var hid, unit, head, rid int64
		var code, address, name, relation, phone, last4 string
		var gender Gender
		var flags Flags
		var year int
		if err := rows.Scan(&hid, &unit, &code, &address, &flags, &head, &rid, &name, &year, &gender, &relation, &phone, &last4); err != nil {
			return err
		}
		if rid != 0 && rid == head && foldOf(relation) != foldOf(relationHead) {
			relation = relationHead
		}
		by := ""
		if year != 0 {
			by = strconv.Itoa(year)
		}
		if phone != "" {
			phone = vntext.LocalPhone(phone)
		}
		rec = append(rec[:0], code, names[unit], address, name, by, gender.Label("vi"), relation, phone, maskLast4(last4),
			strings.Join(flags.Labels("vi"), "; "))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// relativeNames returns, for every current unit in u's subtree, the chain of
// full names from below u down to it ("Khu phố 1 > Tổ 5"); "" for u.
func (s *Service) relativeNames(ctx context.Context, u Unit) (map[int64]string, error) {
	lo, hi := db.SubtreeRange(u.Path)
	rows, err := s.d.Query(ctx, "SELECT u.id, u.path, u.full_name FROM units u WHERE u.path >= ? AND u.path < ? ORDER BY length(u.path)", lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byPath := map[string]string{u.Path: ""}
	out := map[int64]string{u.ID: ""}
	for rows.Next() {
		var id int64
		var path, full string
		if err := rows.Scan(&id, &path, &full); err != nil {
			return nil, err
		}
		if id == u.ID {
			continue
		}
		parent := path[:strings.LastIndexByte(path[:len(path)-1], '/')+1]
		name := full
		if pre := byPath[parent]; pre != "" {
			name = pre + " " + unitSep + " " + full
		}
		byPath[path] = name
		out[id] = name
	}
	return out, rows.Err()
}
