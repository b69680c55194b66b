package group

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/vntext"
)

// Message is a message as one viewer sees it: a deleted message keeps its
// place with an empty body (moderators still see the text), a hidden one is
// only listed for moderators.
type Message struct {
	ID          int64          `json:"id"`
	GroupID     int64          `json:"group_id"`
	AuthorID    int64          `json:"author_id"`
	AuthorName  string         `json:"author_name"`
	AuthorRole  Role           `json:"author_role,omitempty"`
	ReplyTo     int64          `json:"reply_to,omitempty"`
	Body        string         `json:"body"`
	PhotoURL    string         `json:"photo_url,omitempty"`
	PhotoW      int            `json:"photo_width,omitempty"`
	PhotoH      int            `json:"photo_height,omitempty"`
	Lat         *float64       `json:"lat,omitempty"`
	Lon         *float64       `json:"lon,omitempty"`
	CreatedAt   int64          `json:"created_at"`
	EditedAt    int64          `json:"edited_at,omitempty"`
	Deleted     bool           `json:"deleted,omitempty"`
	Hidden      bool           `json:"hidden,omitempty"`
	Pinned      bool           `json:"pinned,omitempty"`
	Replies     int            `json:"replies"`
	Reactions   map[string]int `json:"reactions,omitempty"`
	MyReactions []string       `json:"my_reactions,omitempty"`
	SeenBy      *int           `json:"seen_by,omitempty"` // moderators' posts, shown to moderators
	Mentions    []Mention      `json:"mentions,omitempty"`
	photo       string
}

// PhotoURL is where a group's photo is served (to its members only).
func PhotoURL(groupID int64, name string) string {
	return "/groups/" + strconv.FormatInt(groupID, 10) + "/photos/" + name
}

const msgCols = `gm.id, gm.group_id, COALESCE(gm.author_id, 0), gm.author_name, COALESCE(am.role, ''), COALESCE(gm.reply_to, 0), gm.body, gm.photo, gm.photo_w, gm.photo_h,
	gm.lat, gm.lon, gm.created_at, gm.edited_at, gm.deleted_at, gm.hidden_at, gm.pinned_at, gm.replies`

const msgFrom = ` FROM group_messages gm LEFT JOIN group_members am ON am.group_id = gm.group_id AND am.account_id = gm.author_id`

func scanMessage(r scanner, m *Message) error {
	var lat, lon sql.NullFloat64
	var del, hid, pin int64
	if err := r.Scan(&m.ID, &m.GroupID, &m.AuthorID, &m.AuthorName, &m.AuthorRole, &m.ReplyTo, &m.Body, &m.photo, &m.PhotoW, &m.PhotoH,
		&lat, &lon, &m.CreatedAt, &m.EditedAt, &del, &hid, &pin, &m.Replies); err != nil {
		return err
	}
	if lat.Valid && lon.Valid {
		m.Lat, m.Lon = &lat.Float64, &lon.Float64
	}
	m.Deleted, m.Hidden, m.Pinned = del != 0, hid != 0, pin != 0
	if m.photo != "" {
		m.PhotoURL = PhotoURL(m.GroupID, m.photo)
	}
	return nil
}

// forViewer blanks what a viewer who does not moderate may not see.
func (m *Message) forViewer(moderator bool) {
	if m.Deleted && !moderator {
		m.Body, m.PhotoURL, m.PhotoW, m.PhotoH, m.Lat, m.Lon = "", "", 0, 0, nil, nil
	}
}

// PostInput is a new message. Photo, when set, is read, checked and
// re-encoded (see internal/media); Lat/Lon are stored only when the author
// chose to share a location. Mentions adds accounts to those the body names
// with "@Name" (see resolveMentions); only active members are kept.
type PostInput struct {
	Body     string   `json:"body"`
	ReplyTo  int64    `json:"reply_to,omitempty"`
	Lat      *float64 `json:"lat,omitempty"`
	Lon      *float64 `json:"lon,omitempty"`
	Mentions []int64  `json:"mentions,omitempty"`
	Photo    io.Reader
}

var errMuted = apperr.New(apperr.Forbidden, "Bạn đang bị tạm khoá gửi tin trong nhóm này.", "You are muted in this group.")

