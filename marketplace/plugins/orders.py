"""Orders for plugins: read-only selectors returning frozen dataclasses, and the order
services a plugin may call. Reference order rows by string in ForeignKeys
("orders.Order", "orders.VendorOrder", "orders.OrderLine").

Selectors:
- `order_info(order_id) -> OrderInfo` (sub-orders `vendor_orders` and `lines`, each line
  with its `kind`, `reference`, `metadata`, prices and tender);
- `order_lines(customer_id=, vendor_id=, kind=, since=, paid_only=True) -> [OrderLineInfo]`;
- `customer_spend(user_id, vendor_id, since=None) -> Decimal` (net goods spend at a store);
- `spend_by_customer(vendor_id, since=None) -> {user_id: Decimal}`;
- `customer_stats(vendor_id, since=None, user_ids=None) -> {user_id: CustomerStats}` (paid
  sub-orders, net spend, first and last payment of each customer of a store: one query);
- `has_paid_order(user_id, vendor_id=None) -> bool`.

Services:
- `fulfil_service_lines(vendor_order_id, line_ids=None)`: fulfil service lines without a
  carrier (e.g. a completed repair booking);
- `hold(vendor_order_id, reason)` / `release(vendor_order_id)`: keep a paid sub-order from
  being fulfilled or paid out (e.g. while its group forms);
- `cancel_order(order_id, reason)`: cancel an unpaid order (its claims are released through
  `on_order_released`);
- `extend_payment_deadline(order_id, until)`: keep an unpaid order (its stock and claims)
  from expiring before `until`, e.g. while an authorised payment waits to be captured;
- `refund(order_id, amount=None, vendor_order_id=None, reason="", idempotency_key=None)`:
  see `marketplace.plugins.payments.refund`.
"""
from marketplace.orders.selectors import (
    CustomerStats, OrderInfo, OrderLineInfo, RefundInfo, VendorOrderInfo, customer_spend, customer_stats,
    has_paid_order, order_info, order_lines, spend_by_customer,
)


def fulfil_service_lines(vendor_order_id, line_ids=None):
    from marketplace.orders.services import fulfil_service_lines as _fulfil

    _fulfil(vendor_order_id, line_ids)


def hold(vendor_order_id, reason):
    from marketplace.orders.services import set_hold

    set_hold(vendor_order_id, True, reason)


def release(vendor_order_id):
    from marketplace.orders.services import set_hold

    set_hold(vendor_order_id, False)


def cancel_order(order_id, reason):
    from marketplace.orders.services import cancel

    cancel(order_id, reason)


def extend_payment_deadline(order_id, until) -> bool:
    """Move an unpaid order's payment deadline to `until` (an aware datetime) when it is
    earlier; never shortens it. Returns whether it changed."""
    from django.db.models import Q

    from marketplace.orders.models import Order, OrderStatus

    return bool(Order.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__lt=until), pk=order_id,
                                     status=OrderStatus.UNPAID).update(expires_at=until))


def refund(order_id, amount=None, vendor_order_id=None, reason="", idempotency_key=None):
    from marketplace.payments.services import refund as _refund

    return _refund(order_id, amount=amount, vendor_order_id=vendor_order_id, reason=reason,
                   idempotency_key=idempotency_key)


__all__ = ["OrderInfo", "OrderLineInfo", "VendorOrderInfo", "RefundInfo", "order_info", "order_lines",
           "customer_spend", "spend_by_customer", "customer_stats", "CustomerStats", "has_paid_order",
           "fulfil_service_lines", "hold", "release", "cancel_order", "extend_payment_deadline", "refund"]
