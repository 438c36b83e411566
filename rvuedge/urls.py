from __future__ import annotations

from django.contrib import admin
from django.urls import path

from rvuedge.fees import views as fees_views

urlpatterns = [
    path("", fees_views.home, name="home"),
    path("releases.json", fees_views.releases_json, name="releases-json"),
    path("admin/", admin.site.urls),
]
