"""Order lifecycle: unpaid -> paid -> partially fulfilled -> fulfilled -> completed, or
cancelled / refunded. Every service owns its transaction; transitions are checked and
idempotent where a retry can happen (payment confirmations).

Plugins take part through transactional hooks: `checkout_reserve` (called by checkout
completion), `on_order_paid`, `on_order_released` and `on_refund_recorded`.
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from marketplace.core import clock
from marketplace.core.errors import ErrorCode, NotFound, ValidationError
from marketplace.core.events import emit
from marketplace.core.money import quantize

from . import ledger
from .events import OrderCancelled, OrderCompleted, OrderCreated, OrderFulfilled, OrderPaid, OrderRefunded, \
    VendorOrderCompleted
from .models import Allocation, Order, OrderLine, OrderStatus, VendorOrder, VendorOrderStatus
from .selectors import RefundInfo, order_info

ZERO = Decimal("0.00")


def payment_timeout() -> timedelta:
    """How long an unpaid order holds its stock and capacity (ORDER_PAYMENT_TIMEOUT_MINUTES)."""
    return timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES)


def _number():
    return f"MP{clock.now():%y%m%d}{secrets.token_hex(3).upper()}"


def _manager():
    from marketplace.plugins.manager import get_manager

    return get_manager()


@transaction.atomic(savepoint=False)  # inside completion's transaction, which rolls back whole on an error
def create_order(draft) -> Order:
    """Write an unpaid order from an `OrderDraft` (one sub-order per seller, lines with
    their stock allocations): the order, then all sub-orders, all lines and all
    allocations in one statement each. Called by checkout completion inside its
    transaction. Raises ValidationError (INVALID_STATE) if the checkout already made an
    order. The returned order carries what was written, so `order_info_of(order)` needs
    no query."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    number=_number(), user_id=draft.user_id, email=draft.email, currency=draft.currency,
                    subtotal=draft.subtotal, shipping_total=draft.shipping_total, discount_total=draft.discount_total,
                    total=draft.total, tendered_total=draft.tendered_total, shipping_address=draft.shipping_address,
                    checkout_token=draft.checkout_token, metadata=draft.metadata,
                    expires_at=clock.now() + payment_timeout(),
                )
            break
        except IntegrityError as exc:
            if "checkout_token" in str(exc) or Order.objects.filter(checkout_token=draft.checkout_token).exists():
                raise ValidationError("This checkout was already completed.", code=ErrorCode.INVALID_STATE) from None
    else:
        raise RuntimeError("Could not allocate a unique order number")
    vendor_orders = VendorOrder.objects.bulk_create([
        VendorOrder(
            order=order, vendor_id=part.vendor_id, subtotal=part.subtotal, shipping=part.shipping,
            discount=part.discount, platform_funded=part.platform_funded, total=part.total, tendered=part.tendered,
            commission_rate=part.commission_rate, revenue_account=part.revenue_account,
            shipping_method_name=part.shipping_method_name, shipping_address=part.shipping_address,
            delivery_label=part.delivery_label[:200],
        ) for part in draft.parts])
    drafted = [(vendor_order, line) for vendor_order, part in zip(vendor_orders, draft.parts) for line in part.lines]
    lines = OrderLine.objects.bulk_create([
        OrderLine(
            vendor_order=vendor_order, kind=line.kind, reference=line.reference, variant_id=line.variant_id,
            product_name=line.product_name[:255], sku=line.sku[:64], quantity=line.quantity,
            unit_list_price=line.unit_list_price, unit_price=line.unit_price, discount=line.discount,
            total=line.total, tendered=line.tendered, platform_funded=line.platform_funded,
            requires_shipping=line.requires_shipping, price_explanation=line.explanation, metadata=line.metadata,
        ) for vendor_order, line in drafted])
    allocations = [Allocation(line=order_line, stock_id=stock_id, quantity=quantity)
                   for order_line, (_vo, line) in zip(lines, drafted) for stock_id, quantity in line.allocations]
    if allocations:
        Allocation.objects.bulk_create(allocations)
    order._written = (vendor_orders, lines)  # for order_info_of(): what is in the database now
    emit(OrderCreated(order_id=order.pk, number=order.number, total=order.total,
                      vendor_ids=[p.vendor_id for p in draft.parts if p.vendor_id is not None]))
    return order


