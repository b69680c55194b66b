package account

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"github.com/trothu/trothu/internal/batch"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/audit"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// Audit actions of this room, beside the shared ones in package audit.
const (
	AuditAccountCreated = "account.created"
	AuditPasswordSet    = "account.password_set"
	AuditTOTPEnabled    = "account.totp_enabled"
	AuditTOTPDisabled   = "account.totp_disabled"
	AuditSignOutAll     = "auth.sign_out_everywhere"
)

// ResidentRef is what sign-in needs to know about the resident a phone
// number belongs to. The wiring adapts the area room to ResidentFinder.
type ResidentRef struct {
	ResidentID  int64
	HouseholdID int64
	UnitID      int64
	UnitPath    string
	Name        string
}

// ResidentFinder finds the resident registered with a phone number (given in
// the normalised +84… form). It returns an *apperr.Error with code NotFound
// when there is none; any other error is treated as internal.
type ResidentFinder interface {
	ResidentByPhone(ctx context.Context, phone string) (ResidentRef, error)
}

// Config configures a Service. Zero values pick the defaults noted.
type Config struct {
	// SMS delivers one-time codes. Default: LogSender, which writes them
	// to the log.
	SMS SMSSender
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Demo makes RequestOTP return the code as well as send it.
	Demo bool
	// Residents lets a resident known to the area room sign in by one-time
	// code before any account exists for them. Nil: only existing accounts
	// may sign in.
	Residents ResidentFinder
	// SecretKey (at least 32 bytes) keys the hashes of one-time codes and
	// the encryption of TOTP secrets at rest. Changing it voids pending codes
	// and every enrolled authenticator.
	SecretKey []byte
	// Logger receives operational messages. Default: slog.Default().
	Logger *slog.Logger
	// WebSessionTTL is the lifetime of a browser session (default 30 days),
	// APISessionTTL that of an API token (default 90 days), IdleTimeout how
	// long either survives without use (default 14 days).
	WebSessionTTL time.Duration
	APISessionTTL time.Duration
	IdleTimeout   time.Duration
	OTP           OTPConfig
	Password      PasswordConfig
}

// OTPConfig tunes one-time codes. Zero values pick the defaults noted.
type OTPConfig struct {
	TTL          time.Duration // lifetime of a code (5 minutes)
	Interval     time.Duration // least time between two codes for one phone (60 s)
	PerHour      int           // codes per phone per hour (5)
	PerIPPerHour int           // codes per client IP per hour (20)
	MaxAttempts  int           // guesses per code before it is burned (5)
}

// PasswordConfig tunes passwords. Zero values pick the defaults noted.
type PasswordConfig struct {
	// Argon2 sets the cost of new hashes (default 64 MiB, t=1, p=2).
	Argon2 Argon2Params
	// MaxFailures failed sign-ins for one phone within FailureWindow make
	// further attempts wait (10); MaxIPFailures is the same per client IP
	// (30: carrier-grade NAT puts many people behind one address).
	MaxFailures   int
	MaxIPFailures int
	FailureWindow time.Duration // 15 minutes
	// MaxConcurrentHashes bounds how many argon2id computations (each
	// Argon2.Memory KiB) run at once (default GOMAXPROCS, at most 4).
	MaxConcurrentHashes int
}

// Validate returns an error describing the first invalid setting.
func (c Config) Validate() error {
	if len(c.SecretKey) < 32 {
		return fmt.Errorf("account: secret key must be at least 32 bytes, got %d", len(c.SecretKey))
	}
	if c.Password.Argon2.Memory != 0 && c.Password.Argon2.Memory < 8 {
		return errors.New("account: argon2 memory must be at least 8 KiB")
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.SMS == nil {
		c.SMS = LogSender{Logger: c.Logger}
	}
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.WebSessionTTL, 30*24*time.Hour)
	def(&c.APISessionTTL, 90*24*time.Hour)
	def(&c.IdleTimeout, 14*24*time.Hour)
	def(&c.OTP.TTL, 5*time.Minute)
	def(&c.OTP.Interval, time.Minute)
	defInt(&c.OTP.PerHour, 5)
	defInt(&c.OTP.PerIPPerHour, 20)
	defInt(&c.OTP.MaxAttempts, 5)
	a := &c.Password.Argon2
	if a.Memory == 0 {
		a.Memory = defaultArgon2.Memory
	}
	if a.Time == 0 {
		a.Time = defaultArgon2.Time
	}
	if a.Threads == 0 {
		a.Threads = defaultArgon2.Threads
	}
	defInt(&c.Password.MaxFailures, 10)
	defInt(&c.Password.MaxIPFailures, 30)
	def(&c.Password.FailureWindow, 15*time.Minute)
	defInt(&c.Password.MaxConcurrentHashes, min(4, max(1, runtime.GOMAXPROCS(0))))
}

