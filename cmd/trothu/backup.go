package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/trothu/trothu/internal/db"
)

func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out string
	cfg, _, err := parseCommon("backup", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "file to write the backup to (must not exist)")
	})
	if err != nil {
		return err
	}
	if out == "" {
		return errors.New("backup needs --out FILE")
	}
	d, err := db.Open(ctx, cfg.DatabaseURL, db.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.CheckSchema(ctx); err != nil {
		return err
	}
	if err := d.Backup(ctx, out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", out)
	return nil
}

// cmdRestore puts a backup in place of the SQLite database. The server must
// be stopped. The backup is checked first (it opens, it is a trothu
// database of a schema this binary knows); the current database is kept
// beside it as .before-restore.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var from string
	cfg, _, err := parseCommon("restore", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&from, "from", "", "backup file written by trothu backup")
	})
	if err != nil {
		return err
	}
	if from == "" {
		return errors.New("restore needs --from FILE")
	}
	if !strings.HasPrefix(cfg.DatabaseURL, "sqlite:") {
		return errors.New("restore: PostgreSQL is restored with pg_restore (see docs/OPERATIONS.md)")
	}
	target := strings.TrimPrefix(cfg.DatabaseURL, "sqlite:")
	if err := checkBackup(ctx, from); err != nil {
		return fmt.Errorf("restore: %s is not a usable backup: %w", from, err)
	}
	tmp := target + ".restoring"
	if err := copyFile(from, tmp); err != nil {
		return err
	}
	if _, err := os.Stat(target); err == nil {
		if err := os.Rename(target, target+".before-restore"); err != nil {
			return err
		}
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(target + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s (previous database kept as %s)\n", target, from, filepath.Base(target)+".before-restore")
	return nil
}

func checkBackup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	d, err := db.Open(ctx, "sqlite:"+path, db.Options{ReadConns: 1})
	if err != nil {
		return err
	}
	defer d.Close()
	var ok string
	if err := d.QueryRow(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil {
		return err
	}
	if ok != "ok" {
		return fmt.Errorf("integrity check: %s", ok)
	}
	return d.CheckSchema(ctx)
}

func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		return err
	}
	return out.Sync()
}
