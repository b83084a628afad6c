"""The price pipeline: list price -> vendor sale price -> platform campaign -> plugin
adjustments -> the floor rule. Pure functions over plain data; `compute_prices` loads
what it needs for a whole batch of lines at once.

Every result explains itself: the list price, the final price and each adjustment
(source, label, amount) in the order applied. Amounts are rounded half-up to 0.01 at
each visible step, so list + sum(adjustments) == final exactly.
"""
import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings

from marketplace.core.money import quantize

ZERO = Decimal("0")
logger = logging.getLogger("marketplace.pricing")


@dataclass(frozen=True)
class PriceLine:
    """What the pipeline (and plugins) know about one variant being priced."""

    variant_id: int
    product_id: int
    vendor_id: int
    category_id: int
    brand_id: int | None
    list_price: Decimal
    sale_price: Decimal | None = None
    currency: str = "CNY"


@dataclass(frozen=True)
class PriceContext:
    """Who is buying, and when. Plugins read `user` (may be anonymous) to decide."""

    user: object = None
    now: object = None
    quantity: int = 1


@dataclass(frozen=True)
class PriceAdjustment:
    """A change a plugin (or the core) asks for. Give exactly one of `percent_off`
    (e.g. Decimal("10") for 10% off the current price), `amount_off` (a Decimal off
    the current price; negative adds a surcharge) or `price` (a new unit price)."""

    source: str
    label: str
    percent_off: Decimal | None = None
    amount_off: Decimal | None = None
    price: Decimal | None = None
    exempt_from_floor: bool = False  # only the core's campaigns set this

    def apply(self, current):
        given = [v is not None for v in (self.percent_off, self.amount_off, self.price)]
        if sum(given) != 1:
            raise ValueError(f"Adjustment from {self.source} must give exactly one of percent_off, amount_off, price")
        if self.percent_off is not None:
            if not ZERO <= Decimal(self.percent_off) <= Decimal("100"):
                raise ValueError(f"percent_off out of range from {self.source}")
            return current * (Decimal("100") - Decimal(self.percent_off)) / Decimal("100")
        if self.amount_off is not None:
            return current - Decimal(self.amount_off)
        return Decimal(self.price)


@dataclass(frozen=True)
class AppliedAdjustment:
    source: str
    label: str
    amount: Decimal  # the change in the unit price (negative = cheaper)


@dataclass(frozen=True)
class PriceExplanation:
    list_price: Decimal
    final_price: Decimal
    currency: str
    adjustments: tuple = field(default_factory=tuple)
    floor_price: Decimal = ZERO
    floor_applied: bool = False
    floor_exempt: bool = False

    @property
    def discount(self):
        return self.list_price - self.final_price


def floor_ratio():
    return Decimal(str(settings.PRICE_FLOOR_RATIO))


def explain(list_price, adjustments, ratio, exempt=False, currency="CNY"):
    """Apply adjustments in order, then the floor rule (unless exempt). Pure."""
    list_price = quantize(list_price)
    current = Decimal(list_price)
    shown = list_price
    applied = []
    for adjustment in adjustments:
        current = max(adjustment.apply(current), ZERO)
        rounded = quantize(current)
        if rounded != shown:
            applied.append(AppliedAdjustment(adjustment.source, adjustment.label, rounded - shown))
            shown = rounded
    floor_price = quantize(list_price * ratio)
    floor_applied = False
    if not exempt and shown < floor_price:
        applied.append(AppliedAdjustment("platform", f"Price floor ({int(ratio * 100)}% of list)", floor_price - shown))
        shown = floor_price
        floor_applied = True
    return PriceExplanation(list_price, shown, currency, tuple(applied), floor_price, floor_applied, exempt)


