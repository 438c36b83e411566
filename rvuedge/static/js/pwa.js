/* Registers the service worker (/sw.js, scope: the whole site): the log's entry page and the static files
   then work offline, and browsers offer to install RVU Edge as an app (manifest.webmanifest). */
(function () {
  "use strict";
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* the site works without it */ });
  });
})();
