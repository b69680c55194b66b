// Package group owns community groups per area or organisation: members,
// join policies, messages, replies, reactions, pins and moderation.
//
// A group belongs to a unit (tổ, khu phố, ward…) or to an organisation of a
// unit (Party cell, women's union, police…). Who may see it:
//   - its active members (owner, moderators, members);
//   - for an "auto" group, every account whose unit lies in the group's
//     subtree (residents of the tổ, its head…), or, for an organisation's
//     group, the organisation's members: they become members the first time
//     they list their groups or open it, unless they left or were banned;
//   - officials allowed account.ActManageGroups on the group's unit, who
//     moderate every group under them.
//
// Every change commits first and is published on the realtime broker
// ("group:{id}", "account:{id}") afterwards. Errors are *apperr.Error for
// anything a user can act on; others are the database's.
package group

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/media"
	"github.com/trothu/trothu/internal/realtime"
)

// JoinPolicy says how people become members.
type JoinPolicy string

// The join policies.
const (
	PolicyAuto     JoinPolicy = "auto"     // residents of the unit's subtree (or the organisation's members)
	PolicyApproval JoinPolicy = "approval" // people of the subtree ask; a moderator approves
	PolicyInvite   JoinPolicy = "invite"   // only by invite link / QR code
)

// Valid reports whether p is a known policy.
func (p JoinPolicy) Valid() bool { return p == PolicyAuto || p == PolicyApproval || p == PolicyInvite }

// Role is a member's role in a group.
type Role string

// The member roles.
const (
	RoleOwner     Role = "owner"
	RoleModerator Role = "moderator"
	RoleMember    Role = "member"
)

// Moderates reports whether r may moderate.
func (r Role) Moderates() bool { return r == RoleOwner || r == RoleModerator }

// Member states.
const (
	StateActive  = "active"
	StatePending = "pending" // asked to join; waits for approval
	StateBanned  = "banned"
	StateLeft    = "left"
	StateRemoved = "removed"
)

// Limits.
const (
	MaxBody     = 4000             // characters of a message
	EditWindow  = 15 * time.Minute // authors may edit or delete this long
	InviteTTL   = 7 * 24 * time.Hour
	MaxPageSize = 100
)

// PageLimit is the size of a listing page asked for with limit: 50 when
// limit is unset or beyond MaxPageSize. Handlers use it too, to know
// whether a full page (and so a next cursor) came back.
func PageLimit(limit int) int {
	if limit <= 0 || limit > MaxPageSize {
		return 50
	}
	return limit
}

// Group is a community group.
type Group struct {
	ID             int64      `json:"id"`
	UnitID         int64      `json:"unit_id"`
	UnitPath       string     `json:"-"`
	UnitName       string     `json:"unit_name"`
	OrganisationID int64      `json:"organisation_id,omitempty"`
	Name           string     `json:"name"`
	Description    string     `json:"description"`
	JoinPolicy     JoinPolicy `json:"join_policy"`
	AnnounceOnly   bool       `json:"announce_only"`
	Members        int        `json:"members"`
	CreatedAt      int64      `json:"created_at"`
	LastMessageID  int64      `json:"last_message_id"`
	LastMessageAt  int64      `json:"last_message_at"`
}

// Service is the group room. It is safe for concurrent use.
type Service struct {
	d      *db.DB
	areas  *area.Service
	broker *realtime.Broker // nil: no realtime delivery
	media  *media.Store     // nil: photos are refused
	log    *slog.Logger
	now    func() time.Time
}

// Config holds the service's dependencies; Broker and Media are optional.
type Config struct {
	Areas  *area.Service
	Broker *realtime.Broker
	Media  *media.Store
	Logger *slog.Logger
	Now    func() time.Time
}

// New returns the group service over d.
func New(d *db.DB, cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{d: d, areas: cfg.Areas, broker: cfg.Broker, media: cfg.Media, log: cfg.Logger, now: cfg.Now}
}

// Media returns the photo store (nil when photos are off).
func (s *Service) Media() *media.Store { return s.media }

func (s *Service) nowMs() int64 { return db.Millis(s.now()) }

// publish sends an event after a commit; a failure is logged, never
// returned: the change is kept and clients catch up on reload.
func (s *Service) publish(ctx context.Context, topic, event string, data any) {
	if s.broker == nil {
		return
	}
	if err := s.broker.Publish(ctx, topic, event, data); err != nil {
		s.log.Warn("realtime publish", "topic", topic, "event", event, "err", err)
	}
}

// Topic is the realtime topic of a group.
func Topic(groupID int64) string { return "group:" + strconv.FormatInt(groupID, 10) }

// AccountTopic is the realtime topic of an account.
func AccountTopic(accountID int64) string { return "account:" + strconv.FormatInt(accountID, 10) }

var (
	errGroupNotFound   = apperr.NotFoundf("nhóm", "Group")
	errMessageNotFound = apperr.NotFoundf("tin nhắn", "Message")
)

