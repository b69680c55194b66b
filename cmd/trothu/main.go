// Command trothu is the whole product in one binary: the web server and the
// operator's commands (migrate, import, user, backup, restore, bench).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Asia/Ho_Chi_Minh without relying on the host's zoneinfo
)

const usage = `trothu — the aide for grassroots government

Usage:
  trothu serve   [--addr :8080] [--data ./data] [--database URL] [--demo]
  trothu migrate [--database URL]          bring the schema up to date
  trothu import  areas|boundaries|households [flags]
  trothu user    create|grant|list [flags]  manage accounts and roles
  trothu backup  --out FILE                 consistent copy of a SQLite database
  trothu restore --from FILE                put a backup in place (server stopped)
  trothu bench   SCENARIO [flags]           benchmarks (geo-locate)
  trothu version

Every command takes --data and --database (env TROTHU_DATA, TROTHU_DATABASE_URL).
Run "trothu COMMAND -h" for a command's flags.
`

var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "trothu:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "import":
		return cmdImport(ctx, rest, stdout, stderr)
	case "user":
		return cmdUser(ctx, rest, stdout, stderr)
	case "backup":
		return cmdBackup(ctx, rest, stdout, stderr)
	case "restore":
		return cmdRestore(ctx, rest, stdout, stderr)
	case "bench":
		return cmdBench(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "trothu", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
