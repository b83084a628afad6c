from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "marketplace.pricing"
    label = "pricing"
    verbose_name = "Pricing"

    def ready(self):
        from .pipeline import _campaign_snapshot

        _campaign_snapshot()  # registers the campaigns' snapshot and its invalidation on write
