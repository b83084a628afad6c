"""Order lifecycle: unpaid -> paid -> partially fulfilled -> fulfilled -> completed,
or cancelled / refunded. Every transition is checked and idempotent where a retry can
happen (payment confirmations)."""
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from marketplace.core.errors import ErrorCode, NotFound, ValidationError
from marketplace.core.events import emit
from marketplace.core.money import quantize

from . import ledger
from .models import Allocation, Order, OrderLine, OrderStatus, VendorOrder, VendorOrderStatus


def _number():
    return f"MP{timezone.now():%y%m%d}{secrets.token_hex(3).upper()}"


def _explanation_json(price):
    return {
        "list": str(price.list_price), "final": str(price.final_price), "floor_applied": price.floor_applied,
        "adjustments": [{"source": a.source, "label": a.label, "amount": str(a.amount)} for a in price.adjustments],
    }


def create_order(checkout, totals, plan, user=None):
    """Called by checkout.services.complete inside its transaction."""
    from marketplace.checkout.services import payment_timeout

    default_rate = Decimal(str(settings.DEFAULT_COMMISSION_RATE))
    for _attempt in range(5):
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    number=_number(), user=user if user and user.is_authenticated else None,
                    email=checkout.email or (user.email if user else ""), currency=totals.currency,
                    subtotal=totals.subtotal, shipping_total=totals.shipping, total=totals.total,
                    shipping_address=checkout.shipping_address, checkout_token=checkout.token,
                    expires_at=timezone.now() + payment_timeout(),
                )
            break
        except IntegrityError as exc:
            if "checkout_token" in str(exc) or Order.objects.filter(checkout_token=checkout.token).exists():
                raise ValidationError("This checkout was already completed.", code=ErrorCode.INVALID_STATE) from None
    else:
        raise RuntimeError("Could not allocate a unique order number")
    allocations_by_variant = {}
    for variant_id, stock, quantity in plan:
        allocations_by_variant.setdefault(variant_id, []).append((stock, quantity))
    for part in totals.parts:
        vendor_order = VendorOrder.objects.create(
            order=order, vendor=part.vendor, subtotal=part.subtotal, shipping=part.shipping,
            total=part.subtotal + part.shipping,
            commission_rate=part.vendor.commission_rate if part.vendor.commission_rate is not None else default_rate,
            shipping_method_name=part.method.name_zh,
        )
        for line, variant, price in part.lines:
            order_line = OrderLine.objects.create(
                vendor_order=vendor_order, variant=variant, product_name=variant.product.name_zh, sku=variant.sku,
                quantity=line.quantity, unit_list_price=price.list_price, unit_price=price.final_price,
                total=quantize(price.final_price * line.quantity), price_explanation=_explanation_json(price),
            )
            Allocation.objects.bulk_create([Allocation(line=order_line, stock=stock, quantity=quantity)
                                            for stock, quantity in allocations_by_variant.get(variant.pk, [])])
    emit("order_created", {"order_id": order.pk, "number": order.number, "total": str(order.total),
                           "vendor_ids": [p.vendor.pk for p in totals.parts]})
    return order


def replace_allocations(order, plan):
    """Re-point an order's allocations at a new stock plan (checkout re-planning)."""
    by_variant = {}
    for variant_id, stock, quantity in plan:
        by_variant.setdefault(variant_id, []).append((stock, quantity))
    Allocation.objects.filter(line__vendor_order__order=order).delete()
    for line in OrderLine.objects.filter(vendor_order__order=order):
        Allocation.objects.bulk_create([Allocation(line=line, stock=stock, quantity=quantity)
                                        for stock, quantity in by_variant.get(line.variant_id, [])])


def get_order(order_id, lock=False):
    qs = Order.objects.select_for_update() if lock else Order.objects
    order = qs.filter(pk=order_id).first()
    if order is None:
        raise NotFound("Order not found.", field="order_id")
    return order


@transaction.atomic
def mark_paid(order_id, amount):
    """The payment was captured. Idempotent: the second call changes nothing.
    Returns True when this call changed the order."""
    order = get_order(order_id, lock=True)
    if order.status != OrderStatus.UNPAID:
        return False
    if quantize(amount) < order.total:
        raise ValidationError("The captured amount does not cover the order.", code=ErrorCode.INVALID)
    order.status = OrderStatus.PAID
    order.paid_at = timezone.now()
    order.expires_at = None
    order.save(update_fields=["status", "paid_at", "expires_at"])
    from marketplace.catalog.models import Product

    for vendor_order in order.vendor_orders.select_related("order"):
        vendor_order.status = VendorOrderStatus.PAID
        vendor_order.save(update_fields=["status"])
        ledger.book_sale(vendor_order)
    for line in OrderLine.objects.filter(vendor_order__order=order, variant__isnull=False).select_related("variant"):
        Product.objects.filter(pk=line.variant.product_id).update(sales_count=F("sales_count") + line.quantity)
    emit("order_paid", {"order_id": order.pk, "number": order.number, "amount": str(order.total)})
    return True


def _release(allocations, reason):
    from marketplace.catalog.models import Stock
    from marketplace.catalog.services import refresh_summaries

    stock_ids = []
    for allocation in allocations:
        if allocation.released_at or allocation.shipped_at:
            continue
        Stock.objects.filter(pk=allocation.stock_id).update(reserved=F("reserved") - allocation.quantity)
        allocation.released_at = timezone.now()
        allocation.save(update_fields=["released_at"])
        stock_ids.append(allocation.stock_id)
    refresh_summaries(set(Stock.objects.filter(pk__in=stock_ids).values_list("variant__product_id", flat=True)))


