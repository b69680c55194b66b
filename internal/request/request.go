// Package request owns everything a resident asks of government, as one
// engine: service types, intake, routing by location and type, the
// workflow (statuses, assignment, replies, merging), deadlines on the
// working-hours clock, escalation up the tree, and the data behind the
// Open311 GeoReport v2 API.
//
// Every request has an owner (the unit and organisation it is routed to,
// and an assigned officer), a deadline to acknowledge and one to resolve
// (in working hours, from the service type and priority), and a record
// (the timeline of updates). Deadlines are durable jobs: when one passes
// the request escalates to the next level up, once, however many
// instances run.
//
// Errors are *apperr.Error for anything a user can act on; anything else
// is an internal database error. "Not found" is always an error.
package request

import (
	"context"
	"database/sql"
	"errors"
	"github.com/trothu/trothu/internal/batch"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/jobs"
	"github.com/trothu/trothu/internal/media"
	"github.com/trothu/trothu/internal/vntext"
	"github.com/trothu/trothu/internal/workcal"
)

// Status is where a request stands.
type Status string

// The statuses. Open311 sees the open ones as "open", the rest as "closed".
const (
	StatusNew          Status = "new"          // mới
	StatusAcknowledged Status = "acknowledged" // đã tiếp nhận
	StatusInProgress   Status = "in_progress"  // đang xử lý
	StatusScheduled    Status = "scheduled"    // đã lên lịch
	StatusResolved     Status = "resolved"     // đã xử lý
	StatusClosed       Status = "closed"       // đóng
	StatusDuplicate    Status = "duplicate"    // trùng
	StatusNotOurs      Status = "not_ours"     // không thuộc thẩm quyền
	StatusReferred     Status = "referred"     // chuyển đơn vị khác (outside this deployment)
	StatusRejected     Status = "rejected"     // từ chối
	StatusReopened     Status = "reopened"     // mở lại
)

// Statuses lists every status in workflow order.
var Statuses = []Status{StatusNew, StatusAcknowledged, StatusInProgress, StatusScheduled, StatusResolved, StatusClosed,
	StatusDuplicate, StatusNotOurs, StatusReferred, StatusRejected, StatusReopened}

