// trothu groups: realtime updates over /events (server-sent events), posting
// in place, unread badges. Every page works without this file.
(function () {
  "use strict";
  var chat = document.getElementById("chat");
  var list = document.getElementById("groups");
  if (!chat && !list) { return; }
  var me = (chat || list).getAttribute("data-me");
  var gid = chat && chat.getAttribute("data-group");
  var thread = chat && chat.getAttribute("data-thread");
  var mod = chat && chat.getAttribute("data-mod") === "1";
  var msgs = document.getElementById("messages");
  var lastEventId = "";
  var lastMsg = chat ? parseInt(chat.getAttribute("data-last") || "0", 10) : 0;
  var es = null;

  function t(key) { return chat ? chat.getAttribute("data-t-" + key) || "" : ""; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }
  function time(ms) {
    var d = new Date(ms), p = function (n) { return (n < 10 ? "0" : "") + n; };
    return p(d.getDate()) + "/" + p(d.getMonth() + 1) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  // render builds a message like the server's template, from event data.
  function render(m) {
    var li = el("li", "msg fresh" + (String(m.author_id) === me ? " mine" : ""));
    li.id = "m-" + m.id;
    li.setAttribute("data-id", m.id);
    var meta = el("div", "meta");
    meta.appendChild(el("strong", "author", m.author_name));
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(el("time", "", time(m.created_at)));
    li.appendChild(meta);
    li.appendChild(el("p", "body", m.body));
    if (m.photo_url) {
      var a = el("a", "photo"); a.href = m.photo_url;
      var img = el("img"); img.src = m.photo_url; img.alt = t("photo");
      if (m.photo_width) { img.width = m.photo_width; img.height = m.photo_height; }
      a.appendChild(img); li.appendChild(a);
    }
    if (m.lat != null && m.lon != null) {
      var loc = el("a", "loc", "📍 " + t("location"));
      loc.href = "https://www.openstreetmap.org/?mlat=" + m.lat + "&mlon=" + m.lon;
      loc.target = "_blank"; loc.rel = "noopener";
      li.appendChild(loc);
    }
    var acts = el("div", "acts");
    if (!thread && !m.reply_to) {
      var r = el("a", "reply", t("reply")); r.href = "/groups/" + m.group_id + "/messages/" + m.id;
      acts.appendChild(r);
    }
    li.appendChild(acts);
    return li;
  }

  function add(m) {
    if (!msgs || document.getElementById("m-" + m.id)) { return; } // once, never twice
    var inThread = thread && String(m.reply_to) === thread;
    if (!(inThread || (!thread && !m.reply_to))) {
      if (!thread && m.reply_to) { bumpReplies(m.reply_to); }
      return;
    }
    var empty = document.getElementById("empty");
    if (empty) { empty.remove(); }
    msgs.appendChild(render(m));
    if (m.id > lastMsg) { lastMsg = m.id; }
    if (String(m.author_id) !== me) { announce(t("new_messages")); markRead(); }
    var li = document.getElementById("m-" + m.id);
    if (li && (String(m.author_id) === me || nearBottom())) { li.scrollIntoView({block: "end"}); }
  }

  function bumpReplies(id) {
    var li = document.getElementById("m-" + id);
    if (!li) { return; }
    var link = li.querySelector("a.reply");
    if (!link) { return; }
    var n = li.querySelector(".replies");
    if (n) { n.textContent = String(parseInt(n.textContent, 10) + 1); return; }
    link.appendChild(document.createTextNode(" ("));
    link.appendChild(el("span", "replies", "1"));
    link.appendChild(document.createTextNode(")"));
  }

  function nearBottom() { return window.innerHeight + window.scrollY >= document.body.scrollHeight - 200; }
  function announce(s) { var l = document.getElementById("live"); if (l) { l.textContent = s; } }

  var readTimer = null;
  function markRead() {
    if (!gid || document.hidden) { return; }
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      fetch("/api/v1/groups/" + gid + "/read", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({last_read_id: lastMsg})});
    }, 800);
  }

  var handlers = {
    message: function (topic, m) {
      if (chat && topic === "group:" + gid) { add(m); return; }
      if (list && String(m.author_id) !== me) { bumpUnread(topic.split(":")[1]); }
    },
    edit: function (topic, m) {
      var li = document.getElementById("m-" + m.id);
      if (!li) { return; }
      var b = li.querySelector(".body"); if (b) { b.textContent = m.body; }
      if (!li.querySelector(".edited")) { li.querySelector(".meta").appendChild(el("span", "edited muted", " " + t("edited"))); }
    },
    "delete": function (topic, d) {
      var li = document.getElementById("m-" + d.id);
      if (!li || mod) { return; }
      var b = li.querySelector(".body"); if (b) { b.textContent = t("deleted"); b.className = "body deleted muted"; }
      ["a.photo", ".reacts", "a.loc", "details.more"].forEach(function (s) { var x = li.querySelector(s); if (x) { x.remove(); } });
    },
    hide: function (topic, d) {
      var li = document.getElementById("m-" + d.id);
      if (!li) { return; }
      if (mod) { li.classList.add("hidden"); return; }
      li.remove();
    },
    unhide: function (topic, m) { handlers.message(topic, m); },
    react: function (topic, d) {
      var li = document.getElementById("m-" + d.id);
      if (!li) { return; }
      li.querySelectorAll("button.react").forEach(function (b) {
        var n = d.reactions[b.getAttribute("data-emoji")] || 0;
        b.querySelector(".n").textContent = n ? String(n) : "";
      });
    },
    pin: function (topic, d) {
      var li = document.getElementById("m-" + d.id);
      if (li) { li.classList.toggle("pinned", d.on); }
    },
    read: function (topic, d) {
      if (list) { setUnread(d.group_id, 0); }
    },
    reset: function () { catchUp(); }
  };

  function bumpUnread(id) {
    var b = list.querySelector('li[data-group="' + id + '"] .unread');
    if (!b) { return; }
    var n = parseInt(b.textContent, 10) || 0;
    setUnread(id, n + 1);
  }
  function setUnread(id, n) {
    var b = list && list.querySelector('li[data-group="' + id + '"] .unread');
    if (!b) { return; }
    b.textContent = n >= 100 ? "99+" : String(n);
    b.classList.toggle("zero", n === 0);
  }

  // catchUp loads what the stream could not replay (another server, a
  // restart): the messages after the newest one shown.
  function catchUp() {
    if (!chat) { if (list) { location.reload(); } return; }
    var q = "/api/v1/groups/" + gid + "/messages?limit=100&after=" + lastMsg + (thread ? "&thread=" + thread : "");
    fetch(q, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : {items: []}; })
      .then(function (d) { d.items.forEach(add); });
  }

  function connect() {
    var url = "/events" + (lastEventId ? "?last_event_id=" + encodeURIComponent(lastEventId) : "");
    es = new EventSource(url);
    Object.keys(handlers).forEach(function (name) {
      es.addEventListener(name, function (e) {
        if (e.lastEventId) { lastEventId = e.lastEventId; }
        var env = JSON.parse(e.data);
        handlers[name](env.topic, env.data);
      });
    });
    es.addEventListener("ready", function (e) { lastEventId = e.lastEventId; });
    es.onerror = function () {
      // The browser retries by itself with Last-Event-ID; when it gives up
      // (the stream was refused) try again from the last event seen.
      if (es.readyState === EventSource.CLOSED) { setTimeout(connect, 3000); }
    };
  }
  window.trothuEvents = {
    drop: function () { if (es) { es.close(); es = null; } },
    reconnect: function () { if (!es) { connect(); } },
    lastEventId: function () { return lastEventId; }
  };
  connect();
  if (chat) { markRead(); }
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { markRead(); } });

  // Post in place (the form still works without script).
  var form = document.getElementById("compose");
  if (form && window.fetch && window.FormData) {
    var share = document.getElementById("share-loc");
    if (share && navigator.geolocation) {
      share.addEventListener("change", function () {
        if (!share.checked) { return; }
        navigator.geolocation.getCurrentPosition(function (pos) {
          document.getElementById("lat").value = pos.coords.latitude.toFixed(6);
          document.getElementById("lon").value = pos.coords.longitude.toFixed(6);
        }, function () { share.checked = false; });
      });
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var send = document.getElementById("send");
      send.disabled = true;
      var data = new FormData(form);
      if (!share || !share.checked) { data.delete("lat"); data.delete("lon"); }
      fetch("/api/v1/groups/" + gid + "/messages", {method: "POST", body: data, credentials: "same-origin"})
        .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, j: j}; }); })
        .then(function (res) {
          send.disabled = false;
          if (!res.ok) { announce(res.j.error ? res.j.error.message : ""); return; }
          form.reset();
          add(res.j);
        }, function () { send.disabled = false; form.submit(); });
    });
  }
})();
