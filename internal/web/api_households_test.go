package web_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/demo"
)

// newKhuPho creates a fresh khu phố under Phường Bến Thành as the
// official, so a test has a subtree of its own.
func (e *env) newKhuPho(t *testing.T) jv {
	t.Helper()
	bt := e.unitByCode(t, area.LevelCommune, demo.WardCode)
	return e.must(t, http.StatusCreated, "POST", fmt.Sprintf("/units/%d/children", bt.ID), e.token(t, phoneOfficial),
		map[string]string{"name": fmt.Sprintf("Khu phố Nhập %d", e.next())})
}

func csvBytes(t *testing.T, rows ...[]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(append([][]string{area.CSVColumns}, rows...)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func multipartCSV(t *testing.T, data []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if err := mw.WriteField("note", "ignored"); err != nil {
		t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("file", "hộ gia đình.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

func TestAPIHouseholdCSV(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		official := e.token(t, phoneOfficial)
		kp := e.newKhuPho(t)
		kpID := kp.num("id")
		imp := fmt.Sprintf("/units/%d/households/import", kpID)
		list := fmt.Sprintf("/units/%d/households", kpID)
		n := e.next()
		phone, cid := e.freshPhone(), e.freshCitizenID()
		//            ma_ho, to, dia_chi, ho_ten, nam_sinh, gioi_tinh, quan_he, so_dien_thoai, cccd, co
		good := [][]string{
			{fmt.Sprintf("A%d", n), "", "1 Lê Lợi", "Nguyễn Văn An", "1950", "Nam", "Chủ hộ", phone, cid, "neo đơn"},
			{fmt.Sprintf("B%d", n), "", "2 Lê Lợi", "Trần Thị Bình", "1980", "Nữ", "Chủ hộ", "", "", ""},
			{fmt.Sprintf("B%d", n), "", "2 Lê Lợi", "Trần Văn Cường", "2005", "Nam", "Con", "", "", ""},
			{fmt.Sprintf("C%d", n), "Tổ 1", "3 Lê Lợi", "Lê Văn Dũng", "1970", "Nam", "Chủ hộ", "", "", "khuyết tật"},
			{fmt.Sprintf("C%d", n), "Tổ 1", "3 Lê Lợi", "Lê Thị Em", "1972", "Nữ", "Vợ", "", "", ""},
		}

		// One bad row: nothing is imported, and the rows say why.
		bad := slices.Clone(good)
		bad[2] = slices.Clone(bad[2])
		bad[2][7] = "12345"
		for _, lang := range []string{"", "en"} {
			r := e.call(t, "POST", imp, official, csvBytes(t, bad...), "text/csv; charset=utf-8", lang)
			if r.status != http.StatusBadRequest || r.json.str("error.code") != "invalid" {
				t.Fatalf("bad CSV: got %d %s, want 400 invalid", r.status, r.raw)
			}
			rows := r.json.list("rows")
			if len(rows) != 1 || rows[0].num("line") != 4 || rows[0].str("field") != "so_dien_thoai" || rows[0].str("message") == "" {
				t.Errorf("rows: got %v, want one on line 4, field so_dien_thoai", r.json.get("rows").v)
			}
			msg := r.json.str("error.message")
			if lang == "en" && !strings.Contains(msg, "nothing was imported") || lang == "" && !strings.Contains(msg, "chưa có gì được nhập") {
				t.Errorf("message (%q): got %q", lang, msg)
			}
		}
		if items := e.must(t, http.StatusOK, "GET", list, official, nil).list("items"); len(items) != 0 {
			t.Fatalf("after a refused import: got %d households, want 0", len(items))
		}
		if r := e.call(t, "POST", imp, official, []byte{}, "text/csv", ""); r.status != http.StatusBadRequest || r.json.str("error.code") != "invalid" {
			t.Errorf("empty file: got %d %s, want 400", r.status, r.raw)
		}
		if r := e.call(t, "POST", imp, e.token(t, phoneGroupHead), csvBytes(t, good...), "text/csv", ""); r.status != http.StatusForbidden {
			t.Errorf("group head imports: got %d, want 403", r.status)
		}

		body, ctype := multipartCSV(t, csvBytes(t, good...))
		r := e.call(t, "POST", imp, official, body, ctype, "")
		if r.status != http.StatusOK {
			t.Fatalf("import: got %d %s, want 200", r.status, r.raw)
		}
		if r.json.num("households") != 3 || r.json.num("residents") != 5 || r.json.num("units") != 1 {
			t.Errorf("report: got %s, want 3 households, 5 residents, 1 unit", r.raw)
		}
		huge := append([]byte("ma_ho,dia_chi,ho_ten\nX,\""), bytes.Repeat([]byte("a"), 20<<20)...)
		if r := e.call(t, "POST", imp, official, huge, "text/csv", "en"); r.status != http.StatusBadRequest || r.json.str("error.field") != "file" ||
			!strings.Contains(r.json.str("error.message"), "20 MiB") {
			t.Errorf("a file over 20 MiB: got %d %.200s, want 400 on file naming the limit", r.status, r.raw)
		}
		var nofile bytes.Buffer
		mw := multipart.NewWriter(&nofile)
		_ = mw.WriteField("note", "no file") // writes to memory cannot fail
		_ = mw.Close()
		if r := e.call(t, "POST", imp, official, nofile.Bytes(), mw.FormDataContentType(), ""); r.status != http.StatusBadRequest || r.json.str("error.field") != "file" {
			t.Errorf("multipart without a file field: got %d %s, want 400 on file", r.status, r.raw)
		}

		// Paging, search and flags.
		p1 := e.must(t, http.StatusOK, "GET", list+"?limit=2", official, nil)
		if len(p1.list("items")) != 2 || p1.str("next") == "" {
			t.Fatalf("page 1: got %v, want 2 items and a next", p1.v)
		}
		p2 := e.must(t, http.StatusOK, "GET", list+"?limit=2&after="+p1.str("next"), official, nil)
		if len(p2.list("items")) != 1 || p2.has("next") {
			t.Errorf("page 2: got %v, want the last household and no next", p2.v)
		}
		for q, want := range map[string]int{"?q=" + urlQuery(fmt.Sprintf("B%d", n)): 1, "?q=le+van+dung": 1, "?flags=1": 1, "?flags=" + urlQuery("neo đơn,khuyết tật"): 0, "?flags=2": 1} {
			if got := len(e.must(t, http.StatusOK, "GET", list+q, official, nil).list("items")); got != want {
				t.Errorf("list%s: got %d, want %d", q, got, want)
			}
		}
		for _, q := range []string{"?flags=99", "?flags=vip", "?limit=-1", "?after=garbage"} {
			if st, _ := e.do(t, "GET", list+q, official, nil); st != http.StatusBadRequest {
				t.Errorf("list%s: got %d, want 400", q, st)
			}
		}

		// Export: an attachment with a Vietnamese name, the same rows.
		exp := e.call(t, "GET", fmt.Sprintf("/units/%d/households/export", kpID), official, nil, "", "")
		if exp.status != http.StatusOK || !strings.HasPrefix(exp.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: got %d %s", exp.status, exp.header.Get("Content-Type"))
		}
		day := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
		cd := exp.header.Get("Content-Disposition")
		wantASCII := fmt.Sprintf(`filename="ho-gia-dinh-khu-pho-nhap-%s-%s.csv"`, strings.TrimPrefix(kp.str("name"), "Khu phố Nhập "), day)
		if !strings.HasPrefix(cd, "attachment; ") || !strings.Contains(cd, wantASCII) || !strings.Contains(cd, "filename*=UTF-8''H%E1%BB%99%20gia%20%C4%91%C3%ACnh%20-%20Khu%20ph%E1%BB%91%20Nh%E1%BA%ADp%20") {
			t.Errorf("Content-Disposition: got %q, want an attachment with %s and the UTF-8 name", cd, wantASCII)
		}
		if !bytes.HasPrefix(exp.raw, []byte("\uFEFF")) {
			t.Errorf("export: want a byte-order mark first")
		}
		recs := readCSV(t, exp.raw)
		if !slices.Equal(recs[0], area.CSVColumns) || len(recs) != 6 {
			t.Fatalf("export: got header %v and %d rows, want the columns and 5 rows", recs[0], len(recs)-1)
		}
		for _, rec := range recs[1:] {
			if rec[3] == "Nguyễn Văn An" {
				if rec[7] != phone || rec[8] != "********"+cid[8:] || rec[9] != "Neo đơn" {
					t.Errorf("exported An: got phone %q, cccd %q, flags %q; want %s, masked, Neo đơn", rec[7], rec[8], rec[9], phone)
				}
			}
			if rec[3] == "Lê Văn Dũng" && rec[1] != "Tổ 1" {
				t.Errorf("exported Dũng: got to %q, want Tổ 1", rec[1])
			}
		}
		if bytes.Contains(exp.raw, []byte(cid)) {
			t.Errorf("export shows the citizen ID %s in full", cid)
		}
		if r := e.call(t, "GET", fmt.Sprintf("/units/%d/households/export", kpID), e.token(t, phoneHealth), nil, "", ""); r.status != http.StatusForbidden ||
			r.header.Get("Content-Disposition") != "" || r.json.str("error.code") != "forbidden" {
			t.Errorf("health staff exports: got %d %q %s, want a 403 JSON error, no attachment", r.status, r.header.Get("Content-Disposition"), r.raw)
		}

		// Round trip: the export imports into another khu phố as it was.
		kp2 := e.newKhuPho(t)
		again := e.must(t, http.StatusOK, "POST", fmt.Sprintf("/units/%d/households/import", kp2.num("id")), official, exp.raw)
		if again.num("households") != 3 || again.num("residents") != 5 || again.num("units") != 1 {
			t.Errorf("re-import: got %v, want 3, 5, 1", again.v)
		}
		exp2 := e.call(t, "GET", fmt.Sprintf("/units/%d/households/export", kp2.num("id")), official, nil, "", "")
		recs2 := readCSV(t, exp2.raw)
		strip := func(rs [][]string) [][]string { // the citizen ID is masked on export, so it does not travel
			out := make([][]string, len(rs))
			for i, r := range rs {
				out[i] = slices.Concat(r[:8], r[9:])
			}
			return out
		}
		if a, b := strip(recs), strip(recs2); !slices.EqualFunc(a, b, slices.Equal) {
			t.Errorf("round trip: got\n%v\nwant\n%v", b, a)
		}
	})
}

func readCSV(t *testing.T, raw []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\uFEFF")))).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("CSV: %v (%d records)", err, len(recs))
	}
	return recs
}

func TestAPIHouseholdLifecycle(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		official, leader, police := e.token(t, phoneOfficial), e.token(t, phoneLeader), e.token(t, phonePolice)
		health, groupHead, volunteer := e.token(t, phoneHealth), e.token(t, phoneGroupHead), e.token(t, phoneVolunteer)
		kp := e.newKhuPho(t)
		code := fmt.Sprintf("HX%d", e.next())
		h := e.must(t, http.StatusCreated, "POST", "/households", official, map[string]any{"unit_id": kp.num("id"), "code": code, "address": "12 Lý Tự Trọng"})
		hPath := fmt.Sprintf("/households/%d", h.num("id"))
		if h.num("members") != 0 || h.str("code") != code || h.num("unit_id") != kp.num("id") {
			t.Errorf("created: got %v", h.v)
		}
		if st, res := e.do(t, "POST", "/households", official, map[string]any{"unit_id": kp.num("id"), "code": code, "address": "13 Lý Tự Trọng"}); st != http.StatusConflict {
			t.Errorf("same code again: got %d %v, want 409", st, res.v)
		}
		if st, res := e.do(t, "POST", "/households", official, map[string]any{"unit_id": kp.num("id")}); st != http.StatusBadRequest || res.str("error.field") != "address" {
			t.Errorf("no address: got %d %v, want 400 on address", st, res.v)
		}

		phone, cid := e.freshPhone(), e.freshCitizenID()
		res := e.must(t, http.StatusCreated, "POST", hPath+"/residents", official, map[string]any{
			"full_name": "Đỗ Văn An", "relation": "Chủ hộ", "birth_year": 1960, "gender": "Nam", "phone": phone, "citizen_id": cid})
		rPath := fmt.Sprintf("/residents/%d", res.num("id"))
		e164 := "+84" + phone[1:]
		if !res.get("is_head").v.(bool) || res.str("phone") != e164 || res.str("citizen_id_masked") != "********"+cid[8:] || res.str("gender") != "male" {
			t.Errorf("resident: got %v", res.v)
		}
		if strings.Contains(string(mustRaw(t, e, official, hPath)), cid) {
			t.Errorf("household detail shows the citizen ID in full")
		}
		if st, res := e.do(t, "POST", hPath+"/residents", official, map[string]any{"full_name": "Đỗ Thị Bé", "citizen_id": cid}); st != http.StatusConflict {
			t.Errorf("citizen ID of someone else: got %d %v, want 409", st, res.v)
		}

		d := e.must(t, http.StatusOK, "GET", hPath, health, nil)
		if d.str("head_name") != "Đỗ Văn An" || d.str("residents.0.phone") != e164 || d.num("members") != 1 {
			t.Errorf("detail for health staff: got %v", d.v)
		}
		for who, tok := range map[string]string{"volunteer": volunteer, "group head of Khu phố 1 > Tổ 1": groupHead, "resident of Sài Gòn": e.token(t, phoneResidentOther)} {
			if st, _ := e.do(t, "GET", hPath, tok, nil); st != http.StatusForbidden {
				t.Errorf("%s reads the household: got %d, want 403", who, st)
			}
		}

		up := e.must(t, http.StatusOK, "PATCH", hPath, official, map[string]any{"address": "14 Lý Tự Trọng", "lat": 10.7731, "lon": 106.6983})
		if up.str("address") != "14 Lý Tự Trọng" || up.str("code") != code || up.get("lat").v != 10.7731 {
			t.Errorf("patch: got %v, want the new address and location, the code kept", up.v)
		}
		up = e.must(t, http.StatusOK, "PATCH", hPath, official, map[string]any{"lat": nil, "lon": nil, "flags": 4})
		if up.has("lat") || up.str("address") != "14 Lý Tự Trọng" || up.num("flags") != 4 {
			t.Errorf("patch clearing the location: got %v", up.v)
		}
		for _, b := range []map[string]any{{"unit_id": 1}, {"lat": 10.0}, {"flags": 64}, {"address": ""}} {
			if st, res := e.do(t, "PATCH", hPath, official, b); st != http.StatusBadRequest {
				t.Errorf("patch %v: got %d %v, want 400", b, st, res.v)
			}
		}
		if st, _ := e.do(t, "PATCH", hPath, health, map[string]any{"address": "15 Lý Tự Trọng"}); st != http.StatusForbidden {
			t.Errorf("health staff edits: got %d, want 403", st)
		}

		r2 := e.must(t, http.StatusOK, "PATCH", rPath, official, map[string]any{"full_name": "Đỗ Văn Ân", "relation": "Chủ hộ", "phone": phone})
		if r2.str("full_name") != "Đỗ Văn Ân" || r2.str("citizen_id_masked") != "********"+cid[8:] {
			t.Errorf("resident update: got %v, want the new name and the citizen ID kept", r2.v)
		}

		// Revealing the citizen ID: police, officials, leaders; audited.
		reveal := rPath + "/citizen-id"
		for who, tok := range map[string]string{"health staff": health, "group head": groupHead, "volunteer": volunteer} {
			if st, res := e.do(t, "GET", reveal, tok, nil); st != http.StatusForbidden || strings.Contains(fmt.Sprint(res.v), cid) {
				t.Errorf("%s reveals: got %d %v, want 403", who, st, res.v)
			}
		}
		if st, _ := e.do(t, "GET", reveal, "", nil); st != http.StatusUnauthorized {
			t.Errorf("anonymous reveal: got %d, want 401", st)
		}
		if got := e.must(t, http.StatusOK, "GET", reveal, police, nil).str("citizen_id"); got != cid {
			t.Errorf("police reveals: got %q, want %q", got, cid)
		}
		if got := e.must(t, http.StatusOK, "GET", reveal, leader, nil).str("citizen_id"); got != cid {
			t.Errorf("leader reveals: got %q, want %q", got, cid)
		}
		log := e.must(t, http.StatusOK, "GET", "/audit?action=citizen_id.viewed&limit=5", leader, nil)
		if log.str("items.0.subject_id") != fmt.Sprint(res.num("id")) || log.str("items.0.actor_name") != "Trần Văn Minh" ||
			log.str("items.1.subject_id") != fmt.Sprint(res.num("id")) || log.str("items.1.actor_name") != "Võ Quốc Bảo" {
			t.Errorf("audit: got %v, want the leader's then the police officer's reveal of resident %d", log.get("items").v, res.num("id"))
		}
		if at, err := time.Parse(time.RFC3339, log.str("items.0.at")); err != nil || time.Since(at) > time.Minute {
			t.Errorf("audit time: got %q (%v), want just now", log.str("items.0.at"), err)
		}
		if strings.Contains(string(mustRaw(t, e, leader, "/audit?limit=200")), cid) {
			t.Errorf("the audit log shows the citizen ID in full")
		}
		if st, _ := e.do(t, "GET", "/audit", official, nil); st != http.StatusForbidden {
			t.Errorf("official reads the audit log: got %d, want 403", st)
		}

		// Move to a tổ of the khu phố, then remove.
		to := e.must(t, http.StatusCreated, "POST", fmt.Sprintf("/units/%d/children", kp.num("id")), official, map[string]string{"name": "Tổ 1"})
		mv := e.must(t, http.StatusOK, "POST", hPath+"/move", official, map[string]any{"unit_id": to.num("id")})
		if mv.num("unit_id") != to.num("id") || mv.str("unit_name") != "Tổ 1" {
			t.Errorf("move: got %v", mv.v)
		}
		if st, _ := e.do(t, "POST", hPath+"/move", groupHead, map[string]any{"unit_id": kp.num("id")}); st != http.StatusForbidden {
			t.Errorf("group head moves it: got %d, want 403", st)
		}
		e.must(t, http.StatusNoContent, "DELETE", rPath, official, nil)
		if st, _ := e.do(t, "DELETE", rPath, official, nil); st != http.StatusNotFound {
			t.Errorf("delete twice: got %d, want 404", st)
		}
		e.must(t, http.StatusNoContent, "DELETE", hPath, official, nil)
		if st, _ := e.do(t, "GET", hPath, official, nil); st != http.StatusNotFound {
			t.Errorf("GET a deleted household: got %d, want 404", st)
		}
	})
}

