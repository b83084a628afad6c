from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "marketplace.vendors"
    label = "vendors"
    verbose_name = "Vendors"

    def ready(self):
        from marketplace.core.events import register_event

        from .events import EVENTS

        for event_class in EVENTS:
            register_event(event_class)
