"""The installable app: the web app manifest, the service worker and the favicon, all served from the root.

``/sw.js`` is rendered from ``templates/pwa/sw.js`` with the current static URLs (hashed names in production)
and a version made from their contents: a deploy that changes an asset changes the worker, which then
replaces its caches. Served from the root, its scope is the whole site (no ``Service-Worker-Allowed``
header is needed); ``Cache-Control: no-cache`` makes the browser check it on every visit.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

THEME_COLOR = "#0b6e4f"
BACKGROUND_COLOR = "#f7f9fb"
#: What the worker stores at install, so the entry page works offline from its first offline start.
PRECACHE = ["css/site.css", "css/log.css", "css/offline.css", "js/site.js", "js/pwa.js", "js/log.js",
            "js/htmx.min.js", "js/offline.js", "icons/icon-192.png", "icons/icon-512.png",
            "icons/maskable-512.png"]
ICONS = [
    {"src": "icons/icon-192.png", "sizes": "192x192", "purpose": "any"},
    {"src": "icons/icon-512.png", "sizes": "512x512", "purpose": "any"},
    {"src": "icons/maskable-512.png", "sizes": "512x512", "purpose": "maskable"},
]


def _version(body: str) -> str:
    """A version that changes with the worker's own code and with every precached file's content."""
    digest = hashlib.sha256(body.encode())
    for name in PRECACHE:
        path = finders.find(name)
        if path:
            with open(path, "rb") as fh:
                digest.update(fh.read())
    return digest.hexdigest()[:16]


@require_GET
def service_worker(request):
    ctx = {
        "precache": json.dumps([static(name) for name in PRECACHE] + [reverse("manifest")]),
        "entry": json.dumps(reverse("logbook:entry")),
        "table": json.dumps(reverse("logbook:offline_table")),
        # STATIC_URL, not static(""): the production storage has no manifest entry for "" (a 500 there)
        "static_prefix": json.dumps(settings.STATIC_URL),
        "version": "",
    }
    ctx["version"] = _version(render_to_string("pwa/sw.js", ctx))
    resp = HttpResponse(render_to_string("pwa/sw.js", ctx), content_type="text/javascript; charset=utf-8")
    resp["Cache-Control"] = "no-cache"
    return resp


def manifest_data() -> dict:
    return {
        "id": reverse("logbook:entry"),
        "name": "RVU Edge",
        "short_name": "RVU Edge",
        "description": "Log procedures and see their work RVU credit, online or offline.",
        "start_url": reverse("logbook:entry"),
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": BACKGROUND_COLOR,
        "theme_color": THEME_COLOR,
        "categories": ["medical", "productivity"],
        "icons": [{**icon, "src": static(icon["src"]), "type": "image/png"} for icon in ICONS],
        "shortcuts": [{"name": "Log an encounter", "url": reverse("logbook:entry")},
                      {"name": "Dashboard", "url": reverse("logbook:dashboard")}],
    }


@require_GET
def manifest(request):
    resp = HttpResponse(json.dumps(manifest_data(), indent=1), content_type="application/manifest+json")
    resp["Cache-Control"] = "public, max-age=3600"
    return resp


@require_GET
def favicon(request):
    return HttpResponsePermanentRedirect(static("icons/favicon.ico"))
