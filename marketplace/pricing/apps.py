from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "marketplace.pricing"
    label = "pricing"
    verbose_name = "Pricing"