var statusLabels = map[Status][2]string{
	StatusNew:          {"Mới", "New"},
	StatusAcknowledged: {"Đã tiếp nhận", "Acknowledged"},
	StatusInProgress:   {"Đang xử lý", "In progress"},
	StatusScheduled:    {"Đã lên lịch", "Scheduled"},
	StatusResolved:     {"Đã xử lý", "Resolved"},
	StatusClosed:       {"Đóng", "Closed"},
	StatusDuplicate:    {"Trùng", "Duplicate"},
	StatusNotOurs:      {"Không thuộc thẩm quyền", "Not our responsibility"},
	StatusReferred:     {"Chuyển đơn vị khác", "Referred elsewhere"},
	StatusRejected:     {"Từ chối", "Rejected"},
	StatusReopened:     {"Mở lại", "Reopened"},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { _, ok := statusLabels[s]; return ok }

// Label returns the status's name in lang ("en" or Vietnamese).
func (s Status) Label(lang string) string {
	l, ok := statusLabels[s]
	if !ok {
		return string(s)
	}
	if lang == "en" {
		return l[1]
	}
	return l[0]
}

// Open reports whether the request still awaits work (Open311 "open").
func (s Status) Open() bool {
	switch s {
	case StatusNew, StatusAcknowledged, StatusInProgress, StatusScheduled, StatusReopened:
		return true
	}
	return false
}

// OpenStatuses are the statuses Open reports true for.
var OpenStatuses = []Status{StatusNew, StatusAcknowledged, StatusInProgress, StatusScheduled, StatusReopened}

// Locator finds the ward of a GPS point (the geo index built at start).
type Locator interface {
	Locate(lon, lat float64) (geo.Ward, bool)
}

// Config tunes the service.
type Config struct {
	Now      func() time.Time  // injectable clock; default time.Now
	Calendar *workcal.Calendar // default workcal.Default()
	Logger   *slog.Logger
	// NearbyRadius and NearbyWindow bound "similar open requests nearby"
	// (default 200 m and 30 days).
	NearbyRadius float64
	NearbyWindow time.Duration
	// Media stores photos; nil refuses them.
	Media *media.Store
}

// Service is the request room. It is safe for concurrent use.
type Service struct {
	d       *db.DB
	areas   *area.Service
	cfg     Config
	cal     atomic.Pointer[workcal.Calendar]
	locator atomic.Pointer[locatorBox]
	queue   *jobs.Queue
	cache   caches
	intake  batch.Batcher[*intakeReq] // intakebatch.go
	out     atomic.Pointer[delivery]  // notify.go
	terr    atomic.Pointer[territory] // territory.go
	// index is the engine's search index; words, what this process
	// wrote to the text index's vocabulary (SQLite, fts.go).
	index searchIndex
	words vocab
	// indexWake wakes the background indexer after intake (indexer.go).
	indexWake chan struct{}
}

type locatorBox struct{ Locator }

// New returns the request service over d.
func New(d *db.DB, areas *area.Service, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Calendar == nil {
		cfg.Calendar = workcal.Default()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NearbyRadius <= 0 {
		cfg.NearbyRadius = 200
	}
	if cfg.NearbyWindow <= 0 {
		cfg.NearbyWindow = 30 * 24 * time.Hour
	}
	s := &Service{d: d, areas: areas, cfg: cfg, indexWake: make(chan struct{}, 1)}
	s.index = indexFor(d.Dialect, &s.words)
	s.intake = batch.Batcher[*intakeReq]{Run: s.commitIntake, MaxBatch: intakeBatchMax, MaxLeaders: batch.Leaders()}
	s.cal.Store(cfg.Calendar)
	return s
}

// SetLocator sets the GPS → ward lookup once the boundary index is built.
func (s *Service) SetLocator(l Locator) {
	if l != nil {
		s.locator.Store(&locatorBox{l})
	}
}

// Calendar returns the working-hours calendar in force.
func (s *Service) Calendar() *workcal.Calendar { return s.cal.Load() }

// SetCalendar replaces the working-hours calendar (new deadlines use it).
func (s *Service) SetCalendar(c *workcal.Calendar) {
	if c != nil {
		s.cal.Store(c)
	}
}

func (s *Service) now() time.Time { return s.cfg.Now() }

type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func errRequestNotFound() error { return apperr.NotFoundf("yêu cầu", "Request") }

func notFound(err error, vi, en string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return apperr.NotFoundf(vi, en)
	}
	return err
}

func cleanText(s string) string { return strings.Join(strings.Fields(vntext.NFC(s)), " ") }

// cleanBody keeps line breaks but trims each line.
func cleanBody(s string) string {
	lines := strings.Split(strings.ReplaceAll(vntext.NFC(s), "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// parentPath returns the path of the unit above ("/1/79/26743/" → "/1/79/"),
// or "" at the root.
func parentPath(path string) string {
	t := strings.TrimSuffix(path, "/")
	i := strings.LastIndex(t, "/")
	if i <= 0 {
		return ""
	}
	return t[:i+1]
}

// lastID returns the unit id a path ends with.
func lastID(path string) int64 {
	t := strings.TrimSuffix(path, "/")
	id, _ := strconv.ParseInt(t[strings.LastIndex(t, "/")+1:], 10, 64)
	return id
}

// handles reports whether p may handle a request at unitPath or escalated
// to escalatedPath.
func handles(p *account.Principal, unitPath, escalatedPath string) bool {
	return p.Can(account.ActHandleRequests, unitPath) || (escalatedPath != "" && p.Can(account.ActHandleRequests, escalatedPath))
}

// SavePhoto sniffs, re-encodes (dropping all metadata, GPS included) and
// stores a photo, returning its name for Input.Photos or Change.Photo. It
// does file I/O: call it before, never inside, a transaction. It returns
// apperr Invalid for a bad image and Unavailable when photos are off.
func (s *Service) SavePhoto(r io.Reader) (string, error) {
	if s.cfg.Media == nil {
		return "", apperr.New(apperr.Unavailable, "Máy chủ chưa bật lưu ảnh.", "Photos are not enabled on this server.")
	}
	ph, err := s.cfg.Media.Save(r)
	return ph.Name, err
}

// OpenPhoto opens a stored photo (the caller checks HasPhoto first).
func (s *Service) OpenPhoto(name string) (*os.File, error) {
	if s.cfg.Media == nil {
		return nil, apperr.NotFoundf("ảnh", "Photo")
	}
	return s.cfg.Media.Open(name)
}
