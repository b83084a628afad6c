from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "marketplace.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self):
        from marketplace.core.events import register_event

        from .events import EVENTS

        for event_class in EVENTS:
            register_event(event_class)
