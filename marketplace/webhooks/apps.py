from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "marketplace.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from marketplace.core.events import subscribe

        from .services import enqueue_deliveries

        subscribe(enqueue_deliveries)
