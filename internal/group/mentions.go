package group

import (
	"cmp"
	"context"
	"slices"

	"github.com/trothu/trothu/internal/account"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trothu/trothu/internal/vntext"
)

// Mention is an account a message names with "@Name".
type Mention struct {
	AccountID int64  `json:"account_id"`
	Name      string `json:"name"`
}

// maxMentionWords bounds how many words after "@" may form a name.
const maxMentionWords = 6

// nameKeys returns the folded keys a member may be mentioned by: the full
// name and each shorter tail of it ("Nguyễn Thị Lan", "Thị Lan", "Lan"),
// since people write the given name.
func nameKeys(name string) (full string, tails []string) {
	words := strings.Fields(vntext.Fold(name))
	for i := 1; i < len(words); i++ {
		tails = append(tails, strings.Join(words[i:], " "))
	}
	return strings.Join(words, " "), tails
}

// mentionMatch finds, for the "@" at byte at of body, the longest run of up to
// maxMentionWords words after it whose folded form is accepted, and returns
// the key and the byte offset just past the name (trailing punctuation left
// out). A "@" inside a word (an e-mail address) or followed by a space is not a
// mention.
func mentionMatch(body string, at int, accept func(key string) bool) (key string, end int, ok bool) {
	if at > 0 {
		if r, _ := utf8.DecodeLastRuneInString(body[:at]); unicode.IsLetter(r) || unicode.IsDigit(r) {
			return "", 0, false
		}
	}
	var ends []int // byte end of each word, punctuation trimmed
	i := at + 1
	for len(ends) < maxMentionWords && i < len(body) {
		r, size := utf8.DecodeRuneInString(body[i:])
		if unicode.IsSpace(r) {
			if len(ends) == 0 || r == '\n' {
				break
			}
			i += size
			continue
		}
		start := i
		for i < len(body) {
			r, size = utf8.DecodeRuneInString(body[i:])
			if unicode.IsSpace(r) {
				break
			}
			i += size
		}
		e := start + len(strings.TrimRightFunc(body[start:i], func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
		if e == start {
			break
		}
		ends = append(ends, e)
		if e < i {
			break // punctuation ends the name
		}
	}
	for n := len(ends); n > 0; n-- {
		k := vntext.Fold(body[at+1 : ends[n-1]])
		if accept(k) {
			return k, ends[n-1], true
		}
	}
	return "", 0, false
}

// resolveMentions returns the active members of group gid that body names
// with "@": by full name, or by the tail of a name when it names one member
// only. Matching ignores case and diacritics.
func (s *Service) resolveMentions(ctx context.Context, gid int64, body string) ([]int64, error) {
	if !strings.Contains(body, "@") {
		return nil, nil
	}
	members, err := s.activeNames(ctx, gid)
	if err != nil {
		return nil, err
	}
	full, tail := map[string][]int64{}, map[string][]int64{}
	for _, m := range members {
		f, ts := nameKeys(m.Name)
		full[f] = append(full[f], m.AccountID)
		for _, t := range ts {
			tail[t] = append(tail[t], m.AccountID)
		}
	}
	accept := func(k string) bool { return len(full[k]) > 0 || len(tail[k]) == 1 }
	var out []int64
	seen := map[int64]bool{}
	for at := strings.IndexByte(body, '@'); at >= 0; {
		k, end, ok := mentionMatch(body, at, accept)
		next := at + 1
		if ok {
			ids := full[k]
			if len(ids) == 0 {
				ids = tail[k]
			}
			for _, id := range ids {
				if !seen[id] {
					seen[id] = true
					out = append(out, id)
				}
			}
			next = end
		}
		i := strings.IndexByte(body[next:], '@')
		if i < 0 {
			break
		}
		at = next + i
	}
	return out, nil
}

// activeNames returns the account ids and names of group gid's active
// members (at most 5,000), the names mentions are matched against.
func (s *Service) activeNames(ctx context.Context, gid int64) ([]Mention, error) {
	rows, err := s.d.Query(ctx, `SELECT m.account_id, a.name FROM group_members m JOIN accounts a ON a.id = m.account_id
		WHERE m.group_id = ? AND m.state = 'active' LIMIT 5000`, gid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Mention
	for rows.Next() {
		var m Mention
		if err := rows.Scan(&m.AccountID, &m.Name); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MentionSpans returns the byte ranges of body, "@" included, that name one
// of mentions, for highlighting.
func MentionSpans(body string, mentions []Mention) [][2]int {
	if len(mentions) == 0 {
		return nil
	}
	keys := map[string]bool{}
	for _, m := range mentions {
		f, ts := nameKeys(m.Name)
		keys[f] = true
		for _, t := range ts {
			keys[t] = true
		}
	}
	var out [][2]int
	for at := 0; at < len(body); at++ {
		if body[at] != '@' {
			continue
		}
		if _, end, ok := mentionMatch(body, at, func(k string) bool { return keys[k] }); ok {
			out = append(out, [2]int{at, end})
			at = end - 1
		}
	}
	return out
}

// loadMentions fills the Mentions of msgs.
func (s *Service) loadMentions(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	ids := make([]any, len(msgs))
	idx := map[int64]*Message{}
	for i := range msgs {
		ids[i] = msgs[i].ID
		idx[msgs[i].ID] = &msgs[i]
	}
	rows, err := s.d.Query(ctx, `SELECT gm.message_id, gm.account_id, a.name FROM group_mentions gm JOIN accounts a ON a.id = gm.account_id
		WHERE gm.message_id IN (`+placeholders(len(ids))+`) ORDER BY gm.message_id, gm.account_id`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var mid int64
		var m Mention
		if err := rows.Scan(&mid, &m.AccountID, &m.Name); err != nil {
			return err
		}
		idx[mid].Mentions = append(idx[mid].Mentions, m)
	}
	return rows.Err()
}

// maxSuggestions bounds MentionSuggestions.
const maxSuggestions = 8

// MentionSuggestions returns up to 8 active members of group id whose name
// has a word starting with q (folded: "lan" finds "Lân", "ng" finds
// "Nguyễn"), p excluded, names starting with q first, for the composer's
// "@" completion. Only names go out: no phone numbers.
func (s *Service) MentionSuggestions(ctx context.Context, p *account.Principal, id int64, q string) ([]Mention, error) {
	if _, err := s.view(ctx, p, id); err != nil {
		return nil, err
	}
	words := strings.Fields(vntext.Fold(q))
	if len(words) == 0 || utf8.RuneCountInString(q) > 60 {
		return []Mention{}, nil
	}
	members, err := s.activeNames(ctx, id)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(members, func(a, b Mention) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.AccountID, b.AccountID))
	})
	var first, other []Mention
	for _, m := range members {
		if m.AccountID == p.AccountID {
			continue
		}
		if at, ok := wordsMatch(strings.Fields(vntext.Fold(m.Name)), words); ok {
			if at == 0 {
				first = append(first, m)
			} else {
				other = append(other, m)
			}
		}
	}
	out := append(first, other...)
	if len(out) > maxSuggestions {
		out = out[:maxSuggestions]
	}
	if out == nil {
		out = []Mention{}
	}
	return out, nil
}

// wordsMatch reports whether the query words match consecutive name words
// (all but the last in full, the last as a prefix), and at which name word.
func wordsMatch(name, q []string) (int, bool) {
	for at := 0; at+len(q) <= len(name); at++ {
		ok := true
		for i, w := range q {
			if i == len(q)-1 {
				ok = strings.HasPrefix(name[at+i], w)
			} else {
				ok = name[at+i] == w
			}
			if !ok {
				break
			}
		}
		if ok {
			return at, true
		}
	}
	return 0, false
}
