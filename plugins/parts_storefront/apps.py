from pydantic import BaseModel, Field

from marketplace.plugins import PluginAppConfig


class PartsStorefrontSettings(BaseModel):
    # Platform-wide (members are not vendor-scoped).
    max_garage_vehicles: int = Field(10, ge=1, le=100, description="Vehicles a member may keep in their garage.")
    # A vendor may lower or raise this for its own storefront page.
    max_featured_products: int = Field(12, ge=0, le=50, description="Featured products on a storefront page.")


class PartsStorefrontConfig(PluginAppConfig):
    name = "plugins.parts_storefront"
    label = "parts_storefront"
    verbose_name = "Parts storefront"
    plugin_name = "parts_storefront"
    plugin_description = "Vehicle fitment, OE/part numbers, members' garage and vendor storefront pages."
    settings_schema = PartsStorefrontSettings
    vendor_configurable = True  # a vendor may switch its storefront page off
    hookspecs = "plugins.parts_storefront.hookspecs"  # garage_vehicles, for other plugins
