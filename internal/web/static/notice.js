// trothu announcements: the live inbox and reach figures (over /events,
// see trothuLive in app.js), print button, and Web Push sign-up (the
// service worker at /sw.js shows the notifications). Pages work without
// this.
(function () {
  "use strict";
  if (!window.trothuLive || !window.fetch) { return; }
  var title = document.title;
  // The tab shows how many notices nobody at home has opened yet.
  function badge(el) {
    var n = el.querySelector("#inbox-unread");
    var k = n ? parseInt(n.textContent, 10) || 0 : 0;
    document.title = (k ? "(" + k + ") " : "") + title;
  }
  window.trothuParts = {};
  ["inbox", "reach"].forEach(function (id) {
    var el = document.getElementById(id);
    if (!el || !el.getAttribute("data-live")) { return; }
    if (id === "inbox") { badge(el); }
    window.trothuParts[id] = window.trothuLive(el, id === "inbox" ? badge : null);
  });
})();
(function () {
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-print]")) { e.preventDefault(); window.print(); }
  });
  var btn = document.getElementById("push-enable");
  var status = document.getElementById("push-status");
  if (!btn || !("serviceWorker" in navigator) || !("PushManager" in window)) return;
  function key(b64) {
    var s = (b64 + "===".slice((b64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(s), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function send(sub) {
    return fetch("/api/v1/push/subscriptions", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(sub.toJSON ? {endpoint: sub.endpoint, keys: sub.toJSON().keys} : sub)
    });
  }
  navigator.serviceWorker.register("/sw.js", {scope: "/"}).then(function (reg) {
    return reg.pushManager.getSubscription().then(function (sub) {
      if (sub) { send(sub); status.textContent = "✓"; return; }
      btn.hidden = false;
      btn.addEventListener("click", function () {
        Notification.requestPermission().then(function (perm) {
          if (perm !== "granted") return;
          return reg.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key(btn.getAttribute("data-vapid"))})
            .then(send).then(function () { btn.hidden = true; status.textContent = "✓"; });
        }).catch(function (err) { status.textContent = String(err); });
      });
    });
  }).catch(function () {});
})();
