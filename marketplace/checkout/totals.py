"""Pricing a cart: every line through the one price pipeline (one batch), order-level
adjustments (discounts, tenders) from plugins allocated to lines under the floor, and
shipping per seller. Reads only; the same function prices the cart page and completion.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from marketplace.core.money import quantize
from marketplace.pricing.pipeline import PriceContext, PriceLine, compute_prices, line_for_variant

from .allocation import allocate
from .info import DISCOUNT, TENDER, AppliedOrderAdjustment, CheckoutInfo, CheckoutLineInfo, OrderAdjustment
from .kinds import line_kinds
from .models import PRODUCT_LINE, ShippingMethod

ZERO = Decimal("0.00")


@dataclass
class SellerPart:
    """One seller's part of a cart. `vendor` None: the platform's own lines."""

    vendor: object
    lines: list
    goods: Decimal  # lines at their final unit prices
    discount: Decimal  # order-level discounts allocated here
    tendered: Decimal  # tenders allocated here
    weight_grams: int
    requires_shipping: bool
    method: ShippingMethod | None
    shipping: Decimal | None
    methods: list

    @property
    def vendor_id(self):
        return self.vendor.pk if self.vendor is not None else None

    @property
    def subtotal(self):
        return self.goods - self.discount


@dataclass
class CheckoutTotals:
    checkout: CheckoutInfo
    parts: list
    lines: list
    adjustments: list  # AppliedOrderAdjustment
    currency: str
    context: PriceContext
    problems: list = field(default_factory=list)  # lines whose item vanished (plugin line kinds)
    variants: dict = field(default_factory=dict)  # {variant_id: ProductVariant} (product loaded)

    @property
    def goods(self):
        return quantize(sum((p.goods for p in self.parts), ZERO))

    @property
    def discount(self):
        return quantize(sum((p.discount for p in self.parts), ZERO))

    @property
    def subtotal(self):
        return self.goods - self.discount

    @property
    def tendered(self):
        return quantize(sum((p.tendered for p in self.parts), ZERO))

    @property
    def requires_shipping(self):
        return any(p.requires_shipping for p in self.parts)

    @property
    def shipping(self):
        if any(p.requires_shipping and p.shipping is None for p in self.parts):
            return None
        return quantize(sum((p.shipping or ZERO for p in self.parts), ZERO))

    @property
    def total(self):
        shipping = self.shipping
        return None if shipping is None else self.subtotal + shipping

    @property
    def amount_due(self):
        total = self.total
        return None if total is None else total - self.tendered


def shipping_cost(method, subtotal, weight_grams):
    if method.free_over is not None and subtotal >= method.free_over:
        return ZERO
    if method.kind == ShippingMethod.WEIGHT:
        kilos = math.ceil(weight_grams / 1000) if weight_grams else 0
        return quantize(method.price + method.price_per_kg * kilos)
    return quantize(method.price)


def checkout_info(checkout) -> CheckoutInfo:
    return CheckoutInfo(token=str(checkout.token), user_id=checkout.user_id, email=checkout.email,
                        currency=checkout.currency,
                        shipping_address=MappingProxyType(dict(checkout.shipping_address))
                        if checkout.shipping_address else None,
                        metadata=MappingProxyType(dict(checkout.metadata or {})))


def compute_totals(checkout, user=None, lines=None, assume=frozenset(), adjust=True) -> CheckoutTotals:
    """Price a cart. `lines` defaults to the cart's lines; `assume` prices as if the buyer
    had those benefits (a preview: never used at completion); `adjust=False` skips
    order-level adjustments. Lines of a plugin kind whose item no longer exists are left
    out and listed in `problems` (a ValidationError per line)."""
    from marketplace.catalog.models import ProductVariant
    from marketplace.core import clock
    from marketplace.core.errors import ErrorCode, MarketplaceError
    from marketplace.vendors.models import Vendor

    if lines is None:
        lines = list(checkout.lines.all())
    context = PriceContext(user=user if user is not None and getattr(user, "is_authenticated", False) else None,
                          now=clock.now(), assume=frozenset(assume))
    variant_ids = [line.variant_id for line in lines if line.variant_id is not None]
    variants = (ProductVariant.objects.select_related("product", "product__product_type").in_bulk(variant_ids)
                if variant_ids else {})
    kinds = line_kinds()
    price_lines, problems, plugin_items = [], [], {}
    for index, line in enumerate(lines):
        if line.kind == PRODUCT_LINE:
            variant = variants[line.variant_id]
            price_lines.append((index, line, line_for_variant(variant, variant.product, line.metadata)))
            continue
        kind = kinds.get(line.kind)
        try:
            if kind is None:
                raise MarketplaceError(f"{line.kind} lines are no longer sold.", code=ErrorCode.NOT_FOUND)
            plugin_items[index] = kind.describe(line.reference)
        except MarketplaceError as exc:
            problems.append(MarketplaceError(f"{line.reference or line.kind}: {exc.message}", code=exc.code,
                                             field=f"lines.{index}"))
    by_kind = {}
    for index, description in plugin_items.items():
        by_kind.setdefault(lines[index].kind, []).append(index)
    for kind_name, indexes in by_kind.items():
        kind = kinds[kind_name]
        listed = kind.list_prices([lines[i] for i in indexes], context)
        for i in indexes:
            line = lines[i]
            price_lines.append((i, line, PriceLine(
                variant_id=None, product_id=None, vendor_id=plugin_items[i].seller_id, category_id=None, brand_id=None,
                list_price=Decimal(listed[line.reference]), currency=checkout.currency, kind=kind_name,
                key=f"{kind_name}:{line.reference}", metadata=MappingProxyType(dict(line.metadata or {})),
                applies_floor=kind.applies_floor)))
    prices = compute_prices([p for _, _, p in price_lines], context)
    infos = []
    for index, line, price_line in sorted(price_lines, key=lambda item: item[0]):
        price = prices[price_line.key]
        if line.kind == PRODUCT_LINE:
            variant = variants[line.variant_id]
            product = variant.product
            name, sku = product.name_zh, variant.sku
            requires_shipping = product.product_type.requires_shipping
            track, weight = variant.track_inventory, variant.weight_grams
        else:
            kind = kinds[line.kind]
            name, sku = plugin_items[index].name, plugin_items[index].sku
            requires_shipping, track, weight = kind.requires_shipping, False, kind.weight_grams
        total = quantize(price.final_price * line.quantity)
        floor_total = quantize(price.floor_price * line.quantity) if price_line.applies_floor and not price.floor_exempt \
            else ZERO
        infos.append(CheckoutLineInfo(
            line_id=line.pk, index=index, kind=line.kind, reference=line.reference, variant_id=line.variant_id,
            product_id=price_line.product_id, vendor_id=price_line.vendor_id, quantity=line.quantity, name=name,
            sku=sku, unit_price=price, total=total, floor_total=min(floor_total, total),
            requires_shipping=requires_shipping, track_inventory=track, weight_grams=weight,
            metadata=MappingProxyType(dict(line.metadata or {}))))
    info = checkout_info(checkout)
    applied = _order_adjustments(info, infos, context) if adjust and infos else []
    share_of = {}
    for item in applied:
        for line_id, amount in item.lines.items():
            share_of.setdefault((line_id, item.kind), ZERO)
            share_of[(line_id, item.kind)] += amount
    vendor_ids = sorted({i.vendor_id for i in infos if i.vendor_id is not None})
    vendors = Vendor.objects.in_bulk(vendor_ids) if vendor_ids else {}
    chosen = {c.vendor_id: c.method for c in checkout.shipping_choices.select_related("method")} if checkout.pk else {}
    methods = {}
    if vendor_ids:
        for method in ShippingMethod.objects.filter(vendor_id__in=vendor_ids, is_active=True):
            methods.setdefault(method.vendor_id, []).append(method)
    grouped = {}
    for item in infos:
        grouped.setdefault(item.vendor_id, []).append(item)
    parts = []
    for vendor_id in sorted(grouped, key=lambda v: (v is not None, v or 0)):
        items = grouped[vendor_id]
        goods = quantize(sum((i.total for i in items), ZERO))
        discount = quantize(sum((share_of.get((i.line_id, DISCOUNT), ZERO) for i in items), ZERO))
        tendered = quantize(sum((share_of.get((i.line_id, TENDER), ZERO) for i in items), ZERO))
        ships = any(i.requires_shipping for i in items)
        weight = sum(i.weight_grams * i.quantity for i in items if i.requires_shipping)
        offered = methods.get(vendor_id, []) if ships else []
        method = chosen.get(vendor_id) if ships else None
        if method is not None and (not method.is_active or method.vendor_id != vendor_id):
            method = None  # deactivated (or moved) since it was chosen: choose again
        cost = shipping_cost(method, goods - discount, weight) if method is not None else (None if ships else ZERO)
        parts.append(SellerPart(vendors.get(vendor_id) if vendor_id is not None else None, items, goods, discount,
                                tendered, weight, ships, method, cost, offered))
    return CheckoutTotals(info, parts, infos, applied, checkout.currency, context, problems, variants)


def _order_adjustments(info, lines, context):
    """Ask plugins for order-level adjustments and allocate each to lines: discounts first,
    then tenders, in the order given; no line below its floor."""
    from marketplace.plugins.manager import get_manager

    offered = []
    for plugin, answer in get_manager().call_each("checkout_adjustments", checkout=info, lines=lines,
                                                  context=context):
        for adjustment in answer or ():
            if isinstance(adjustment, OrderAdjustment) and adjustment.kind in (DISCOUNT, TENDER):
                amount = Decimal(adjustment.amount)
                if amount.is_finite() and amount > 0:
                    offered.append(adjustment)
    offered.sort(key=lambda a: 0 if a.kind == DISCOUNT else 1)
    room = {line.line_id: line.total - line.floor_total for line in lines}
    applied = []
    for adjustment in offered:
        eligible = [line for line in lines if line.kind == PRODUCT_LINE and room[line.line_id] > 0
                    and (adjustment.vendor_id is None or line.vendor_id == adjustment.vendor_id)]
        shares = allocate(quantize(adjustment.amount), [(l.line_id, l.total, room[l.line_id]) for l in eligible])
        for line_id, share in shares.items():
            room[line_id] -= share
        total = quantize(sum(shares.values(), ZERO))
        applied.append(AppliedOrderAdjustment(adjustment, quantize(adjustment.amount), total,
                                              MappingProxyType(shares)))
    return applied
