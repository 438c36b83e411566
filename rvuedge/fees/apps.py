from django.apps import AppConfig


class FeesConfig(AppConfig):
    name = "rvuedge.fees"
    verbose_name = "CMS fee schedule"
    default_auto_field = "django.db.models.BigAutoField"
