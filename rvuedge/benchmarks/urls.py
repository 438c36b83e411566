from __future__ import annotations

from django.urls import path

from . import views

app_name = "benchmarks"
urlpatterns = [
    path("", views.home, name="home"),
    path("sources/<int:source_id>/", views.source_detail, name="source"),
    path("contracts/", views.contract_list, name="contracts"),
    path("contracts/new/", views.contract_new, name="contract_new"),
    path("contracts/compare/", views.contract_compare, name="compare"),
    path("contracts/<int:contract_id>/", views.contract_detail, name="contract"),
    path("contracts/<int:contract_id>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:contract_id>/delete/", views.contract_delete, name="contract_delete"),
]
