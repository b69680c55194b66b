package web_test

// Open311 GeoReport v2 conformance, written from the specification
// (http://wiki.open311.org/GeoReport_v2): every endpoint in JSON and XML,
// ids and codes as strings, datetimes with a time zone, errors as the
// code/description list with 400, 403 and 404.

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type o311Reply struct {
	status int
	ctype  string
	body   []byte
}

func (e *env) o311(t *testing.T, method, path string, form url.Values) o311Reply {
	t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.URL+"/open311/v2/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return o311Reply{res.StatusCode, res.Header.Get("Content-Type"), b}
}

// jsonList decodes a JSON array of objects.
func (r o311Reply) jsonList(t *testing.T) []map[string]any {
	t.Helper()
	if !strings.HasPrefix(r.ctype, "application/json") {
		t.Fatalf("content type: got %q, want application/json; body %s", r.ctype, r.body)
	}
	var out []map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("body is not a JSON array: %v: %s", err, r.body)
	}
	return out
}

// checkError: the spec's error list, in JSON or XML, with the status code.
func checkError(t *testing.T, what string, r o311Reply, format string, want int) {
	t.Helper()
	if r.status != want {
		t.Errorf("%s: got status %d, want %d; body %s", what, r.status, want, r.body)
		return
	}
	if format == "xml" {
		var doc struct {
			XMLName xml.Name `xml:"errors"`
			Errors  []struct {
				Code        int    `xml:"code"`
				Description string `xml:"description"`
			} `xml:"error"`
		}
		if err := xml.Unmarshal(r.body, &doc); err != nil || len(doc.Errors) != 1 || doc.Errors[0].Code != want || doc.Errors[0].Description == "" {
			t.Errorf("%s: got XML %s (%v), want <errors><error><code>%d</code><description>…", what, r.body, err, want)
		}
		return
	}
	l := r.jsonList(t)
	if len(l) != 1 || l[0]["code"] != float64(want) || l[0]["description"] == "" {
		t.Errorf("%s: got %s, want [{\"code\":%d,\"description\":…}]", what, r.body, want)
	}
}

