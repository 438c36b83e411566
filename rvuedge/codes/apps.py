from django.apps import AppConfig


class CodesConfig(AppConfig):
    name = "rvuedge.codes"
    default_auto_field = "django.db.models.BigAutoField"