func mustRaw(t *testing.T, e *env, tok, path string) []byte {
	t.Helper()
	r := e.call(t, "GET", path, tok, nil, "", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: got %d %s", path, r.status, r.raw)
	}
	return r.raw
}

// TestAPIHouseholdBoundaries: the edges of each role's reach.
func TestAPIHouseholdBoundaries(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		fx := e.fixture(t)
		groupHead, other := e.token(t, phoneGroupHead), e.token(t, phoneResidentOther)
		bt := e.unitByCode(t, area.LevelCommune, demo.WardCode)
		kp2Household := fmt.Sprintf("/households/%d", fx.readHH[pKp2])

		// A group head of Khu phố 1 > Tổ 1 cannot touch Khu phố 2's households.
		if st, _ := e.do(t, "GET", fmt.Sprintf("/units/%d/households", fx.hhUnit[pTo1]), groupHead, nil); st != http.StatusOK {
			t.Errorf("group head lists Tổ 1: got %d, want 200", st)
		}
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", fmt.Sprintf("/units/%d/households", fx.hhUnit[pKp2]), nil},
			{"GET", kp2Household, nil},
			{"PATCH", kp2Household, map[string]any{"address": "Đã sửa"}},
			{"DELETE", kp2Household, nil},
			{"POST", "/households", map[string]any{"unit_id": fx.hhUnit[pKp2], "address": "1 Đường Cấm"}},
			{"POST", kp2Household + "/residents", map[string]any{"full_name": "Người Lạ"}},
		} {
			if st, _ := e.do(t, c.method, c.path, groupHead, c.body); st != http.StatusForbidden {
				t.Errorf("group head %s %s: got %d, want 403", c.method, c.path, st)
			}
		}
		if st, _ := e.do(t, "GET", kp2Household, e.token(t, phoneOfficial), nil); st != http.StatusOK {
			t.Errorf("Khu phố 2's household after the group head's attempts: got %d, want it still there", st)
		}

		// A resident of Phường Sài Gòn sees nothing of Bến Thành.
		for _, path := range []string{
			fmt.Sprintf("/units/%d/households", bt.ID),
			fmt.Sprintf("/households/%d", fx.readHH[pTo1]),
			fmt.Sprintf("/residents/%d/citizen-id", fx.cidResident[pTo1]),
			fmt.Sprintf("/units/%d/households/export", bt.ID),
			fmt.Sprintf("/accounts?unit_id=%d", bt.ID),
		} {
			if st, res := e.do(t, "GET", path, other, nil); st != http.StatusForbidden {
				t.Errorf("Sài Gòn resident GET %s: got %d %v, want 403", path, st, res.v)
			}
		}
		own := e.must(t, http.StatusOK, "GET", "/me/household", other, nil)
		if own.str("code") != "SG001" || own.str("residents.0.phone") != "+84900000020" {
			t.Errorf("own household: got %v, want SG001 with the resident's own phone", own.v)
		}

		// The Bến Thành resident's household: phones of others masked.
		mine := e.must(t, http.StatusOK, "GET", "/me/household", e.token(t, phoneResident), nil)
		if mine.str("code") != "BT0001" || mine.str("residents.0.phone") != "+84900000010" {
			t.Errorf("/me/household: got %v, want BT0001 with the resident's own phone", mine.v)
		}
		if st, _ := e.do(t, "GET", "/me/household", e.token(t, phoneOfficial), nil); st != http.StatusNotFound {
			t.Errorf("official's /me/household: got %d, want 404 (no linked resident)", st)
		}
	})
}

