"""Plans as data: validation, create/update by platform staff, the three seeded plans, and
the plan's price at the billing gateway."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from marketplace.plugins.errors import ErrorCode, MarketplaceError, NotFound, ValidationError
from marketplace.plugins.vendors import VendorKind

from .models import Interval, Plan

PLUGIN = "vendor_plans"
TEXT_FIELDS = ("name_zh", "name_en", "description_zh", "description_en")
FIELDS = (*TEXT_FIELDS, "amount", "currency", "interval", "interval_count", "trial_days", "vendor_kinds", "is_active",
          "sort_order", "highlight", "max_products", *Plan.FLAGS, "commission_rate", "search_boost")

# The spec's plans (docs/vendor-plans.md); a data migration seeds them once. Platform staff
# change them afterwards (vendorPlanUpdate, admin), so later releases never overwrite them.
SEED_PLANS = [
    dict(code="storefront_yearly", name_zh="配件商家年费", name_en="Parts storefront, yearly",
         description_zh="配件商家店铺年费：最多 2000 个商品，会员等级、积分返现与团购。",
         description_en="Parts vendors' storefront: up to 2,000 products, VIP tiers, points and cashback, group deals.",
         amount=Decimal("1200.00"), interval=Interval.YEAR, trial_days=0, vendor_kinds=[VendorKind.PARTS_VENDOR],
         max_products=2000, vip_tiers=True, points_cashback=True, group_buy=True, commission_rate=Decimal("0.05"),
         sort_order=10, highlight=True),
    dict(code="shop_yearly", name_zh="维修门店年费（首年免费）", name_en="Repair shop, yearly (first year free)",
         description_zh="维修门店：首年免费，无需绑卡；预约、最多 500 个商品、团购券与会员等级。",
         description_en="Repair shops: first year free, no card needed; booking, up to 500 products, group vouchers, "
                        "VIP tiers.",
         amount=Decimal("1200.00"), interval=Interval.YEAR, trial_days=365, vendor_kinds=[VendorKind.REPAIR_SHOP],
         max_products=500, booking=True, group_buy=True, vip_tiers=True, sort_order=20),
    dict(code="dealer_yearly", name_zh="经销商年费（首年免费）", name_en="Dealer, yearly (first year free)",
         description_zh="经销商：首年免费，无需绑卡；预约、最多 5000 个商品、团购券与会员等级。",
         description_en="Dealers: first year free, no card needed; booking, up to 5,000 products, group vouchers, "
                        "VIP tiers.",
         amount=Decimal("1200.00"), interval=Interval.YEAR, trial_days=365, vendor_kinds=[VendorKind.DEALER],
         max_products=5000, booking=True, group_buy=True, vip_tiers=True, sort_order=30),
]


def get_plan(code, field="plan", active_only=True) -> Plan:
    plan = Plan.objects.filter(code=code).first() if isinstance(code, str) else None
    if plan is None or (active_only and not plan.is_active):
        raise NotFound(f"No {'offered ' if active_only else ''}plan {code!r}.", field=field)
    return plan


def offered_plans(kind=None):
    """Active plans, those a vendor of `kind` may choose when given."""
    plans = list(Plan.objects.filter(is_active=True))
    return [p for p in plans if kind is None or kind in p.vendor_kinds]


def require_offered(plan, kind):
    if kind not in plan.vendor_kinds:
        kinds = ", ".join(plan.vendor_kinds) or "nobody"
        raise ValidationError(f"The {plan.code} plan is not offered to {kind.replace('_', ' ')}s (only: {kinds}).",
                              field="plan")


def _decimal(value, field, places, low, high):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise MarketplaceError("A decimal number.", field=field) from None
    if not number.is_finite() or number != number.quantize(Decimal(1).scaleb(-places)) or not low <= number <= high:
        raise MarketplaceError(f"A number between {low} and {high} with at most {places} decimals.", field=field)
    return number


def _clean(data, creating):
    """Validate plan input (the GraphQL input as a dict); returns the fields to set.
    Raises ValidationError with one error per bad field."""
    errors, values = [], {}
    for name, value in data.items():
        if name not in FIELDS or value is None and name not in ("max_products", "commission_rate"):
            continue
        try:
            if name in TEXT_FIELDS:
                value = str(value).strip()
                if name == "name_zh" and not value:
                    raise MarketplaceError("A name is required.", code=ErrorCode.REQUIRED, field=name)
                if len(value) > (100 if name.startswith("name") else 2000):
                    raise MarketplaceError("Too long.", field=name)
            elif name == "amount":
                value = _decimal(value, name, 2, Decimal("0.00"), Decimal("9999999.99"))
            elif name == "currency":
                value = str(value).upper()
                if len(value) != 3 or not value.isalpha():
                    raise MarketplaceError("An ISO 4217 code such as CNY.", field=name)
            elif name == "interval":
                if value not in Interval.values:
                    raise MarketplaceError(f"One of {', '.join(Interval.values)}.", field=name)
            elif name in ("interval_count", "trial_days", "sort_order", "max_products"):
                if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                    raise MarketplaceError("A non-negative whole number.", field=name)
                if name == "interval_count" and not 1 <= value <= 12:
                    raise MarketplaceError("Between 1 and 12.", field=name)
                if name == "trial_days" and value > 730:
                    raise MarketplaceError("At most 730 days (the longest trial Stripe accepts).", field=name)
            elif name == "vendor_kinds":
                kinds = list(dict.fromkeys(value))
                unknown = [k for k in kinds if k not in VendorKind.values]
                if unknown or not kinds:
                    raise MarketplaceError(f"One or more of {', '.join(VendorKind.values)}.", field=name)
                value = kinds
            elif name == "commission_rate" and value is not None:
                value = _decimal(value, name, 4, Decimal("0"), Decimal("0.9999"))
            elif name == "search_boost":
                value = _decimal(value, name, 2, Decimal("0.10"), Decimal("10.00"))
            elif name in ("is_active", "highlight", *Plan.FLAGS):
                value = bool(value)
        except MarketplaceError as exc:
            errors.append(exc)
            continue
        values[name] = value
    if creating:
        for name in ("name_zh", "amount", "vendor_kinds"):
            if name not in values and not any(e.field == name for e in errors):
                errors.append(MarketplaceError("This field is required.", code=ErrorCode.REQUIRED, field=name))
    if errors:
        raise ValidationError(errors=errors)
    return values


@transaction.atomic
def create_plan(code, data) -> Plan:
    """A new plan (platform staff). Raises ValidationError (UNIQUE code, bad fields)."""
    code = (code or "").strip()
    if not code or len(code) > 50 or not code.replace("_", "").replace("-", "").isalnum() or not code.isascii():
        raise ValidationError("Letters, digits, - and _ (at most 50).", field="code")
    values = _clean(data, creating=True)
    try:
        with transaction.atomic():
            plan = Plan.objects.create(code=code, **values)
        plan.refresh_from_db()  # decimals as stored (0.0400)
        return plan
    except IntegrityError:
        raise ValidationError("A plan with this code exists.", code=ErrorCode.UNIQUE, field="code") from None


@transaction.atomic
def update_plan(code, data) -> Plan:
    """Change a plan. A new price or interval applies to new subscribers (a new price is
    made at the gateway at the next subscription); subscribers keep the price they have.
    Entitlement changes apply to every subscriber at once."""
    plan = Plan.objects.select_for_update().filter(code=code).first()
    if plan is None:
        raise NotFound("Plan not found.", field="code")
    for name, value in _clean(data, creating=False).items():
        setattr(plan, name, value)
    plan.save()
    plan.refresh_from_db()
    return plan


def seed(plan_model=Plan):
    """Create the spec's plans that do not exist yet (by code). Returns how many."""
    created = 0
    for spec in SEED_PLANS:
        _plan, new = plan_model.objects.get_or_create(code=spec["code"], defaults={
            k: (list(v) if isinstance(v, list) else v) for k, v in spec.items() if k != "code"})
        created += new
    return created


