package web_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/trothu/trothu/internal/area"
	"github.com/trothu/trothu/internal/demo"
)

func TestAPIUnitTree(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		root := e.must(t, http.StatusOK, "GET", "/units/root", "", nil)
		if root.str("code") != "VN" || root.str("name") != "Việt Nam" || root.str("level") != "country" {
			t.Errorf("root: got %v, want Việt Nam (VN, country)", root.v)
		}
		if root.has("path") {
			t.Errorf("root: got a path field %v, want materialised paths kept inside", root.get("path").v)
		}
		rootID := root.num("id")

		kids := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/units/%d/children", rootID), "", nil)
		if n := len(kids.list("items")); n != 34 || kids.has("next") {
			t.Errorf("provinces in force: got %d (next %v), want 34 on one page", n, kids.get("next").v)
		}
		for _, k := range kids.list("items") {
			if k.has("valid_to") || k.str("level") != "province" {
				t.Errorf("current children of the root: got %v", k.v)
			}
		}
		all := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/units/%d/children?historic=1", rootID), "", nil)
		items := all.list("items")
		if len(items) != 34+63 {
			t.Errorf("provinces with historic ones: got %d, want 97", len(items))
		}
		if len(items) == 97 && (items[33].has("valid_to") || items[34].str("valid_to") != "2025-07-01") {
			t.Errorf("order: got %v then %v, want the 34 in force first, then those retired on 2025-07-01", items[33].v, items[34].v)
		}

		// Paging through Thành phố Hồ Chí Minh's 168 wards, 50 at a time.
		hcm := e.must(t, http.StatusOK, "GET", "/units/resolve?code=79", "", nil).get("items.0")
		if hcm.str("full_name") != "Thành phố Hồ Chí Minh" {
			t.Fatalf("resolve 79: got %v", hcm.v)
		}
		seen := map[int64]bool{}
		after, pages := "", 0
		for {
			page := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/units/%d/children?limit=50&after=%s", hcm.num("id"), after), "", nil)
			pages++
			for _, u := range page.list("items") {
				if seen[u.num("id")] {
					t.Errorf("unit %d listed twice", u.num("id"))
				}
				seen[u.num("id")] = true
				if !u.has("households") || !u.has("children") {
					t.Errorf("child %v: want households and children counts", u.v)
				}
			}
			after = page.str("next")
			if after == "" || pages > 10 {
				break
			}
		}
		if len(seen) != 168 || pages != 4 {
			t.Errorf("paging: got %d wards in %d pages, want 168 in 4", len(seen), pages)
		}

		bt := e.unitByCode(t, area.LevelCommune, demo.WardCode)
		kp1 := e.child(t, bt.ID, "Khu phố 1")
		to1 := e.child(t, kp1.ID, "Tổ 1")
		anc := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/units/%d/ancestors", to1.ID), "", nil)
		var names []string
		for _, u := range anc.list("items") {
			names = append(names, u.str("full_name"))
		}
		if want := []string{"Việt Nam", "Thành phố Hồ Chí Minh", "Phường Bến Thành", "Khu phố 1"}; !slices.Equal(names, want) {
			t.Errorf("ancestors of Tổ 1: got %q, want %q", names, want)
		}
		u := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/units/%d", to1.ID), "", nil)
		if u.str("full_name") != "Tổ 1" || u.str("level") != "group" || u.num("parent_id") != kp1.ID {
			t.Errorf("GET Tổ 1: got %v", u.v)
		}
		for _, path := range []string{"/units/999999999", "/units/abc", "/units/0/children", "/units/999999999/ancestors"} {
			if st, res := e.do(t, "GET", path, "", nil); st != http.StatusNotFound || res.str("error.code") != "not_found" {
				t.Errorf("GET %s: got %d %v, want 404 not_found", path, st, res.v)
			}
		}
	})
}

