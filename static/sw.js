/* The field app's service worker: the app's files, and the pages of the day as last seen
   online, for stairwells without signal. Pages: network first, the cached copy offline.
   Only GET answers that are 200 and not redirects are kept; nothing is ever sent from here
   (the page sends its own queue: Background Sync exists only in Chromium). */
"use strict";

var STATIC = "proactive-static-v1";
var PAGES = "proactive-pages";
var FILES = ["/static/app.css", "/static/app.js", "/static/manifest.webmanifest"];
var KEPT = /^\/(day|tasks\/\d+)$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC).then(function (cache) { return cache.addAll(FILES); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

function keep(cache, url) {
  return fetch(url, { credentials: "same-origin" }).then(function (response) {
    if (response.ok && !response.redirected) { return cache.put(url, response); }
  });
}

/* The page names what to keep (the day, tomorrow, each visit); only pages of the app. */
self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.keep) || [];
  event.waitUntil(caches.open(PAGES).then(function (cache) {
    return Promise.all(urls.filter(function (u) { return KEPT.test(new URL(u, self.location.origin).pathname); }).map(function (u) {
      return keep(cache, u).catch(function () {});
    }));
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(fetch(request).then(function (response) {
      var copy = response.clone();
      if (response.ok) { caches.open(STATIC).then(function (cache) { cache.put(request, copy); }); }
      return response;
    }).catch(function () { return caches.match(request); }));
    return;
  }
  if (!KEPT.test(url.pathname)) { return; }
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request).then(function (hit) {
      return hit || new Response("<!doctype html><meta charset=utf-8><title>离线</title><p>当前离线，此页面尚未保存在本机。", { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  }));
});