def replace_allocations(order, plan):
    """Re-point an order's allocations at a new stock plan [(variant_id, stock_id, qty)]."""
    by_variant = {}
    for variant_id, stock_id, quantity in plan:
        by_variant.setdefault(variant_id, []).append((stock_id, quantity))
    Allocation.objects.filter(line__vendor_order__order=order).delete()
    allocations = []
    for line in OrderLine.objects.filter(vendor_order__order=order, variant__isnull=False):
        allocations += [Allocation(line=line, stock_id=stock_id, quantity=quantity)
                        for stock_id, quantity in by_variant.get(line.variant_id, [])]
    Allocation.objects.bulk_create(allocations)


def get_order(order_id, lock=False) -> Order:
    qs = Order.objects.select_for_update() if lock else Order.objects
    order = qs.filter(pk=order_id).first()
    if order is None:
        raise NotFound("Order not found.", field="order_id")
    return order


@transaction.atomic
def mark_paid(order_id, amount) -> bool:
    """The gateway captured `amount` for the order (or tenders covered it all: amount 0).
    Books the ledger, counts sales, calls `on_order_paid` and emits `order_paid`.
    Idempotent: returns False (and changes nothing) when the order is not unpaid. Raises
    ValidationError when `amount` does not cover what is due."""
    order = get_order(order_id, lock=True)
    if order.status != OrderStatus.UNPAID:
        return False
    if quantize(amount) < order.amount_due:
        raise ValidationError("The captured amount does not cover the order.", code=ErrorCode.INVALID)
    order.status = OrderStatus.PAID
    order.paid_at = clock.now()
    order.expires_at = None
    order.save(update_fields=["status", "paid_at", "expires_at"])
    from marketplace.catalog.models import Product

    vendor_orders = list(order.vendor_orders.select_related("order"))
    for vendor_order in vendor_orders:
        vendor_order.status = VendorOrderStatus.PAID
        vendor_order.save(update_fields=["status"])
        ledger.book_sale(vendor_order)
    sold = {}
    for product_id, quantity in OrderLine.objects.filter(vendor_order__order=order, variant__isnull=False) \
            .values_list("variant__product_id", "quantity"):
        sold[product_id] = sold.get(product_id, 0) + quantity
    for product_id, quantity in sold.items():
        Product.objects.filter(pk=product_id).update(sales_count=F("sales_count") + quantity)
    _manager().call("on_order_paid", order=order_info(order.pk))
    emit(OrderPaid(order_id=order.pk, number=order.number, amount=order.total,
                   vendor_totals={vo.vendor_id or 0: vo.total for vo in vendor_orders}))
    return True


def _release(allocations):
    from marketplace.catalog.models import Stock
    from marketplace.catalog.services import refresh_summaries

    stock_ids = []
    now = clock.now()
    for allocation in allocations:
        if allocation.released_at or allocation.shipped_at:
            continue
        Stock.objects.filter(pk=allocation.stock_id).update(reserved=F("reserved") - allocation.quantity)
        allocation.released_at = now
        allocation.save(update_fields=["released_at"])
        stock_ids.append(allocation.stock_id)
    if stock_ids:
        refresh_summaries(set(Stock.objects.filter(pk__in=stock_ids).values_list("variant__product_id", flat=True)))


@transaction.atomic
def cancel(order_id, reason) -> Order:
    """Cancel an unpaid order: release its stock, let plugins release what they claimed
    (`on_order_released`); after commit the payments app voids its open payments (it
    subscribes to `order_cancelled`). Raises ValidationError
    (INVALID_STATE) for an order that is not unpaid."""
    order = get_order(order_id, lock=True)
    if order.status != OrderStatus.UNPAID:
        raise ValidationError("Only unpaid orders can be cancelled; ask for a refund instead.",
                              code=ErrorCode.INVALID_STATE)
    _release(Allocation.objects.select_for_update().filter(line__vendor_order__order=order).order_by("stock_id"))
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = clock.now()
    order.cancel_reason = (reason or "")[:200]
    order.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    order.vendor_orders.update(status=VendorOrderStatus.CANCELLED)
    _manager().call("on_order_released", order=order_info(order.pk), reason=order.cancel_reason)
    emit(OrderCancelled(order_id=order.pk, reason=order.cancel_reason))  # payments voids open payments on it
    return order


