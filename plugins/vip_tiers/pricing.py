"""Tier prices through the engine's one price pipeline.

A catalog line of store S gets the `vip:<S's slug>` adjustment (kind "vip", stage 400:
after the vendor's sale price, campaigns and the member price; `percent_off` = the buyer's
tier at S; funded by the vendor) when the buyer holds a tier there, S's programme is on,
S has enough products (or is inside its grace period), and the plugin is on for S (the
pipeline drops contributions of plugins a vendor switched off). Stacking is S's choice:

- `stack` (default): its own group, applied on top of the member price;
- `best_of`: the membership plugin's `member_price` group with `best_of`, so only the
  larger of the member and VIP discounts applies (plugins/membership/README.md).

The platform floor rule comes last, as for every price. Listing, search, cart and order
all price through the same pipeline, so a tier price is the same everywhere.
"""
from __future__ import annotations

from marketplace.plugins import clock

from . import lookups
from .models import Stacking

PLUGIN = "vip_tiers"
MEMBER_GROUP = "member_price"  # the membership plugin's best-of group


def _user_id(user):
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


def source_of(vendor_slug) -> str:
    return f"vip:{vendor_slug}"


def price_adjustments(lines, context):
    """The `price_adjustments` hook (see the module docstring)."""
    from marketplace.plugins.pricing import BEST_OF, STACK, VENDOR, PriceAdjustment

    user_id = _user_id(context.user)
    if not user_id:
        return None
    stores = lookups.priced_stores()
    if not stores or not any(line.vendor_id in stores for line in lines):
        return None
    prices = lookups.tier_prices(user_id)
    if not prices:
        return None
    from . import rules
    from .services.programs import platform_settings

    grace = platform_settings().grace_days
    now = context.now or clock.now()
    made = {}
    result = {}
    for line in lines:
        if line.kind != "product" or line.vendor_id not in prices:
            continue
        adjustment = made.get(line.vendor_id)
        if adjustment is None:
            tier = prices[line.vendor_id]
            if not rules.priced(True, tier.eligible, tier.below_since, grace, now):
                made[line.vendor_id] = False
                continue
            best_of = tier.stacking == Stacking.BEST_OF
            label = f"{tier.tier_name_zh} {tier.tier_name_en} VIP".replace("  ", " ").strip()
            adjustment = PriceAdjustment(
                source_of(tier.vendor_slug), label, percent_off=tier.percent_off, kind="vip",
                stacking=BEST_OF if best_of else STACK,
                group=MEMBER_GROUP if best_of else f"vip:{tier.vendor_slug}", funded_by=VENDOR)
            made[line.vendor_id] = adjustment
        if adjustment:
            result[line.key] = [adjustment]
    return result or None