def _campaign_adjustments(line, campaigns):
    adjustments, exempt = [], False
    for campaign in campaigns:
        if campaign["categories"] and line.category_id not in campaign["categories"]:
            continue
        if campaign["vendors"] and line.vendor_id not in campaign["vendors"]:
            continue
        exempt = exempt or campaign["exempt_from_floor"]
        if campaign["discount_percent"]:
            adjustments.append(PriceAdjustment(f"campaign:{campaign['id']}", campaign["label"],
                                               percent_off=campaign["discount_percent"]))
    return adjustments, exempt


def active_campaigns(now):
    """Active campaigns as plain dicts (one query with prefetch)."""
    from .models import Campaign

    campaigns = (
        Campaign.objects.filter(is_active=True, starts_at__lte=now, ends_at__gt=now)
        .prefetch_related("categories", "vendors")
    )
    return [
        {
            "id": c.pk,
            "label": c.name_zh if not c.name_en else f"{c.name_zh} {c.name_en}",
            "discount_percent": c.discount_percent,
            "exempt_from_floor": c.exempt_from_floor,
            "categories": {cat.pk for cat in c.categories.all()},
            "vendors": {v.pk for v in c.vendors.all()},
        }
        for c in campaigns
    ]


def compute_prices(lines, context, campaigns=None):
    """Price a batch of lines: {variant_id: PriceExplanation}. One hook call for the
    whole batch; campaigns are read once (or passed in)."""
    from django.utils import timezone

    from marketplace.plugins.manager import get_manager

    now = context.now or timezone.now()
    if context.now is None:
        context = replace(context, now=now)
    if campaigns is None:
        campaigns = active_campaigns(now)
    manager = get_manager()
    vendors_of = {line.variant_id: line.vendor_id for line in lines}
    contributed = {}
    for plugin, result in manager.call_each("price_adjustments", include_inactive=False, lines=list(lines),
                                            context=context):
        for variant_id, adjustments in _valid_contribution(plugin, result, vendors_of):
            if manager.is_active(plugin, vendors_of[variant_id]):  # the vendor may have switched it off
                contributed.setdefault(variant_id, []).extend(adjustments)
    ratio = floor_ratio()
    prices = {}
    for line in lines:
        steps = []
        if line.sale_price is not None and line.sale_price < line.list_price:
            steps.append(PriceAdjustment("vendor", "Vendor sale price", price=line.sale_price))
        campaign_steps, exempt = _campaign_adjustments(line, campaigns)
        steps.extend(campaign_steps)
        for adjustment in contributed.get(line.variant_id, ()):
            if isinstance(adjustment, PriceAdjustment) and not adjustment.exempt_from_floor:
                steps.append(adjustment)
        prices[line.variant_id] = explain(line.list_price, steps, ratio, exempt, line.currency)
    return prices


def _valid_contribution(plugin, result, vendors_of):
    """Yield (variant_id, adjustments) from a plugin's answer, dropping (and logging)
    anything malformed so one faulty plugin cannot break prices."""
    if not isinstance(result, dict):
        logger.error("Plugin %r returned %r from price_adjustments, not a dict", plugin, type(result).__name__)
        return
    for variant_id, adjustments in result.items():
        if variant_id not in vendors_of or not isinstance(adjustments, (list, tuple)):
            logger.error("Plugin %r returned adjustments for an unknown line %r", plugin, variant_id)
            continue
        valid = []
        for adjustment in adjustments:
            try:
                if not isinstance(adjustment, PriceAdjustment):
                    raise TypeError(f"{type(adjustment).__name__} is not a PriceAdjustment")
                adjustment.apply(Decimal("100"))
            except (TypeError, ValueError, ArithmeticError) as exc:
                logger.error("Plugin %r gave an invalid price adjustment: %s", plugin, exc)
                continue
            valid.append(adjustment)
        yield variant_id, valid


def line_for_variant(variant, product):
    return PriceLine(
        variant_id=variant.pk, product_id=product.pk, vendor_id=product.vendor_id,
        category_id=product.category_id, brand_id=product.brand_id,
        list_price=variant.list_price, sale_price=variant.sale_price, currency=variant.currency,
    )
