// trothu groups: realtime updates over /events (server-sent events), posting
// in place, unread badges, the live moderation queue. Every page works
// without this file. Messages that arrive are fetched from the server as
// the page's own list items (/groups/{id}/fragment), so a live message has
// the same buttons and menu as one rendered with the page.
(function () {
  "use strict";
  var chat = document.getElementById("chat");
  var list = document.getElementById("groups");
  var modq = document.getElementById("modq");
  var root = chat || list || modq;
  if (!root) { return; }
  var me = root.getAttribute("data-me");
  var gid = (chat || modq) ? (chat || modq).getAttribute("data-group") : null;
  var thread = chat ? chat.getAttribute("data-thread") : "";
  var mod = chat && chat.getAttribute("data-mod") === "1";
  var msgs = document.getElementById("messages");
  var lastEventId = "";
  var lastMsg = chat ? parseInt(chat.getAttribute("data-last") || "0", 10) : 0;
  var es = null;
  var loading = {};

  function t(key) { return root.getAttribute("data-t-" + key) || ""; }
  function announce(s) { var l = document.getElementById("live"); if (l) { l.textContent = s; } }
  function nearBottom() { return window.innerHeight + window.scrollY >= document.body.scrollHeight - 200; }
  function idOf(li) { return parseInt(li.getAttribute("data-id"), 10); }

  // fragment fetches messages rendered by the server for this page.
  function fragment(q) {
    var url = "/groups/" + gid + "/fragment?" + q + (thread ? "&thread=" + thread : "");
    return fetch(url, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html;
        return Array.prototype.slice.call(tpl.content.children);
      }, function () { return []; });
  }

  // place puts a rendered message where it belongs: over its old copy, or
  // in id order in the list (never twice); replaceOnly leaves new ones out.
  function place(li, replaceOnly) {
    var old = document.getElementById(li.id);
    if (old) { old.replaceWith(li); return false; }
    if (replaceOnly || !msgs) { return false; }
    var rt = li.getAttribute("data-reply-to") || "";
    if (thread ? rt !== thread : rt !== "") { return false; }
    var id = idOf(li), items = msgs.querySelectorAll(":scope > li.msg"), before = null;
    for (var i = 0; i < items.length; i++) {
      if (idOf(items[i]) > id) { before = items[i]; break; }
    }
    if (before && before === items[0] && document.getElementById("older")) { return false; } // older than this page
    li.classList.add("fresh");
    msgs.insertBefore(li, before);
    var empty = document.getElementById("empty");
    if (empty) { empty.remove(); }
    if (id > lastMsg) { lastMsg = id; }
    return true;
  }

  // show fetches message id and places it. Fetches run one after another,
  // so messages are placed in the order their events came.
  var queue = Promise.resolve();
  function show(id, replaceOnly) {
    if (loading[id]) { return; }
    if (!replaceOnly && document.getElementById("m-" + id)) { return; }
    loading[id] = true;
    queue = queue.then(function () { return fragment("mid=" + id); }).then(function (items) {
      delete loading[id];
      items.forEach(function (li) {
        if (!place(li, replaceOnly)) { return; }
        var own = li.getAttribute("data-author") === me;
        if (!own) { announce(t("new")); markRead(); }
        if (own || nearBottom()) { li.scrollIntoView({block: "end"}); }
      });
    }).catch(function () { delete loading[id]; });
  }

  function bumpReplies(id) {
    var li = document.getElementById("m-" + id);
    var link = li && li.querySelector("a.reply");
    if (!link) { return; }
    var n = li.querySelector(".replies");
    if (n) { n.textContent = String(parseInt(n.textContent, 10) + 1); return; }
    link.appendChild(document.createTextNode(" ("));
    var s = document.createElement("span");
    s.className = "replies"; s.textContent = "1";
    link.appendChild(s);
    link.appendChild(document.createTextNode(")"));
  }

  var readTimer = null;
  function markRead() {
    if (!chat || document.hidden) { return; }
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      fetch("/api/v1/groups/" + gid + "/read", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({last_read_id: lastMsg})});
    }, 800);
  }

  // refreshQueue reloads the moderation queue's list in place.
  var queueTimer = null;
  function refreshQueue() {
    clearTimeout(queueTimer);
    queueTimer = setTimeout(function () {
      fetch(location.pathname, {credentials: "same-origin"}).then(function (r) { return r.text(); }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("queue"), cur = document.getElementById("queue");
        if (fresh && cur) { cur.replaceWith(fresh); }
      });
    }, 200);
  }

  function inChat(topic) { return chat && topic === "group:" + gid; }

  var handlers = {
    message: function (topic, m) {
      if (inChat(topic)) {
        if (!thread && m.reply_to) { bumpReplies(m.reply_to); return; }
        if (thread && String(m.reply_to) !== thread) { return; }
        show(m.id, false);
        return;
      }
      if (list && String(m.author_id) !== me) { bumpUnread(topic.split(":")[1]); }
    },
    edit: function (topic, m) { if (inChat(topic)) { show(m.id, true); } },
    "delete": function (topic, d) { if (inChat(topic)) { show(d.id, true); } },
    hide: function (topic, d) {
      if (modq) { refreshQueue(); return; }
      if (!inChat(topic)) { return; }
      if (mod) { show(d.id, true); return; }
      var li = document.getElementById("m-" + d.id);
      if (li) { li.remove(); }
    },
    unhide: function (topic, m) {
      if (!inChat(topic)) { return; }
      if (thread ? String(m.reply_to) !== thread : m.reply_to) { return; }
      show(m.id, !!document.getElementById("m-" + m.id));
    },
    react: function (topic, d) {
      var li = inChat(topic) && document.getElementById("m-" + d.id);
      var form = li && li.querySelector("form.reacts");
      if (!form) { return; }
      Object.keys(d.reactions).forEach(function (e) {
        if (form.querySelector('button[data-emoji="' + e + '"]')) { return; }
        var b = document.createElement("button");
        b.type = "submit"; b.name = "emoji"; b.value = e; b.className = "react"; b.setAttribute("data-emoji", e);
        b.appendChild(document.createTextNode(e + " "));
        var n = document.createElement("span"); n.className = "n"; b.appendChild(n);
        form.appendChild(b);
      });
      var pick = form.querySelector("details.pick");
      form.querySelectorAll("button.react").forEach(function (b) {
        var n = d.reactions[b.getAttribute("data-emoji")] || 0;
        b.querySelector(".n").textContent = n ? String(n) : "";
        if (n && pick && pick.contains(b)) { form.insertBefore(b, pick); } // shown beside the others
      });
    },
    pin: function (topic, d) {
      var li = inChat(topic) && document.getElementById("m-" + d.id);
      if (li) { li.classList.toggle("pinned", d.on); }
    },
    seen: function (topic, d) {
      if (!chat || topic !== "group:" + gid + ":mod") { return; }
      document.querySelectorAll("li.msg").forEach(function (li) {
        var id = idOf(li), s = li.querySelector(".seen");
        if (!s || id <= d.from || id > d.upto || li.getAttribute("data-author") === String(d.account_id)) { return; }
        var n = (parseInt(s.getAttribute("data-n"), 10) || 0) + 1;
        s.setAttribute("data-n", String(n));
        s.textContent = t("seen").replace("%d", String(n));
      });
    },
    report: function () { if (modq) { refreshQueue(); } },
    report_closed: function () { if (modq) { refreshQueue(); } },
    mention: function (topic, d) { announce(t("mention").replace("%s", d.from)); },
    read: function (topic, d) { if (list) { setUnread(d.group_id, 0); } },
    reset: function () { catchUp(); }
  };

  function bumpUnread(id) {
    var b = list.querySelector('li[data-group="' + id + '"] .unread');
    if (b) { setUnread(id, (parseInt(b.textContent, 10) || 0) + 1); }
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
    if (modq) { refreshQueue(); return; }
    if (!chat) { location.reload(); return; }
    queue = queue.then(function () { return fragment("after=" + lastMsg); })
      .then(function (items) { items.forEach(function (li) { place(li, false); }); }).catch(function () {});
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

  if (!chat || !window.fetch || !window.FormData) { return; }

  // Reactions in place: a second press takes one's reaction back.
  document.addEventListener("submit", function (e) {
    var form = e.target, b = e.submitter;
    if (!form.classList || !form.classList.contains("reacts") || !b || !b.getAttribute("data-emoji")) { return; }
    e.preventDefault();
    var li = form.closest("li.msg"), on = !b.classList.contains("on");
    fetch("/api/v1/groups/" + gid + "/messages/" + li.getAttribute("data-id") + "/reactions", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({emoji: b.getAttribute("data-emoji"), on: on})})
      .then(function (r) { if (r.ok) { b.classList.toggle("on", on); } });
    var pick = b.closest("details.pick");
    if (pick) { pick.open = false; }
  });

  // mentions completes "@name" in the composer: what follows the "@" before
  // the caret (up to three words) is looked up among the group's members;
  // a tap (or Enter on the highlighted one) writes the full name.
  function mentions(box, ul) {
    if (!box || !ul) { return; }
    var timer = null, asked = "", pick = -1, at = -1;
    function close() { ul.hidden = true; ul.innerHTML = ""; pick = -1; box.setAttribute("aria-expanded", "false"); }
    function query() {
      var before = box.value.slice(0, box.selectionStart);
      var i = before.lastIndexOf("@");
      if (i < 0 || (i > 0 && /[\p{L}\p{N}]/u.test(before.charAt(i - 1)))) { return null; }
      var q = before.slice(i + 1);
      if (!q.trim() || /\n/.test(q) || q.split(/\s+/).length > 3 || q.length > 40) { return null; }
      at = i;
      return q;
    }
    function choose(li) {
      var name = li.getAttribute("data-name");
      var caret = box.selectionStart;
      box.value = box.value.slice(0, at) + "@" + name + " " + box.value.slice(caret);
      var pos = at + name.length + 2;
      box.setSelectionRange(pos, pos);
      close();
      box.focus();
    }
    function mark(n) {
      var items = ul.querySelectorAll("li");
      if (!items.length) { return; }
      pick = (n + items.length) % items.length;
      for (var i = 0; i < items.length; i++) { items[i].setAttribute("aria-selected", i === pick ? "true" : "false"); }
      box.setAttribute("aria-activedescendant", items[pick].id);
    }
    box.addEventListener("input", function () {
      clearTimeout(timer);
      var q = query();
      if (q === null) { close(); return; }
      timer = setTimeout(function () {
        asked = q;
        fetch("/api/v1/groups/" + gid + "/mentions?q=" + encodeURIComponent(q), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : {items: []}; })
          .then(function (j) {
            if (asked !== q) { return; } // a newer query is on its way
            ul.innerHTML = "";
            (j.items || []).forEach(function (m, n) {
              var li = document.createElement("li");
              li.id = "mention-" + n;
              li.setAttribute("role", "option");
              li.setAttribute("data-name", m.name);
              li.textContent = "@" + m.name;
              li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(li); });
              ul.appendChild(li);
            });
            ul.hidden = !ul.children.length;
            box.setAttribute("aria-expanded", ul.hidden ? "false" : "true");
            pick = -1;
          }, close);
      }, 150);
    });
    box.addEventListener("keydown", function (e) {
      if (ul.hidden) { return; }
      if (e.key === "ArrowDown") { e.preventDefault(); mark(pick + 1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); mark(pick - 1); }
      else if (e.key === "Enter" && pick >= 0) { e.preventDefault(); choose(ul.children[pick]); }
      else if (e.key === "Escape") { close(); }
    });
    box.addEventListener("blur", function () { setTimeout(close, 200); });
  }

  // Post in place (the form still works without script).
  var form = document.getElementById("compose");
  if (!form) { return; }
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
  mentions(document.getElementById("body"), document.getElementById("mention-list"));
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
        show(res.j.id, false);
      }, function () { send.disabled = false; form.submit(); });
  });
})();
