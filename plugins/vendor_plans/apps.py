from typing import Literal

from pydantic import BaseModel, Field, field_validator

from marketplace.plugins import PluginAppConfig


class VendorPlansSettings(BaseModel):
    """Platform-wide settings of vendor plans (`pluginUpdate(name: "vendor_plans", ...)`)."""

    require_plan: bool = Field(
        False, description="Vendors that never subscribed are SUSPENDED (storefront hidden) instead of keeping the "
                           "engine's defaults. Off by default so that turning the plugin on hides nobody; the demo "
                           "turns it on.")
    gateway: str = Field("stripe", description="The payment gateway (with the SUBSCRIPTIONS capability) that bills.")
    grace_days: int = Field(14, ge=0, le=90, description="Days of GRACE (full access) after an invoice's first "
                                                        "failed payment.")
    quota_grace_days: int = Field(14, ge=0, le=90, description="Days a vendor over its product quota has to choose "
                                                              "which products stay published; then the newest above "
                                                              "the limit are unpublished.")
    reminder_days: list[int] = Field([30, 7, 1], description="Reminders go this many days before a trial ends and "
                                                            "before each renewal (each once).")
    wallet_methods: list[Literal["alipay", "wechat_pay", "card"]] = Field(
        ["alipay", "wechat_pay"], description="What wallet payers' invoices offer (they renew by paying an invoice).")
    invoice_days_until_due: int = Field(14, ge=1, le=60, description="Days a wallet payer has to pay an invoice.")

    @field_validator("reminder_days")
    @classmethod
    def _positive_days(cls, value):
        if not value or any(d < 1 or d > 366 for d in value):
            raise ValueError("reminder days must be between 1 and 366")
        return sorted(set(value), reverse=True)


class VendorPlansConfig(PluginAppConfig):
    name = "plugins.vendor_plans"
    label = "vendor_plans"
    verbose_name = "Vendor plans"
    plugin_name = "vendor_plans"
    plugin_description = ("Paid vendor subscriptions through the payment gateway's billing (Stripe Billing): plans with "
                          "entitlements, trials, plan changes, dunning, storefront suspension.")
    settings_schema = VendorPlansSettings

    def ready(self):
        super().ready()
        from . import tasks  # noqa: F401 (registers the Celery tasks other modules queue by name)