def expire_unpaid(now=None) -> int:
    """Cancel unpaid orders past their payment deadline. Returns how many."""
    now = now or clock.now()
    expired = 0
    for order_id in Order.objects.filter(status=OrderStatus.UNPAID, expires_at__lte=now).values_list("pk", flat=True):
        try:
            cancel(order_id, "Payment not received in time")
            expired += 1
        except ValidationError:
            continue  # paid meanwhile
    return expired


def _roll_up(order):
    statuses = set(order.vendor_orders.exclude(status__in=[VendorOrderStatus.REFUNDED,
                                                          VendorOrderStatus.CANCELLED]).values_list("status", flat=True))
    if not statuses:
        return
    if statuses <= {VendorOrderStatus.COMPLETED}:
        order.status = OrderStatus.COMPLETED
        order.completed_at = order.completed_at or clock.now()
    elif statuses <= {VendorOrderStatus.FULFILLED, VendorOrderStatus.COMPLETED}:
        order.status = OrderStatus.FULFILLED
    elif VendorOrderStatus.FULFILLED in statuses or OrderLine.objects.filter(
            vendor_order__order=order, fulfilled_at__isnull=False).exists():
        order.status = OrderStatus.PARTIALLY_FULFILLED
    order.save(update_fields=["status", "completed_at"])


def _fulfillable(vendor_order_id):
    vendor_order = VendorOrder.objects.select_for_update().select_related("order").filter(pk=vendor_order_id).first()
    if vendor_order is None:
        raise NotFound("Order not found.", field="vendor_order_id")
    if vendor_order.status != VendorOrderStatus.PAID:
        raise ValidationError(f"A {vendor_order.status} order cannot be fulfilled.", code=ErrorCode.INVALID_STATE)
    if vendor_order.on_hold:
        raise ValidationError(f"This order is on hold: {vendor_order.hold_reason or 'wait until it is released'}.",
                              code=ErrorCode.INVALID_STATE)
    return vendor_order


def _finish_fulfilment(vendor_order, order):
    if not vendor_order.lines.filter(fulfilled_at__isnull=True).exists():
        vendor_order.status = VendorOrderStatus.FULFILLED
        vendor_order.fulfilled_at = clock.now()
        vendor_order.save(update_fields=["status", "carrier", "tracking_number", "fulfilled_at"])
        emit(OrderFulfilled(order_id=order.pk, vendor_order_id=vendor_order.pk, vendor_id=vendor_order.vendor_id),
             )
    else:
        vendor_order.save(update_fields=["carrier", "tracking_number"])
    _roll_up(order)


@transaction.atomic
def fulfil(vendor_order_id, carrier="", tracking_number="") -> VendorOrder:
    """A seller ships its sub-order: the stock of its shippable lines leaves the warehouse
    (carrier and tracking number required), and service lines (no shipping) are fulfilled
    with it. Raises NotFound, ValidationError (INVALID_STATE, REQUIRED)."""
    from marketplace.catalog.models import Stock
    from marketplace.catalog.services import refresh_summaries

    vendor_order = _fulfillable(vendor_order_id)
    shippable = vendor_order.lines.filter(requires_shipping=True, fulfilled_at__isnull=True).exists()
    if shippable and (not (carrier or "").strip() or not (tracking_number or "").strip()):
        raise ValidationError("Carrier and tracking number are required.", code=ErrorCode.REQUIRED,
                              field="tracking_number")
    order = Order.objects.select_for_update().get(pk=vendor_order.order_id)
    now = clock.now()
    for allocation in Allocation.objects.select_for_update().filter(line__vendor_order=vendor_order).order_by("stock_id"):
        if allocation.shipped_at or allocation.released_at:
            continue
        Stock.objects.filter(pk=allocation.stock_id).update(quantity=F("quantity") - allocation.quantity,
                                                            reserved=F("reserved") - allocation.quantity)
        allocation.shipped_at = now
        allocation.save(update_fields=["shipped_at"])
    refresh_summaries(set(OrderLine.objects.filter(vendor_order=vendor_order, variant__isnull=False)
                          .values_list("variant__product_id", flat=True)))
    vendor_order.lines.filter(fulfilled_at__isnull=True).update(fulfilled_at=now)
    if shippable:
        vendor_order.carrier = carrier.strip()[:100]
        vendor_order.tracking_number = tracking_number.strip()[:100]
    _finish_fulfilment(vendor_order, order)
    return vendor_order


