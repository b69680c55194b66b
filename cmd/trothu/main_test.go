package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// trothu runs the command line in-process against the data directory.
func trothu(t *testing.T, data string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	old := os.Stdin
	if stdin != "" {
		f := filepath.Join(t.TempDir(), "stdin")
		if err := os.WriteFile(f, []byte(stdin), 0o600); err != nil {
			t.Fatal(err)
		}
		in, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		os.Stdin = in
		defer func() { os.Stdin = old }()
	}
	var full []string
	if args[0] == "import" || args[0] == "user" {
		full = append([]string{args[0], args[1], "--data", data}, args[2:]...)
	} else {
		full = append([]string{args[0], "--data", data}, args[1:]...)
	}
	err := run(context.Background(), full, &out, &errOut)
	if err != nil {
		t.Logf("trothu %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), err
}

func TestOperatorCommands(t *testing.T) {
	t.Setenv("TROTHU_DATABASE_URL", "")
	t.Setenv("TROTHU_SECRET_KEY", "")
	data := t.TempDir()
	if _, err := trothu(t, data, "", "migrate"); err != nil {
		t.Fatal(err)
	}
	out, err := trothu(t, data, "", "import", "areas")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct{ Provinces, Communes struct{ Inserted int } }
	if err := json.Unmarshal([]byte(lastLine(out)), &rep); err != nil {
		t.Fatalf("import areas output %q: %v", out, err)
	}
	if rep.Provinces.Inserted != 34 || rep.Communes.Inserted != 3321 {
		t.Fatalf("import areas: got %d provinces, %d communes; want 34, 3321", rep.Provinces.Inserted, rep.Communes.Inserted)
	}
	// A second import changes nothing.
	out, err = trothu(t, data, "", "import", "areas")
	if err != nil || strings.Contains(out, `"Inserted":1`) {
		t.Fatalf("second import: %v, %s", err, out)
	}
	if _, err := trothu(t, data, "pw-of-the-admin-1\n", "user", "create", "--phone", "0912345678", "--name", "Nguyễn Văn A", "--password"); err != nil {
		t.Fatal(err)
	}
	if _, err := trothu(t, data, "", "user", "grant", "--phone", "+84912345678", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := trothu(t, data, "", "user", "grant", "--phone", "0912345678", "--role", "commune_leader", "--unit", "26743"); err != nil {
		t.Fatal(err)
	}
	if _, err := trothu(t, data, "", "user", "grant", "--phone", "0912345678", "--role", "emperor"); err == nil {
		t.Fatal("grant of an unknown role: got nil error")
	}
	out, err = trothu(t, data, "", "user", "list")
	if err != nil || !strings.Contains(out, "Nguyễn Văn A") || !strings.Contains(out, "admin@") || !strings.Contains(out, "commune_leader@Bến Thành") {
		t.Fatalf("user list: %v\n%s", err, out)
	}

	// Backup while "running", then restore it over a changed database.
	backup := filepath.Join(t.TempDir(), "b.db")
	if _, err := trothu(t, data, "", "backup", "--out", backup); err != nil {
		t.Fatal(err)
	}
	if _, err := trothu(t, data, "", "backup", "--out", backup); err == nil {
		t.Fatal("backup over an existing file: got nil error")
	}
	if _, err := trothu(t, data, "", "user", "create", "--phone", "0987654321", "--name", "Sau sao lưu"); err != nil {
		t.Fatal(err)
	}
	if _, err := trothu(t, data, "", "restore", "--from", filepath.Join(data, "missing.db")); err == nil {
		t.Fatal("restore from a missing file: got nil error")
	}
	if _, err := trothu(t, data, "", "restore", "--from", backup); err != nil {
		t.Fatal(err)
	}
	out, err = trothu(t, data, "", "user", "list")
	if err != nil || strings.Contains(out, "Sau sao lưu") || !strings.Contains(out, "Nguyễn Văn A") {
		t.Fatalf("after restore: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(data, "trothu.db.before-restore")); err != nil {
		t.Fatalf("the replaced database was not kept: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	t.Setenv("TROTHU_SECRET_KEY", "abcd")
	if _, err := trothu(t, t.TempDir(), "", "migrate"); err == nil || !strings.Contains(err.Error(), "TROTHU_SECRET_KEY") {
		t.Fatalf("short secret key: got %v, want a TROTHU_SECRET_KEY error", err)
	}
	t.Setenv("TROTHU_SECRET_KEY", "")
	if _, err := trothu(t, t.TempDir(), "", "migrate", "--database", "mysql://x"); err == nil {
		t.Fatal("unsupported database URL: got nil error")
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
