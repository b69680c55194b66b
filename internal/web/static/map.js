// trothu maps, on Leaflet (embedded, loaded only by the pages with a map).
// The base layer is our own: the outline of the ward, from
// /api/v1/units/{id}/boundary; an operator may add a tile layer
// (TROTHU_MAP_TILES). Two maps: the public map of requests (#map) and the
// pin on the intake form (#r-map), which writes the latitude and longitude
// fields the form has without script.
(function () {
  "use strict";
  if (!window.L) { return; }

  // The API answers in the page's language (it would follow the browser's).
  var headers = { Accept: "application/json", "Accept-Language": document.documentElement.lang || "vi" };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: headers }).then(function (r) {
      if (!r.ok) { throw new Error(url + ": " + r.status); }
      return r.json();
    });
  }

  var settingsP = null;
  function settings() {
    if (!settingsP) { settingsP = getJSON("/api/v1/map/settings").catch(function () { return {}; }); }
    return settingsP;
  }

  function baseMap(el, st) {
    var map = L.map(el, { zoomSnap: 0.5 }).setView([16.0, 106.5], 5);
    map.attributionControl.setPrefix("Leaflet");
    if (st.tiles) {
      // Leaflet takes attribution as HTML; ours is plain text.
      var credit = document.createElement("span");
      credit.textContent = st.attribution || "";
      L.tileLayer(st.tiles, { attribution: credit.innerHTML, maxZoom: 19 }).addTo(map);
    }
    return map;
  }

  var outlines = {};
  // outline draws a unit's ward once per map and resolves to its layer.
  function outline(map, unitID) {
    if (!unitID || unitID === "0") { return Promise.resolve(null); }
    var key = String(unitID);
    if (!outlines[key]) {
      outlines[key] = getJSON("/api/v1/units/" + key + "/boundary").then(function (f) {
        var l = L.geoJSON(f, { interactive: false, style: { color: "#1b5e20", weight: 2, fillColor: "#66bb6a", fillOpacity: 0.06 } }).addTo(map);
        l.bringToBack(); // under the markers
        return l;
      }).catch(function () { return null; });
    }
    return outlines[key];
  }

  function fmt(t, n) { return (t || "").replace("{n}", n); }

  // The public map of requests.
  function publicMap(el) {
    settings().then(function (st) {
      var map = baseMap(el, st);
      var count = document.getElementById("map-count");
      var d = el.dataset;
      getJSON(d.markers).then(function (data) {
        var items = data.items || [];
        var group = L.featureGroup();
        items.forEach(function (m) {
          var colour = m.open ? "#b3261e" : "#1e7a3c";
          var mk = L.circleMarker([m.lat, m.lon], {
            radius: 10, color: "#fff", weight: 2, fillColor: colour, fillOpacity: 0.9,
            dashArray: m.location_blurred ? "4 3" : null, className: "req-marker"
          });
          var box = document.createElement("div");
          var title = document.createElement("strong");
          title.textContent = "#" + m.id + " " + (data.types[m.type] || m.type);
          box.appendChild(title);
          box.appendChild(document.createElement("br"));
          box.appendChild(document.createTextNode((data.statuses[m.status] || m.status) + " · " + new Date(m.created_at).toLocaleDateString(document.documentElement.lang === "en" ? "en-GB" : "vi-VN")));
          if (m.location_blurred) {
            box.appendChild(document.createElement("br"));
            var note = document.createElement("span");
            note.className = "muted";
            note.textContent = d.tBlurred;
            box.appendChild(note);
          }
          box.appendChild(document.createElement("br"));
          var a = document.createElement("a");
          a.href = "/requests/" + m.id;
          a.textContent = d.tView;
          box.appendChild(a);
          mk.bindPopup(box);
          mk.addTo(group);
        });
        group.addTo(map);
        el.dataset.count = String(items.length);
        if (count) { count.textContent = items.length ? fmt(d.tCount, items.length) + (data.more ? " " + d.tMore : "") : d.tNone; }
        var wards = (data.wards || []).slice(0, 10).map(function (w) { return w.id; });
        if (d.unit && d.unit !== "0" && wards.indexOf(Number(d.unit)) < 0) { wards.unshift(d.unit); }
        var drawn = wards.map(function (id) { return outline(map, id); });
        if (items.length) {
          map.fitBounds(group.getBounds(), { padding: [24, 24], maxZoom: 17 });
        }
        // With a few wards, show them whole: the markers are inside.
        Promise.all(drawn.length <= 3 ? drawn : []).then(function (ls) {
          var b = items.length ? group.getBounds() : null;
          ls.forEach(function (l) { if (l) { b = b ? b.extend(l.getBounds()) : l.getBounds(); } });
          if (b && ls.length) { map.fitBounds(b, { padding: [8, 8], maxZoom: 17 }); }
          el.dataset.ready = "1";
        });
      }).catch(function (e) {
        if (count) { count.textContent = e.message; }
        el.dataset.ready = "1";
      });
    });
  }

  // The pin on the intake form.
  function pickMap(el) {
    var lat = document.getElementById("r-lat"), lon = document.getElementById("r-lon");
    var hint = document.getElementById("r-map-route");
    var typeInput = document.querySelector('#request-form input[name="type"]');
    el.hidden = false;
    var help = document.getElementById("r-map-help");
    if (help) { help.hidden = false; }
    settings().then(function (st) {
      var map = baseMap(el, st);
      var pin = null;
      var icon = L.divIcon({ className: "", html: '<div class="pin"></div>', iconSize: [0, 0] });
      var routeSeq = 0;
      function route() {
        if (!hint || !typeInput || !lat.value || !lon.value) { return; }
        var seq = ++routeSeq;
        var q = "type=" + encodeURIComponent(typeInput.value) + "&lat=" + encodeURIComponent(lat.value) + "&lon=" + encodeURIComponent(lon.value);
        fetch("/api/v1/requests/route?" + q, { credentials: "same-origin", headers: headers }).then(function (r) {
          return r.json().then(function (j) { return { ok: r.ok, j: j }; });
        }).then(function (res) {
          if (seq !== routeSeq) { return; }
          if (res.ok) {
            hint.textContent = el.dataset.tRoute + " " + res.j.agency + " · " + res.j.unit_name;
            outline(map, res.j.ward_id);
          } else {
            hint.textContent = (res.j.error && res.j.error.message) || res.j.message || "";
          }
        }).catch(function () {});
      }
      function place(latlng, pan) {
        if (!pin) {
          pin = L.marker(latlng, { icon: icon, draggable: true, keyboard: true, title: el.dataset.tPin }).addTo(map);
          pin.on("dragend", function () { write(pin.getLatLng()); });
        } else {
          pin.setLatLng(latlng);
        }
        if (pan) { map.setView(latlng, Math.max(map.getZoom(), 17)); }
      }
      function write(ll) {
        lat.value = ll.lat.toFixed(6);
        lon.value = ll.lng.toFixed(6);
        el.dataset.picked = lat.value + "," + lon.value;
        route();
      }
      function fromFields(pan) {
        var a = parseFloat(lat.value), b = parseFloat(lon.value);
        if (isFinite(a) && isFinite(b) && Math.abs(a) <= 90 && Math.abs(b) <= 180) {
          place([a, b], pan);
          route();
          return true;
        }
        return false;
      }
      map.on("click", function (e) { place(e.latlng, false); write(e.latlng); });
      lat.addEventListener("change", function () { fromFields(true); });
      lon.addEventListener("change", function () { fromFields(true); });
      if (!fromFields(true)) {
        outline(map, st.home_unit_id).then(function (l) {
          if (l) { map.fitBounds(l.getBounds()); }
        });
      }
      el.dataset.ready = "1";
    });
  }

  var pub = document.getElementById("map");
  if (pub && pub.dataset.markers) { publicMap(pub); }
  var pick = document.getElementById("r-map");
  if (pick) { pickMap(pick); }
})();