func TestAPIUnitSearchAndResolve(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		for _, q := range []string{"ben thanh", "Bến Thành", "phuong ben thanh", "BEN THANH"} {
			res := e.must(t, http.StatusOK, "GET", "/units/search?q="+urlQuery(q), "", nil)
			if got := res.str("items.0.code"); got != "26743" {
				t.Errorf("search %q: got first %v, want Phường Bến Thành (26743)", q, res.get("items.0").v)
			}
		}
		if res := e.must(t, http.StatusOK, "GET", "/units/search?q=", "", nil); len(res.list("items")) != 0 {
			t.Errorf("empty search: got %v, want no items", res.v)
		}
		if res := e.must(t, http.StatusOK, "GET", "/units/search?q=phuong&limit=3", "", nil); len(res.list("items")) > 3 {
			t.Errorf("search limit 3: got %d items", len(res.list("items")))
		}
		if st, _ := e.do(t, "GET", "/units/search?q=a&limit=x", "", nil); st != http.StatusBadRequest {
			t.Errorf("limit=x: got %d, want 400", st)
		}

		codes := func(path string) []string {
			var out []string
			for _, u := range e.must(t, http.StatusOK, "GET", path, "", nil).list("items") {
				if u.has("valid_to") {
					t.Errorf("%s: got %v, want units in force only", path, u.v)
				}
				out = append(out, u.str("code"))
			}
			return out
		}
		if got := codes("/units/resolve?code=26749"); !slices.Equal(got, []string{"26743"}) {
			t.Errorf("old Phường Phạm Ngũ Lão (26749): got %v, want [26743]", got)
		}
		if got := codes("/units/resolve?code=760"); !slices.Contains(got, "26743") || !slices.Contains(got, "26740") {
			t.Errorf("old Quận 1 (760): got %v, want Bến Thành and Sài Gòn among them", got)
		}
		if got := codes("/units/resolve?code=26743"); !slices.Equal(got, []string{"26743"}) {
			t.Errorf("current code 26743: got %v", got)
		}
		for q, want := range map[string]int{"abc": 400, "": 400, "1234": 400, "99999": 404} {
			if st, res := e.do(t, "GET", "/units/resolve?code="+q, "", nil); st != want || res.str("error.code") == "" {
				t.Errorf("resolve %q: got %d %v, want %d with the error contract", q, st, res.v, want)
			}
		}
	})
}