// Post adds a message to group id. Members may post unless muted; in an
// announce-only group members may only reply. It returns Invalid for an
// empty or too long message, a bad photo or location.
func (s *Service) Post(ctx context.Context, p *account.Principal, id int64, in PostInput) (Message, error) {
	a, err := s.view(ctx, p, id)
	if err != nil {
		return Message{}, err
	}
	now := s.nowMs()
	if a.muted > now {
		return Message{}, errMuted
	}
	if a.g.AnnounceOnly && in.ReplyTo == 0 && !a.canModerate() {
		return Message{}, apperr.New(apperr.Forbidden, "Nhóm này chỉ người điều hành được đăng tin; bạn có thể trả lời bên dưới các tin.", "Only moderators post in this group; you can reply to their posts.")
	}
	body := strings.TrimSpace(vntext.NFC(in.Body))
	if utf8.RuneCountInString(body) > MaxBody {
		return Message{}, apperr.InvalidField("body", "Tin nhắn dài tối đa 4000 ký tự.", "A message may be at most 4000 characters.")
	}
	if body == "" && in.Photo == nil {
		return Message{}, apperr.InvalidField("body", "Vui lòng nhập nội dung tin nhắn.", "Please write a message.")
	}
	if (in.Lat == nil) != (in.Lon == nil) || (in.Lat != nil && (*in.Lat < -90 || *in.Lat > 90 || *in.Lon < -180 || *in.Lon > 180)) {
		return Message{}, apperr.InvalidField("lat", "Vị trí không hợp lệ.", "Invalid location.")
	}
	root := in.ReplyTo
	if root != 0 {
		var parentGroup, parentRoot int64
		err := s.d.QueryRow(ctx, "SELECT group_id, COALESCE(reply_to, 0) FROM group_messages WHERE id = ?", root).Scan(&parentGroup, &parentRoot)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && parentGroup != id) {
			return Message{}, apperr.InvalidField("reply_to", "Tin nhắn được trả lời không có trong nhóm này.", "The message replied to is not in this group.")
		} else if err != nil {
			return Message{}, err
		}
		if parentRoot != 0 {
			root = parentRoot // threads are one level deep
		}
	}
	var photo string
	var pw, ph int
	if in.Photo != nil {
		if s.media == nil {
			return Message{}, apperr.New(apperr.Unavailable, "Máy chủ chưa được cấu hình để lưu ảnh.", "This server does not store photos.")
		}
		ph0, err := s.media.Save(in.Photo) // before the transaction: slow I/O
		if err != nil {
			return Message{}, err
		}
		photo, pw, ph = ph0.Name, ph0.Width, ph0.Height
	}
	named, err := s.resolveMentions(ctx, id, body)
	if err != nil {
		return Message{}, err
	}
	mentions := mergeIDs(in.Mentions, named, p.AccountID)
	var mid int64
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if err := ensureMember(ctx, tx, a, now); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO group_messages(group_id, author_id, author_name, reply_to, body, body_fold, photo, photo_w, photo_h, lat, lon, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			id, p.AccountID, p.Name, nullID(root), body, vntext.Fold(body), photo, pw, ph, in.Lat, in.Lon, now).Scan(&mid); err != nil {
			return err
		}
		if root != 0 {
			if _, err := tx.Exec(ctx, "UPDATE group_messages SET replies = replies + 1 WHERE id = ?", root); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE community_groups SET last_message_id = ?, last_message_at = ? WHERE id = ?", mid, now, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE group_members SET last_read_id = ? WHERE group_id = ? AND account_id = ? AND last_read_id < ?", mid, id, p.AccountID, mid); err != nil {
			return err
		}
		for _, acc := range mentions {
			if _, err := tx.Exec(ctx, `INSERT INTO group_mentions(message_id, account_id) SELECT ?, account_id FROM group_members
				WHERE group_id = ? AND account_id = ? AND state = 'active' ON CONFLICT DO NOTHING`, mid, id, acc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Message{}, err
	}
	m, err := s.message(ctx, id, mid)
	if err != nil {
		return Message{}, err
	}
	if len(mentions) > 0 {
		msgs := []Message{m}
		if err := s.loadMentions(ctx, msgs); err != nil {
			return Message{}, err
		}
		m = msgs[0]
	}
	s.publish(ctx, Topic(id), "message", m)
	for _, mn := range m.Mentions {
		s.publish(ctx, AccountTopic(mn.AccountID), "mention", map[string]any{"group_id": id, "message_id": mid, "from": p.Name, "group": a.g.Name})
	}
	return m, nil
}

