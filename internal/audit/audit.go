// Package audit keeps the append-only record of who did what to whose data:
// sign-ins and failures, role changes, personal-data views and changes. The
// database refuses updates and deletes of audit rows.
package audit

import (
	"context"
	"net"
	"strconv"

	"github.com/trothu/trothu/internal/db"
)

// Entry is one audited event.
type Entry struct {
	ID          int64  `json:"id"`
	At          int64  `json:"at"` // Unix ms UTC
	ActorID     int64  `json:"actor_id,omitempty"`
	ActorName   string `json:"actor_name,omitempty"`
	Action      string `json:"action"`
	SubjectType string `json:"subject_type,omitempty"`
	SubjectID   string `json:"subject_id,omitempty"`
	UnitPath    string `json:"-"`
	IP          string `json:"ip,omitempty"`
	Detail      string `json:"detail,omitempty"`
}

// Actions recorded. Rooms may add their own; keep them "noun.verb".
const (
	SignIn          = "auth.sign_in"
	SignInFailed    = "auth.sign_in_failed"
	SignOut         = "auth.sign_out"
	OTPRequested    = "auth.otp_requested"
	RoleGranted     = "role.granted"
	RoleRevoked     = "role.revoked"
	CitizenIDViewed = "citizen_id.viewed"
	HouseholdWrite  = "household.changed"
	ResidentWrite   = "resident.changed"
	DataExported    = "data.exported"
	DataImported    = "data.imported"
)

// Log writes e inside tx, so the record and the change commit together.
// It returns the database's error.
func Log(ctx context.Context, tx *db.Tx, e Entry) error {
	if e.At == 0 {
		e.At = db.Now()
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log(at, actor_id, actor_name, action, subject_type, subject_id, unit_path, ip, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.At, nullID(e.ActorID), e.ActorName, e.Action, e.SubjectType, e.SubjectID, e.UnitPath, e.IP, e.Detail)
	return err
}

// Record writes e in a transaction of its own (for events that change
// nothing else, such as a view of personal data).
func Record(ctx context.Context, d *db.DB, e Entry) error {
	return d.Write(ctx, func(tx *db.Tx) error { return Log(ctx, tx, e) })
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Filter selects audit entries. Scopes limits rows to these unit subtrees
// (required: callers pass the principal's scopes); Unfiled also admits the
// entries filed under no unit (unit_path "", such as sign-ins of accounts
// without a grant), which only root administrators should see; Before
// pages backwards.
type Filter struct {
	Scopes  []string
	Unfiled bool
	Action  string
	ActorID int64
	Before  int64 // entries with id < Before; 0 for the newest
	Limit   int   // default 50, at most 500
}

// List returns entries matching f, newest first.
func List(ctx context.Context, d *db.DB, f Filter) ([]Entry, error) {
	if len(f.Scopes) == 0 {
		return nil, nil
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q := `SELECT id, at, COALESCE(actor_id, 0), actor_name, action, subject_type, subject_id, unit_path, ip, detail FROM audit_log WHERE (`
	var args []any
	for i, s := range f.Scopes {
		if i > 0 {
			q += " OR "
		}
		lo, hi := db.SubtreeRange(s)
		q += "(unit_path >= ? AND unit_path < ?)"
		args = append(args, lo, hi)
	}
	if f.Unfiled {
		q += " OR unit_path = ''"
	}
	q += ")"
	if f.Action != "" {
		q += " AND action = ?"
		args = append(args, f.Action)
	}
	if f.ActorID != 0 {
		q += " AND actor_id = ?"
		args = append(args, f.ActorID)
	}
	if f.Before > 0 {
		q += " AND id < ?"
		args = append(args, f.Before)
	}
	q += " ORDER BY id DESC LIMIT " + strconv.Itoa(f.Limit)
	rows, err := d.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorName, &e.Action, &e.SubjectType, &e.SubjectID, &e.UnitPath, &e.IP, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ClientIP strips the port from a remote address.
func ClientIP(remoteAddr string) string {
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return h
	}
	return remoteAddr
}
