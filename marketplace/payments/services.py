"""Payments: creation at a gateway, webhook events processed exactly once, capture and
refunds. Gateway calls happen outside long-held locks where possible."""
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.core.errors import ErrorCode, NotFound, ValidationError
from marketplace.core.money import quantize
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus, VendorOrder

from .gateways import GatewayError, get_gateway
from .models import STATUS_RANK, GatewayEvent, Payment, PaymentStatus, Refund

logger = logging.getLogger("marketplace.payments")
PAYABLE = {OrderStatus.UNPAID}
REFUNDABLE = {OrderStatus.PAID, OrderStatus.PARTIALLY_FULFILLED, OrderStatus.FULFILLED, OrderStatus.COMPLETED}


def create_payment(order, gateway_name, capture_method="automatic"):
    """Start paying an unpaid order: a new payment at the gateway each call (an earlier,
    abandoned one simply never completes)."""
    if capture_method not in ("automatic", "manual"):
        raise ValidationError("capture_method is automatic or manual.", field="capture_method")
    gateway = get_gateway(gateway_name)
    if order.status not in PAYABLE:
        raise ValidationError(f"A {order.status} order cannot be paid.", code=ErrorCode.INVALID_STATE)
    payment = Payment.objects.create(order=order, gateway=gateway.name, amount=order.total, currency=order.currency,
                                     capture_method=capture_method)
    try:
        result = gateway.create_payment(payment, order)
    except GatewayError:
        payment.status = PaymentStatus.FAILED
        payment.save(update_fields=["status", "updated_at"])
        raise
    payment.reference = result.reference
    payment.status = result.status
    payment.save(update_fields=["reference", "status", "updated_at"])
    payment.client_secret = result.client_secret
    return payment


def _advance(payment, status, amount=None):
    """Move the payment forward in its state machine; older news is ignored."""
    if status is None or STATUS_RANK[status] <= STATUS_RANK[payment.status]:
        return False
    payment.status = status
    if status == PaymentStatus.CAPTURED:
        payment.captured_amount = quantize(amount if amount is not None else payment.amount)
    payment.save(update_fields=["status", "captured_amount", "updated_at"])
    if status == PaymentStatus.CAPTURED:
        order = Order.objects.get(pk=payment.order_id)
        if order.status != OrderStatus.UNPAID or payment.captured_amount < order.total:
            # Money arrived for an order that can no longer take it (expired, cancelled,
            # already paid by another payment) or too little: keep it visible for staff.
            logger.error("Payment %s captured %s for order %s (%s, total %s): refund or reconcile it",
                         payment.pk, payment.captured_amount, order.number, order.status, order.total)
            return True
        orders.mark_paid(payment.order_id, payment.captured_amount)
    return True


@transaction.atomic
def process_event(gateway_name, event):
    """Apply one verified gateway event exactly once. Duplicates and stale events
    (out of order) are recorded and change nothing. Returns a short result string."""
    try:
        with transaction.atomic():
            record = GatewayEvent.objects.create(gateway=gateway_name, event_id=event.event_id, type=event.type,
                                                 payload=event.payload)
    except IntegrityError:
        return "duplicate"
    payment = Payment.objects.select_for_update().filter(gateway=gateway_name, reference=event.reference).first()
    if payment is None:
        result = "unknown payment"
    elif _advance(payment, event.status, event.amount):
        result = f"payment {payment.pk} -> {payment.status}"
    else:
        result = "no change"
    record.processed_at = timezone.now()
    record.result = result
    record.save(update_fields=["processed_at", "result"])
    return result


def capture(payment_id, amount=None):
    """Capture an authorised (manual-capture) payment."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None:
            raise NotFound("Payment not found.", field="payment_id")
        if payment.status != PaymentStatus.AUTHORIZED:
            raise ValidationError(f"A {payment.status} payment cannot be captured.", code=ErrorCode.INVALID_STATE)
        amount = quantize(amount if amount is not None else payment.amount)
        if amount != payment.amount:
            raise ValidationError("Capture the whole authorised amount; refund afterwards to charge less.",
                                  field="amount")
        status = get_gateway(payment.gateway).capture(payment, amount)
        _advance(payment, status, amount)
    return payment


def refund(order_id, amount=None, vendor_order_id=None, reason=""):
    """Refund money: a partial or whole amount of one vendor's sub-order, or (no vendor
    order) everything still unrefunded. Each sub-order's refund is its own transaction:
    the gateway call and its record commit together, so a later failure never undoes
    money already returned. Books ledger reversals. Returns the Refunds."""
    plan = _refund_plan(order_id, amount, vendor_order_id)
    refunds = []
    for vendor_order_id_, part in plan:
        with transaction.atomic():
            payment = (Payment.objects.select_for_update()
                       .filter(order_id=order_id, status=PaymentStatus.CAPTURED).order_by("pk").first())
            vendor_order = VendorOrder.objects.select_for_update().select_related("order").get(pk=vendor_order_id_)
            if part > vendor_order.total - vendor_order.refunded or payment.refunded_amount + part > payment.captured_amount:
                raise ValidationError("The refund exceeds what can still be refunded.", field="amount")
            reference = get_gateway(payment.gateway).refund(payment, part, reason)
            refunds.append(Refund.objects.create(payment=payment, vendor_order=vendor_order, amount=part,
                                                 reference=reference, reason=reason[:255]))
            payment.refunded_amount += part
            payment.save(update_fields=["refunded_amount", "updated_at"])
            orders.record_refund(vendor_order, part)
    return refunds


def _refund_plan(order_id, amount, vendor_order_id):
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound("Order not found.", field="order_id")
    if order.status not in REFUNDABLE:
        raise ValidationError(f"A {order.status} order cannot be refunded.", code=ErrorCode.INVALID_STATE)
    payment = Payment.objects.filter(order=order, status=PaymentStatus.CAPTURED).order_by("pk").first()
    if payment is None:
        raise ValidationError("The order has no captured payment.", code=ErrorCode.INVALID_STATE)
    vendor_orders = list(VendorOrder.objects.filter(order=order).order_by("pk"))
    if vendor_order_id is not None:
        vendor_orders = [vo for vo in vendor_orders if vo.pk == int(vendor_order_id)]
        if not vendor_orders:
            raise NotFound("That vendor order is not part of this order.", field="vendor_order_id")
    if amount is not None:
        amount = quantize(amount)
        if amount <= 0:
            raise ValidationError("Refund a positive amount.", field="amount")
        if vendor_order_id is None and len(vendor_orders) > 1:
            raise ValidationError("Name the vendor order for a partial refund.", code=ErrorCode.REQUIRED,
                                  field="vendor_order_id")
        remaining = vendor_orders[0].total - vendor_orders[0].refunded
        if amount > remaining:
            raise ValidationError(f"At most {remaining} can still be refunded.", field="amount")
        return [(vendor_orders[0].pk, amount)]
    plan = [(vo.pk, vo.total - vo.refunded) for vo in vendor_orders if vo.total > vo.refunded]
    if not plan:
        raise ValidationError("Nothing left to refund.", code=ErrorCode.INVALID_STATE)
    return plan
