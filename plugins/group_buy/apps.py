from pydantic import BaseModel, Field

from marketplace.plugins import PluginAppConfig


class GroupBuySettings(BaseModel):
    """Platform-wide settings; a vendor may override `default_window_hours` and
    `voucher_valid_days` for its own deals (the others are read at platform scope)."""

    default_window_hours: int = Field(24, ge=1, le=168, description="How long a new group has to fill, in hours.")
    max_group_size: int = Field(50, ge=2, le=50, description="The largest group a deal may ask for.")
    grace_seconds: int = Field(60, ge=0, le=3600,
                               description="After a group's window: how long payments in flight still count.")
    authorization_margin_hours: int = Field(
        2, ge=1, le=72, description="An authorised (not captured) order stays open this long past its group's window.")
    refund_alert_hours: int = Field(24, ge=1, le=720,
                                    description="A refund still pending this long raises a staff alert.")
    refund_max_attempts: int = Field(5, ge=1, le=20, description="Failed refunds are retried up to this many times.")
    refund_retry_minutes: int = Field(30, ge=0, le=1440, description="Wait before retrying a failed refund.")
    resend_after_seconds: int = Field(
        300, ge=0, le=86400,
        description="A refund whose gateway call never returned (a crash) is sent again, same key, after this.")
    resume_after_seconds: int = Field(
        60, ge=0, le=86400, description="A settled group whose follow-up has not finished is resumed after this.")
    voucher_valid_days: int = Field(90, ge=1, le=730, description="How long an issued service voucher is valid.")
    sweep_batch: int = Field(500, ge=1, le=20000, description="Groups (and refunds) one sweep handles at most.")


class GroupBuyConfig(PluginAppConfig):
    name = "plugins.group_buy"
    label = "group_buy"
    verbose_name = "Group buy"
    plugin_name = "group_buy"
    plugin_description = ("Group deals (拼团): a vendor's deal price when enough members pay within a window, "
                          "settled exactly once; service vouchers (团购券) verified at the shop.")
    settings_schema = GroupBuySettings
    vendor_configurable = True
    requires_entitlement = "group_buy"

    def ready(self):
        from . import failpoints, tasks  # noqa: F401 (registers the tasks other modules queue by name)

        failpoints.check_environment()
