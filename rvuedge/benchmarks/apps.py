from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    name = "rvuedge.benchmarks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: services imports models, which exist only once the app registry is ready.
        from rvuedge.logbook import hooks

        from .services import value_of_missed

        hooks.provide_value_of_missed(value_of_missed)
