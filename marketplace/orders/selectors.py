"""Read-only views of orders for other apps and plugins: frozen dataclasses, never models.

    order_info(order_id) -> OrderInfo              # one order with its sub-orders and lines
    customer_spend(user_id, vendor_id, since)     # net spend at one store (paid sub-orders)
    order_lines(customer_id=..., vendor_id=..., kind=..., since=...) -> [OrderLineInfo]
    customer_stats(vendor_id, since, user_ids)    # {user_id: CustomerStats} of a store's customers
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Mapping

from django.db.models import Count, Max, Min, Q, Sum

from .models import Order, OrderLine, OrderStatus, VendorOrder, VendorOrderStatus

PAID_STATUSES = (VendorOrderStatus.PAID, VendorOrderStatus.FULFILLED, VendorOrderStatus.COMPLETED,
                 VendorOrderStatus.REFUNDED)


@dataclass(frozen=True)
class OrderLineInfo:
    line_id: int
    vendor_order_id: int
    vendor_id: int | None
    kind: str
    reference: str
    variant_id: int | None
    product_name: str
    sku: str
    quantity: int
    unit_list_price: Decimal
    unit_price: Decimal
    discount: Decimal
    total: Decimal
    tendered: Decimal
    requires_shipping: bool
    fulfilled: bool
    explanation: Mapping
    metadata: Mapping


@dataclass(frozen=True)
class VendorOrderInfo:
    vendor_order_id: int
    vendor_id: int | None
    status: str
    subtotal: Decimal
    shipping: Decimal
    total: Decimal
    tendered: Decimal
    refunded: Decimal
    on_hold: bool


@dataclass(frozen=True)
class OrderInfo:
    order_id: int
    number: str
    user_id: int | None
    email: str
    status: str
    currency: str
    total: Decimal
    tendered_total: Decimal
    refunded_total: Decimal
    created_at: datetime
    paid_at: datetime | None
    metadata: Mapping
    vendor_orders: tuple = field(default_factory=tuple)
    lines: tuple = field(default_factory=tuple)

    @property
    def amount_due(self):
        return self.total - self.tendered_total

    def lines_of(self, kind):
        return [line for line in self.lines if line.kind == kind]


@dataclass(frozen=True)
class RefundInfo:
    """A refund recorded against a sub-order (what `on_refund_recorded` receives).
    `amount` = `cash` + `tendered`; `share` is amount / sub-order total (a Decimal
    fraction); `is_final` when the sub-order is now fully refunded (reverse what remains);
    `tenders` maps each tender source to what went back to it."""

    refund_id: int | None
    order_id: int
    vendor_order_id: int
    vendor_id: int | None
    user_id: int | None
    amount: Decimal
    cash: Decimal
    tendered: Decimal
    tenders: Mapping
    share: Decimal
    is_final: bool


def _cents(value):
    """A money sum from the database, exact to 0.01 (SQLite adds decimals as floats)."""
    from marketplace.core.money import quantize

    return quantize(value or 0)


def _frozen(value):
    return MappingProxyType(dict(value or {}))


def line_info(line: OrderLine, vendor_id) -> OrderLineInfo:
    return OrderLineInfo(
        line_id=line.pk, vendor_order_id=line.vendor_order_id, vendor_id=vendor_id, kind=line.kind,
        reference=line.reference, variant_id=line.variant_id, product_name=line.product_name, sku=line.sku,
        quantity=line.quantity, unit_list_price=line.unit_list_price, unit_price=line.unit_price,
        discount=line.discount, total=line.total, tendered=line.tendered, requires_shipping=line.requires_shipping,
        fulfilled=line.fulfilled_at is not None, explanation=_frozen(line.price_explanation),
        metadata=_frozen(line.metadata))


def order_info(order_id) -> OrderInfo | None:
    """One order as an `OrderInfo` (three queries), or None."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return None
    vendor_orders = list(VendorOrder.objects.filter(order_id=order.pk).order_by("pk"))
    lines = OrderLine.objects.filter(vendor_order__order_id=order.pk).order_by("pk")
    return _info(order, vendor_orders, lines)


def order_info_of(order) -> OrderInfo:
    """`OrderInfo` of an Order instance: with no query for one just written by
    `orders.services.create_order` (in the same transaction), else as `order_info`."""
    written = getattr(order, "_written", None)
    if written is None:
        return order_info(order.pk)
    vendor_orders, lines = written
    return _info(order, sorted(vendor_orders, key=lambda vo: vo.pk), sorted(lines, key=lambda line: line.pk))


