"""Typed views of a cart, handed to pricing, plugins and order creation (never tuples).

`CheckoutInfo` and `CheckoutLineInfo` are what `checkout_validate`, `checkout_adjustments`
and `checkout_reserve` receive; `OrderAdjustment` is what `checkout_adjustments` returns
and `AppliedOrderAdjustment` what the core made of it. All are frozen: plugins change a
cart only through `marketplace.plugins.checkout` services.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Mapping

DISCOUNT = "discount"
TENDER = "tender"


@dataclass(frozen=True)
class CheckoutInfo:
    token: str
    user_id: int | None
    email: str
    currency: str
    shipping_address: Mapping | None
    metadata: Mapping = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class CheckoutLineInfo:
    """One cart line, priced. `kind` is "product" for catalog variants; `reference` names a
    plugin line's item (e.g. a plan code). `vendor_id` None: sold by the platform.
    `unit_price` is the `PriceExplanation`; `total` = final unit price x quantity (before
    order-level discounts); `floor_total` the least the line may cost after them."""

    line_id: int
    index: int
    kind: str
    reference: str
    variant_id: int | None
    product_id: int | None
    vendor_id: int | None
    quantity: int
    name: str
    sku: str
    unit_price: Any
    total: Decimal
    floor_total: Decimal
    requires_shipping: bool
    track_inventory: bool
    weight_grams: int
    metadata: Mapping = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class OrderAdjustment:
    """An order-level adjustment a plugin offers: a `DISCOUNT` (lowers the price, e.g. a
    referral code) or a `TENDER` (pays part of the price, e.g. points or store credit).
    `amount` is the most it may take (a positive Decimal, CNY); `vendor_id` limits it to one
    seller's lines (None: every line of catalog goods); `funded_by` ("vendor"/"platform")
    says who bears a discount. `reference` is the plugin's own key (e.g. a points account)."""

    source: str
    label: str
    amount: Decimal
    kind: str = TENDER
    vendor_id: int | None = None
    funded_by: str = "vendor"
    reference: str = ""


@dataclass(frozen=True)
class AppliedOrderAdjustment:
    """What the core applied of an `OrderAdjustment`: `applied` <= `requested`, capped by the
    floor of every line; `lines` maps line ids to their share (Decimal)."""

    adjustment: OrderAdjustment
    requested: Decimal
    applied: Decimal
    lines: Mapping[int, Decimal]

    @property
    def source(self):
        return self.adjustment.source

    @property
    def kind(self):
        return self.adjustment.kind
