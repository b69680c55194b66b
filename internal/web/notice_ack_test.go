package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/demo"
)

// TestNoticeAckSessions: POST /api/v1/notices/{id}/ack reads its session
// inside the acknowledgements' own batch on SQLite (notice.AckToken), and
// authenticates first on PostgreSQL. Either way, members acknowledging at
// once with bearer tokens and with cookies are each answered for their
// own household, each household is acknowledged once by one of its own
// members, and a session that does not authenticate is refused as every
// other API path refuses it and records nothing.
func TestNoticeAckSessions(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.principal(t, phoneAdmin)
		ward := e.unitByCode(t, area.LevelCommune, demo.WardCode)
		to := e.newLocalUnit(t, admin, e.child(t, ward.ID, "Khu phố 1").ID)

		// Ten households of one member each, and one of two members.
		type member struct {
			token, phone string
			account      int64
			household    int64
			cookie       bool
		}
		var members []member
		newMember := func(hh int64) member {
			rid := e.newResident(t, admin, hh)
			phone := e.freshPhone()
			a, err := e.accounts.CreateAccountSystem(ctx, account.AccountInput{Phone: phone, Name: fmt.Sprintf("Thành viên %d", e.next()), ResidentID: rid})
			if err != nil {
				t.Fatal(err)
			}
			return member{token: e.signIn(t, phone), phone: phone, account: a.ID, household: hh, cookie: len(members)%2 == 1}
		}
		for range 10 {
			members = append(members, newMember(e.newHousehold(t, admin, to)))
		}
		members = append(members, newMember(members[0].household))
		id := e.newNotice(t, to, map[string]any{"ack_required": true})
		path := fmt.Sprintf("/notices/%d/ack", id)

		type answer struct {
			status int
			body   jv
			cookie *http.Cookie
		}
		ack := func(tok string, cookie bool, p string) answer {
			if !cookie {
				r := e.call(t, "POST", p, tok, nil, "", "")
				return answer{status: r.status, body: r.json}
			}
			req, err := http.NewRequest("POST", e.URL+"/api/v1"+p, nil)
			if err != nil {
				t.Error(err)
				return answer{}
			}
			req.AddCookie(&http.Cookie{Name: "trothu_session", Value: tok})
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return answer{}
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			out := answer{status: res.StatusCode}
			if len(raw) > 0 {
				var v any
				if err := json.Unmarshal(raw, &v); err != nil {
					t.Errorf("%s: not JSON: %s", p, raw)
				}
				out.body = jv{v}
			}
			for _, c := range res.Cookies() {
				if c.Name == "trothu_session" {
					out.cookie = c
				}
			}
			return out
		}

		answers := make([]answer, len(members))
		var wg sync.WaitGroup
		for i, m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = ack(m.token, m.cookie, path)
			}()
		}
		wg.Wait()
		byAccount := map[int64]member{}
		for _, m := range members {
			byAccount[m.account] = m
		}
		for i, a := range answers {
			m := members[i]
			by := byAccount[a.body.num("acked_by")]
			if a.status != http.StatusOK || a.body.num("household_id") != m.household || by.household != m.household || a.body.str("acked_at") == "" {
				t.Errorf("member %d (cookie %v): got %d %v, want 200 with their household %d acknowledged by one of its members", i, m.cookie, a.status, a.body.v, m.household)
			}
		}
		if a, b := answers[0].body.num("acked_by"), answers[len(answers)-1].body.num("acked_by"); a != b {
			t.Errorf("two members of one household: acknowledged by %d and by %d, want the first one's for both", a, b)
		}
		var acked, byMember int
		if err := e.db.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN r.household_id = d.household_id THEN 1 ELSE 0 END), 0)
			FROM notice_deliveries d JOIN accounts a ON a.id = d.acked_by JOIN residents r ON r.id = a.resident_id
			WHERE d.notice_id = ?`, id).Scan(&acked, &byMember); err != nil {
			t.Fatal(err)
		}
		if acked != 10 || byMember != 10 {
			t.Errorf("acknowledged: got %d households (%d by a member), want all 10 by a member", acked, byMember)
		}

		// Sessions that do not authenticate: nothing is recorded.
		id2 := e.newNotice(t, to, map[string]any{"ack_required": true})
		path2 := fmt.Sprintf("/notices/%d/ack", id2)
		signedOut, disabled := members[1], members[2]
		e.must(t, http.StatusNoContent, "POST", "/auth/signout", signedOut.token, nil)
		if err := e.db.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE accounts SET disabled = 1 WHERE id = ?", disabled.account)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		forged := members[3].token[:40] + "abc"
		for name, tok := range map[string]string{"signed out": signedOut.token, "disabled": disabled.token, "forged": forged, "short": "abc"} {
			for _, cookie := range []bool{false, true} {
				a := ack(tok, cookie, path2)
				if a.status != http.StatusUnauthorized || a.body.str("error.code") != "unauthenticated" {
					t.Errorf("%s session (cookie %v): got %d %v, want 401 unauthenticated", name, cookie, a.status, a.body.v)
				}
				if cookie && (a.cookie == nil || a.cookie.MaxAge >= 0) {
					t.Errorf("%s session cookie: got %v, want it cleared", name, a.cookie)
				}
			}
		}
		// A bad token is refused before a bad id; a good one gets 404.
		if a := ack(forged, false, "/notices/abc/ack"); a.status != http.StatusUnauthorized {
			t.Errorf("forged token, bad id: got %d, want 401", a.status)
		}
		if a := ack(members[3].token, false, "/notices/abc/ack"); a.status != http.StatusNotFound {
			t.Errorf("good token, bad id: got %d, want 404", a.status)
		}
		// Signed in, but the notice did not reach the household, or the
		// account has none: 404.
		for _, tok := range []string{e.token(t, phoneResident2), e.token(t, phoneOfficial)} {
			if a := ack(tok, false, path2); a.status != http.StatusNotFound {
				t.Errorf("no delivery for the account's household: got %d %v, want 404", a.status, a.body.v)
			}
		}
		var n int
		if err := e.db.QueryRow(ctx, "SELECT COUNT(*) FROM notice_deliveries WHERE notice_id = ? AND acked_at IS NOT NULL", id2).Scan(&n); err != nil || n != 0 {
			t.Errorf("after refused acknowledgements: %d acknowledged (%v), want 0", n, err)
		}
		// A member still signed in, but not seen for two minutes (due for
		// the last-seen write, which PostgreSQL's join leaves to the long
		// way), acknowledges the second notice and is recorded as seen; again
		// is no error and changes nothing.
		lastSeen := func() (v int64) {
			t.Helper()
			if err := e.db.QueryRow(ctx, "SELECT s.last_seen_at FROM sessions s WHERE s.account_id = ?", members[3].account).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		if err := e.db.Write(ctx, func(tx *db.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE sessions SET last_seen_at = last_seen_at - 120000 WHERE account_id = ?", members[3].account)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		aged := lastSeen()
		first := ack(members[3].token, true, path2)
		if got := lastSeen(); got <= aged+60000 {
			t.Errorf("stale session's last seen: %d after the acknowledgement, want it written (was %d)", got, aged)
		}
		again := ack(members[3].token, false, path2)
		if first.status != http.StatusOK || again.status != http.StatusOK || first.body.str("acked_at") == "" ||
			first.body.str("acked_at") != again.body.str("acked_at") || again.body.num("acked_by") != members[3].account {
			t.Errorf("acknowledge then again: got %d %v and %d %v, want the same acknowledgement twice", first.status, first.body.v, again.status, again.body.v)
		}
	})
}
