from pydantic import BaseModel, Field

from marketplace.plugins import PluginAppConfig


class RepairBookingSettings(BaseModel):
    """Platform-wide settings (a shop's own rules are on its `RepairShop` row)."""

    product_type: str = Field("repair-service", min_length=1, max_length=100,
                              description="Slug of the catalog product type of services (no shipping).")
    default_parts_lead_days: int = Field(1, ge=0, le=60, description="A seller's days to dispatch, unless it set its own.")
    default_parts_shipping_days: int = Field(1, ge=0, le=60, description="Days in transit, unless the seller set its own.")
    tow_base_price: float = Field(150.0, ge=0, le=100000, description="CNY per tow.")
    tow_per_km: float = Field(8.0, ge=0, le=10000, description="CNY per kilometre.")
    tow_road_factor: float = Field(1.3, ge=1, le=3, description="Road distance = straight line x this.")
    tow_max_km: float = Field(200.0, gt=0, le=2000, description="Longest tow offered.")


class RepairBookingConfig(PluginAppConfig):
    name = "plugins.repair_booking"
    label = "repair_booking"
    verbose_name = "Repair-service booking"
    plugin_name = "repair_booking"
    plugin_description = ("Repair shops and dealers sell services (labour hours x rate) with bays, opening hours "
                          "and bookable slots; parts + installation in one checkout; member labour discount and "
                          "free towing; reminders.")
    settings_schema = RepairBookingSettings
    requires_entitlement = "booking"
