// trothu requests: fill the latitude and longitude from the phone's GPS.
// The form works without it (coordinates can be typed, or a unit chosen).
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-gps]");
  if (!b || !navigator.geolocation) { return; }
  var status = document.getElementById("r-gps-status");
  if (status) { status.textContent = "…"; }
  navigator.geolocation.getCurrentPosition(function (pos) {
    document.getElementById("r-lat").value = pos.coords.latitude.toFixed(6);
    document.getElementById("r-lon").value = pos.coords.longitude.toFixed(6);
    // The map's pin (map.js) follows the fields.
    document.getElementById("r-lon").dispatchEvent(new Event("change"));
    if (status) { status.textContent = "✓ ±" + Math.round(pos.coords.accuracy) + " m"; }
  }, function (err) {
    if (status) { status.textContent = err.message; }
  }, { enableHighAccuracy: true, timeout: 15000 });
});
