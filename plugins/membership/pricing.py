"""Member prices and partner-code discounts through the engine's one price pipeline.

- Catalog lines get the `membership` adjustment (source "membership", kind "membership",
  `percent_off` = the plan's parts discount, funded by the platform, stacking BEST_OF in
  the group "member_price") when the buyer's paid membership covers the pricing time, or
  when the cart being priced holds a membership line (joining in the same cart prices the
  rest of the cart as a member), or for the as-member preview (`PriceContext.assume`
  contains "membership"). The pipeline orders it after the vendor's sale price and
  platform campaigns (stage 300) and applies the floor rule last. Products a vendor
  excluded (`MemberPriceExclusion`) never get it.
- Membership lines get their partner code's discount (kind "partner_code", funded by the
  platform) while the code is active and inside its validity window; whether a use is
  still available is checked when the order is placed (`checkout_reserve`).
"""
from __future__ import annotations

from decimal import Decimal

from marketplace.plugins import get_settings

from . import lookups

PLUGIN = "membership"
LINE_KIND = "membership"
MEMBER_GROUP = "member_price"
ASSUME = "membership"


def _user_id(user):
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


def _reference(line):
    return str(line.key).split(":", 1)[1].strip().lower() if ":" in str(line.key) else ""


def member_percent(user_id, now, cart_plan_codes=(), assume=frozenset()) -> Decimal:
    """The parts discount (percent, Decimal) this buyer gets at `now`: their paid period's
    plan; else the plan of a membership line in the same cart; else, for the as-member
    preview, the default plan. Decimal 0 when none."""
    period = lookups.period_at(user_id, now) if user_id else None
    if period is not None:
        return Decimal(period.parts_discount_percent)
    codes = list(cart_plan_codes)
    if not codes and ASSUME in assume:
        codes = [get_settings(PLUGIN).default_plan]
    if codes:
        plans = lookups.plans()
        percents = [plans[c].parts_discount_percent for c in codes if c in plans and plans[c].is_active]
        if percents:
            return Decimal(max(percents))
    return Decimal("0")


def code_adjustments(lines, now):
    """{line.key: [PriceAdjustment]} for membership lines carrying a partner code."""
    from marketplace.plugins.pricing import PLATFORM, PriceAdjustment

    from .models import PartnerCode

    wanted = {}
    for line in lines:
        code = ((line.metadata or {}).get(PLUGIN) or {}).get("code")
        if code:
            wanted[line.key] = str(code).upper()
    if not wanted:
        return {}
    codes = {c.code: c for c in PartnerCode.objects.select_related("partner").filter(code__in=set(wanted.values()))}
    result = {}
    for line in lines:
        code = codes.get(wanted.get(line.key))
        if code is None or not usable_window(code, now):
            continue
        label = f"{code.partner.name_zh} 优惠码 Partner code {code.code}"
        if code.discount_percent is not None:
            adjustment = PriceAdjustment(PLUGIN, label, percent_off=code.discount_percent, kind="partner_code",
                                         funded_by=PLATFORM)
        else:
            adjustment = PriceAdjustment(PLUGIN, label, amount_off=min(code.discount_amount, line.list_price),
                                         kind="partner_code", funded_by=PLATFORM)
        result[line.key] = [adjustment]
    return result


def usable_window(code, now) -> bool:
    """The code and its partner are active and `now` is inside the validity window."""
    return (code.is_active and code.partner.is_active and code.valid_from <= now
            and (code.valid_until is None or now < code.valid_until))


def price_adjustments(lines, context):
    """The `price_adjustments` hook (see the module docstring)."""
    from marketplace.plugins.pricing import BEST_OF, PLATFORM, PriceAdjustment

    membership_lines = [line for line in lines if line.kind == LINE_KIND]
    result = code_adjustments(membership_lines, context.now) if membership_lines else {}
    products = [line for line in lines if line.kind == "product"]
    if not products:
        return result or None
    percent = member_percent(_user_id(context.user), context.now, [_reference(l) for l in membership_lines],
                             context.assume)
    if percent <= 0:
        return result or None
    excluded = lookups.excluded_products(line.product_id for line in products)
    label = get_settings(PLUGIN).member_price_label
    adjustment = PriceAdjustment(PLUGIN, label, percent_off=percent, kind="membership", group=MEMBER_GROUP,
                                 stacking=BEST_OF, funded_by=PLATFORM)
    for line in products:
        if line.product_id not in excluded:
            result[line.key] = [adjustment]
    return result