// Service is the account room: sign-in, sessions, accounts and roles.
type Service struct {
	d        *db.DB
	cfg      Config
	log      *slog.Logger
	otpKey   []byte      // HMAC key of stored one-time codes
	totpAEAD cipher.AEAD // encrypts TOTP secrets at rest
	hashSem  chan struct{}
	dummy    dummyHash
	auth     batch.Batcher[*authReq] // concurrent Authenticate reads, batched on PostgreSQL
}

// New returns a Service over d. It panics if cfg.SecretKey is shorter than
// 32 bytes: validate the configuration at start-up with Config.Validate.
func New(d *db.DB, cfg Config) *Service {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg.setDefaults()
	block, err := aes.NewCipher(deriveKey(cfg.SecretKey, "trothu/account/totp-secret/v1"))
	if err != nil {
		panic(err) // a 32-byte key always makes an AES-256 cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	s := &Service{
		d:        d,
		cfg:      cfg,
		log:      cfg.Logger,
		otpKey:   deriveKey(cfg.SecretKey, "trothu/account/otp-code/v1"),
		totpAEAD: aead,
		hashSem:  make(chan struct{}, cfg.Password.MaxConcurrentHashes),
	}
	s.auth = batch.Batcher[*authReq]{Run: s.readSessions, MaxBatch: authBatchMax, MaxLeaders: batch.Leaders()}
	return s
}

// deriveKey gives each use of the secret key its own key.
func deriveKey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// Account is a person who can sign in.
type Account struct {
	ID int64 `json:"id"`
	// Phone is +84… from Account and AccountByPhone, and masked
	// ("091****678") in ListAccounts.
	Phone       string    `json:"phone"`
	Name        string    `json:"name"`
	ResidentID  int64     `json:"resident_id,omitempty"`
	Lang        string    `json:"lang"`
	Disabled    bool      `json:"disabled"`
	HasPassword bool      `json:"has_password"`
	TOTPEnabled bool      `json:"totp_enabled"`
	CreatedAt   time.Time `json:"created_at"`
	LastLoginAt time.Time `json:"last_login_at,omitzero"`
	Grants      []Grant   `json:"grants"`
}

// AccountInput holds the fields of a new account. ResidentID is optional.
type AccountInput struct {
	Phone      string
	Name       string
	ResidentID int64
}

const accountCols = `id, phone, name, COALESCE(resident_id, 0), lang, disabled,
	CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END, totp_enabled, created_at, COALESCE(last_login_at, 0)`

func scanAccount(sc interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var created, last int64
	err := sc.Scan(&a.ID, &a.Phone, &a.Name, &a.ResidentID, &a.Lang, &a.Disabled, &a.HasPassword, &a.TOTPEnabled, &created, &last)
	if err != nil {
		return a, err
	}
	a.CreatedAt = db.Time(created)
	if last != 0 {
		a.LastLoginAt = db.Time(last)
	}
	return a, nil
}

var errAccountNotFound = apperr.NotFoundf("tài khoản", "Account")

// Account returns the account with the given id and its grants, or apperr
// NotFound. It checks no permission: callers authorise.
func (s *Service) Account(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(s.d.QueryRow(ctx, "SELECT "+accountCols+" FROM accounts WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, errAccountNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("account %d: %w", id, err)
	}
	if a.Grants, err = s.Grants(ctx, id); err != nil {
		return Account{}, err
	}
	return a, nil
}

// AccountByPhone returns the account of the phone number (any form people
// type) and its grants, apperr Invalid for a malformed number, or apperr
// NotFound. It checks no permission: callers authorise.
func (s *Service) AccountByPhone(ctx context.Context, phone string) (Account, error) {
	p, err := normPhone(phone)
	if err != nil {
		return Account{}, err
	}
	var id int64
	err = s.d.QueryRow(ctx, "SELECT id FROM accounts WHERE phone = ?", p).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, errAccountNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("account by phone: %w", err)
	}
	return s.Account(ctx, id)
}

// CreateAccount creates an account for a person who will then be granted
// roles. p must hold ActGrantRoles somewhere. It returns apperr
// Unauthenticated or Forbidden, Invalid for a bad phone or name or unknown
// resident, Conflict when the phone already has an account.
func (s *Service) CreateAccount(ctx context.Context, p *Principal, in AccountInput) (Account, error) {
	if p == nil {
		return Account{}, apperr.ErrUnauthenticated
	}
	scopes := p.Scopes(ActGrantRoles)
	if len(scopes) == 0 {
		return Account{}, apperr.ErrForbidden
	}
	return s.createAccount(ctx, p, scopes[0], in)
}

// CreateAccountSystem is CreateAccount without a principal, for the `trothu
// user` command and the demo seeder. It returns the same errors but
// Unauthenticated and Forbidden.
func (s *Service) CreateAccountSystem(ctx context.Context, in AccountInput) (Account, error) {
	return s.createAccount(ctx, nil, "", in)
}

