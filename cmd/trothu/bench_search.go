package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/trothu/trothu/internal/account"
	app_ "github.com/trothu/trothu/internal/app"
	"github.com/trothu/trothu/internal/db"
	"github.com/trothu/trothu/internal/geo"
	"github.com/trothu/trothu/internal/request"
	"github.com/trothu/trothu/internal/vntext"
)

// searchResult is the JSON line of `trothu bench search`.
type searchResult struct {
	Scenario     string  `json:"scenario"`
	Engine       string  `json:"engine"`
	Requests     int     `json:"requests"`
	Wards        int     `json:"wards"`
	Runs         int     `json:"runs"`
	BuildSeconds float64 `json:"build_seconds"`
	IndexSeconds float64 `json:"index_seconds"` // request.Service.Reindex over every request (part of build_seconds)
	// p95 in ms of each query, through request.Service (first page of 50).
	QueueWardP95              float64 `json:"queue_ward_p95_ms"`                // a ward official's queue, newest first
	QueueFilterP95            float64 `json:"queue_filter_p95_ms"`              // … open requests of one type
	QueueOverdueP95           float64 `json:"queue_overdue_p95_ms"`             // … overdue now
	QueueProvinceP95          float64 `json:"queue_province_p95_ms"`            // a province official's queue (all 1,000,000)
	SearchSelectiveP95        float64 `json:"search_selective_p95_ms"`          // a rare word, ward scope, last 90 days
	SearchCommonP95           float64 `json:"search_common_p95_ms"`             // a common word, ward scope
	SearchTwoWordsP95         float64 `json:"search_two_words_p95_ms"`          // two words, without diacritics
	SearchProvinceP95         float64 `json:"search_province_p95_ms"`           // a rare word over the province, last 90 days
	SearchWardPrefixP95       float64 `json:"search_ward_prefix_p95_ms"`        // the start of a common word, ward scope
	SearchProvinceCommonP95   float64 `json:"search_province_common_p95_ms"`    // a common word over the province
	SearchProvinceTwoWordsP95 float64 `json:"search_province_two_words_p95_ms"` // two common words over the province
	SearchProvincePrefixP95   float64 `json:"search_province_prefix_p95_ms"`    // the start of the rare word over the province
	SearchProvinceAbsentP95   float64 `json:"search_province_absent_p95_ms"`    // a word no request has
	SearchProvinceDisjointP95 float64 `json:"search_province_disjoint_p95_ms"`  // two common words never in one request (two street names)
	SearchCommonDisjointP95   float64 `json:"search_common_disjoint_p95_ms"`    // two words without postings never in one request, over the province
	SearchMaxP95              float64 `json:"search_max_p95_ms"`                // the slowest search above
	NearbyP95                 float64 `json:"nearby_p95_ms"`                    // similar open requests within 200 m of a point where four wards meet
	NearbyFound               int     `json:"nearby_found"`                     // … how many it finds
	FloorP95                  float64 `json:"floor_p95_ms"`                     // bare SELECT id … WHERE ward_id = ? ORDER BY created_at DESC LIMIT 50
	Ratio                     float64 `json:"ratio"`                            // search_selective ÷ floor
}

var (
	benchWords   = []string{"đèn đường", "rác thải", "ngập nước", "xây dựng", "lấn chiếm", "vỉa hè", "tiếng ồn", "karaoke", "cống", "ổ gà", "cây xanh", "xe máy", "hẻm", "chợ", "bãi giữ xe", "nước thải", "mùi hôi", "trật tự", "an ninh", "giấy phép"}
	benchStreets = []string{"Lê Lợi", "Nguyễn Huệ", "Lê Thánh Tôn", "Nguyễn Trãi", "Phạm Ngũ Lão", "Bùi Viện", "Đề Thám", "Cống Quỳnh", "Trần Hưng Đạo", "Hai Bà Trưng"}
)

