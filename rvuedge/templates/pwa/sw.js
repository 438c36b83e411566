/* RVU Edge service worker (served at /sw.js; scope: the whole site). Rendered by rvuedge/pwa.py.
   - static assets: cache first (precached at install, others cached as they are fetched);
   - the log's entry page and the offline code table: network first, the cached copy when offline;
   - signing in or out forgets the cached pages, so one user's page is never shown to the next.
   Everything else goes to the network untouched (the API, the other pages, every POST). */
"use strict";
var VERSION = "{{ version }}";
var STATIC_CACHE = "rvu-static-" + VERSION;
var PAGE_CACHE = "rvu-pages-v1";
var PRECACHE = {{ precache|safe }};
var ENTRY = {{ entry|safe }};
var TABLE = {{ table|safe }};
var STATIC_PREFIX = {{ static_prefix|safe }};
var AUTH_PATHS = ["/accounts/login/", "/accounts/logout/", "/accounts/signup/"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) {
    return cache.addAll(PRECACHE);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf("rvu-") === 0 && n !== STATIC_CACHE && n !== PAGE_CACHE;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () {
    // The cached entry page names the old static files: fetch it again now (when online and signed in).
    return Promise.all([refresh(ENTRY), refresh(TABLE)]).catch(function () { /* offline: keep the old copies */ });
  }).then(function () { return self.clients.claim(); }));
});

function cacheable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

function refresh(url) {
  return fetch(url, { credentials: "same-origin" }).then(function (response) {
    if (cacheable(response)) {
      return caches.open(PAGE_CACHE).then(function (cache) { return cache.put(url, response); });
    }
  });
}

function networkFirst(request, key, store) {
  return fetch(request).then(function (response) {
    if (store && cacheable(response)) {
      var copy = response.clone();
      return caches.open(PAGE_CACHE).then(function (cache) { return cache.put(key, copy); })
        .then(function () { return response; }, function () { return response; });
    }
    return response;
  }).catch(function () {
    return caches.open(PAGE_CACHE).then(function (cache) { return cache.match(key); }).then(function (hit) {
      if (hit) return hit;
      return new Response("<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
        "<title>Offline · RVU Edge</title><p style='font:16px system-ui;margin:2rem'>You are offline, and this " +
        "page was not opened on this device while online. Open <a href='" + ENTRY + "'>the log</a> once " +
        "online to use it offline.</p>", { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  });
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    if (hit) return hit;
    return fetch(request).then(function (response) {
      if (cacheable(response)) {
        var copy = response.clone();
        caches.open(STATIC_CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && AUTH_PATHS.indexOf(url.pathname) !== -1) {
    event.waitUntil(caches.delete(PAGE_CACHE));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.indexOf(STATIC_PREFIX) === 0 || PRECACHE.indexOf(url.pathname) !== -1) {
    event.respondWith(cacheFirst(request));
  } else if (url.pathname === ENTRY && request.mode === "navigate") {
    // Only the plain entry page is kept (not ?logged=… with its one-off banner); any /log/?… falls back to it.
    event.respondWith(networkFirst(request, ENTRY, !url.search));
  } else if (url.pathname === TABLE) {
    event.respondWith(networkFirst(request, TABLE, true));
  }
});
