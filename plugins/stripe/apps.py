from pydantic import BaseModel, SecretStr

from marketplace.plugins import PluginAppConfig


class StripeSettings(BaseModel):
    """Empty values fall back to the STRIPE_* environment settings."""

    api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    api_base: str | None = None
    statement_descriptor: str | None = None


class StripeConfig(PluginAppConfig):
    name = "plugins.stripe"
    label = "stripe_gateway"
    plugin_name = "stripe"
    plugin_description = ("Stripe payments: PaymentIntents, manual capture, refunds, signed webhooks; Stripe Billing "
                          "for subscriptions (the SUBSCRIPTIONS capability).")
    settings_schema = StripeSettings
