from django.apps import AppConfig


class LogbookConfig(AppConfig):
    name = "rvuedge.logbook"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: models and queries can be imported only once the app registry is ready.
        from rvuedge.accounts import choices

        from . import queries
        from .models import ROLE_LABELS, SURGICAL_ROLES

        choices.register("minimums_set", lambda user: [(name, name) for name in queries.minimums_sets(user)])
        choices.register("surgical_role", lambda user: [(k, ROLE_LABELS[k]) for k in SURGICAL_ROLES])
