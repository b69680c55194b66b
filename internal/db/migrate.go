package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFS embed.FS

// Migration is one numbered schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded steps for the dialect, in order.
func Migrations(dialect Dialect) ([]Migration, error) {
	dir := path.Join("migrations", string(dialect))
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", name)
		}
		b, err := migrationFS.ReadFile(path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.Name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion returns the version the database is at (0 for an empty one).
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	var exists int
	q := "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
	if d.Dialect == Postgres {
		q = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=current_schema() AND table_name='schema_migrations'"
	}
	if err := d.read.QueryRowContext(ctx, q).Scan(&exists); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	if exists == 0 {
		return 0, nil
	}
	var v int
	if err := d.read.QueryRowContext(ctx, "SELECT COALESCE(MAX(version),0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// ErrSchemaTooNew is returned by Migrate when the database was migrated by a
// newer trothu than this one.
type ErrSchemaTooNew struct{ Have, Know int }

func (e ErrSchemaTooNew) Error() string {
	return fmt.Sprintf("database schema is version %d but this trothu knows only up to %d: upgrade trothu", e.Have, e.Know)
}

// Migrate brings the schema up to the newest embedded version, each step in
// its own transaction. It refuses (ErrSchemaTooNew) a schema newer than it
// knows. On PostgreSQL an advisory lock keeps concurrent instances from
// migrating at once. It returns the versions before and after.
func (d *DB) Migrate(ctx context.Context) (from, to int, err error) {
	return d.MigrateTo(ctx, 0)
}

// MigrateTo is Migrate up to version target only (0: the newest), for
// tests of one step's upgrade of existing rows.
func (d *DB) MigrateTo(ctx context.Context, target int) (from, to int, err error) {
	steps, err := Migrations(d.Dialect)
	if err != nil {
		return 0, 0, err
	}
	if d.Dialect == Postgres {
		conn, err := d.write.Conn(ctx)
		if err != nil {
			return 0, 0, err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
			return 0, 0, fmt.Errorf("migration lock: %w", err)
		}
		defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(727274)") //nolint:errcheck // released with the connection anyway
	}
	from, err = d.SchemaVersion(ctx)
	if err != nil {
		return 0, 0, err
	}
	if from > len(steps) {
		return from, from, ErrSchemaTooNew{Have: from, Know: len(steps)}
	}
	if target > 0 && target < len(steps) {
		steps = steps[:max(target, from)]
	}
	for _, m := range steps[from:] {
		err := d.Write(ctx, func(tx *Tx) error {
			if _, err := tx.q.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)", m.Version, m.Name, Now())
			return err
		})
		if err != nil {
			return from, m.Version - 1, err
		}
	}
	return from, len(steps), nil
}

// CheckSchema returns an error unless the database is exactly at the newest
// embedded version.
func (d *DB) CheckSchema(ctx context.Context) error {
	steps, err := Migrations(d.Dialect)
	if err != nil {
		return err
	}
	v, err := d.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if v > len(steps) {
		return ErrSchemaTooNew{Have: v, Know: len(steps)}
	}
	if v < len(steps) {
		return fmt.Errorf("database schema is version %d, want %d: run trothu migrate", v, len(steps))
	}
	return nil
}
