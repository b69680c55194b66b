// trothu: "Thông báo về phản ánh" updates live. A request_note event on the
// account's own stream reloads the list part of the first page (and the
// badge in the header) without reloading the page. Without script the page
// is current when opened.
(function () {
  var live = document.getElementById("rn-live");
  if (!live || !window.EventSource || !window.fetch || !window.DOMParser) { return; }
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.pathname + location.search, {credentials: "same-origin"}).then(function (res) { return res.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("rn-live");
      if (fresh) { live.innerHTML = fresh.innerHTML; }
      var badge = document.getElementById("nav-req-notes"), nb = doc.getElementById("nav-req-notes");
      if (badge && nb) { badge.innerHTML = nb.innerHTML; }
    }).catch(function () {}).then(function () {
      busy = false;
      if (again) { again = false; refresh(); }
    });
  }
  var es = new EventSource("/events");
  es.addEventListener("request_note", function () { if (live.getAttribute("data-live")) { refresh(); } });
  es.addEventListener("reset", refresh);
})();
