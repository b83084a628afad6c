from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "marketplace.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from marketplace.core.events import subscribe

        from .services import _subscriptions_snapshot, enqueue_deliveries

        subscribe(enqueue_deliveries)
        _subscriptions_snapshot()  # invalidation on write, in every process
