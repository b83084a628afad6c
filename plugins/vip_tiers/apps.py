from pydantic import BaseModel, Field, field_validator

from marketplace.plugins import PluginAppConfig


class VipSettings(BaseModel):
    """The platform's rules for every store's programme (read in the platform scope: a
    vendor's own values for these keys are ignored). Each store configures its own
    programme (tiers, earning rates, cashback, stacking) through GraphQL."""

    min_products: int = Field(50, ge=0, le=100000,
                              description="Active published products a store needs to run VIP tiers.")
    grace_days: int = Field(7, ge=0, le=90, description="Days tier prices continue after a store drops below "
                                                        "min_products.")
    protection_days: int = Field(90, ge=0, le=730, description="Default days a reached tier is kept before a "
                                                               "monthly review may lower it.")
    return_window_days: int = Field(7, ge=0, le=90, description="Days after a sub-order completes before its "
                                                                "points and cashback become available.")
    expiry_months: int = Field(12, ge=1, le=120, description="Available points and cashback expire at the end of "
                                                             "this many months after the month they became available.")
    returned_expired_days: int = Field(30, ge=1, le=365, description="Days that points or cashback returned by a "
                                                                     "refund from an already expired lot stay usable.")
    points_per_cny: int = Field(100, ge=100, le=100000, description="Points that pay 1 CNY at checkout (a multiple "
                                                                    "of 100, so every cent costs whole points).")
    max_redeem_percent: float = Field(50.0, gt=0, le=100, description="Most of a store's goods subtotal that its "
                                                                      "points and cashback may pay, percent.")
    export_limit_per_hour: int = Field(10, ge=0, le=1000, description="Segment CSV exports per store per hour.")

    @field_validator("points_per_cny")
    @classmethod
    def _whole_points_per_cent(cls, value):
        if value % 100:
            raise ValueError("give a multiple of 100 (each cent must cost a whole number of points)")
        return value


class VipTiersConfig(PluginAppConfig):
    name = "plugins.vip_tiers"
    label = "vip_tiers"
    verbose_name = "Store VIP tiers, points and cashback"
    plugin_name = "vip_tiers"
    plugin_description = ("Per-store VIP tiers by 12-month spend with tier prices, points (积分) and cashback "
                          "(返现) as tenders, customer segments and re-purchase campaigns.")
    settings_schema = VipSettings
    vendor_configurable = True  # the store's own switch: off stops earning, redeeming and tier prices
    requires_entitlement = "vip_tiers"
    hookspecs = "plugins.vip_tiers.hookspecs"

    def check_activation(self, vendor_id):
        """The platform's rule: a store switches VIP on only with at least `min_products`
        active published products (INVALID_STATE, with the count it has)."""
        if vendor_id is None:
            return
        from .services import programs

        programs.require_enough_products(vendor_id)