def _info(order, vendor_orders, lines):
    vendor_of = {vo.pk: vo.vendor_id for vo in vendor_orders}
    return OrderInfo(
        order_id=order.pk, number=order.number, user_id=order.user_id, email=order.email, status=order.status,
        currency=order.currency, total=order.total, tendered_total=order.tendered_total,
        refunded_total=order.refunded_total, created_at=order.created_at, paid_at=order.paid_at,
        metadata=_frozen(order.metadata),
        vendor_orders=tuple(VendorOrderInfo(vo.pk, vo.vendor_id, vo.status, vo.subtotal, vo.shipping, vo.total,
                                            vo.tendered, vo.refunded, vo.on_hold) for vo in vendor_orders),
        lines=tuple(line_info(line, vendor_of[line.vendor_order_id]) for line in lines),
    )


def order_lines(*, customer_id=None, vendor_id=None, kind=None, since=None, paid_only=True) -> list[OrderLineInfo]:
    """Order lines by customer and/or seller (e.g. a store's sales to one member), oldest
    first. `paid_only` keeps lines of sub-orders that were paid (refunded included)."""
    qs = OrderLine.objects.select_related("vendor_order", "vendor_order__order").order_by("pk")
    if customer_id is not None:
        qs = qs.filter(vendor_order__order__user_id=customer_id)
    if vendor_id is not None:
        qs = qs.filter(vendor_order__vendor_id=vendor_id)
    if kind is not None:
        qs = qs.filter(kind=kind)
    if since is not None:
        qs = qs.filter(vendor_order__order__paid_at__gte=since)
    if paid_only:
        qs = qs.filter(vendor_order__status__in=PAID_STATUSES)
    return [line_info(line, line.vendor_order.vendor_id) for line in qs]


def customer_spend(user_id, vendor_id, since=None) -> Decimal:
    """Net spend of a customer at one store: paid sub-orders' goods less what was refunded
    on them (shipping excluded)."""
    qs = VendorOrder.objects.filter(order__user_id=user_id, vendor_id=vendor_id, status__in=PAID_STATUSES)
    if since is not None:
        qs = qs.filter(order__paid_at__gte=since)
    row = qs.aggregate(goods=Sum("subtotal"), refunded=Sum("refunded"), shipping=Sum("shipping"))
    return max(_cents(row["goods"]) - _cents(row["refunded"]), Decimal("0.00"))


def spend_by_customer(vendor_id, since=None) -> dict[int, Decimal]:
    """{user_id: net goods spend} of every customer of a store (one query)."""
    qs = VendorOrder.objects.filter(vendor_id=vendor_id, status__in=PAID_STATUSES, order__user_id__isnull=False)
    if since is not None:
        qs = qs.filter(order__paid_at__gte=since)
    rows = qs.values("order__user_id").annotate(goods=Sum("subtotal"), refunded=Sum("refunded"))
    return {row["order__user_id"]: max(_cents(row["goods"]) - _cents(row["refunded"]), Decimal("0.00")) for row in rows}


@dataclass(frozen=True)
class CustomerStats:
    """One customer's record at one store: `orders` paid sub-orders (refunded ones
    included), `net_spend` their goods less refunds (shipping excluded, never below 0),
    and when the first and last of them were paid (aware datetimes)."""

    user_id: int
    orders: int
    net_spend: Decimal
    first_paid_at: datetime
    last_paid_at: datetime


def customer_stats(vendor_id, since=None, user_ids=None) -> dict[int, CustomerStats]:
    """{user_id: CustomerStats} of every customer with a paid sub-order at the store
    (`since`: only sub-orders paid at or after it; `user_ids`: only these customers), in
    one grouped query. Guests (orders without a user) are left out."""
    qs = VendorOrder.objects.filter(vendor_id=vendor_id, status__in=PAID_STATUSES, order__user_id__isnull=False)
    if since is not None:
        qs = qs.filter(order__paid_at__gte=since)
    if user_ids is not None:
        qs = qs.filter(order__user_id__in=list(user_ids))
    rows = (qs.values("order__user_id")
            .annotate(n=Count("pk"), goods=Sum("subtotal"), refunded=Sum("refunded"),
                      first=Min("order__paid_at"), last=Max("order__paid_at")))
    return {row["order__user_id"]: CustomerStats(
        user_id=row["order__user_id"], orders=row["n"],
        net_spend=max(_cents(row["goods"]) - _cents(row["refunded"]), Decimal("0.00")),
        first_paid_at=row["first"], last_paid_at=row["last"]) for row in rows}


def has_paid_order(user_id, vendor_id=None) -> bool:
    qs = Order.objects.filter(user_id=user_id).exclude(status__in=[OrderStatus.UNPAID, OrderStatus.CANCELLED])
    if vendor_id is not None:
        qs = qs.filter(Q(vendor_orders__vendor_id=vendor_id))
    return qs.exists()
