// trothu: small progressive enhancements; every page works without them.
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-fill-phone]");
  if (b) {
    var input = document.querySelector("input[name=phone]");
    if (input) { input.value = b.getAttribute("data-fill-phone"); input.focus(); }
    e.preventDefault();
  }
  var c = e.target.closest("[data-confirm]");
  if (c && !window.confirm(c.getAttribute("data-confirm"))) { e.preventDefault(); }
});

// trothuLive keeps a page part fresh over /events (server-sent events). The
// part is an element with an id and:
//   data-live        the URL that renders the part again (the element, by id)
//   data-topics      the topics it listens on, space-separated (?topic=)
//   data-events      the event names that make it reload, space-separated
//   data-last-event  the newest event when the page was rendered: the stream
//                    starts there, so nothing sent in between is missed
//   data-poll        seconds between reloads while there is no stream
// However many events come, the part reloads at most once a second, one
// reload at a time, and not while the page is hidden (once when shown).
// An event may ask for a random delay (data.spread, ms) so that a notice
// to a million homes does not reload every open inbox in the same instant.
// After "reset" (the stream could not resume) it reloads, within 3 s.
// Without EventSource, or while the stream is down, it polls slowly.
// onSwap(el) runs after each reload.
window.trothuLive = function (el, onSwap) {
  "use strict";
  var id = el.id, url = el.getAttribute("data-live");
  var topics = (el.getAttribute("data-topics") || "").split(" ").filter(Boolean);
  var names = (el.getAttribute("data-events") || "").split(" ").filter(Boolean);
  var poll = (parseInt(el.getAttribute("data-poll"), 10) || 30) * 1000;
  var lastEventId = el.getAttribute("data-last-event") || "";
  var es = null, busy = false, again = false, stale = false, last = 0, timer = null, retry = 3000;

  function reload() {
    if (busy) { again = true; return; }
    busy = true; last = Date.now();
    fetch(url, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html;
        var fresh = tpl.content.getElementById(id), cur = document.getElementById(id);
        if (!fresh || !cur) { return; }
        cur.replaceWith(fresh);
        if (onSwap) { onSwap(fresh); }
      })
      .catch(function () {})
      .then(function () { busy = false; if (again) { again = false; schedule(0); } });
  }
  function schedule(spread) {
    if (document.hidden) { stale = true; return; } // once, when the page is looked at again
    if (timer) { return; }
    var wait = Math.max(0, last + 1000 - Date.now()) + Math.random() * (spread || 0);
    timer = setTimeout(function () { timer = null; reload(); }, wait);
  }
  function live() { return es && es.readyState === 1; }

  function connect() {
    var q = topics.map(function (t) { return "topic=" + encodeURIComponent(t); });
    if (lastEventId) { q.push("last_event_id=" + encodeURIComponent(lastEventId)); }
    es = new EventSource("/events" + (q.length ? "?" + q.join("&") : ""));
    function seen(e) { if (e.lastEventId) { lastEventId = e.lastEventId; } }
    names.forEach(function (name) {
      es.addEventListener(name, function (e) {
        seen(e);
        var env = JSON.parse(e.data);
        if (topics.indexOf(env.topic) >= 0) { schedule(env.data && env.data.spread); }
      });
    });
    es.addEventListener("ready", seen);
    // After a server restart every page gets "reset" at once: spread them.
    es.addEventListener("reset", function (e) { seen(e); schedule(3000); });
    es.onopen = function () { retry = 3000; };
    es.onerror = function () {
      // The browser reconnects by itself with Last-Event-ID; when it gives
      // up (the stream was refused), try again later from the last event.
      if (es.readyState !== 2) { return; }
      es = null;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 60000);
      schedule(0); // what happened while the stream was down
    };
  }
  if (window.EventSource) { connect(); }
  setInterval(function () { if (!live() && !document.hidden) { schedule(0); } }, poll);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && (stale || !live())) { stale = false; schedule(0); }
  });
  return {
    reload: function () { schedule(0); },
    drop: function () { if (es) { es.close(); es = null; } },
    reconnect: function () { if (!es) { connect(); } },
    connected: live
  };
};
