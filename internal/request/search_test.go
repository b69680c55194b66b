package request_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/trothu/trothu/internal/account"
	"github.com/trothu/trothu/internal/apperr"
	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/db/dbtest"
	"github.com/trothu/trothu/internal/request"
	"github.com/trothu/trothu/internal/vntext"
)

// row is what the brute-force search reads of a request.
type row struct {
	id, created     int64
	text, path, esc string
	public          bool
}

func allRows(t *testing.T, d *db.DB) []row {
	t.Helper()
	rows, err := d.Query(context.Background(), `SELECT r.id, r.created_at, r.description, r.address, t.name, r.unit_path, COALESCE(r.escalated_path, ''), r.public
		FROM requests r JOIN request_types t ON t.id = r.type_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		var desc, addr, typ string
		var pub int
		if err := rows.Scan(&r.id, &r.created, &desc, &addr, &typ, &r.path, &r.esc, &pub); err != nil {
			t.Fatal(err)
		}
		r.text, r.public = desc+" "+addr+" "+typ, pub == 1
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// bruteMatch is the search's contract, written plainly: every query word
// but the last is a whole word of the folded text, the last starts one.
func bruteMatch(text, query string) bool {
	words := strings.FieldsFunc(vntext.Fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	terms := vntext.SearchTerms(query)
	for i, q := range terms {
		last := i == len(terms)-1
		if !slices.ContainsFunc(words, func(w string) bool { return w == q || last && strings.HasPrefix(w, q) }) {
			return false
		}
	}
	return true
}

// bruteSearch returns the ids a search must find, newest first (by
// creation time, or by id when byID): matching, in the last 90 days before
// now, inside one of paths (or escalated into it; any path when paths is
// nil), public only if asked.
func bruteSearch(rs []row, query string, now time.Time, paths []string, publicOnly, byID bool) []int64 {
	since := db.Millis(now.Add(-90 * 24 * time.Hour))
	var hit []row
	for _, r := range rs {
		in := paths == nil
		for _, p := range paths {
			in = in || strings.HasPrefix(r.path, p) || !publicOnly && r.esc != "" && strings.HasPrefix(r.esc, p)
		}
		if in && r.created >= since && (!publicOnly || r.public) && bruteMatch(r.text, query) {
			hit = append(hit, r)
		}
	}
	slices.SortFunc(hit, func(a, b row) int {
		if a.created != b.created && !byID {
			return int(b.created - a.created)
		}
		return int(b.id - a.id)
	})
	ids := []int64{}
	for _, r := range hit {
		ids = append(ids, r.id)
	}
	return ids
}

// pages lists every page of a search, 16 at a time, following the cursor,
// and whether the pages are in id order (a search through SQLite's text
// index: by filing, not by creation time), which must be the same for all.
func pages(t *testing.T, list func(request.Filter) (request.Page, error), query string) ([]int64, bool) {
	t.Helper()
	ids := []int64{}
	var byID bool
	for next, n := "", 0; ; n++ {
		p, err := list(request.Filter{Query: query, Limit: 16, After: next})
		if err != nil {
			t.Fatalf("search %q: %v", query, err)
		}
		if n == 0 {
			byID = request.ByID(p)
		} else if request.ByID(p) != byID {
			t.Errorf("search %q: page %d in id order %v, the first %v", query, n, request.ByID(p), byID)
		}
		for _, r := range p.Items {
			ids = append(ids, r.ID)
		}
		if next = p.Next; next == "" || n > 5000 {
			return ids, byID
		}
	}
}

var searchVocab = []string{"Nguyễn", "Văn", "Học", "Đồng", "thuỷ", "thủy", "Hoàng", "Hoà", "hòa", "bình", "ngập", "nước", "rác", "karaoke",
	"đèn", "đường", "Khánh", "cống", "Lê", "Lợi", "hẻm", "42", "ồn", "Nguyên", "nguy", "hiểm", "ĐỒNG", "Đông"}

var searchQueries = []string{"nguyen van hoc", "Nguyễn", "ngu", "NGUY", "dong", "đồng", "thuy", "thủy hoa", "hoa binh", "hoa", "khanh",
	"khánh", "den duong", "42", "4", "le loi", "le", "ngap nuoc ra", "xyz", "rac ngap nuoc hem", "tieng on", "tiếng", "d", "n"}

// fillRequests files n requests with random words over 200 days before
// now, at units, on behalf of an official; some are then backdated.
func fillRequests(t *testing.T, f *fx, n int, units []area.Unit, now time.Time) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, uint64(n)))
	types := []string{"tieng_on", "gop_y_khac", "hanh_chinh_cong", "ve_sinh_moi_truong"}
	start := now.Add(-200 * 24 * time.Hour)
	for i := range n {
		f.clk.Set(start.Add(time.Duration(i) * 200 * 24 * time.Hour / time.Duration(n)))
		var words []string
		for range 3 + rng.IntN(5) {
			words = append(words, searchVocab[rng.IntN(len(searchVocab))])
		}
		pub := rng.IntN(4) != 0
		r, err := f.svc.Submit(ctx, f.official, request.Input{TypeCode: types[rng.IntN(len(types))], Description: strings.Join(words, " ") + ", đề nghị xử lý.",
			Address: fmt.Sprintf("%d %s", 1+rng.IntN(99), searchVocab[rng.IntN(len(searchVocab))]), UnitID: units[rng.IntN(len(units))].ID,
			OnBehalf: true, ReporterName: "Bà Tư", Public: &pub})
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
		if rng.IntN(10) == 0 {
			if err := f.svc.Backdate(ctx, r.ID, time.Duration(rng.IntN(120))*24*time.Hour); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.clk.Set(now)
}

// TestSearchAgreesWithBruteForce checks every search, paged, through the
// index and through the scan, against a plain scan in Go, for officials
// at three levels and for the public list.
func TestSearchAgreesWithBruteForce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		root := &account.Principal{Grants: []account.Grant{{Role: account.RoleAdmin, UnitPath: "/900001/"}}}
		kp2, err := f.areas.CreateUnit(ctx, root, f.ward.ID, area.UnitInput{Name: "Khu phố 2"})
		if err != nil {
			t.Fatal(err)
		}
		to2, err := f.areas.CreateUnit(ctx, root, f.kp1.ID, area.UnitInput{Name: "Tổ 2"})
		if err != nil {
			t.Fatal(err)
		}
		provOfficial := &account.Principal{Name: "Tỉnh", Grants: []account.Grant{{Role: account.RoleOfficial, UnitPath: f.province.Path}}}
		now := f.clk.Now()
		fillRequests(t, f, 240, []area.Unit{f.ward, f.kp1, f.to1, to2, kp2}, now)
		rs := allRows(t, d)
		textIndexed := 0 // searches answered through SQLite's text index
		for _, c := range []struct {
			plan        string
			words, walk int
		}{{"", 16, 4000}, {"index", 16, 4000}, {"scan", 16, 4000}, {"", 1, 4000}, {"index", 1, 4000}, {"index", 16, 5}, {"", 16, 5}, {"index", 16, 40}} {
			plan := fmt.Sprintf("%s/%d/%d", c.plan, c.words, c.walk)
			restore := request.ForcePlan(c.plan, c.words, c.walk)
			for _, who := range []struct {
				name string
				p    *account.Principal
				path string
			}{{"province official", provOfficial, f.province.Path}, {"ward official", f.official, f.ward.Path}, {"neighbourhood head", f.nbHead, f.kp1.Path}, {"group head", f.groupHead, f.to1.Path}} {
				for _, q := range searchQueries {
					got, byID := pages(t, func(fl request.Filter) (request.Page, error) { return f.svc.Queue(ctx, who.p, fl) }, q)
					if byID {
						textIndexed++
					}
					if want := bruteSearch(rs, q, now, []string{who.path}, false, byID); !slices.Equal(got, want) {
						t.Errorf("plan %s, %s, %q: got %v, want %v", plan, who.name, q, got, want)
					}
				}
			}
			for _, q := range searchQueries {
				got, byID := pages(t, func(fl request.Filter) (request.Page, error) {
					fl.UnitID = f.ward.ID
					return f.svc.Public(ctx, nil, fl)
				}, q)
				if want := bruteSearch(rs, q, now, []string{f.ward.Path}, true, byID); !slices.Equal(got, want) {
					t.Errorf("plan %s, public, %q: got %v, want %v", plan, q, got, want)
				}
			}
			restore()
		}
		// On SQLite the index plan is its text index, on PostgreSQL the
		// postings: every forced index search with an indexed word.
		if d.Dialect == db.Postgres && textIndexed != 0 || d.Dialect == db.SQLite && textIndexed < 200 {
			t.Errorf("%s: %d searches through the text index", d.Dialect, textIndexed)
		}
		// The test means something: most queries find some, some none.
		if n := len(bruteSearch(rs, "nguyen", now, nil, false, false)); n < 20 {
			t.Errorf("vocabulary too thin: %d requests with nguyen", n)
		}
	})
}

// TestSearchFolding: diacritics, tone placement, đ and case fold; the last
// word matches a word's start, the others whole words only.
func TestSearchFolding(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		file := func(desc string) int64 {
			r, err := f.svc.Submit(ctx, f.official, request.Input{TypeCode: "gop_y_khac", Description: desc, UnitID: f.to1.ID, OnBehalf: true, ReporterName: "Ông Ba"})
			if err != nil {
				t.Fatal(err)
			}
			f.clk.Set(f.clk.Now().Add(time.Minute))
			return r.ID
		}
		hoc := file("Ông Nguyễn Văn Học phản ánh hẻm tối.")
		dong := file("Cống ở chợ Đồng Xoài bị nghẹt.")
		thuy := file("Nhà bà Thuỷ bị ngập khi mưa.")
		hoang := file("Anh Hoàng báo karaoke ồn ào.")
		for _, c := range []struct {
			q    string
			want []int64
		}{
			{"nguyen van hoc", []int64{hoc}},
			{"NGUYỄN VĂN HỌC", []int64{hoc}},
			{"ngu", []int64{hoc}},
			{"dong", []int64{dong}},
			{"đồng xoai", []int64{dong}},
			{"thủy", []int64{thuy}},
			{"thuỷ", []int64{thuy}},
			{"hoa", []int64{hoang}},           // prefix of Hoàng
			{"hoa karaoke", []int64{}},        // not last: a whole word
			{"karaoke hoang", []int64{hoang}}, // order does not matter
			{"van hoc nguyen", []int64{hoc}},
			{"ao", []int64{hoang}},
			{"oan", []int64{}}, // inside a word: no
			{"gop y", []int64{hoang, thuy, dong, hoc}},
			{"kien nghi", []int64{hoang, thuy, dong, hoc}}, // the type's name: Góp ý – kiến nghị khác
		} {
			p, err := f.svc.Queue(ctx, f.official, request.Filter{Query: c.q})
			if err != nil {
				t.Fatalf("%q: %v", c.q, err)
			}
			got := []int64{}
			for _, r := range p.Items {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%q: got %v, want %v", c.q, got, c.want)
			}
		}
	})
}

// checkIndex compares the index with the words of every request's
// current text, creation time and unit: the postings on PostgreSQL, the
// text index's documents on SQLite (checkDocs).
func checkIndex(t *testing.T, d *db.DB) {
	t.Helper()
	if d.Dialect == db.SQLite {
		checkDocs(t, d)
		return
	}
	want := map[string]bool{}
	for _, r := range allRows(t, d) {
		for _, w := range postedWords(r.text) {
			want[fmt.Sprintf("%s|%d|%d|%s", w, r.created, r.id, r.path)] = true
		}
	}
	rows, err := d.Query(context.Background(), "SELECT term, created_at, request_id, unit_path FROM request_terms")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var term, path string
		var created, id int64
		if err := rows.Scan(&term, &created, &id, &path); err != nil {
			t.Fatal(err)
		}
		got[fmt.Sprintf("%s|%d|%d|%s", term, created, id, path)] = true
	}
	compareSets(t, "posting", want, got)
}

// postedWords returns the folded words of text that are indexed.
func postedWords(text string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(vntext.Fold(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if !request.IsCommonWord(w) {
			out = append(out, w)
		}
	}
	return out
}

func compareSets(t *testing.T, what string, want, got map[string]bool) {
	t.Helper()
	for k := range want {
		if !got[k] {
			t.Errorf("%s %s missing", what, k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s %s stale", what, k)
		}
	}
}

// checkDocs checks SQLite's text index: every word of the vocabulary and
// of the requests, and every unit of their paths, matches exactly the
// requests that hold it; every request has a document; the vocabulary
// holds every indexed word.
func checkDocs(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	want := map[string]bool{}
	tokens := map[string]bool{}
	rs := allRows(t, d)
	for _, r := range rs {
		for _, w := range postedWords(r.text) {
			want[fmt.Sprintf("%s|%d", w, r.id)] = true
			tokens[w] = true
		}
		for u := range strings.SplitSeq(strings.Trim(r.path, "/"), "/") {
			want[fmt.Sprintf("unit %s|%d", u, r.id)] = true
			tokens["unit "+u] = true
		}
	}
	vocab, err := db.Column[string](d.Query(ctx, "SELECT term FROM request_words"))
	if err != nil {
		t.Fatal(err)
	}
	inVocab := map[string]bool{}
	for _, w := range vocab {
		tokens[w], inVocab[w] = true, true
	}
	got := map[string]bool{}
	for tok := range tokens {
		match := `"` + tok + `"`
		if u, ok := strings.CutPrefix(tok, "unit "); ok {
			match = "\"\uE000" + u + "\""
		} else if !inVocab[tok] {
			t.Errorf("word %q missing from the vocabulary", tok)
		}
		ids, err := db.Column[int64](d.Query(ctx, "SELECT rowid FROM request_fts WHERE request_fts MATCH ?", match))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			got[fmt.Sprintf("%s|%d", tok, id)] = true
		}
	}
	compareSets(t, "index entry", want, got)
	if n := indexedCount(t, d); n != len(rs) {
		t.Errorf("documents: %d, want %d", n, len(rs))
	}
}

// indexedCount returns the number of requests the search index holds.
func indexedCount(t *testing.T, d *db.DB) int {
	t.Helper()
	q := "SELECT COUNT(DISTINCT request_id) FROM request_terms"
	if d.Dialect == db.SQLite {
		q = "SELECT COUNT(*) FROM request_fts"
	}
	return countRows(t, d, q)
}

// hasTerm reports whether the index holds word w for request id.
func hasTerm(t *testing.T, d *db.DB, id int64, w string) bool {
	t.Helper()
	if d.Dialect == db.SQLite {
		return countRows(t, d, "SELECT COUNT(*) FROM request_fts WHERE request_fts MATCH ? AND rowid = ?", `"`+w+`"`, id) > 0
	}
	return countRows(t, d, "SELECT COUNT(*) FROM request_terms WHERE request_id = ? AND term = ?", id, w) > 0
}

// TestSearchIndexFollowsChanges: re-routing (another unit and type),
// merging and backdating keep the index right; the backlog of requests
// stored before the index is indexed at start; permissions bound searches.
func TestSearchIndexFollowsChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		root := &account.Principal{Grants: []account.Grant{{Role: account.RoleAdmin, UnitPath: "/900001/"}}}
		kp2, err := f.areas.CreateUnit(ctx, root, f.ward.ID, area.UnitInput{Name: "Khu phố 2"})
		if err != nil {
			t.Fatal(err)
		}
		ids := func(p request.Page, err error) []int64 {
			t.Helper()
			return pageIDs(t, p, err)
		}
		priv := false
		a, err := f.svc.Submit(ctx, f.official, request.Input{TypeCode: "gop_y_khac", Description: "Cây đổ chắn hẻm Khánh Hội.", UnitID: f.to1.ID, OnBehalf: true, ReporterName: "Ông Ba"})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Set(f.clk.Now().Add(time.Minute))
		b, err := f.svc.Submit(ctx, f.official, request.Input{TypeCode: "gop_y_khac", Description: "Khánh Hội: cây đổ, chưa ai dọn.", UnitID: f.ward.ID, OnBehalf: true, ReporterName: "Bà Tư", Public: &priv})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Set(f.clk.Now().Add(time.Minute))
		if got := ids(f.svc.Queue(ctx, f.groupHead, request.Filter{Query: "khanh hoi"})); !slices.Equal(got, []int64{a.ID}) {
			t.Errorf("group head before re-routing: got %v, want [%d]", got, a.ID)
		}
		// Re-route a to Khu phố 2 as noise: its unit and type name change.
		if _, err := f.svc.Handle(ctx, f.official, a.ID, request.Change{Action: "reroute", UnitID: kp2.ID, TypeCode: "tieng_on", Body: "Thuộc khu phố 2."}); err != nil {
			t.Fatal(err)
		}
		checkIndex(t, d)
		if got := ids(f.svc.Queue(ctx, f.groupHead, request.Filter{Query: "khanh hoi"})); len(got) != 0 {
			t.Errorf("group head after re-routing away: got %v, want none", got)
		}
		if got := ids(f.svc.Queue(ctx, f.official, request.Filter{Query: "tieng on", UnitID: kp2.ID})); !slices.Equal(got, []int64{a.ID}) {
			t.Errorf("new type's name in the new unit: got %v, want [%d]", got, a.ID)
		}
		if got := ids(f.svc.Queue(ctx, f.official, request.Filter{Query: "kien nghi"})); !slices.Equal(got, []int64{b.ID}) {
			t.Errorf("old type's name: got %v, want [%d]", got, b.ID)
		}
		// Merge b into a: both stay findable, b as a duplicate.
		if _, err := f.svc.Handle(ctx, f.official, b.ID, request.Change{Action: "merge", MergeInto: a.ID}); err != nil {
			t.Fatal(err)
		}
		checkIndex(t, d)
		if got := ids(f.svc.Queue(ctx, f.official, request.Filter{Query: "khánh"})); !slices.Equal(got, []int64{b.ID, a.ID}) {
			t.Errorf("after merging: got %v, want [%d %d]", got, b.ID, a.ID)
		}
		// The public list shows the public one only; a resident has no queue.
		if got := ids(f.svc.Public(ctx, nil, request.Filter{Query: "khanh"})); !slices.Equal(got, []int64{a.ID}) {
			t.Errorf("public search: got %v, want [%d]", got, a.ID)
		}
		if _, err := f.svc.Queue(ctx, f.resident, request.Filter{Query: "khanh"}); code(err) != apperr.Forbidden {
			t.Errorf("resident search: got %v, want forbidden", err)
		}
		if _, err := f.svc.Queue(ctx, f.groupHead, request.Filter{Query: "khanh", UnitID: f.ward.ID}); code(err) != apperr.Forbidden {
			t.Errorf("group head over the ward: got %v, want forbidden", err)
		}
		// Backdated past 90 days: found only when asked for older ones.
		if err := f.svc.Backdate(ctx, a.ID, 100*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		checkIndex(t, d)
		if got := ids(f.svc.Queue(ctx, f.official, request.Filter{Query: "khanh"})); !slices.Equal(got, []int64{b.ID}) {
			t.Errorf("after backdating: got %v, want [%d]", got, b.ID)
		}
		if got := ids(f.svc.Queue(ctx, f.official, request.Filter{Query: "khanh", Since: f.clk.Now().Add(-200 * 24 * time.Hour)})); !slices.Equal(got, []int64{b.ID, a.ID}) {
			t.Errorf("backdated, since 200 days: got %v, want [%d %d]", got, b.ID, a.ID)
		}
		// Requests stored before the index: indexed at the next start.
		err = d.Write(ctx, func(tx *db.Tx) error {
			clear := "DELETE FROM request_terms"
			if d.Dialect == db.SQLite {
				clear = "INSERT INTO request_fts(request_fts) VALUES ('delete-all')"
			}
			if _, err := tx.Exec(ctx, clear); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE requests SET search_fold = 'cay do chan hem'"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO settings(key, value) VALUES ('request.terms_backfill', '0') ON CONFLICT (key) DO UPDATE SET value = '0'")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.IndexBacklog(ctx); err != nil {
			t.Fatal(err)
		}
		checkIndex(t, d)
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM requests WHERE search_fold = 'cay do chan hem'").Scan(&n); err != nil || n != 0 {
			t.Errorf("search_fold left stale on %d requests (%v), want none", n, err)
		}
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE key = 'request.terms_backfill'").Scan(&n); err != nil || n != 0 {
			t.Errorf("backfill mark: got %d %v, want cleared", n, err)
		}
		if got := ids(f.svc.Queue(ctx, f.official, request.Filter{Query: "khanh"})); !slices.Equal(got, []int64{b.ID}) {
			t.Errorf("after the backfill: got %v, want [%d]", got, b.ID)
		}
	})
}

// TestSearchFollowsTypeRename: a type's name is among the words its
// requests are found by; renaming the type re-indexes them through a
// durable job, and saving it unrenamed enqueues nothing.
func TestSearchFollowsTypeRename(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		find := func(q string) []int64 {
			t.Helper()
			p, err := f.svc.Queue(ctx, f.official, request.Filter{Query: q})
			return pageIDs(t, p, err)
		}
		var noise []int64
		for i, desc := range []string{"Hát karaoke tới khuya.", "Máy khoan cả ngày.", "Loa kẹo kéo ngoài hẻm."} {
			r, err := f.svc.Submit(ctx, f.official, request.Input{TypeCode: "tieng_on", Description: desc, UnitID: f.to1.ID, OnBehalf: true, ReporterName: "Ông Ba"})
			if err != nil {
				t.Fatal(err)
			}
			noise = append([]int64{r.ID}, noise...) // newest first
			f.clk.Set(f.clk.Now().Add(time.Duration(i+1) * time.Minute))
		}
		other, err := f.svc.Submit(ctx, f.official, request.Input{TypeCode: "gop_y_khac", Description: "Xin thêm thùng rác.", UnitID: f.to1.ID, OnBehalf: true, ReporterName: "Bà Tư"})
		if err != nil {
			t.Fatal(err)
		}
		typ, err := f.svc.TypeByCode(ctx, "tieng_on")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SaveType(ctx, f.admin, typ); err != nil { // unrenamed
			t.Fatal(err)
		}
		if n, err := f.q.RunDue(ctx); err != nil || n != 0 {
			t.Fatalf("after saving unrenamed: %d jobs ran (%v), want none", n, err)
		}
		typ.Name = "Tiếng ồn, rung chấn"
		if _, err := f.svc.SaveType(ctx, f.admin, typ); err != nil {
			t.Fatal(err)
		}
		if got := find("rung chan"); len(got) != 0 {
			t.Fatalf("before the job: %v, want none", got)
		}
		// Two requests a job: the first job, finding a full batch, enqueues
		// a second, which takes the third request and ends the chain.
		defer request.SetTypeReindexBatch(2)()
		for i, want := range []int{1, 1, 0} {
			if n, err := f.q.RunDue(ctx); err != nil || n != want {
				t.Fatalf("re-index, round %d: %d jobs ran (%v), want %d", i+1, n, err, want)
			}
		}
		if got := find("rung chan"); !slices.Equal(got, noise) {
			t.Errorf("new name: got %v, want %v", got, noise)
		}
		if got := find("kien nghi"); !slices.Equal(got, []int64{other.ID}) {
			t.Errorf("other type: got %v, want [%d]", got, other.ID)
		}
		checkIndex(t, d)
	})
}

// pageIDs returns the ids of a page's requests, in order, failing the
// test on err.
func pageIDs(t testing.TB, p request.Page, err error) []int64 {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	out := []int64{}
	for _, r := range p.Items {
		out = append(out, r.ID)
	}
	return out
}

// TestCommonWordsHaveNoPostings: a request's common words ("nhà số …
// đường", "đề nghị") get no postings, its other words do, and a search
// made of common words only still finds it, in a ward and in the province.
func TestCommonWordsHaveNoPostings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		r := fileIndexed(t, f, "Nhà số 5 đường Lê Lợi bị ngập, đề nghị xử lý.")
		for _, w := range []string{"5", "le", "loi", "ngap"} {
			if !hasTerm(t, d, r.ID, w) {
				t.Errorf("word %q missing from the index", w)
			}
		}
		for _, w := range []string{"nha", "so", "duong", "bi", "de", "nghi", "xu", "ly"} {
			if hasTerm(t, d, r.ID, w) {
				t.Errorf("common word %q is in the index", w)
			}
		}
		provOfficial := &account.Principal{Name: "Tỉnh", Grants: []account.Grant{{Role: account.RoleOfficial, UnitPath: f.province.Path}}}
		for _, q := range []string{"đường", "nha so", "de nghi xu l", "đường lê lợi", "so 5"} {
			for _, p := range []*account.Principal{f.official, provOfficial} {
				page, err := f.svc.Queue(ctx, p, request.Filter{Query: q})
				if got := pageIDs(t, page, err); !slices.Equal(got, []int64{r.ID}) {
					t.Errorf("%s searching %q: got %v, want [%d]", p.Name, q, got, r.ID)
				}
			}
		}
	})
}

// TestPurgeOfCommonPostings: postings an older version wrote for words
// that are now common are deleted by a chain of jobs, a batch each, and
// nothing else is; scheduling the purge again does nothing.
func TestPurgeOfCommonPostings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		r := fileIndexed(t, f, "Cống nghẹt trước nhà, nước tràn.")
		if d.Dialect == db.SQLite {
			// The text index never held common words: the purge is one
			// job that changes nothing.
			if err := f.svc.EnqueuePurge(ctx); err != nil {
				t.Fatal(err)
			}
			if n, err := f.q.RunDue(ctx); err != nil || n != 1 {
				t.Errorf("purge on SQLite: %d jobs ran (%v), want 1", n, err)
			}
			checkIndex(t, d)
			return
		}
		before := postingCount(t, d)
		// What an older version wrote: postings of common words (va, khong,
		// nha) for this request and for ids that never existed.
		stale := 0
		for i, w := range []string{"va", "khong", "nha"} {
			for k := range 3 {
				if err := d.Write(ctx, func(tx *db.Tx) error {
					_, err := tx.Exec(ctx, "INSERT INTO request_terms(term, created_at, request_id, unit_path) VALUES (?, ?, ?, ?)", w, int64(1000*i+k), r.ID+int64(k), f.ward.Path)
					return err
				}); err != nil {
					t.Fatal(err)
				}
				stale++
			}
		}
		if got := postingCount(t, d); got != before+stale {
			t.Fatalf("postings before the purge: %d, want %d", got, before+stale)
		}
		defer request.SetPurgeBatch(2)()
		if err := f.svc.EnqueuePurge(ctx); err != nil {
			t.Fatal(err)
		}
		// Nine postings, two a job: five jobs delete them and a sixth finds
		// the rest of the list empty.
		runs := 0
		for {
			n, err := f.q.RunDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			runs += n
		}
		if runs < 5 {
			t.Errorf("purge ran %d jobs, want at least 5 (two postings a job)", runs)
		}
		if got := postingCount(t, d); got != before {
			t.Errorf("postings after the purge: %d, want %d", got, before)
		}
		checkIndex(t, d)
		if err := f.svc.EnqueuePurge(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := f.q.RunDue(ctx); err != nil || n != 0 {
			t.Errorf("purge scheduled again: %d jobs ran (%v), want none", n, err)
		}
	})
}

func postingCount(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM request_terms").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fileIndexed files a request of description desc in the ward, on behalf
// of a walk-in, and indexes it (a search indexes the queue first).
func fileIndexed(t *testing.T, f *fx, desc string) request.Request {
	t.Helper()
	ctx := context.Background()
	r, err := f.svc.Submit(ctx, f.official, request.Input{TypeCode: "gop_y_khac", Description: desc, UnitID: f.ward.ID, OnBehalf: true, ReporterName: "Ông Ba"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Queue(ctx, f.official, request.Filter{Query: "zzz"}); err != nil {
		t.Fatal(err)
	}
	return r
}
