package area

import (
	"context"
	"strings"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
)

// csvImport is the database half of ImportHouseholdsCSV, inside its
// transaction: it resolves the "to" column, checks against what is stored,
// and writes.
type csvImport struct {
	s     *Service
	ctx   context.Context
	tx    *db.Tx
	p     *account.Principal
	unit  Unit
	errs  *csvErrs
	rep   *CSVReport
	units map[int64]*Unit   // current units in the subtree, by id
	kids  map[int64][]int64 // children, by parent id
}

func (c *csvImport) run(hs []*csvHousehold) error {
	if err := c.loadUnits(); err != nil {
		return err
	}
	resolved := map[string]*Unit{}
	for _, h := range hs {
		k := foldOf(h.to)
		u, ok := resolved[k]
		if !ok {
			var err error
			if u, err = c.resolve(h); err != nil {
				return err
			}
			resolved[k] = u
		}
		if u != nil {
			h.unitID, h.unitPath = u.ID, u.Path
		}
	}
	if err := c.checkStored(hs); err != nil || len(c.errs.errs) > 0 {
		return err
	}
	return c.write(hs)
}

func (c *csvImport) loadUnits() error {
	lo, hi := db.SubtreeRange(c.unit.Path)
	rows, err := c.tx.Query(c.ctx, "SELECT "+unitCols+" FROM units u WHERE u.path >= ? AND u.path < ? AND u.valid_to IS NULL", lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	c.units, c.kids = map[int64]*Unit{}, map[int64][]int64{}
	for rows.Next() {
		u := &Unit{}
		if err := scanUnit(rows, u); err != nil {
			return err
		}
		c.units[u.ID] = u
		c.kids[u.ParentID] = append(c.kids[u.ParentID], u.ID)
	}
	return rows.Err()
}

func (c *csvImport) matches(id int64, name string) bool {
	u := c.units[id]
	f := foldOf(name)
	return foldOf(u.Name) == f || foldOf(u.FullName) == f
}

// resolve finds (or creates) the unit a household's "to" names. It records
// a row error and returns nil when it cannot.
func (c *csvImport) resolve(h *csvHousehold) (*Unit, error) {
	if h.to == "" {
		return &c.unit, nil
	}
	var segs []string
	for _, s := range strings.Split(h.to, unitSep) {
		if s = cleanText(s); s != "" {
			segs = append(segs, s)
		}
	}
	cur := c.unit.ID
	for i, seg := range segs {
		next := int64(0)
		for _, k := range c.kids[cur] {
			if c.matches(k, seg) {
				next = k
			}
		}
		if next == 0 && i == 0 && len(segs) == 1 {
			// "Tổ 5" alone may name a tổ inside a khu phố.
			var found []int64
			for id := range c.units {
				if id != c.unit.ID && c.matches(id, seg) {
					found = append(found, id)
				}
			}
			if len(found) > 1 {
				c.errs.add(h.line, colUnit, "Có nhiều đơn vị tên "+seg+"; hãy ghi rõ, ví dụ \"Khu phố 1 > "+seg+"\".")
				return nil, nil
			}
			if len(found) == 1 {
				next = found[0]
			}
		}
		if next == 0 {
			u, err := c.create(h, cur, seg)
			if u == nil || err != nil {
				return nil, err
			}
			next = u.ID
		}
		cur = next
	}
	return c.units[cur], nil
}

// create makes a missing khu phố or tổ, if the caller may.
func (c *csvImport) create(h *csvHousehold, parentID int64, name string) (*Unit, error) {
	parent := c.units[parentID]
	if !c.p.Can(account.ActManageUnits, parent.Path) {
		c.errs.add(h.line, colUnit, "Không có "+name+" trong "+parent.FullName+" (bạn không có quyền tạo đơn vị mới).")
		return nil, nil
	}
	in := UnitInput{Name: name, Kind: kindOfName(name)}
	u, err := createUnit(c.ctx, c.tx, c.p, parentID, in)
	if ae := apperr.From(err); err != nil && ae.Code != apperr.Internal {
		c.errs.add(h.line, colUnit, "Không tạo được "+name+": "+ae.VI)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c.units[u.ID] = &u
	c.kids[parentID] = append(c.kids[parentID], u.ID)
	c.rep.Units++
	return &u, nil
}

// checkStored reports households whose code or (without a code) address is
// already registered in their unit, and citizen IDs already recorded.
func (c *csvImport) checkStored(hs []*csvHousehold) error {
	lo, hi := db.SubtreeRange(c.unit.Path)
	rows, err := c.tx.Query(c.ctx, "SELECT unit_id, COALESCE(code, ''), address_fold FROM households WHERE unit_path >= ? AND unit_path < ?", lo, hi)
	if err != nil {
		return err
	}
	type key struct {
		unit int64
		s    string
	}
	codes, addrs := map[key]bool{}, map[key]bool{}
	for rows.Next() {
		var k key
		var addr string
		if err := rows.Scan(&k.unit, &k.s, &addr); err != nil {
			rows.Close()
			return err
		}
		if k.s != "" {
			codes[k] = true
		}
		addrs[key{k.unit, addr}] = true
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	rows.Close()
	macLine := map[string]int{}
	var macs []string
	for _, h := range hs {
		if h.unitID == 0 {
			continue
		}
		switch {
		case h.code != "" && codes[key{h.unitID, h.code}]:
			c.errs.add(h.line, colCode, "Mã hộ "+h.code+" đã có trong "+c.units[h.unitID].FullName+".")
		case h.code == "" && addrs[key{h.unitID, foldOf(h.address)}]:
			c.errs.add(h.line, colAddress, "Đã có hộ ở địa chỉ này trong "+c.units[h.unitID].FullName+" (thêm mã hộ nếu là hộ khác).")
		}
		for _, r := range h.rows {
			if r.resident != nil && r.resident.CitizenID != "" {
				m := c.s.citizenIDMAC(r.resident.CitizenID)
				macLine[m] = r.line
				macs = append(macs, m)
			}
		}
	}
	for start := 0; start < len(macs); start += 500 {
		chunk := macs[start:min(start+500, len(macs))]
		args := make([]any, len(chunk))
		for i, m := range chunk {
			args[i] = m
		}
		rows, err := c.tx.Query(c.ctx, "SELECT cccd_hmac FROM residents WHERE cccd_hmac IN (?"+strings.Repeat(", ?", len(chunk)-1)+")", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var m string
			if err := rows.Scan(&m); err != nil {
				rows.Close()
				return err
			}
			c.errs.add(macLine[m], colCitizenID, "Số CCCD này đã được khai báo cho một cư dân khác.")
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *csvImport) write(hs []*csvHousehold) error {
	ctx, tx := c.ctx, c.tx
	insH, err := tx.Prepare(ctx, `INSERT INTO households(unit_id, unit_path, code, address, address_fold, flags, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	if err != nil {
		return err
	}
	defer insH.Close()
	insR, err := tx.Prepare(ctx, `INSERT INTO residents(household_id, unit_path, full_name, name_fold, birth_year, gender, relation, phone,
		cccd_enc, cccd_hmac, cccd_last4, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	if err != nil {
		return err
	}
	defer insR.Close()
	setHead, err := tx.Prepare(ctx, "UPDATE households SET head_resident_id = ? WHERE id = ?")
	if err != nil {
		return err
	}
	defer setHead.Close()
	now := db.Now()
	for _, h := range hs {
		var hid int64
		if err := insH.QueryRowContext(ctx, h.unitID, h.unitPath, nullStr(h.code), h.address, foldOf(h.address), int(h.flags), now, now).Scan(&hid); err != nil {
			return err
		}
		c.rep.Households++
		for _, row := range h.rows {
			r := row.resident
			if r == nil {
				continue
			}
			var cid protectedID
			if r.CitizenID != "" {
				if cid, err = c.s.protect(r.CitizenID); err != nil {
					return err
				}
			}
			var rid int64
			err := insR.QueryRowContext(ctx, hid, h.unitPath, r.FullName, foldOf(r.FullName), nullInt(int64(r.BirthYear)), string(r.Gender), r.Relation,
				nullStr(r.Phone), nullStr(cid.enc), nullStr(cid.mac), nullStr(cid.last4), now, now).Scan(&rid)
			if err != nil {
				return err
			}
			c.rep.Residents++
			if r.IsHead {
				if _, err := setHead.ExecContext(ctx, rid, hid); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
