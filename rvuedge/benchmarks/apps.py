from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    name = "rvuedge.benchmarks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: services imports models, which exist only once the app registry is ready.
        from rvuedge.codes import hooks as code_hooks
        from rvuedge.logbook import hooks as log_hooks

        from .queries import measured_specialties, volumes_version
        from .services import value_of_missed

        log_hooks.provide_value_of_missed(value_of_missed)
        code_hooks.provide_specialty_shares(measured_specialties, volumes_version)
