from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        # Importing the module connects its receivers; models are loaded by now.
        from webhooks import receivers  # noqa: F401
