from pydantic import BaseModel, Field, field_validator

from marketplace.plugins import PluginAppConfig


class MembershipSettings(BaseModel):
    """Platform-wide settings (memberships are not vendor-scoped)."""

    default_plan: str = Field("annual", min_length=1, max_length=40,
                              description="Plan code priced in the as-member preview and offered first.")
    member_price_label: str = Field("会员价 Member price", min_length=1, max_length=60,
                                    description="Label of the member-price adjustment in price explanations.")
    reminder_days: list[int] = Field([30, 7, 1], description="Renewal reminders: days before the end (each sent once).")
    towing_list_price: float = Field(200.0, ge=0, le=100000,
                                     description="List cost (CNY) of one free tow when the caller gives none.")

    @field_validator("reminder_days")
    @classmethod
    def _days(cls, value):
        if not value or any(d < 1 or d > 366 for d in value) or len(set(value)) != len(value):
            raise ValueError("give distinct days between 1 and 366")
        return sorted(value, reverse=True)


class MembershipConfig(PluginAppConfig):
    name = "plugins.membership"
    label = "membership"
    verbose_name = "Platform membership"
    plugin_name = "membership"
    plugin_description = ("Yearly paid membership: member prices on parts, labour discount and free towing at "
                          "partner shops, driving-school partner codes, renewal reminders.")
    settings_schema = MembershipSettings
    hookspecs = "plugins.membership.hookspecs"
