from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "marketplace.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        from marketplace.core.events import register_event

        from .events import EVENTS

        for event_class in EVENTS:
            register_event(event_class)
        from .cache import connect_signals

        connect_signals()
