package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/geo"
)

// parseCommon parses a command's flags into a finished Config.
func parseCommon(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*Config, []string, error) {
	var cfg Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.addCommonFlags(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if err := cfg.finish(); err != nil {
		return nil, nil, err
	}
	return &cfg, fs.Args(), nil
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := parseCommon("migrate", args, stderr, nil)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, stderr, true)
	if err != nil {
		return err
	}
	defer a.Close()
	v, err := a.db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d (%s)\n", v, a.db.Dialect)
	return nil
}

// systemPrincipal is the operator at the command line: an administrator
// over the whole tree, recorded in the audit log as "trothu CLI".
func systemPrincipal(ctx context.Context, a *app) (*account.Principal, error) {
	root, err := a.Areas.Root(ctx)
	if err != nil {
		return nil, fmt.Errorf("no administrative tree yet: run trothu import areas first (%w)", err)
	}
	return &account.Principal{Name: "trothu CLI", Grants: []account.Grant{{Role: account.RoleAdmin, UnitID: root.ID, UnitPath: root.Path}}}, nil
}

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: trothu import areas|boundaries|households [flags]")
	}
	what := args[0]
	var from, national, detail, unit, file string
	cfg, _, err := parseCommon("import "+what, args[1:], stderr, func(fs *flag.FlagSet) {
		switch what {
		case "areas":
			fs.StringVar(&from, "from", "", "directory with the vn_admin CSV files (default: the copy embedded in trothu)")
		case "boundaries":
			fs.StringVar(&national, "national", "", "GeoJSON of all wards (default: embedded wards_simplified)")
			fs.StringVar(&detail, "detail", "", "GeoJSON of full-resolution wards that override the national layer (default: embedded HCMC)")
		case "households":
			fs.StringVar(&unit, "unit", "", "unit id, or 5-digit ward code, to import into")
			fs.StringVar(&file, "file", "", "CSV file (see docs/OPERATIONS.md for the columns)")
		}
	})
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, stderr, true)
	if err != nil {
		return err
	}
	defer a.Close()
	switch what {
	case "areas":
		var src iofs.FS // nil: the embedded copy
		if from != "" {
			src = os.DirFS(from)
		}
		rep, err := a.Areas.ImportNational(ctx, src, func(msg string) { fmt.Fprintln(stderr, msg) })
		if err != nil {
			var rows area.RowErrors
			if errors.As(err, &rows) {
				for _, r := range rows {
					fmt.Fprintf(stderr, "%s:%d: %s: %s\n", r.File, r.Line, r.Field, r.Message)
				}
			}
			return err
		}
		return printJSON(stdout, rep)
	case "boundaries":
		if national == "" && detail == "" {
			return a.ImportEmbeddedBoundaries(ctx)
		}
		for _, l := range []struct{ layer, path string }{{area.LayerNational, national}, {area.LayerDetail, detail}} {
			if l.path == "" {
				continue
			}
			f, err := os.Open(l.path)
			if err != nil {
				return err
			}
			features, err := geo.ParseFeatureCollection(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", l.path, err)
			}
			rep, err := a.Areas.ImportBoundaries(ctx, l.layer, features)
			if err != nil {
				return err
			}
			if err := printJSON(stdout, rep); err != nil {
				return err
			}
		}
		return nil
	case "households":
		if unit == "" || file == "" {
			return errors.New("import households needs --unit and --file")
		}
		u, err := findUnit(ctx, a, unit)
		if err != nil {
			return err
		}
		p, err := systemPrincipal(ctx, a)
		if err != nil {
			return err
		}
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		rep, err := a.Areas.ImportHouseholdsCSV(ctx, p, u.ID, f)
		for _, r := range rep.Errors {
			fmt.Fprintf(stderr, "%s:%d: %s: %s\n", file, r.Line, r.Field, r.Message)
		}
		if err != nil {
			return err
		}
		return printJSON(stdout, rep)
	default:
		return fmt.Errorf("unknown import %q: want areas, boundaries or households", what)
	}
}

// findUnit accepts a unit id or a current commune/province code.
func findUnit(ctx context.Context, a *app, s string) (area.Unit, error) {
	switch len(s) {
	case 5:
		return a.Areas.UnitByCode(ctx, area.LevelCommune, s)
	case 2:
		return a.Areas.UnitByCode(ctx, area.LevelProvince, s)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return area.Unit{}, fmt.Errorf("unit %q: want an id or a 2/5-digit code", s)
	}
	return a.Areas.Unit(ctx, id)
}

func cmdUser(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: trothu user create|grant|list [flags]")
	}
	what := args[0]
	var phone, name, role, unit string
	var password bool
	cfg, _, err := parseCommon("user "+what, args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&phone, "phone", "", "phone number (0… or +84…)")
		fs.StringVar(&name, "name", "", "full name (create)")
		fs.StringVar(&role, "role", "", "role to grant: "+roleList())
		fs.StringVar(&unit, "unit", "", "unit id or 2/5-digit code to grant the role on (default: the whole country)")
		fs.BoolVar(&password, "password", false, "read a password for the account from standard input (create)")
	})
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, stderr, true)
	if err != nil {
		return err
	}
	defer a.Close()
	switch what {
	case "create":
		acc, err := a.Accounts.CreateAccountSystem(ctx, account.AccountInput{Phone: phone, Name: name})
		if err != nil {
			return err
		}
		if password {
			pw, err := io.ReadAll(io.LimitReader(os.Stdin, 1024))
			if err != nil {
				return err
			}
			if err := a.Accounts.SetPasswordSystem(ctx, acc.ID, strings.TrimRight(string(pw), "\r\n")); err != nil {
				return err
			}
		}
		return printJSON(stdout, acc)
	case "grant":
		acc, err := a.Accounts.AccountByPhone(ctx, phone)
		if err != nil {
			return err
		}
		var u area.Unit
		if unit == "" {
			u, err = a.Areas.Root(ctx)
		} else {
			u, err = findUnit(ctx, a, unit)
		}
		if err != nil {
			return err
		}
		g, err := a.Accounts.GrantRoleSystem(ctx, acc.ID, account.Role(role), u.ID)
		if err != nil {
			return err
		}
		return printJSON(stdout, g)
	case "list":
		p, err := systemPrincipal(ctx, a)
		if err != nil {
			return err
		}
		var after int64
		for {
			page, err := a.Accounts.ListAccounts(ctx, p, account.AccountFilter{After: after, Limit: 200})
			if err != nil {
				return err
			}
			for _, acc := range page.Accounts {
				var gs []string
				for _, g := range acc.Grants {
					gs = append(gs, string(g.Role)+"@"+g.UnitName)
				}
				fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\n", acc.ID, acc.Phone, acc.Name, strings.Join(gs, ", "))
			}
			if page.Next == 0 {
				return nil
			}
			after = page.Next
		}
	default:
		return fmt.Errorf("unknown user command %q: want create, grant or list", what)
	}
}

func roleList() string {
	var s []string
	for _, r := range account.Roles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

// printJSON writes v as one line of JSON: benchmark output's last line is
// its machine-readable result.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}
