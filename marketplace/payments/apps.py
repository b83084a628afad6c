from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "marketplace.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self):
        from marketplace.core.events import register_event

        from .events import EVENTS

        for event_class in EVENTS:
            register_event(event_class)
