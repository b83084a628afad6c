"""Events of the orders app. Amounts are Decimals (strings in webhook payloads)."""
from dataclasses import dataclass, field
from decimal import Decimal

from marketplace.core.events import Event


@dataclass(frozen=True, kw_only=True)
class OrderCreated(Event):
    name = "order_created"
    description = "A checkout became an order (payload: order_id, number, total, vendor_ids)."
    order_id: int
    number: str
    total: Decimal
    vendor_ids: list = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class OrderPaid(Event):
    name = "order_paid"
    description = ("An order's payment was captured (payload: order_id, number, amount, vendor_totals: "
                   "{vendor_id: sub-order total}, the platform's own lines under vendor id 0).")
    order_id: int
    number: str
    amount: Decimal
    vendor_totals: dict = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class OrderFulfilled(Event):
    name = "order_fulfilled"
    description = "A seller fulfilled its part of an order (payload: order_id, vendor_order_id, vendor_id)."
    order_id: int
    vendor_order_id: int


@dataclass(frozen=True, kw_only=True)
class OrderCompleted(Event):
    name = "order_completed"
    description = "An order was completed (payload: order_id)."
    order_id: int


@dataclass(frozen=True, kw_only=True)
class VendorOrderCompleted(Event):
    name = "vendor_order_completed"
    description = "A sub-order was completed (payload: order_id, vendor_order_id, vendor_id)."
    order_id: int
    vendor_order_id: int


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(Event):
    name = "order_cancelled"
    description = "An order was cancelled or expired unpaid (payload: order_id, reason)."
    order_id: int
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class OrderRefunded(Event):
    name = "order_refunded"
    description = "Money was refunded on a sub-order (payload: order_id, vendor_order_id, vendor_id, amount)."
    order_id: int
    vendor_order_id: int
    amount: Decimal


EVENTS = [OrderCreated, OrderPaid, OrderFulfilled, OrderCompleted, VendorOrderCompleted, OrderCancelled,
          OrderRefunded]
