from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "marketplace.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        from marketplace.core.events import register_event_type

        for name, description in {
            "product_created": "A product was created (payload: product_id, vendor_id).",
            "product_updated": "A product, its variants, prices or stock changed (payload: product_id, vendor_id).",
            "product_deleted": "A product was deleted (payload: product_id, vendor_id).",
        }.items():
            register_event_type(name, description)
        from .cache import connect_signals

        connect_signals()
