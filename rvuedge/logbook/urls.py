from __future__ import annotations

from django.urls import path

from . import views

app_name = "logbook"
urlpatterns = [
    path("", views.entry, name="entry"),
    path("check/", views.check, name="check"),
    path("offline/table.json", views.offline_table, name="offline_table"),
    path("favourites/", views.favourite, name="favourite"),
    path("history/", views.history, name="history"),
    path("bulk/", views.bulk, name="bulk"),
    path("e/<int:pk>/", views.detail, name="detail"),
    path("e/<int:pk>/edit/", views.edit, name="edit"),
    path("e/<int:pk>/delete/", views.delete, name="delete"),
    path("restore/", views.restore, name="restore"),
    path("trash/", views.trash, name="trash"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("preview/", views.preview, name="preview"),
    path("export/", views.export, name="export"),
    path("import/", views.import_start, name="import"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
    path("backup/restore/", views.restore_backup, name="restore_backup"),
    path("cases/", views.cases, name="cases"),
    path("reconcile/", views.reconcile_start, name="reconcile"),
    path("reconcile/<int:pk>/", views.reconcile_detail, name="reconcile_detail"),
    path("reconcile/<int:pk>/differences.csv", views.reconcile_csv, name="reconcile_csv"),
    path("reconcile/<int:pk>/differences.pdf", views.reconcile_pdf, name="reconcile_pdf"),
    path("reconcile/<int:pk>/reasons.csv", views.reconcile_reasons_csv, name="reconcile_reasons_csv"),
    path("reconcile/<int:pk>/delete/", views.reconcile_delete, name="reconcile_delete"),
]
