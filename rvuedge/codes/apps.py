from django.apps import AppConfig


class CodesConfig(AppConfig):
    name = "rvuedge.codes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported here: the receivers use models, which exist only once the app registry is ready.
        from rvuedge.fees import signals

        from . import receivers

        signals.data_loaded.connect(receivers.rebuild_search_index, dispatch_uid="codes.rebuild_search_index")
        signals.first_start.connect(receivers.load_content_on_first_start, dispatch_uid="codes.first_start_content")