func TestOpen311(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *env) {
		key := e.must(t, http.StatusCreated, "POST", "/open311-keys", e.token(t, phoneAdmin), map[string]string{"name": "Cổng 1022 (thử)"}).str("key")
		pt := [2]string{"10.772555", "106.692987"} // Phường Bến Thành

		// Discovery.
		d := e.o311(t, "GET", "discovery.json", nil)
		var disc struct {
			Endpoints []struct {
				Specification string   `json:"specification"`
				Formats       []string `json:"formats"`
			} `json:"endpoints"`
		}
		if d.status != 200 || json.Unmarshal(d.body, &disc) != nil || len(disc.Endpoints) == 0 || disc.Endpoints[0].Specification != "http://wiki.open311.org/GeoReport_v2" {
			t.Errorf("discovery.json: got %d %s", d.status, d.body)
		}
		if d := e.o311(t, "GET", "discovery.xml", nil); d.status != 200 || !strings.Contains(string(d.body), "<discovery>") || !strings.HasPrefix(d.ctype, "text/xml") {
			t.Errorf("discovery.xml: got %d %s %s", d.status, d.ctype, d.body)
		}

		// Services.
		svc := e.o311(t, "GET", "services.json", nil).jsonList(t)
		found := false
		for _, s := range svc {
			if s["service_code"] == "ha_tang" {
				found = s["metadata"] == true && s["type"] == "realtime" && s["service_name"] != ""
			}
		}
		if !found {
			t.Errorf("services.json: got %v, want ha_tang with metadata true, type realtime", svc)
		}
		var sx struct {
			Services []struct {
				Code     string `xml:"service_code"`
				Metadata bool   `xml:"metadata"`
			} `xml:"service"`
		}
		if r := e.o311(t, "GET", "services.xml", nil); xml.Unmarshal(r.body, &sx) != nil || len(sx.Services) != len(svc) {
			t.Errorf("services.xml: got %d services, want %d: %s", len(sx.Services), len(svc), r.body)
		}

		// Service definitions.
		var def struct {
			Code       string `json:"service_code"`
			Attributes []struct {
				Code     string `json:"code"`
				Datatype string `json:"datatype"`
				Required bool   `json:"required"`
				Variable bool   `json:"variable"`
				Values   []struct{ Key, Name string }
			} `json:"attributes"`
		}
		r := e.o311(t, "GET", "services/ha_tang.json", nil)
		if json.Unmarshal(r.body, &def) != nil || def.Code != "ha_tang" || len(def.Attributes) != 1 || def.Attributes[0].Datatype != "singlevaluelist" ||
			!def.Attributes[0].Required || !def.Attributes[0].Variable || len(def.Attributes[0].Values) != 4 {
			t.Errorf("services/ha_tang.json: got %s", r.body)
		}
		if r := e.o311(t, "GET", "services/ha_tang.xml", nil); !strings.Contains(string(r.body), "<service_definition>") || !strings.Contains(string(r.body), "<datatype>singlevaluelist</datatype>") {
			t.Errorf("services/ha_tang.xml: got %s", r.body)
		}
		for _, f := range []string{"json", "xml"} {
			checkError(t, "unknown service definition ."+f, e.o311(t, "GET", "services/khong_co."+f, nil), f, 404)
		}

		// POST requests: the error cases, in both formats.
		base := func() url.Values {
			return url.Values{"api_key": {key}, "service_code": {"ha_tang"}, "lat": {pt[0]}, "long": {pt[1]},
				"description": {"Đèn đường trước số 20 Lê Lợi bị tắt cả tuần."}, "attribute[kind]": {"light"}, "first_name": {"Ngô"}, "last_name": {"Văn Tích"}}
		}
		for _, f := range []string{"json", "xml"} {
			v := base()
			v.Del("api_key")
			checkError(t, "POST without api_key ."+f, e.o311(t, "POST", "requests."+f, v), f, 403)
			v = base()
			v.Set("api_key", "sai")
			checkError(t, "POST with a wrong api_key ."+f, e.o311(t, "POST", "requests."+f, v), f, 403)
			v = base()
			v.Del("service_code")
			checkError(t, "POST without service_code ."+f, e.o311(t, "POST", "requests."+f, v), f, 400)
			v = base()
			v.Set("service_code", "khong_co")
			checkError(t, "POST with an unknown service_code ."+f, e.o311(t, "POST", "requests."+f, v), f, 400)
			v = base()
			v.Del("lat")
			v.Del("long")
			checkError(t, "POST without a location ."+f, e.o311(t, "POST", "requests."+f, v), f, 400)
			v = base()
			v.Del("attribute[kind]")
			checkError(t, "POST without a required attribute ."+f, e.o311(t, "POST", "requests."+f, v), f, 400)
			v = base()
			v.Set("lat", "48.85")
			v.Set("long", "2.35")
			checkError(t, "POST outside Vietnam ."+f, e.o311(t, "POST", "requests."+f, v), f, 400)
		}

		// POST requests, JSON then XML.
		cr := e.o311(t, "POST", "requests.json", base())
		created := cr.jsonList(t)
		if cr.status != http.StatusCreated || len(created) != 1 {
			t.Fatalf("POST requests.json: got %d %s", cr.status, cr.body)
		}
		id, ok := created[0]["service_request_id"].(string)
		tok, _ := created[0]["token"].(string)
		if !ok || id == "" || tok == "" {
			t.Fatalf("POST requests.json: got %s, want service_request_id as a string and a token", cr.body)
		}
		var cx struct {
			Requests []struct {
				ID string `xml:"service_request_id"`
			} `xml:"request"`
		}
		xr := e.o311(t, "POST", "requests.xml", base())
		if xr.status != http.StatusCreated || xml.Unmarshal(xr.body, &cx) != nil || len(cx.Requests) != 1 || cx.Requests[0].ID == "" {
			t.Fatalf("POST requests.xml: got %d %s", xr.status, xr.body)
		}
		id2 := cx.Requests[0].ID

		// Tokens.
		if l := e.o311(t, "GET", "tokens/"+tok+".json", nil).jsonList(t); len(l) != 1 || l[0]["service_request_id"] != id {
			t.Errorf("tokens/%s.json: got %v, want service_request_id %s", tok, l, id)
		}
		checkError(t, "unknown token", e.o311(t, "GET", "tokens/khong-co.xml", nil), "xml", 404)

		// GET one request.
		one := e.o311(t, "GET", "requests/"+id+".json", nil).jsonList(t)
		if len(one) != 1 {
			t.Fatalf("requests/%s.json: got %d items", id, len(one))
		}
		got := one[0]
		if got["service_request_id"] != id || got["status"] != "open" || got["service_code"] != "ha_tang" || got["ward_code"] != "26743" ||
			!strings.Contains(got["agency_responsible"].(string), "Bến Thành") {
			t.Errorf("requests/%s.json: got %v", id, got)
		}
		if ts, _ := got["requested_datetime"].(string); !strings.HasSuffix(ts, "+07:00") {
			t.Errorf("requested_datetime: got %q, want a time zone (+07:00)", ts)
		} else if _, err := time.Parse(time.RFC3339, ts); err != nil {
			t.Errorf("requested_datetime %q: %v", ts, err)
		}
		if strings.Contains(string(e.o311(t, "GET", "requests/"+id+".json", nil).body), "Tích") {
			t.Errorf("requests/%s.json shows the reporter's name", id)
		}
		if r := e.o311(t, "GET", "requests/"+id+".xml", nil); !strings.Contains(string(r.body), "<service_request_id>"+id+"</service_request_id>") ||
			!strings.Contains(string(r.body), "<ward_code>26743</ward_code>") {
			t.Errorf("requests/%s.xml: got %s", id, r.body)
		}
		for _, f := range []string{"json", "xml"} {
			checkError(t, "unknown request ."+f, e.o311(t, "GET", "requests/987654321."+f, nil), f, 404)
		}

		// GET requests: ids override the other filters.
		l := e.o311(t, "GET", "requests.json?service_request_id="+id+","+id2+"&service_code=tieng_on&status=closed", nil).jsonList(t)
		if len(l) != 2 {
			t.Errorf("requests.json by ids: got %d, want 2 (ids override service_code and status)", len(l))
		}
		if l := e.o311(t, "GET", "requests.json?service_code=ha_tang&status=open", nil).jsonList(t); !containsID(l, id) {
			t.Errorf("requests.json open ha_tang: %s missing", id)
		}
		if l := e.o311(t, "GET", "requests.json?status=closed", nil).jsonList(t); containsID(l, id) {
			t.Errorf("requests.json closed: got the open request %s", id)
		}
		now := time.Now()
		if l := e.o311(t, "GET", "requests.json?start_date="+url.QueryEscape(now.Add(-time.Hour).Format(time.RFC3339))+"&end_date="+url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339)), nil).jsonList(t); !containsID(l, id) {
			t.Errorf("requests.json in the last hour: %s missing", id)
		}
		for _, f := range []string{"json", "xml"} {
			checkError(t, "more than 90 days ."+f, e.o311(t, "GET", "requests."+f+"?start_date=2026-01-01T00:00:00%2B07:00&end_date=2026-06-01T00:00:00%2B07:00", nil), f, 400)
			checkError(t, "bad status ."+f, e.o311(t, "GET", "requests."+f+"?status=pending", nil), f, 400)
			checkError(t, "bad date ."+f, e.o311(t, "GET", "requests."+f+"?start_date=yesterday", nil), f, 400)
		}
		p1 := e.o311(t, "GET", "requests.json?service_code=ha_tang&page_size=1&page=1", nil).jsonList(t)
		p2 := e.o311(t, "GET", "requests.json?service_code=ha_tang&page_size=1&page=2", nil).jsonList(t)
		if len(p1) != 1 || len(p2) != 1 || p1[0]["service_request_id"] == p2[0]["service_request_id"] {
			t.Errorf("page_size=1: got pages %v and %v, want one different request each", p1, p2)
		}
		var lx struct {
			Requests []struct {
				ID     string `xml:"service_request_id"`
				Status string `xml:"status"`
			} `xml:"request"`
		}
		if r := e.o311(t, "GET", "requests.xml?service_request_id="+id, nil); xml.Unmarshal(r.body, &lx) != nil || len(lx.Requests) != 1 || lx.Requests[0].Status != "open" {
			t.Errorf("requests.xml by id: got %s", r.body)
		}

		// Private requests are not listed.
		priv := e.must(t, http.StatusCreated, "POST", "/requests", e.token(t, phoneResident), map[string]any{"type": "hanh_chinh_cong", "description": "Hồ sơ cấp phép chờ quá hạn."})
		checkError(t, "a private request", e.o311(t, "GET", fmt.Sprintf("requests/%d.json", priv.num("id")), nil), "json", 404)

		// servicerequestupdates: POST (with a key), then GET in both formats.
		checkError(t, "update without api_key", e.o311(t, "POST", "servicerequestupdates.json", url.Values{"service_request_id": {id}, "description": {"x"}}), "json", 403)
		checkError(t, "update of an unknown request", e.o311(t, "POST", "servicerequestupdates.xml", url.Values{"api_key": {key}, "service_request_id": {"987654321"}, "description": {"Bổ sung"}}), "xml", 404)
		up := e.o311(t, "POST", "servicerequestupdates.json", url.Values{"api_key": {key}, "service_request_id": {id}, "description": {"Người dân bổ sung: đèn chập chờn từ 18 giờ."}})
		if ul := up.jsonList(t); up.status != http.StatusCreated || len(ul) != 1 || ul[0]["update_id"] == "" {
			t.Fatalf("POST servicerequestupdates.json: got %d %s", up.status, up.body)
		}
		ul := e.o311(t, "GET", "servicerequestupdates.json?service_request_id="+id, nil).jsonList(t)
		if len(ul) < 1 || !strings.Contains(fmt.Sprint(ul), "chập chờn") || ul[0]["service_request_id"] != id {
			t.Errorf("servicerequestupdates.json: got %v, want the comment on %s", ul, id)
		}
		if r := e.o311(t, "GET", "servicerequestupdates.xml?service_request_id="+id, nil); !strings.Contains(string(r.body), "<service_request_updates>") || !strings.Contains(string(r.body), "chập chờn") {
			t.Errorf("servicerequestupdates.xml: got %s", r.body)
		}
		checkError(t, "unknown format", e.o311(t, "GET", "requests.csv", nil), "json", 404)
	})
}

func containsID(l []map[string]any, id string) bool {
	for _, x := range l {
		if x["service_request_id"] == id {
			return true
		}
	}
	return false
}