// TestAPIAccountsAndRoles: listing with masked phones, granting, revoking.
func TestAPIAccountsAndRoles(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		leader, official, admin := e.token(t, phoneLeader), e.token(t, phoneOfficial), e.token(t, phoneAdmin)
		bt := e.unitByCode(t, area.LevelCommune, demo.WardCode)
		sg := e.unitByCode(t, area.LevelCommune, demo.OtherWardCode)
		phone := e.freshPhone()
		acc := e.must(t, http.StatusCreated, "POST", "/accounts", leader, map[string]string{"phone": phone, "name": "Ngô Thị Mới"})
		if acc.str("phone") != phone[:3]+"****"+phone[7:] {
			t.Errorf("created account: got phone %q, want it masked", acc.str("phone"))
		}
		if st, _ := e.do(t, "POST", "/accounts", leader, map[string]string{"phone": phone, "name": "Ngô Thị Mới"}); st != http.StatusConflict {
			t.Errorf("same phone again: got %d, want 409", st)
		}
		if st, _ := e.do(t, "POST", "/accounts", official, map[string]string{"phone": e.freshPhone(), "name": "X"}); st != http.StatusForbidden {
			t.Errorf("official creates an account: got %d, want 403", st)
		}
		grants := fmt.Sprintf("/accounts/%d/grants", acc.num("id"))
		g := e.must(t, http.StatusCreated, "POST", grants, leader, map[string]any{"role": "group_head", "unit_id": bt.ID})
		if g.str("role") != "group_head" || g.str("unit_name") != "Bến Thành" || g.str("role_name") != "Tổ trưởng tổ dân phố" {
			t.Errorf("grant: got %v", g.v)
		}
		for _, c := range []struct {
			body map[string]any
			want int
		}{
			{map[string]any{"role": "commune_leader", "unit_id": bt.ID}, 403}, // not above their own
			{map[string]any{"role": "volunteer", "unit_id": sg.ID}, 403},      // another ward
			{map[string]any{"role": "group_head", "unit_id": bt.ID}, 409},     // already held
			{map[string]any{"role": "mayor", "unit_id": bt.ID}, 400},
			{map[string]any{"role": "volunteer", "unit_id": 999999999}, 400},
		} {
			if st, res := e.do(t, "POST", grants, leader, c.body); st != c.want {
				t.Errorf("grant %v: got %d %v, want %d", c.body, st, res.v, c.want)
			}
		}

		l := e.must(t, http.StatusOK, "GET", "/accounts?q="+urlQuery("ngô thị mới"), official, nil)
		found := false
		for _, a := range l.list("items") {
			if a.num("id") == acc.num("id") {
				found = true
				if a.str("phone") != acc.str("phone") || a.str("grants.0.role") != "group_head" {
					t.Errorf("listed: got %v", a.v)
				}
			}
		}
		if !found {
			t.Errorf("GET /accounts?q=…: got %v, want the new account", l.v)
		}
		page := e.must(t, http.StatusOK, "GET", "/accounts?limit=2", admin, nil)
		if len(page.list("items")) != 2 || page.str("next") == "" {
			t.Fatalf("accounts page 1: got %v, want 2 and a next", page.v)
		}
		page2 := e.must(t, http.StatusOK, "GET", "/accounts?limit=2&after="+page.str("next"), admin, nil)
		if page2.num("items.0.id") <= page.num("items.1.id") {
			t.Errorf("accounts page 2: got first id %d, want after %d", page2.num("items.0.id"), page.num("items.1.id"))
		}
		if st, _ := e.do(t, "GET", "/accounts?role=mayor", official, nil); st != http.StatusBadRequest {
			t.Errorf("unknown role filter: got %d, want 400", st)
		}

		if gl := e.must(t, http.StatusOK, "GET", grants, official, nil).list("items"); len(gl) != 1 || gl[0].num("id") != g.num("id") {
			t.Errorf("grants seen by the official: got %v", gl)
		}
		if st, _ := e.do(t, "GET", grants, e.token(t, phoneGroupHead), nil); st != http.StatusForbidden {
			t.Errorf("group head reads someone's grants: got %d, want 403", st)
		}
		me := e.must(t, http.StatusOK, "GET", "/me", e.token(t, phoneGroupHead), nil)
		if own := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/accounts/%d/grants", me.num("id")), e.token(t, phoneGroupHead), nil); len(own.list("items")) != 1 {
			t.Errorf("own grants: got %v, want one", own.v)
		}

		if st, _ := e.do(t, "DELETE", fmt.Sprintf("/grants/%d", g.num("id")), official, nil); st != http.StatusForbidden {
			t.Errorf("official revokes: got %d, want 403", st)
		}
		e.must(t, http.StatusNoContent, "DELETE", fmt.Sprintf("/grants/%d", g.num("id")), leader, nil)
		if st, _ := e.do(t, "DELETE", fmt.Sprintf("/grants/%d", g.num("id")), leader, nil); st != http.StatusNotFound {
			t.Errorf("revoke twice: got %d, want 404", st)
		}
	})
}

