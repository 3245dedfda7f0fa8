{% load static %}// Kindred's service worker: shows the notifications she turned on (chat/notifications). A push
// message carries only a neutral line and the page to open, never what anyone wrote.
"use strict";

const ICON = "{% static 'frontend/favicon.svg' %}";

function safePath(value) {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") ? value : "/rooms/";
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const title = typeof data.title === "string" && data.title ? data.title.slice(0, 60) : "New message";
  const body = typeof data.body === "string" ? data.body.slice(0, 120) : "";
  event.waitUntil(
    self.registration.showNotification(title, {
      body,
      tag: typeof data.tag === "string" ? data.tag : "kindred",
      icon: ICON,
      data: { url: safePath(data.url) },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(safePath(event.notification.data && event.notification.data.url), self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (new URL(client.url).pathname === url.pathname && "focus" in client) return client.focus();
      }
      return self.clients.openWindow(url.href);
    }),
  );
});