const groupCols = `g.id, g.unit_id, g.unit_path, u.name, COALESCE(g.organisation_id, 0), g.name, g.description, g.join_policy, g.announce_only,
	(SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id AND m.state = 'active'), g.created_at, g.last_message_id, g.last_message_at`

const groupFrom = ` FROM community_groups g JOIN units u ON u.id = g.unit_id`

type scanner interface{ Scan(dest ...any) error }

func scanGroup(r scanner, g *Group, extra ...any) error {
	var ann int
	err := r.Scan(append([]any{&g.ID, &g.UnitID, &g.UnitPath, &g.UnitName, &g.OrganisationID, &g.Name, &g.Description, &g.JoinPolicy, &ann,
		&g.Members, &g.CreatedAt, &g.LastMessageID, &g.LastMessageAt}, extra...)...)
	g.AnnounceOnly = ann != 0
	return err
}

func (s *Service) group(ctx context.Context, id int64) (Group, error) {
	var g Group
	err := scanGroup(s.d.QueryRow(ctx, "SELECT "+groupCols+groupFrom+" WHERE g.id = ?", id), &g)
	if errors.Is(err, sql.ErrNoRows) {
		return g, errGroupNotFound
	}
	return g, err
}

// access is what a principal is to a group.
type access struct {
	g        Group
	p        *account.Principal
	role     Role   // "" without a membership row
	state    string // "" without a membership row
	muted    int64
	lastRead int64
	oversee  bool // ActManageGroups on the group's unit
	eligible bool // may become a member of an auto group by being there
}

func (a access) member() bool { return a.state == StateActive }

func (a access) canView() bool {
	return a.member() || a.oversee || (a.eligible && a.state == "")
}

func (a access) canModerate() bool { return a.oversee || (a.member() && a.role.Moderates()) }

// joinRole is the role a viewer without a row gets when materialised.
func (a access) joinRole() Role {
	if a.oversee {
		return RoleModerator
	}
	return RoleMember
}

// load returns p's access to group id. It returns Unauthenticated for an
// anonymous p and NotFound for a missing group.
func (s *Service) load(ctx context.Context, p *account.Principal, id int64) (access, error) {
	if p == nil {
		return access{}, apperr.ErrUnauthenticated
	}
	g, err := s.group(ctx, id)
	if err != nil {
		return access{}, err
	}
	a := access{g: g, p: p, oversee: p.Can(account.ActManageGroups, g.UnitPath)}
	err = s.d.QueryRow(ctx, "SELECT role, state, muted_until, last_read_id FROM group_members WHERE group_id = ? AND account_id = ?", id, p.AccountID).
		Scan(&a.role, &a.state, &a.muted, &a.lastRead)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return a, err
	}
	if g.JoinPolicy == PolicyAuto {
		if a.eligible, err = s.eligible(ctx, p, g); err != nil {
			return a, err
		}
	}
	return a, nil
}

// view is load that also requires the right to see the group; a group one
// may not see is reported as forbidden.
func (s *Service) view(ctx context.Context, p *account.Principal, id int64) (access, error) {
	a, err := s.load(ctx, p, id)
	if err != nil {
		return a, err
	}
	if !a.canView() {
		return a, apperr.New(apperr.Forbidden, "Bạn không phải thành viên của nhóm này.", "You are not a member of this group.")
	}
	return a, nil
}

func (s *Service) moderate(ctx context.Context, p *account.Principal, id int64) (access, error) {
	a, err := s.load(ctx, p, id)
	if err != nil {
		return a, err
	}
	if !a.canModerate() {
		return a, apperr.ErrForbidden
	}
	return a, nil
}

// eligible reports whether p belongs to an auto group by where they are:
// one of p's units lies in the group's subtree, or, for an organisation's
// group, p's resident is a member of the organisation.
func (s *Service) eligible(ctx context.Context, p *account.Principal, g Group) (bool, error) {
	if g.OrganisationID != 0 {
		if p.ResidentID == 0 {
			return false, nil
		}
		var n int
		err := s.d.QueryRow(ctx, "SELECT COUNT(*) FROM organisation_members WHERE organisation_id = ? AND resident_id = ?", g.OrganisationID, p.ResidentID).Scan(&n)
		return n > 0, err
	}
	for _, gr := range p.Grants {
		if gr.UnitPath != "" && strings.HasPrefix(gr.UnitPath, g.UnitPath) {
			return true, nil
		}
	}
	return false, nil
}

// ensureMember gives a viewer without a row (an eligible resident, an
// overseeing official) an active membership, inside tx.
func ensureMember(ctx context.Context, tx *db.Tx, a access, now int64) error {
	if a.state != "" {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO group_members(group_id, account_id, role, state, joined_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?)
		ON CONFLICT (group_id, account_id) DO NOTHING`, a.g.ID, a.p.AccountID, a.joinRole(), now, now)
	return err
}

// ancestorPaths returns every prefix path of path ("/1/2/" → "/1/", "/1/2/").
func ancestorPaths(path string) []string {
	var out []string
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			out = append(out, path[:i+1])
		}
	}
	return out
}

func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
