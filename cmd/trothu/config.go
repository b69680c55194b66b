package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/trothu/trothu/internal/notify"
	"github.com/trothu/trothu/internal/web"
)

// Config is the whole typed configuration of a trothu process, from flags
// and TROTHU_* environment variables (secrets also from TROTHU_*_FILE).
// Flags win over the environment.
type Config struct {
	Addr          string
	Data          string
	DatabaseURL   string
	NATSURL       string
	Demo          bool
	SecureCookies bool
	SecretKey     []byte
	SMSURL        string
	SMSToken      string
	SMTPURL       string         // smtp://[user@]host[:port]; empty: no email
	SMTPFrom      string         // From address; default trothu@HOST
	Mail          *notify.Mailer // from SMTPURL, SMTPFrom and TROTHU_SMTP_PASSWORD(_FILE)
	MapTiles      string         // tile URL template for maps; empty: our ward outlines only
	MapAttrib     string         // attribution shown with MapTiles
	LogFormat     string         // "text" or "json"
	LogLevel      string
}

// envOr returns $name, or def when unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envBool(name string, def bool) bool {
	v, ok := os.LookupEnv(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}

// envSecret reads $name, or the file named by $name_FILE (trailing newline
// trimmed). It is an error to set both.
func envSecret(name string) (string, error) {
	v, hasV := os.LookupEnv(name)
	f, hasF := os.LookupEnv(name + "_FILE")
	if hasV && hasF {
		return "", fmt.Errorf("set %s or %s_FILE, not both", name, name)
	}
	if hasF {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return v, nil
}

// addCommonFlags registers the flags every database-using command shares.
func (c *Config) addCommonFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Data, "data", envOr("TROTHU_DATA", "./data"), "data directory (env TROTHU_DATA)")
	fs.StringVar(&c.DatabaseURL, "database", envOr("TROTHU_DATABASE_URL", ""), "database URL: sqlite:PATH or postgres://… (env TROTHU_DATABASE_URL; default sqlite:DATA/trothu.db)")
	fs.StringVar(&c.LogFormat, "log-format", envOr("TROTHU_LOG_FORMAT", "text"), "log format: text or json (env TROTHU_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", envOr("TROTHU_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env TROTHU_LOG_LEVEL)")
}

// addServeFlags registers the flags of serve.
func (c *Config) addServeFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", envOr("TROTHU_ADDR", ":8080"), "listen address (env TROTHU_ADDR)")
	fs.StringVar(&c.NATSURL, "nats", envOr("TROTHU_NATS_URL", ""), "NATS URL for events across instances (env TROTHU_NATS_URL; optional)")
	fs.BoolVar(&c.Demo, "demo", envBool("TROTHU_DEMO", false), "seed and serve the demo ward (env TROTHU_DEMO)")
	fs.BoolVar(&c.SecureCookies, "secure-cookies", envBool("TROTHU_SECURE_COOKIES", false), "mark cookies Secure; set behind an HTTPS proxy (env TROTHU_SECURE_COOKIES)")
	fs.StringVar(&c.SMSURL, "sms-url", envOr("TROTHU_SMS_URL", ""), "HTTP SMS gateway URL; empty writes codes to the log (env TROTHU_SMS_URL)")
	fs.StringVar(&c.SMTPURL, "smtp-url", envOr("TROTHU_SMTP_URL", ""), "SMTP server for officials' email, smtp://user@host:587; password from TROTHU_SMTP_PASSWORD(_FILE); empty: no email (env TROTHU_SMTP_URL)")
	fs.StringVar(&c.MapTiles, "map-tiles", envOr("TROTHU_MAP_TILES", ""), "tile URL template for maps, e.g. https://tiles.example.vn/{z}/{x}/{y}.png; empty: maps draw only the ward boundaries (env TROTHU_MAP_TILES)")
	fs.StringVar(&c.MapAttrib, "map-attribution", envOr("TROTHU_MAP_ATTRIBUTION", ""), "attribution text shown with the map tiles (env TROTHU_MAP_ATTRIBUTION)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", envOr("TROTHU_SMTP_FROM", ""), "From address of email (env TROTHU_SMTP_FROM; default trothu@SMTP-HOST)")
}

// finish fills defaults that depend on other fields, reads secrets and
// validates. It creates the data directory and, on first start, the secret
// key file.
func (c *Config) finish() error {
	if c.Data == "" {
		return errors.New("--data must not be empty")
	}
	if err := os.MkdirAll(c.Data, 0o750); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.Data, "trothu.db")
	}
	if !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		return fmt.Errorf("--database %q: want sqlite:PATH or postgres://…", c.DatabaseURL)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
	}
	if err := web.CheckTileURL(c.MapTiles); err != nil {
		return fmt.Errorf("--map-tiles %q: %w", c.MapTiles, err)
	}
	tok, err := envSecret("TROTHU_SMS_TOKEN")
	if err != nil {
		return err
	}
	c.SMSToken = tok
	if c.SMTPURL != "" {
		pw, err := envSecret("TROTHU_SMTP_PASSWORD")
		if err != nil {
			return err
		}
		if c.Mail, err = notify.ParseSMTPURL(c.SMTPURL, pw, c.SMTPFrom); err != nil {
			return fmt.Errorf("--smtp-url: %w", err)
		}
	}
	key, err := envSecret("TROTHU_SECRET_KEY")
	if err != nil {
		return err
	}
	if key == "" {
		key, err = loadOrCreateKey(filepath.Join(c.Data, "secret.key"))
		if err != nil {
			return err
		}
	}
	b, err := hex.DecodeString(strings.TrimSpace(key))
	if err != nil || len(b) < 32 {
		return errors.New("TROTHU_SECRET_KEY must be at least 32 bytes, hex-encoded (64+ hex digits)")
	}
	c.SecretKey = b
	return nil
}

// loadOrCreateKey reads the hex key at path, creating a random one (mode
// 0600) if there is none. Instances sharing a database must share the key:
// set TROTHU_SECRET_KEY(_FILE) for them.
func loadOrCreateKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("secret key: %w", err)
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return "", err
	}
	s := hex.EncodeToString(k[:])
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("secret key: %w", err)
	}
	return s, nil
}