// benchSearch runs `trothu bench search`: a synthetic province of wards
// (2 khu phố × 3 tổ each) with a year of requests, then the officials'
// queue and search through the request service, against a bare indexed
// SELECT of the same page in the same run.
func benchSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	total := fs.Int("requests", 1000000, "requests in the synthetic province")
	wards := fs.Int("wards", 100, "wards in the province")
	runs := fs.Int("runs", 200, "timed runs of each query")
	database := fs.String("database", "", "database URL (default: a fresh temporary SQLite file)")
	existing := fs.Bool("existing", false, "time the queries over the province an earlier run left in --database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "search: "+format+"\n", a...) }
	d, cleanup, err := benchDatabase(ctx, *database)
	if err != nil {
		return err
	}
	defer cleanup()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	services, err := app_.New(ctx, d, app_.Config{SecretKey: key, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	res := searchResult{Scenario: "search", Engine: string(d.Dialect), Requests: *total, Wards: *wards, Runs: *runs}
	start := time.Now()
	logf("building %d wards and %d requests on %s…", *wards, *total, d.Dialect)
	var prov string
	var wardPaths []string
	if *existing {
		if prov, wardPaths, err = existingProvince(ctx, d); err != nil {
			return err
		}
	} else {
		if prov, wardPaths, err = buildRequests(ctx, d, *wards, *total, logf); err != nil {
			return err
		}
		// The search index, as a deployment's start-up builds it for
		// requests stored before it existed.
		t0 := time.Now()
		if err := services.Requests.Reindex(ctx, 0, func(last int64) error {
			if last%200000 == 0 {
				logf("indexed %d requests", last)
			}
			return nil
		}); err != nil {
			return err
		}
		res.IndexSeconds = time.Since(t0).Seconds()
		logf("indexed in %.1f s", res.IndexSeconds)
		if err := d.Analyze(ctx, ""); err != nil {
			return err
		}
	}
	res.BuildSeconds = time.Since(start).Seconds()
	logf("built in %.1f s", res.BuildSeconds)

	services.Requests.SetLocator(squareWards{*wards})
	var nearbyType string
	if err := d.QueryRow(ctx, "SELECT code FROM request_types ORDER BY id LIMIT 1").Scan(&nearbyType); err != nil {
		return err
	}
	ward := wardPaths[len(wardPaths)/2]
	official := &account.Principal{AccountID: 0, Name: "Bench", Lang: "vi", Grants: []account.Grant{{Role: account.RoleOfficial, UnitPath: ward}}}
	provOfficial := &account.Principal{AccountID: 0, Name: "Bench", Lang: "vi", Grants: []account.Grant{{Role: account.RoleOfficial, UnitPath: prov}}}
	svc := services.Requests
	time1 := func(name string, fn func() error) (float64, error) {
		var ds []time.Duration
		for i := 0; i < *runs+5; i++ {
			t0 := time.Now()
			if err := fn(); err != nil {
				return 0, fmt.Errorf("%s: %w", name, err)
			}
			if i >= 5 { // warm-up
				ds = append(ds, time.Since(t0))
			}
		}
		slices.Sort(ds)
		p := pctMs(ds, 0.95)
		logf("%-28s p50 %6.2f ms  p95 %6.2f ms", name, pctMs(ds, 0.5), p)
		return p, nil
	}
	q := func(p *account.Principal, f request.Filter) func() error {
		return func() error {
			pg, err := svc.Queue(ctx, p, f)
			if err == nil && len(pg.Items) == 0 && f.Query == "" {
				err = fmt.Errorf("empty page")
			}
			return err
		}
	}
	wardID := wardIDOf(ward)
	var steps = []struct {
		name string
		dst  *float64
		fn   func() error
	}{
		{"floor (bare indexed page)", &res.FloorP95, func() error {
			rows, err := d.Query(ctx, "SELECT id FROM requests WHERE ward_id = ? ORDER BY created_at DESC LIMIT 50", wardID)
			if err != nil {
				return err
			}
			for rows.Next() {
			}
			return rows.Close()
		}},
		{"queue, ward", &res.QueueWardP95, q(official, request.Filter{})},
		{"queue, ward, open + type", &res.QueueFilterP95, q(official, request.Filter{TypeCode: "ha_tang", Statuses: request.OpenStatuses})},
		{"queue, ward, overdue", &res.QueueOverdueP95, q(official, request.Filter{Overdue: true})},
		{"queue, province", &res.QueueProvinceP95, q(provOfficial, request.Filter{})},
		{"search, ward, rare word", &res.SearchSelectiveP95, q(official, request.Filter{Query: "Khánh"})},
		{"search, ward, common word", &res.SearchCommonP95, q(official, request.Filter{Query: "đèn"})},
		{"search, ward, two words", &res.SearchTwoWordsP95, q(official, request.Filter{Query: "nuoc thai le loi"})},
		{"search, province, rare word", &res.SearchProvinceP95, q(provOfficial, request.Filter{Query: "Khánh"})},
		{"search, ward, prefix", &res.SearchWardPrefixP95, q(official, request.Filter{Query: "ngu"})},
		{"search, province, common word", &res.SearchProvinceCommonP95, q(provOfficial, request.Filter{Query: "đèn"})},
		{"search, province, two words", &res.SearchProvinceTwoWordsP95, q(provOfficial, request.Filter{Query: "nuoc thai le loi"})},
		{"search, province, prefix", &res.SearchProvincePrefixP95, q(provOfficial, request.Filter{Query: "khan"})},
		{"search, province, absent", &res.SearchProvinceAbsentP95, q(provOfficial, request.Filter{Query: "zzz"})},
		{"search, province, disjoint", &res.SearchProvinceDisjointP95, q(provOfficial, request.Filter{Query: "loi hue"})},
		// "thánh" and "bà" (thanh, ba) are common words (request/common.go)
		// of two streets, so no bench request holds both: every page
		// reads the scope in order up to its bound and stops short.
		{"search, province, common, disjoint", &res.SearchCommonDisjointP95, q(provOfficial, request.Filter{Query: "thánh bà"})},
		// What a resident is shown before filing: open requests of the
		// type within 200 m, over the last 30 days — here at the corner
		// of four wards, so four wards' recent requests are read.
		{"nearby, four wards' corner", &res.NearbyP95, func() error {
			lat, lon := squareLat0+float64(*wards/20)*squareSide, squareLon0+5*squareSide
			items, err := svc.Nearby(ctx, nil, nearbyType, lat, lon)
			res.NearbyFound = len(items)
			return err
		}},
	}
	for _, st := range steps {
		if *st.dst, err = time1(st.name, st.fn); err != nil {
			return err
		}
	}
	for _, v := range []float64{res.SearchSelectiveP95, res.SearchCommonP95, res.SearchTwoWordsP95, res.SearchProvinceP95, res.SearchWardPrefixP95,
		res.SearchProvinceCommonP95, res.SearchProvinceTwoWordsP95, res.SearchProvincePrefixP95, res.SearchProvinceAbsentP95, res.SearchProvinceDisjointP95, res.SearchCommonDisjointP95} {
		res.SearchMaxP95 = max(res.SearchMaxP95, v)
	}
	if res.FloorP95 > 0 {
		res.Ratio = res.SearchSelectiveP95 / res.FloorP95
	}
	return printJSON(stdout, res)
}

// buildRequests makes a province of wards and spreads total requests over
// them and over the past year, set-based. One request in 2,000 mentions
// the rare name "Khánh".
func buildRequests(ctx context.Context, d *db.DB, wards, total int, logf func(string, ...any)) (string, []string, error) {
	rng := mrand.New(mrand.NewPCG(7, 2026))
	now := time.Now()
	var prov string
	var wardPaths, groupPaths []string
	var groupIDs []int64
	var wardIDs []int64
	err := d.Write(ctx, func(tx *db.Tx) error {
		ins := func(parent any, parentPath, level string, code any, name string) (int64, string, error) {
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO units(parent_id, path, level, code, name, full_name, kind, name_fold, created_at) VALUES (?, '', ?, ?, ?, ?, '', ?, ?) RETURNING id`,
				parent, level, code, name, name, vntext.Fold(name), db.Millis(now)).Scan(&id); err != nil {
				return 0, "", err
			}
			path := fmt.Sprintf("%s%d/", parentPath, id)
			_, err := tx.Exec(ctx, "UPDATE units SET path = ? WHERE id = ?", path, id)
			return id, path, err
		}
		cid, cpath, err := ins(nil, "/", "country", "VN", "Việt Nam")
		if err != nil {
			return err
		}
		pid, ppath, err := ins(cid, cpath, "province", "99", "Tỉnh Thử Nghiệm")
		if err != nil {
			return err
		}
		prov = ppath
		for w := range wards {
			wid, wpath, err := ins(pid, ppath, "commune", fmt.Sprintf("9%04d", w), fmt.Sprintf("Phường %d", w+1))
			if err != nil {
				return err
			}
			wardPaths, wardIDs = append(wardPaths, wpath), append(wardIDs, wid)
			for k := 1; k <= 2; k++ {
				kid, kpath, err := ins(wid, wpath, "neighbourhood", nil, fmt.Sprintf("Khu phố %d", k))
				if err != nil {
					return err
				}
				for g := 1; g <= 3; g++ {
					gid, gpath, err := ins(kid, kpath, "group", nil, fmt.Sprintf("Tổ %d", g))
					if err != nil {
						return err
					}
					groupIDs, groupPaths = append(groupIDs, gid), append(groupPaths, gpath)
				}
			}
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	var typeIDs []int64
	rows, err := d.Query(ctx, "SELECT id FROM request_types ORDER BY id")
	if err != nil {
		return "", nil, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return "", nil, err
		}
		typeIDs = append(typeIDs, id)
	}
	rows.Close()
	statuses := []string{"new", "acknowledged", "in_progress", "resolved", "closed", "closed", "closed", "rejected"}
	const perStmt = 200
	const perTx = 20000
	year := int64(365 * 24 * 3600 * 1000)
	nowMs := db.Millis(now)
	cols := "(token, type_id, ward_id, unit_id, unit_path, org_kind, agency, status, priority, public, description, address, attrs, search_fold, channel, ack_due, resolve_due, created_at, updated_at, lat, lon)"
	for done := 0; done < total; {
		err := d.Write(ctx, func(tx *db.Tx) error {
			for n := 0; n < perTx && done < total; {
				k := min(perStmt, total-done, perTx-n)
				var sb strings.Builder
				sb.WriteString("INSERT INTO requests" + cols + " VALUES ")
				args := make([]any, 0, k*21)
				for i := range k {
					if i > 0 {
						sb.WriteString(", ")
					}
					sb.WriteString("(?, ?, ?, ?, ?, 'ward_office', 'UBND', ?, 'normal', 1, ?, ?, '{}', ?, 'web', ?, ?, ?, ?, ?, ?)")
					g := rng.IntN(len(groupIDs))
					w := g / 6 // the group's ward
					desc := benchWords[rng.IntN(len(benchWords))] + " " + benchWords[rng.IntN(len(benchWords))] + ", đề nghị phường xử lý sớm"
					if rng.IntN(2000) == 0 {
						desc += "; người báo: chị Khánh"
					}
					addr := fmt.Sprintf("%d %s", 1+rng.IntN(300), benchStreets[rng.IntN(len(benchStreets))])
					// Ids grow with time, as they do in service.
					created := nowMs - year + int64(done+i)*year/int64(total) + rng.Int64N(1000)
					args = append(args, fmt.Sprintf("b%d", done+i), typeIDs[rng.IntN(len(typeIDs))], wardIDs[w], groupIDs[g], groupPaths[g],
						statuses[rng.IntN(len(statuses))], desc, addr, "", created+8*3600*1000, created+80*3600*1000, created, created)
					// A point in the ward's square (squareWards).
					args = append(args, squareLat0+float64(w/10)*squareSide+rng.Float64()*squareSide, squareLon0+float64(w%10)*squareSide+rng.Float64()*squareSide)
				}
				if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
					return err
				}
				n += k
				done += k
			}
			return nil
		})
		if err != nil {
			return "", nil, err
		}
		if done%200000 == 0 || done == total {
			logf("%d requests", done)
		}
	}
	return prov, wardPaths, nil
}

// The bench's wards are squares of squareSide degrees (about 550 m), ten
// to a row, from (squareLat0, squareLon0): ward w of buildRequests is in
// row w/10, column w%10.
const (
	squareLat0, squareLon0, squareSide = 10.0, 106.0, 0.005
)

// squareWards locates points in the bench's square wards (codes 9wwww).
type squareWards struct{ n int }

func (s squareWards) Locate(lon, lat float64) (geo.Ward, bool) {
	r, c := math.Floor((lat-squareLat0)/squareSide), math.Floor((lon-squareLon0)/squareSide)
	if r < 0 || c < 0 || c >= 10 || int(r)*10+int(c) >= s.n {
		return geo.Ward{}, false
	}
	return geo.Ward{Code: fmt.Sprintf("9%04d", int(r)*10+int(c))}, true
}

// existingProvince finds the province and wards buildRequests made.
func existingProvince(ctx context.Context, d *db.DB) (string, []string, error) {
	var prov string
	if err := d.QueryRow(ctx, "SELECT path FROM units WHERE level = 'province' AND code = '99'").Scan(&prov); err != nil {
		return "", nil, fmt.Errorf("no province of an earlier run: %w", err)
	}
	rows, err := d.Query(ctx, "SELECT path FROM units WHERE level = 'commune' AND parent_id = ? ORDER BY id", wardIDOf(prov))
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	var wards []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return "", nil, err
		}
		wards = append(wards, p)
	}
	return prov, wards, rows.Err()
}

// wardIDOf returns the unit id a path ends with.
func wardIDOf(path string) int64 {
	t := strings.TrimSuffix(path, "/")
	var id int64
	fmt.Sscan(t[strings.LastIndex(t, "/")+1:], &id)
	return id
}