// mergeIDs returns the ids of a then b, once each, without self.
func mergeIDs(a, b []int64, self int64) []int64 {
	var out []int64
	seen := map[int64]bool{self: true}
	for _, id := range append(append([]int64{}, a...), b...) {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Message returns one message of group id as p sees it, with reactions,
// mentions and "seen by". A hidden message is NotFound for those who do not
// moderate.
func (s *Service) Message(ctx context.Context, p *account.Principal, id, mid int64) (Message, error) {
	a, err := s.view(ctx, p, id)
	if err != nil {
		return Message{}, err
	}
	m, err := s.message(ctx, id, mid)
	if err != nil {
		return Message{}, err
	}
	if m.Hidden && !a.canModerate() {
		return Message{}, errMessageNotFound
	}
	msgs := []Message{m}
	if err := s.decorate(ctx, a, msgs); err != nil {
		return Message{}, err
	}
	return msgs[0], nil
}

// message reads one message of group gid as stored.
func (s *Service) message(ctx context.Context, gid, mid int64) (Message, error) {
	var m Message
	err := scanMessage(s.d.QueryRow(ctx, "SELECT "+msgCols+msgFrom+" WHERE gm.id = ? AND gm.group_id = ?", mid, gid), &m)
	if errors.Is(err, sql.ErrNoRows) {
		return m, errMessageNotFound
	}
	return m, err
}

// ListFilter pages through a group's messages. Before gives the page of
// older messages (infinite scroll back), After the newer ones (catching up
// after a reconnect); neither gives the newest page. Thread lists the
// replies to one message instead of the top-level messages.
type ListFilter struct {
	Before, After, Thread int64
	Limit                 int // default 30, at most 100
}

// List returns a page of group id's messages, oldest first, and whether
// there are more in the direction asked.
func (s *Service) List(ctx context.Context, p *account.Principal, id int64, f ListFilter) ([]Message, bool, error) {
	a, err := s.view(ctx, p, id)
	if err != nil {
		return nil, false, err
	}
	if f.Limit <= 0 || f.Limit > MaxPageSize {
		f.Limit = 30
	}
	mod := a.canModerate()
	q := "SELECT " + msgCols + msgFrom + " WHERE gm.group_id = ?"
	args := []any{id}
	if f.Thread != 0 {
		q += " AND gm.reply_to = ?"
		args = append(args, f.Thread)
	} else {
		q += " AND gm.reply_to IS NULL"
	}
	if !mod {
		q += " AND gm.hidden_at = 0"
	}
	asc := f.After > 0
	switch {
	case f.After > 0:
		q += " AND gm.id > ? ORDER BY gm.id"
		args = append(args, f.After)
	case f.Before > 0:
		q += " AND gm.id < ? ORDER BY gm.id DESC"
		args = append(args, f.Before)
	default:
		q += " ORDER BY gm.id DESC"
	}
	q += " LIMIT " + strconv.Itoa(f.Limit+1)
	msgs, err := s.queryMessages(ctx, q, args...)
	if err != nil {
		return nil, false, err
	}
	more := len(msgs) > f.Limit
	if more {
		msgs = msgs[:f.Limit]
	}
	if !asc {
		for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
			msgs[i], msgs[j] = msgs[j], msgs[i]
		}
	}
	if err := s.decorate(ctx, a, msgs); err != nil {
		return nil, false, err
	}
	return msgs, more, nil
}

func (s *Service) queryMessages(ctx context.Context, q string, args ...any) ([]Message, error) {
	rows, err := s.d.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		if err := scanMessage(rows, &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// decorate adds reactions, the viewer's own reactions, and, for
// moderators, how many members have seen each moderator's post.
func (s *Service) decorate(ctx context.Context, a access, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := s.loadMentions(ctx, msgs); err != nil {
		return err
	}
	mod := a.canModerate()
	ids := make([]any, 0, len(msgs)+1)
	ids = append(ids, a.p.AccountID)
	idx := map[int64]*Message{}
	for i := range msgs {
		msgs[i].forViewer(mod)
		ids = append(ids, msgs[i].ID)
		idx[msgs[i].ID] = &msgs[i]
	}
	rows, err := s.d.Query(ctx, `SELECT message_id, emoji, COUNT(*), SUM(CASE WHEN account_id = ? THEN 1 ELSE 0 END) FROM group_reactions
		WHERE message_id IN (`+placeholders(len(msgs))+`) GROUP BY message_id, emoji ORDER BY message_id, emoji`, ids...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var mid int64
		var emoji string
		var n, mine int
		if err := rows.Scan(&mid, &emoji, &n, &mine); err != nil {
			rows.Close()
			return err
		}
		m := idx[mid]
		if m.Reactions == nil {
			m.Reactions = map[string]int{}
		}
		m.Reactions[emoji] = n
		if mine > 0 {
			m.MyReactions = append(m.MyReactions, emoji)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || !mod {
		return err
	}
	reads, err := s.readMarks(ctx, a.g.ID)
	if err != nil {
		return err
	}
	for i := range msgs {
		m := &msgs[i]
		if !m.AuthorRole.Moderates() {
			continue
		}
		n := 0
		for _, r := range reads {
			if r.lastRead >= m.ID && r.account != m.AuthorID {
				n++
			}
		}
		m.SeenBy = &n
	}
	return nil
}

type readMark struct{ account, lastRead int64 }

func (s *Service) readMarks(ctx context.Context, gid int64) ([]readMark, error) {
	rows, err := s.d.Query(ctx, "SELECT account_id, last_read_id FROM group_members WHERE group_id = ? AND state = 'active'", gid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []readMark
	for rows.Next() {
		var r readMark
		if err := rows.Scan(&r.account, &r.lastRead); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkRead records that p has read group id up to message upto; unread
// counts and "seen by" follow. p's other open pages learn it in realtime.
func (s *Service) MarkRead(ctx context.Context, p *account.Principal, id, upto int64) error {
	a, err := s.view(ctx, p, id)
	if err != nil {
		return err
	}
	if upto <= a.lastRead {
		return nil
	}
	upto = min(upto, a.g.LastMessageID)
	err = s.d.Write(ctx, func(tx *db.Tx) error {
		if err := ensureMember(ctx, tx, a, s.nowMs()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE group_members SET last_read_id = ? WHERE group_id = ? AND account_id = ? AND last_read_id < ?", upto, id, p.AccountID, upto)
		return err
	})
	if err == nil {
		s.publish(ctx, AccountTopic(p.AccountID), "read", map[string]any{"group_id": id, "last_read_id": upto})
		// Moderators' open pages raise "seen by" of their posts in (from, upto].
		s.publish(ctx, Topic(id)+":mod", "seen", map[string]any{"account_id": p.AccountID, "from": a.lastRead, "upto": upto})
	}
	return err
}

// Search finds messages whose text contains every word of q, ignoring
// diacritics, in group id (0: every group p belongs to), from the last
// year, newest first, at most limit (default 30).
func (s *Service) Search(ctx context.Context, p *account.Principal, id int64, q string, limit int) ([]Message, error) {
	if p == nil {
		return nil, apperr.ErrUnauthenticated
	}
	terms := vntext.SearchTerms(q)
	if len(terms) == 0 {
		return nil, apperr.InvalidField("q", "Vui lòng nhập từ cần tìm.", "Please enter words to search for.")
	}
	var gids []any
	if id != 0 {
		if _, err := s.view(ctx, p, id); err != nil {
			return nil, err
		}
		gids = []any{id}
	} else {
		mine, err := s.GroupIDs(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, g := range mine {
			gids = append(gids, g)
		}
	}
	if len(gids) == 0 {
		return nil, nil
	}
	if limit <= 0 || limit > MaxPageSize {
		limit = 30
	}
	since := s.nowMs() - 365*24*3600*1000
	sqlq := "SELECT " + msgCols + msgFrom + " WHERE gm.group_id IN (" + placeholders(len(gids)) + ") AND gm.created_at >= ? AND gm.hidden_at = 0 AND gm.deleted_at = 0"
	args := append(gids, since)
	for _, t := range terms {
		sqlq += " AND gm.body_fold LIKE ?"
		args = append(args, "%"+t+"%")
	}
	sqlq += " ORDER BY gm.id DESC LIMIT " + strconv.Itoa(limit)
	return s.queryMessages(ctx, sqlq, args...)
}