// TestAPIAuditScopes: entries filed under no unit are for root
// administrators only; pages go backwards.
func TestAPIAuditScopes(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		admin, leader := e.token(t, phoneAdmin), e.token(t, phoneLeader)
		adminID := e.must(t, http.StatusOK, "GET", "/me", admin, nil).num("id")
		// The seeder created the administrator's account before any grant:
		// that entry is filed under no unit.
		created := func(tok string) bool {
			for _, it := range e.must(t, http.StatusOK, "GET", "/audit?action=account.created&limit=500", tok, nil).list("items") {
				if it.str("subject_id") == fmt.Sprint(adminID) {
					return true
				}
			}
			return false
		}
		if !created(admin) {
			t.Errorf("admin: want the entry of their own account's creation (filed under no unit)")
		}
		if created(leader) {
			t.Errorf("leader: got the entry of the administrator's account creation, want it hidden")
		}

		p1 := e.must(t, http.StatusOK, "GET", "/audit?limit=3", leader, nil)
		if len(p1.list("items")) != 3 || p1.str("next") == "" {
			t.Fatalf("page 1: got %v", p1.v)
		}
		p2 := e.must(t, http.StatusOK, "GET", "/audit?limit=3&before="+p1.str("next"), leader, nil)
		if len(p2.list("items")) == 0 || p2.num("items.0.id") >= p1.num("items.2.id") {
			t.Errorf("page 2: got %v, want older entries", p2.v)
		}
		if st, _ := e.do(t, "GET", "/audit?before=x", leader, nil); st != http.StatusBadRequest {
			t.Errorf("before=x: got %d, want 400", st)
		}
	})
}
