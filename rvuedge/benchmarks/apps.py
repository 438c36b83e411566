from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    name = "rvuedge.benchmarks"
    default_auto_field = "django.db.models.BigAutoField"