func (s *Service) createAccount(ctx context.Context, p *Principal, auditPath string, in AccountInput) (Account, error) {
	phone, err := normPhone(in.Phone)
	if err != nil {
		return Account{}, err
	}
	name := vntext.Normalize(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 200 {
		return Account{}, apperr.InvalidField("name", "Vui lòng nhập họ tên (tối đa 200 ký tự).", "Please enter a name (at most 200 characters).")
	}
	now := db.Millis(s.now())
	var id int64
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if in.ResidentID != 0 {
			// Linking an account to a resident reaches that resident's
			// household: only someone who manages accounts there may.
			var path string
			err := tx.QueryRow(ctx, "SELECT unit_path FROM residents WHERE id = ?", in.ResidentID).Scan(&path)
			if errors.Is(err, sql.ErrNoRows) {
				return apperr.InvalidField("resident_id", "Không tìm thấy người dân được liên kết.", "The linked resident does not exist.")
			}
			if err != nil {
				return fmt.Errorf("resident %d: %w", in.ResidentID, err)
			}
			if p != nil && !p.Can(ActGrantRoles, path) {
				return apperr.ErrForbidden
			}
			auditPath = path
		}
		var err error
		if id, err = insertAccount(ctx, tx, phone, name, in.ResidentID, now); err != nil {
			return err
		}
		return audit.Log(ctx, tx, audit.Entry{
			At: now, ActorID: actorID(p), ActorName: actorName(p), Action: AuditAccountCreated,
			SubjectType: "account", SubjectID: strconv.FormatInt(id, 10), UnitPath: auditPath,
			Detail: vntext.MaskPhone(phone),
		})
	})
	if err != nil {
		return Account{}, err
	}
	return s.Account(ctx, id)
}

func insertAccount(ctx context.Context, tx *db.Tx, phone, name string, residentID, now int64) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO accounts(phone, name, resident_id, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		phone, name, nullID(residentID), now).Scan(&id)
	switch {
	case db.IsUniqueViolation(err):
		return 0, apperr.Wrap(err, apperr.Conflict, "Số điện thoại này đã có tài khoản.", "This phone number already has an account.")
	case db.IsForeignKeyViolation(err):
		return 0, apperr.Wrap(err, apperr.Invalid, "Không tìm thấy người dân được liên kết.", "The linked resident does not exist.")
	case err != nil:
		return 0, fmt.Errorf("insert account: %w", err)
	}
	return id, nil
}

// authAccount is what sign-in reads about an account.
type authAccount struct {
	ID           int64
	Name         string
	Disabled     bool
	PasswordHash sql.NullString
	TOTPEnabled  bool
	UnitPath     string // of its first grant, for audit entries
}

type queryRower interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// authAccountByPhone returns nil (and no error) when the phone has no account.
func authAccountByPhone(ctx context.Context, q queryRower, phone string) (*authAccount, error) {
	var a authAccount
	err := q.QueryRow(ctx, `SELECT a.id, a.name, a.disabled, a.password_hash, a.totp_enabled,
		COALESCE((SELECT g.unit_path FROM role_grants g WHERE g.account_id = a.id ORDER BY g.id LIMIT 1), '')
		FROM accounts a WHERE a.phone = ?`, phone).
		Scan(&a.ID, &a.Name, &a.Disabled, &a.PasswordHash, &a.TOTPEnabled, &a.UnitPath)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("account by phone: %w", err)
	}
	return &a, nil
}

// firstGrantPath returns the unit path of the account's oldest grant, or "".
// Audit entries about an account are filed there (for a resident, the
// resident grant on their unit comes first). Entries about no unit (an
// unknown phone, an account made by the system with no grant yet) are
// filed under "", which lies in no subtree: only a listing for root
// administrators should show them.
func firstGrantPath(ctx context.Context, q queryRower, accountID int64) (string, error) {
	var path string
	err := q.QueryRow(ctx, "SELECT unit_path FROM role_grants WHERE account_id = ? ORDER BY id LIMIT 1", accountID).Scan(&path)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return path, err
}

func normPhone(s string) (string, error) {
	p, err := vntext.NormalizePhone(s)
	if err != nil {
		return "", apperr.InvalidField("phone", "Số điện thoại không hợp lệ. Vui lòng nhập số di động, ví dụ 0912345678.",
			"Invalid phone number. Please enter a mobile number such as 0912345678.")
	}
	return p, nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func actorID(p *Principal) int64 {
	if p == nil {
		return 0
	}
	return p.AccountID
}

func actorName(p *Principal) string {
	if p == nil {
		return "hệ thống"
	}
	return p.Name
}

// clip keeps client-supplied strings stored beside sessions bounded.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return strings.ToValidUTF8(s, "")
}
