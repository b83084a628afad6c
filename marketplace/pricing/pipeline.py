"""The price pipeline: list price -> adjustments (the vendor's sale price, platform
campaigns, plugin adjustments) combined by rule -> the floor rule. Pure functions over
plain data; `compute_prices` loads what it needs for a whole batch of lines at once.

Adjustments combine by their declared metadata, never by plugin order:

- `stage` orders them (sale 100, deal 150, campaign 200, membership 300, vip/loyalty 400,
  coupon 500; a plugin may give its own number);
- adjustments that share a `group` where any says `stacking="best_of"` keep only the one
  that lowers the price most (e.g. a store whose VIP price replaces the member price);
- an adjustment with `stacking="exclusive"` (a group-buy deal price) replaces every other
  adjustment of its line; with several exclusive ones the lowest price wins;
- the floor rule comes last: the final unit price is never below `PRICE_FLOOR_RATIO` of
  the list price unless an active floor-exempt platform campaign covers the line, or the
  line is not catalog goods (a fee such as a membership, `applies_floor=False`).

Every result explains itself: the list price, the final price and each adjustment (source,
label, kind, who funds it, amount) in the order applied. Amounts are rounded half-up to
0.01 at each visible step, so list + sum(adjustments) == final exactly.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Mapping

from django.conf import settings

from marketplace.core.money import quantize

ZERO = Decimal("0")
logger = logging.getLogger("marketplace.pricing")

STAGES = {"sale": 100, "deal": 150, "campaign": 200, "membership": 300, "vip": 400, "loyalty": 400, "coupon": 500}
DEFAULT_STAGE = 450
STACK, BEST_OF, EXCLUSIVE = "stack", "best_of", "exclusive"
PLATFORM, VENDOR = "platform", "vendor"
_EMPTY = MappingProxyType({})


@dataclass(frozen=True)
class PriceLine:
    """What the pipeline (and plugins) know about one line being priced. `key` identifies
    it in results (the variant id for catalog lines; "<kind>:<reference>" for plugin lines).
    `vendor_id` is the seller (None: the platform). `metadata` is the cart line's plugin
    data (read-only), empty in listings."""

    variant_id: int | None
    product_id: int | None
    vendor_id: int | None
    category_id: int | None
    brand_id: int | None
    list_price: Decimal
    sale_price: Decimal | None = None
    currency: str = "CNY"
    kind: str = "product"
    key: Any = None
    metadata: Mapping = field(default_factory=lambda: _EMPTY)
    applies_floor: bool = True

    def __post_init__(self):
        if self.key is None:
            object.__setattr__(self, "key", self.variant_id)


@dataclass(frozen=True)
class PriceContext:
    """Who is buying, and when. `user` may be anonymous; `now` the engine clock's time;
    `assume` names benefits to price as if the user had them without granting them
    (e.g. frozenset({"membership"}) for the "price as member" preview)."""

    user: object = None
    now: object = None
    quantity: int = 1
    assume: frozenset = frozenset()

    @property
    def is_preview(self):
        return bool(self.assume)


@dataclass(frozen=True)
class PriceAdjustment:
    """A change a plugin (or the core) asks for. Give exactly one of `percent_off`
    (e.g. Decimal("10") for 10% off the current price), `amount_off` (a Decimal off the
    current price; negative adds a surcharge) or `price` (a new unit price).

    `kind` names what it is ("membership", "vip", "deal", "coupon", ...) and sets the
    default `stage`; `stacking` is "stack" (default), "best_of" (within `group`) or
    "exclusive"; `funded_by` is "vendor" (default: the vendor earns less) or "platform"
    (the ledger pays the vendor back)."""

    source: str
    label: str
    percent_off: Decimal | None = None
    amount_off: Decimal | None = None
    price: Decimal | None = None
    exempt_from_floor: bool = False  # only the core's campaigns set this
    kind: str = ""
    stage: int | None = None
    stacking: str = STACK
    group: str = ""
    funded_by: str = VENDOR

    @property
    def order(self):
        return self.stage if self.stage is not None else STAGES.get(self.kind, DEFAULT_STAGE)

    def validate(self):
        given = [v is not None for v in (self.percent_off, self.amount_off, self.price)]
        if sum(given) != 1:
            raise ValueError(f"Adjustment from {self.source} must give exactly one of percent_off, amount_off, price")
        if self.stacking not in (STACK, BEST_OF, EXCLUSIVE):
            raise ValueError(f"Adjustment from {self.source}: stacking must be stack, best_of or exclusive")
        if self.funded_by not in (PLATFORM, VENDOR):
            raise ValueError(f"Adjustment from {self.source}: funded_by must be platform or vendor")
        for value in (self.percent_off, self.amount_off, self.price):
            if value is not None and not Decimal(value).is_finite():
                raise ValueError(f"Adjustment from {self.source} is not a finite number")
        if self.percent_off is not None and not ZERO <= Decimal(self.percent_off) <= Decimal("100"):
            raise ValueError(f"percent_off out of range from {self.source}")
        if self.price is not None and Decimal(self.price) < 0:
            raise ValueError(f"Negative price from {self.source}")

    def apply(self, current):
        self.validate()
        if self.percent_off is not None:
            return current * (Decimal("100") - Decimal(self.percent_off)) / Decimal("100")
        if self.amount_off is not None:
            return current - Decimal(self.amount_off)
        return Decimal(self.price)


@dataclass(frozen=True)
class AppliedAdjustment:
    source: str
    label: str
    amount: Decimal  # the change in the unit price (negative = cheaper)
    kind: str = ""
    funded_by: str = VENDOR


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

    @property
    def platform_funded(self):
        """The part of the unit discount the platform pays (member prices, ...), >= 0."""
        return -sum((a.amount for a in self.adjustments if a.funded_by == PLATFORM), ZERO)

    def as_json(self):
        return {
            "list": str(self.list_price), "final": str(self.final_price), "floor": str(self.floor_price),
            "floor_applied": self.floor_applied, "floor_exempt": self.floor_exempt,
            "adjustments": [{"source": a.source, "label": a.label, "amount": str(a.amount), "kind": a.kind,
                             "funded_by": a.funded_by} for a in self.adjustments],
        }


def floor_ratio():
    return Decimal(str(settings.PRICE_FLOOR_RATIO))


def _run(price, adjustments):
    for adjustment in adjustments:
        price = max(adjustment.apply(price), ZERO)
    return price


def combine(adjustments, list_price):
    """Select and order adjustments by their rules (see the module docstring). Pure.
    Candidates of a best-of group, or exclusive ones, are compared on the price they would
    produce where they stand (after the lower stages)."""
    adjustments = list(adjustments)
    list_price = Decimal(list_price)
    exclusive = [a for a in adjustments if a.stacking == EXCLUSIVE]
    if exclusive:
        return [min(exclusive, key=lambda a: (max(a.apply(list_price), ZERO), a.order))]
    groups = {}
    for adjustment in adjustments:
        if adjustment.group:
            groups.setdefault(adjustment.group, []).append(adjustment)
    dropped = set()
    for members in groups.values():
        if len(members) < 2 or not any(a.stacking == BEST_OF for a in members):
            continue
        member_ids = {id(a) for a in members}
        first = min(a.order for a in members)
        before = sorted((a for a in adjustments if a.order < first and id(a) not in member_ids), key=lambda a: a.order)
        base = _run(list_price, before)
        best = min(members, key=lambda a: (max(a.apply(base), ZERO), a.order))
        dropped.update(id(a) for a in members if a is not best)
    kept = [a for a in adjustments if id(a) not in dropped]
    return sorted(kept, key=lambda a: a.order)  # stable: equal stages keep their given order


def explain(list_price, adjustments, ratio, exempt=False, currency="CNY", applies_floor=True):
    """Combine adjustments by rule, apply them, then the floor rule (unless exempt). Pure."""
    list_price = quantize(list_price)
    current = Decimal(list_price)
    shown = list_price
    applied = []
    for adjustment in combine(adjustments, list_price):
        current = max(adjustment.apply(current), ZERO)
        rounded = quantize(current)
        if rounded != shown:
            applied.append(AppliedAdjustment(adjustment.source, adjustment.label, rounded - shown,
                                             adjustment.kind, adjustment.funded_by))
            shown = rounded
    floor_price = quantize(list_price * ratio) if applies_floor else ZERO
    floor_applied = False
    if applies_floor and not exempt and shown < floor_price:
        applied.append(AppliedAdjustment("platform", f"Price floor ({int(ratio * 100)}% of list)", floor_price - shown,
                                         "floor", VENDOR))
        shown = floor_price
        floor_applied = True
    return PriceExplanation(list_price, shown, currency, tuple(applied), floor_price if applies_floor else ZERO,
                            floor_applied, exempt)


def _campaign_adjustments(line, campaigns):
    adjustments, exempt = [], False
    if line.kind != "product":
        return adjustments, exempt
    for campaign in campaigns:
        if campaign["categories"] and line.category_id not in campaign["categories"]:
            continue
        if campaign["vendors"] and line.vendor_id not in campaign["vendors"]:
            continue
        exempt = exempt or campaign["exempt_from_floor"]
        if campaign["discount_percent"]:
            adjustments.append(PriceAdjustment(f"campaign:{campaign['id']}", campaign["label"],
                                               percent_off=campaign["discount_percent"], kind="campaign"))
    return adjustments, exempt


def _load_campaigns():
    """Every switched-on campaign as a plain dict (two queries: the campaigns and their
    prefetched categories and vendors; time is applied by the reader, so the copy holds
    whatever the clock says)."""
    from .models import Campaign

    campaigns = Campaign.objects.filter(is_active=True).order_by("starts_at", "pk").prefetch_related(
        "categories", "vendors")
    return tuple(
        MappingProxyType({
            "id": c.pk,
            "label": c.name_zh if not c.name_en else f"{c.name_zh} {c.name_en}",
            "discount_percent": c.discount_percent,
            "exempt_from_floor": c.exempt_from_floor,
            "starts_at": c.starts_at,
            "ends_at": c.ends_at,
            "categories": frozenset(cat.pk for cat in c.categories.all()),
            "vendors": frozenset(v.pk for v in c.vendors.all()),
        })
        for c in campaigns
    )


def _campaign_snapshot():
    global _CAMPAIGNS
    if _CAMPAIGNS is None:
        from marketplace.core.snapshots import Snapshot, connect

        from .models import Campaign

        snapshot = Snapshot("pricing.campaigns", _load_campaigns)
        connect(snapshot, Campaign, m2m=(Campaign.categories.through, Campaign.vendors.through))
        _CAMPAIGNS = snapshot
    return _CAMPAIGNS


_CAMPAIGNS = None


def active_campaigns(now):
    """The campaigns running at `now`, as read-only dicts (id, label, discount_percent,
    exempt_from_floor, starts_at, ends_at, categories, vendors). The switched-on campaigns
    are kept per process and re-read only after a campaign is written
    (marketplace.core.snapshots): no query per request."""
    return [c for c in _campaign_snapshot().get() if c["starts_at"] <= now < c["ends_at"]]


def compute_prices(lines, context, campaigns=None):
    """Price a batch of lines: {line.key: PriceExplanation}. One hook call for the whole
    batch; campaigns are read once (or passed in)."""
    from marketplace.core import clock
    from marketplace.plugins.manager import get_manager

    lines = list(lines)
    now = context.now or clock.now()
    if context.now is None:
        context = replace(context, now=now)
    if context.user is not None and not getattr(context.user, "is_authenticated", False):
        context = replace(context, user=None)  # plugins see None for anonymous buyers
    if campaigns is None:
        campaigns = active_campaigns(now) if any(line.kind == "product" for line in lines) else []
    manager = get_manager()
    vendors_of = {line.key: line.vendor_id for line in lines}
    contributed = {}
    for plugin, result in manager.call_each("price_adjustments", lines=lines, context=context):
        for key, adjustments in _valid_contribution(plugin, result, vendors_of):
            vendor_id = vendors_of[key]
            if vendor_id is None or manager.is_active(plugin, vendor_id):  # the vendor may have switched it off
                contributed.setdefault(key, []).extend(adjustments)
    ratio = floor_ratio()
    prices = {}
    for line in lines:
        steps = []
        if line.sale_price is not None and line.sale_price < line.list_price:
            steps.append(PriceAdjustment("vendor", "Vendor sale price", price=line.sale_price, kind="sale"))
        campaign_steps, exempt = _campaign_adjustments(line, campaigns)
        steps.extend(campaign_steps)
        for adjustment in contributed.get(line.key, ()):
            if not adjustment.exempt_from_floor:
                steps.append(adjustment)
        prices[line.key] = explain(line.list_price, steps, ratio, exempt, line.currency, line.applies_floor)
    return prices


def _valid_contribution(plugin, result, vendors_of):
    """Yield (key, adjustments) from a plugin's answer, dropping (and logging) anything
    malformed so one faulty plugin cannot break prices."""
    if not isinstance(result, dict):
        logger.error("Plugin %r returned %r from price_adjustments, not a dict", plugin, type(result).__name__)
        return
    for key, adjustments in result.items():
        if key not in vendors_of or not isinstance(adjustments, (list, tuple)):
            logger.error("Plugin %r returned adjustments for an unknown line %r", plugin, key)
            continue
        valid = []
        for adjustment in adjustments:
            try:
                if not isinstance(adjustment, PriceAdjustment):
                    raise TypeError(f"{type(adjustment).__name__} is not a PriceAdjustment")
                adjustment.validate()
            except (TypeError, ValueError, ArithmeticError) as exc:
                logger.error("Plugin %r gave an invalid price adjustment: %s", plugin, exc)
                continue
            valid.append(adjustment)
        yield key, valid


def line_for_variant(variant, product, metadata=None):
    return PriceLine(
        variant_id=variant.pk, product_id=product.pk, vendor_id=product.vendor_id,
        category_id=product.category_id, brand_id=product.brand_id,
        list_price=variant.list_price, sale_price=variant.sale_price, currency=variant.currency,
        metadata=MappingProxyType(dict(metadata)) if metadata else _EMPTY,
    )