def ensure_price(gateway, plan) -> Plan:
    """The plan with a gateway price for its current terms (made once per terms; a call to
    the gateway, so never inside a transaction). Raises GatewayError."""
    if plan.gateway_price_id and plan.gateway_price_terms == plan.terms:
        return plan
    price = gateway.ensure_price(code=plan.product_key, name=plan.name_en or plan.name_zh, amount=plan.amount,
                                 currency=plan.currency, interval=plan.interval, interval_count=plan.interval_count)
    Plan.objects.filter(pk=plan.pk).update(gateway_price_id=price.price_id, gateway_price_terms=plan.terms)
    plan.gateway_price_id, plan.gateway_price_terms = price.price_id, plan.terms
    return plan


class PlanIndex:
    """Every plan, read once (one query) for the handling of one event: `get(pk)` and
    `find(...)`, the plan an event's price names."""

    def __init__(self):
        self.by_pk = {plan.pk: plan for plan in Plan.objects.all()}
        self.by_code = {plan.code: plan for plan in self.by_pk.values()}
        self.by_price = {plan.gateway_price_id: plan for plan in self.by_pk.values() if plan.gateway_price_id}

    def get(self, pk):
        return self.by_pk.get(pk)

    def find(self, product_id="", price_id="", metadata=None) -> Plan | None:
        """By the plan's product id ("vendor_plan_<code>"), else its price id, else the
        `vendor_plan` metadata set at creation."""
        plan = None
        if product_id.startswith("vendor_plan_"):
            plan = self.by_code.get(product_id[len("vendor_plan_"):])
        if plan is None and price_id:
            plan = self.by_price.get(price_id)
        if plan is None:
            plan = self.by_code.get((metadata or {}).get("vendor_plan", ""))
        return plan