@transaction.atomic
def fulfil_service_lines(vendor_order_id, line_ids=None) -> VendorOrder:
    """Fulfil service lines (no shipping: labour, vouchers) of a paid sub-order without a
    carrier, e.g. when a repair booking is completed. `line_ids` limits it to some lines.
    The sub-order becomes fulfilled when none of its lines is left. Raises NotFound,
    ValidationError (INVALID_STATE when a named line needs shipping)."""
    vendor_order = _fulfillable(vendor_order_id)
    lines = vendor_order.lines.filter(fulfilled_at__isnull=True)
    if line_ids is not None:
        lines = lines.filter(pk__in=list(line_ids))
    if lines.filter(requires_shipping=True).exists():
        raise ValidationError("Lines that ship need a carrier: use fulfil.", code=ErrorCode.INVALID_STATE)
    order = Order.objects.select_for_update().get(pk=vendor_order.order_id)
    lines.update(fulfilled_at=clock.now())
    _finish_fulfilment(vendor_order, order)
    return vendor_order


@transaction.atomic
def set_hold(vendor_order_id, on_hold, reason="") -> VendorOrder:
    """Put a sub-order on hold (paid but not fulfillable nor payable out, e.g. while its
    group forms) or release it."""
    vendor_order = VendorOrder.objects.select_for_update().filter(pk=vendor_order_id).first()
    if vendor_order is None:
        raise NotFound("Order not found.", field="vendor_order_id")
    vendor_order.on_hold = bool(on_hold)
    vendor_order.hold_reason = (reason or "")[:200] if on_hold else ""
    vendor_order.save(update_fields=["on_hold", "hold_reason"])
    return vendor_order


@transaction.atomic
def confirm_received(order_id) -> Order:
    """The member confirms delivery: fulfilled sub-orders complete."""
    order = get_order(order_id, lock=True)
    if order.status != OrderStatus.FULFILLED:
        raise ValidationError("Only a fulfilled order can be completed.", code=ErrorCode.INVALID_STATE)
    completed = list(order.vendor_orders.filter(status=VendorOrderStatus.FULFILLED))
    order.vendor_orders.filter(pk__in=[vo.pk for vo in completed]).update(status=VendorOrderStatus.COMPLETED)
    _roll_up(order)
    for vendor_order in completed:
        emit(VendorOrderCompleted(order_id=order.pk, vendor_order_id=vendor_order.pk, vendor_id=vendor_order.vendor_id))
    emit(OrderCompleted(order_id=order.pk))
    return order


def record_refund(vendor_order, amount, tendered=ZERO, tenders=None, refund_id=None):
    """Book money already returned (cash by the gateway, `tendered` back to tenders) against
    one sub-order, inside the caller's transaction: the sub-order's refunded total, exact
    ledger reversal, stock released when fully refunded, `on_refund_recorded`, and the
    `order_refunded` event. `tenders` = {source: amount} returned per tender source."""
    vendor_order = VendorOrder.objects.select_for_update().select_related("order").get(pk=vendor_order.pk)
    amount = quantize(amount)
    vendor_order.refunded = vendor_order.refunded + amount
    final = vendor_order.refunded == vendor_order.total
    fields = ["refunded"]
    if final:
        vendor_order.status = VendorOrderStatus.REFUNDED
        fields.append("status")
    vendor_order.save(update_fields=fields)
    if final:
        _release(Allocation.objects.select_for_update().filter(line__vendor_order=vendor_order).order_by("stock_id"))
    ledger.book_refund(vendor_order, amount, tendered, final=final)
    order = Order.objects.select_for_update().get(pk=vendor_order.order_id)
    order.refunded_total = order.refunded_total + amount
    order.save(update_fields=["refunded_total"])
    if order.refunded_total == order.total:
        order.status = OrderStatus.REFUNDED
        order.save(update_fields=["status"])
    else:
        _roll_up(order)
    _manager().call("on_refund_recorded", refund=RefundInfo(
        refund_id=refund_id, order_id=order.pk, vendor_order_id=vendor_order.pk, vendor_id=vendor_order.vendor_id,
        user_id=order.user_id, amount=amount, cash=amount - quantize(tendered), tendered=quantize(tendered),
        tenders=dict(tenders or {}), share=(amount / vendor_order.total) if vendor_order.total else Decimal("1"),
        is_final=final))
    emit(OrderRefunded(order_id=order.pk, vendor_order_id=vendor_order.pk, vendor_id=vendor_order.vendor_id,
                       amount=amount))
    return vendor_order
