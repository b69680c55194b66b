package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/trothu/trothu/internal/db"
)

// TestRequestMapInBrowser: a visitor opens the public map of the demo
// ward and sees one marker per public request with a location, the same
// count as the markers API, over the ward's outline (no tile server);
// filtering by type redraws the markers to the filtered count, and a
// marker's popup links to its request. On the intake form a resident taps
// the map: the pin fills the latitude and longitude, the live hint and the
// preview both route to Bến Thành.
func TestRequestMapInBrowser(t *testing.T) {
	for _, engine := range []db.Dialect{db.SQLite, db.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			srv := startDemo(t, engine)
			base := srv.URL
			var units struct {
				Items []struct {
					ID    int64  `json:"id"`
					Level string `json:"level"`
				} `json:"items"`
			}
			apiJSON(t, "GET", base+"/api/v1/units/resolve?code=26743", "", nil, &units)
			var ward int64
			for _, u := range units.Items {
				if u.Level == "commune" {
					ward = u.ID
				}
			}
			if ward == 0 {
				t.Fatalf("resolve 26743: got %+v, want the demo ward", units.Items)
			}
			apiCount := func(query string) int {
				var m struct {
					Items []struct {
						Lat float64 `json:"lat"`
					} `json:"items"`
				}
				apiJSON(t, "GET", fmt.Sprintf("%s/api/v1/requests/map?unit_id=%d%s", base, ward, query), "", nil, &m)
				return len(m.Items)
			}
			markers := `document.querySelectorAll("#map path.req-marker").length`

			visitor := browser(t)
			do(t, visitor, "open the map",
				chromedp.Navigate(fmt.Sprintf("%s/requests?unit_id=%d", base, ward)),
				chromedp.Click("#map-link"),
				chromedp.WaitVisible(`#map[data-ready="1"]`),
			)
			all, want := get(t, visitor, "markers", chromedp.Evaluate[int](markers)), apiCount("")
			if all == 0 || all != want {
				t.Fatalf("map of the ward: got %d markers, want %d (the API's count), more than none", all, want)
			}
			if paths := get(t, visitor, "outline", chromedp.Evaluate[int](`document.querySelectorAll("#map path").length`)); paths <= all {
				t.Errorf("map: got %d paths for %d markers, want the ward's outline too", paths, all)
			}
			if c := get(t, visitor, "count text", chromedp.Text("#map-count")); !strings.HasPrefix(c, strconv.Itoa(all)+" ") {
				t.Errorf("count text: got %q, want it to start with %d", c, all)
			}

			// Mark this page's map, so the wait below is for the next page's.
			get(t, visitor, "mark the map", chromedp.Evaluate[string](`document.getElementById("map").dataset.ready = "before"`))
			do(t, visitor, "filter by type",
				chromedp.SetValue("#m-type", "ha_tang"),
				chromedp.Click("#m-filter"),
				chromedp.WaitVisible(`#map[data-ready="1"]`),
			)
			if loc := get(t, visitor, "filtered URL", chromedp.Location()); !strings.Contains(loc, "type=ha_tang") {
				t.Fatalf("after filtering: at %s, want type=ha_tang in the URL", loc)
			}
			infra, wantInfra := get(t, visitor, "filtered markers", chromedp.Evaluate[int](markers)), apiCount("&type=ha_tang")
			if infra != wantInfra || infra == 0 || infra >= all {
				t.Fatalf("type ha_tang: got %d markers, want %d (the API's), fewer than all %d", infra, wantInfra, all)
			}
			get(t, visitor, "click a marker", chromedp.Evaluate[bool](`document.querySelector("#map path.req-marker").dispatchEvent(new MouseEvent("click", {bubbles: true}))`))
			do(t, visitor, "popup", chromedp.WaitVisible(".leaflet-popup-content a"))
			popup := get(t, visitor, "popup", chromedp.Text(".leaflet-popup-content"))
			href := get(t, visitor, "popup link", chromedp.Evaluate[string](`document.querySelector(".leaflet-popup-content a").getAttribute("href")`))
			if !strings.HasPrefix(href, "/requests/") || !strings.Contains(popup, "Hạ tầng") {
				t.Errorf("popup: got %q linking to %q, want an infrastructure request and its page", popup, href)
			}

			resident := browser(t)
			signInAs(t, resident, base, "0900000010")
			do(t, resident, "intake form with a map",
				chromedp.Navigate(base+"/requests/new?type=ha_tang"),
				chromedp.WaitVisible(`#r-map[data-ready="1"]`),
				// The map starts on the resident's ward: wait for its outline.
				chromedp.WaitVisible("#r-map path"),
			)
			if v := get(t, resident, "lat before", chromedp.Value("#r-lat")); v != "" {
				t.Fatalf("latitude before a tap: got %q, want empty", v)
			}
			rect := get(t, resident, "map box", chromedp.Evaluate[[]float64](`(function(){var r=document.getElementById("r-map").getBoundingClientRect();return [r.left+r.width/2, r.top+r.height/2];})()`))
			do(t, resident, "tap the map",
				chromedp.MouseClickXY(rect[0], rect[1]),
				chromedp.WaitVisible(`#r-map[data-picked]`),
			)
			lat, lon := get(t, resident, "lat", chromedp.Value("#r-lat")), get(t, resident, "lon", chromedp.Value("#r-lon"))
			la, err1 := strconv.ParseFloat(lat, 64)
			lo, err2 := strconv.ParseFloat(lon, 64)
			if err1 != nil || err2 != nil || la < 10.76 || la > 10.78 || lo < 106.68 || lo > 106.71 {
				t.Fatalf("after a tap: got %q, %q, want a point in Bến Thành", lat, lon)
			}
			get(t, resident, "live hint", chromedp.Poll[bool](`document.getElementById("r-map-route").textContent.indexOf("Bến Thành") >= 0`))
			do(t, resident, "preview",
				chromedp.SendKeys("#r-desc", "Đèn đường ở đây tắt mấy hôm nay, buổi tối rất tối."),
				chromedp.SetValue("#attr-kind", "light"),
				chromedp.Click("#r-preview"),
				chromedp.WaitVisible("#routing"),
			)
			if r := get(t, resident, "routing", chromedp.Text("#routing")); !strings.Contains(r, "Bến Thành") {
				t.Fatalf("routing preview: got %q, want Bến Thành", r)
			}
			// The preview keeps the point, and the pin stands on it again.
			if v := get(t, resident, "lat kept", chromedp.Value("#r-lat")); v != lat {
				t.Errorf("preview: latitude got %q, want %q", v, lat)
			}
			do(t, resident, "pin after preview", chromedp.WaitVisible("#r-map .pin"))
		})
	}
}