func TestAPILocalUnits(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		official, groupHead := e.token(t, phoneOfficial), e.token(t, phoneGroupHead)
		bt := e.unitByCode(t, area.LevelCommune, demo.WardCode)
		name := fmt.Sprintf("Khu phố X%d", e.next())
		create := fmt.Sprintf("/units/%d/children", bt.ID)

		if st, _ := e.do(t, "POST", create, "", map[string]string{"name": name}); st != http.StatusUnauthorized {
			t.Errorf("anonymous create: got %d, want 401", st)
		}
		if st, _ := e.do(t, "POST", create, groupHead, map[string]string{"name": name}); st != http.StatusForbidden {
			t.Errorf("group head create: got %d, want 403", st)
		}
		kp := e.must(t, http.StatusCreated, "POST", create, official, map[string]string{"name": name})
		if kp.str("level") != "neighbourhood" || kp.str("kind") != "Khu phố" || kp.str("full_name") != name || kp.num("parent_id") != bt.ID {
			t.Errorf("created: got %v, want a neighbourhood %q under Bến Thành", kp.v, name)
		}
		if st, res := e.do(t, "POST", create, official, map[string]string{"name": name}); st != http.StatusConflict || res.str("error.code") != "conflict" {
			t.Errorf("same name again: got %d %v, want 409", st, res.v)
		}
		if st, res := e.do(t, "POST", create, official, map[string]string{"name": "x", "colour": "red"}); st != http.StatusBadRequest {
			t.Errorf("unknown field: got %d %v, want 400", st, res.v)
		}
		to := e.must(t, http.StatusCreated, "POST", fmt.Sprintf("/units/%d/children", kp.num("id")), official, map[string]string{"kind": "Tổ dân phố", "name": "5"})
		if to.str("full_name") != "Tổ dân phố 5" || to.str("level") != "group" {
			t.Errorf("tổ: got %v, want Tổ dân phố 5 (group)", to.v)
		}
		toPath := fmt.Sprintf("/units/%d", to.num("id"))

		// A household in the new tổ shows in the counts of the khu phố.
		e.must(t, http.StatusCreated, "POST", "/households", official, map[string]any{"unit_id": to.num("id"), "address": "1 Đường Đếm"})
		for _, c := range e.must(t, http.StatusOK, "GET", create, "", nil).list("items") {
			if c.num("id") == kp.num("id") && (c.num("children") != 1 || c.num("households") != 1) {
				t.Errorf("counts of %s: got %d children, %d households, want 1 and 1", name, c.num("children"), c.num("households"))
			}
		}

		ren := e.must(t, http.StatusOK, "PATCH", toPath, official, map[string]string{"name": "6"})
		if ren.str("full_name") != "Tổ dân phố 6" || ren.str("kind") != "Tổ dân phố" {
			t.Errorf("rename: got %v, want Tổ dân phố 6 (kind kept)", ren.v)
		}
		ren = e.must(t, http.StatusOK, "PATCH", toPath, official, map[string]string{"name_en": "Group 6"})
		if ren.str("name") != "6" || ren.str("name_en") != "Group 6" {
			t.Errorf("set English name: got %v, want the name kept", ren.v)
		}
		if st, _ := e.do(t, "PATCH", toPath, groupHead, map[string]string{"name": "7"}); st != http.StatusForbidden {
			t.Errorf("group head rename: got %d, want 403", st)
		}
		// A ward is renamed by the national list, not through the API: its
		// parent is the province, beyond an official's reach; an
		// administrator is told it is not a local unit.
		if st, res := e.do(t, "PATCH", fmt.Sprintf("/units/%d", bt.ID), official, map[string]string{"name": "Bến Thành Mới"}); st != http.StatusForbidden {
			t.Errorf("official renames the ward: got %d %v, want 403", st, res.v)
		}
		if st, res := e.do(t, "PATCH", fmt.Sprintf("/units/%d", bt.ID), e.token(t, phoneAdmin), map[string]string{"name": "Bến Thành Mới"}); st != http.StatusBadRequest {
			t.Errorf("admin renames the ward: got %d %v, want 400", st, res.v)
		}
		if st, res := e.do(t, "DELETE", fmt.Sprintf("/units/%d", kp.num("id")), official, nil); st != http.StatusConflict {
			t.Errorf("delete a khu phố that has a tổ: got %d %v, want 409", st, res.v)
		}

		// Organisations (public list; managed by officials).
		orgs := fmt.Sprintf("/units/%d/organisations", kp.num("id"))
		org := e.must(t, http.StatusCreated, "POST", "/organisations", official, map[string]any{"unit_id": kp.num("id"), "kind": "party_cell"})
		if org.str("name") != "Chi bộ "+name || org.str("kind") != "party_cell" {
			t.Errorf("organisation: got %v, want Chi bộ %s", org.v, name)
		}
		if st, _ := e.do(t, "POST", "/organisations", official, map[string]any{"unit_id": kp.num("id"), "kind": "party_cell"}); st != http.StatusConflict {
			t.Errorf("same organisation again: got %d, want 409", st)
		}
		if st, res := e.do(t, "POST", "/organisations", official, map[string]any{"unit_id": kp.num("id"), "kind": "guild"}); st != http.StatusBadRequest || res.str("error.field") != "kind" {
			t.Errorf("unknown kind: got %d %v, want 400 on kind", st, res.v)
		}
		if st, _ := e.do(t, "POST", "/organisations", groupHead, map[string]any{"unit_id": kp.num("id"), "kind": "women_union"}); st != http.StatusForbidden {
			t.Errorf("group head creates an organisation: got %d, want 403", st)
		}
		if l := e.must(t, http.StatusOK, "GET", orgs, "", nil).list("items"); len(l) != 1 || l[0].num("id") != org.num("id") {
			t.Errorf("organisations of %s: got %v, want the Chi bộ", name, l)
		}

		// Emptied, the tổ can go.
		hh := e.must(t, http.StatusOK, "GET", fmt.Sprintf("/units/%d/households", to.num("id")), official, nil)
		e.must(t, http.StatusNoContent, "DELETE", fmt.Sprintf("/households/%d", hh.num("items.0.id")), official, nil)
		e.must(t, http.StatusNoContent, "DELETE", toPath, official, nil)
		if st, _ := e.do(t, "GET", toPath, "", nil); st != http.StatusNotFound {
			t.Errorf("GET a deleted tổ: got %d, want 404", st)
		}
	})
}
