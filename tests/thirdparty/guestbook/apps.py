from pydantic import BaseModel, Field, SecretStr

from marketplace.plugins import PluginAppConfig


class GuestbookSettings(BaseModel):
    greeting: str = "Welcome"
    max_length: int = Field(200, ge=1, le=1000)
    moderation_api_key: SecretStr | None = None
    fail_on_events: bool = False  # lets the tests make this plugin misbehave
    refuse_events: bool = False  # ... or refuse on purpose (a MarketplaceError)
    # Commerce: a sticker pack sold by the platform (a non-stock line), from a limited edition.
    sticker_price: str = "9.90"
    edition_size: int = Field(100, ge=0)
    # Vendors may switch the guestbook on for themselves once they list this many products.
    min_products_to_activate: int = Field(1, ge=0)
    # {vendor id: max products}: the guestbook's entitlement grants (tests of the core's quota).
    product_limits: dict[str, int] = {}
    crash_in_validation: bool = False
    # Vendors whose plan (here: this setting) leaves out the guestbook (entitlement "guestbook_corner").
    no_guestbook_for: list[int] = []


class GuestbookConfig(PluginAppConfig):
    name = "guestbook"
    plugin_name = "guestbook"
    plugin_description = "A guestbook members can sign; sells sticker packs and pays with guestbook credit."
    settings_schema = GuestbookSettings
    vendor_configurable = True
    hookspecs = "guestbook.hookspecs"
    compatibility = ">=1.0,<2"
    requires_entitlement = "guestbook_corner"

    def check_activation(self, vendor_id):
        """A vendor may switch the guestbook on only once it lists `min_products_to_activate`
        products (the kind of rule VIP tiers have: 50 products)."""
        if vendor_id is None:
            return
        from marketplace.plugins import ErrorCode, ValidationError, get_settings
        from marketplace.plugins.catalog import visible_product_count

        needed = get_settings("guestbook").min_products_to_activate
        have = visible_product_count(vendor_id)
        if have < needed:
            raise ValidationError(f"The guestbook needs at least {needed} listed products; this store has {have}.",
                                  code=ErrorCode.INVALID_STATE)
