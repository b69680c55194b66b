// trothu service worker: shows Web Push announcements and opens them.
self.addEventListener("push", function (event) {
  var m = {title: "trothu", body: "", url: "/notices"};
  try { if (event.data) m = Object.assign(m, event.data.json()); } catch (e) {}
  event.waitUntil(self.registration.showNotification(m.title, {
    body: m.body, data: {url: m.url}, tag: m.url, renotify: !!m.urgent, requireInteraction: !!m.urgent, lang: "vi"
  }));
});
self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || "/notices";
  event.waitUntil(self.clients.matchAll({type: "window", includeUncontrolled: true}).then(function (list) {
    for (var i = 0; i < list.length; i++) {
      if (list[i].url.indexOf(url) >= 0 && "focus" in list[i]) return list[i].focus();
    }
    return self.clients.openWindow(url);
  }));
});
