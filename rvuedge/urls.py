from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from rvuedge import pwa
from rvuedge.api import api
from rvuedge.fees import views as fees_views

handler404 = "rvuedge.errors.page_not_found"

urlpatterns = [
    # issue 17: installable, offline-first log (service worker at the root so its scope is the whole site)
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("favicon.ico", pwa.favicon, name="favicon"),
    path("releases.json", fees_views.releases_json, name="releases-json"),
    path("data/", fees_views.data_page, name="data"),
    path("data.json", fees_views.data_page, {"fmt": "json"}, name="data-json"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("accounts/", include("rvuedge.accounts.urls")),
    path("log/", include("rvuedge.logbook.urls")),
    path("benchmarks/", include("rvuedge.benchmarks.urls")),
    path("", include("rvuedge.codes.urls")),
]