@transaction.atomic
def cancel(order_id, reason):
    """Cancel an unpaid order and release its stock."""
    order = get_order(order_id, lock=True)
    if order.status != OrderStatus.UNPAID:
        raise ValidationError("Only unpaid orders can be cancelled; ask for a refund instead.",
                              code=ErrorCode.INVALID_STATE)
    _release(Allocation.objects.select_for_update().filter(line__vendor_order__order=order).order_by("stock_id"), reason)
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancel_reason = reason[:200]
    order.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    order.vendor_orders.update(status=VendorOrderStatus.CANCELLED)
    emit("order_cancelled", {"order_id": order.pk, "reason": order.cancel_reason})
    transaction.on_commit(lambda: _cancel_open_payments(order.pk))
    return order


def _cancel_open_payments(order_id):
    import logging

    from marketplace.payments.gateways import get_gateway
    from marketplace.payments.models import Payment, PaymentStatus

    for payment in Payment.objects.filter(order_id=order_id, status__in=[PaymentStatus.PENDING, PaymentStatus.AUTHORIZED]):
        try:
            get_gateway(payment.gateway).cancel(payment)
            Payment.objects.filter(pk=payment.pk, status=payment.status).update(status=PaymentStatus.CANCELLED)
        except Exception:
            logging.getLogger("marketplace.payments").exception("Could not cancel payment %s", payment.pk)


def expire_unpaid(now=None):
    """Cancel unpaid orders past their payment deadline. Returns how many."""
    now = now or timezone.now()
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
        order.completed_at = order.completed_at or timezone.now()
    elif statuses <= {VendorOrderStatus.FULFILLED, VendorOrderStatus.COMPLETED}:
        order.status = OrderStatus.FULFILLED
    elif VendorOrderStatus.FULFILLED in statuses:
        order.status = OrderStatus.PARTIALLY_FULFILLED
    order.save(update_fields=["status", "completed_at"])


@transaction.atomic
def fulfil(vendor_order_id, carrier, tracking_number):
    """A vendor ships its sub-order: stock leaves the warehouse."""
    from marketplace.catalog.models import Stock

    vendor_order = VendorOrder.objects.select_for_update().select_related("order").filter(pk=vendor_order_id).first()
    if vendor_order is None:
        raise NotFound("Order not found.", field="vendor_order_id")
    if vendor_order.status != VendorOrderStatus.PAID:
        raise ValidationError(f"A {vendor_order.status} order cannot be fulfilled.", code=ErrorCode.INVALID_STATE)
    if not (carrier or "").strip() or not (tracking_number or "").strip():
        raise ValidationError("Carrier and tracking number are required.", code=ErrorCode.REQUIRED,
                              field="tracking_number")
    order = Order.objects.select_for_update().get(pk=vendor_order.order_id)
    for allocation in Allocation.objects.select_for_update().filter(line__vendor_order=vendor_order).order_by("stock_id"):
        if allocation.shipped_at or allocation.released_at:
            continue
        Stock.objects.filter(pk=allocation.stock_id).update(quantity=F("quantity") - allocation.quantity,
                                                            reserved=F("reserved") - allocation.quantity)
        allocation.shipped_at = timezone.now()
        allocation.save(update_fields=["shipped_at"])
    from marketplace.catalog.services import refresh_summaries

    refresh_summaries(set(OrderLine.objects.filter(vendor_order=vendor_order, variant__isnull=False)
                          .values_list("variant__product_id", flat=True)))
    vendor_order.status = VendorOrderStatus.FULFILLED
    vendor_order.carrier = carrier.strip()[:100]
    vendor_order.tracking_number = tracking_number.strip()[:100]
    vendor_order.fulfilled_at = timezone.now()
    vendor_order.save(update_fields=["status", "carrier", "tracking_number", "fulfilled_at"])
    _roll_up(order)
    emit("order_fulfilled", {"order_id": order.pk, "vendor_order_id": vendor_order.pk,
                             "vendor_id": vendor_order.vendor_id}, vendor_id=vendor_order.vendor_id)
    return vendor_order


@transaction.atomic
def confirm_received(order_id):
    """The member confirms delivery: fulfilled sub-orders complete."""
    order = get_order(order_id, lock=True)
    if order.status != OrderStatus.FULFILLED:
        raise ValidationError("Only a fulfilled order can be completed.", code=ErrorCode.INVALID_STATE)
    order.vendor_orders.filter(status=VendorOrderStatus.FULFILLED).update(status=VendorOrderStatus.COMPLETED)
    _roll_up(order)
    emit("order_completed", {"order_id": order.pk})
    return order


def record_refund(vendor_order, amount):
    """Book a refund already made at the gateway against one vendor order."""
    vendor_order.refunded = F("refunded") + amount
    vendor_order.save(update_fields=["refunded"])
    vendor_order.refresh_from_db()
    if vendor_order.refunded == vendor_order.total:
        vendor_order.status = VendorOrderStatus.REFUNDED
        vendor_order.save(update_fields=["status"])
        _release(Allocation.objects.select_for_update().filter(line__vendor_order=vendor_order).order_by("stock_id"),
                 "refunded before shipping")
    ledger.book_refund(vendor_order, amount)
    order = Order.objects.select_for_update().get(pk=vendor_order.order_id)
    order.refunded_total = F("refunded_total") + amount
    order.save(update_fields=["refunded_total"])
    order.refresh_from_db()
    if order.refunded_total == order.total:
        order.status = OrderStatus.REFUNDED
        order.save(update_fields=["status"])
    else:
        _roll_up(order)
    emit("order_refunded", {"order_id": order.pk, "vendor_order_id": vendor_order.pk, "amount": str(amount)},
         vendor_id=vendor_order.vendor_id)
    return vendor_order
