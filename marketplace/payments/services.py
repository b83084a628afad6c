"""Payments: creating them at a gateway, webhook events processed exactly once, capture and
void. Refunds are in `refunds.py` (re-exported here).

No gateway call ever happens inside a database transaction. Each service that talks to a
gateway commits its intent first (a pending Payment or Refund row), calls the gateway
outside any transaction, and records the outcome in a new transaction. So a gateway that
fails half-way never rolls back money that already moved: a whole-order refund over two
sub-orders whose second refund fails keeps the first refund recorded and booked.
"""
from __future__ import annotations

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction

from marketplace.core import clock
from marketplace.core.errors import ErrorCode, NotFound, ValidationError
from marketplace.core.events import emit
from marketplace.core.money import quantize
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus

from . import gateways as caps
from .events import PaymentCaptured, PaymentFailed
from .gateways import GatewayError, get_gateway
from .models import STATUS_RANK, GatewayEvent, Payment, PaymentStatus
from .refunds import (  # noqa: F401 (public here too)
    refund, refund_payment, refunds_under_key, resend_refund, settle_refund_event,
)

logger = logging.getLogger("marketplace.payments")
ZERO = Decimal("0.00")
PAYABLE = {OrderStatus.UNPAID}
CAPTURE_METHODS = ("automatic", "manual")


def _manager():
    from marketplace.plugins.manager import get_manager

    return get_manager()


# -- starting payments ---------------------------------------------------------------------
def _start(payment, gateway, order=None):
    """Call the gateway for a committed pending payment, then record what it said."""
    try:
        result = gateway.create_payment(payment, order)
    except GatewayError:
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(status=PaymentStatus.FAILED)
        raise
    if result.status is None or STATUS_RANK[result.status] <= STATUS_RANK[payment.status]:
        # Nothing to advance (a new PaymentIntent awaits the buyer): record the reference in
        # one statement, only while the payment is as we left it.
        updated = Payment.objects.filter(pk=payment.pk, status=payment.status, reference=payment.reference).update(
            reference=result.reference, updated_at=clock.now())
        if updated == 1:
            payment.reference = result.reference
            payment.client_secret = result.client_secret
            return payment
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        locked.reference = result.reference
        locked.save(update_fields=["reference", "updated_at"])
        _advance(locked, result.status)
    locked.client_secret = result.client_secret
    return locked


def check_payment_options(gateway_name, capture_method="automatic"):
    """The gateway to pay with, or GatewayError/ValidationError as `create_payment` raises
    them (before an order is placed: a bad choice is reported without placing nothing)."""
    if capture_method not in CAPTURE_METHODS:
        raise ValidationError("capture_method is automatic or manual.", field="capture_method")
    gateway = get_gateway(gateway_name)
    if capture_method == "manual":
        caps.require(gateway, caps.MANUAL_CAPTURE, field="capture_method")
    return gateway


def prepare_payment(order, gateway_name, capture_method="automatic") -> Payment:
    """The pending Payment of an order being placed, written inside the caller's
    transaction (checkout completion: the order is new, no other transaction can see it,
    so it needs no lock). Nothing is sent to the gateway: call `start_payment` after the
    commit. Raises as `create_payment`."""
    gateway = check_payment_options(gateway_name, capture_method)
    if order.status not in PAYABLE or order.amount_due <= 0:
        raise ValidationError("Nothing is due on this order.", code=ErrorCode.INVALID_STATE)
    return Payment.objects.create(order=order, customer_id=order.user_id, gateway=gateway.name,
                                  amount=order.amount_due, currency=order.currency, capture_method=capture_method)


def start_payment(payment) -> Payment:
    """Call the gateway for a committed pending payment of an order (from
    `prepare_payment`), outside any transaction, and record its answer. Returns the Payment
    with `client_secret`. Raises GatewayError (the payment is then FAILED)."""
    if transaction.get_connection().in_atomic_block and not _from_testcase_only():
        raise RuntimeError("start_payment calls the gateway: never inside a transaction")
    return _start(payment, get_gateway(payment.gateway), payment.order)


def _from_testcase_only():
    from django.db import connection

    return all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def create_payment(order, gateway_name, capture_method="automatic") -> Payment:
    """Start paying an unpaid order at a gateway for what is due (its total less tenders).
    A new payment each call (an abandoned one never completes). Returns the Payment with a
    `client_secret` attribute for the client. Raises ValidationError (INVALID_STATE for an
    order not awaiting payment or with nothing due; INVALID capture_method) and GatewayError
    (unknown gateway, manual capture not supported, the gateway refused)."""
    if capture_method not in CAPTURE_METHODS:
        raise ValidationError("capture_method is automatic or manual.", field="capture_method")
    gateway = get_gateway(gateway_name)
    if capture_method == "manual":
        caps.require(gateway, caps.MANUAL_CAPTURE, field="capture_method")
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in PAYABLE:
            raise ValidationError(f"A {order.status} order cannot be paid.", code=ErrorCode.INVALID_STATE)
        if order.amount_due <= 0:
            raise ValidationError("Nothing is due on this order.", code=ErrorCode.INVALID_STATE)
        payment = Payment.objects.create(order=order, customer_id=order.user_id, gateway=gateway.name,
                                         amount=order.amount_due, currency=order.currency,
                                         capture_method=capture_method)
    return _start(payment, gateway, order)


def charge(*, customer, amount, purpose, gateway, currency="CNY", description="", metadata=None,
           capture_method="automatic") -> Payment:
    """A standalone charge that belongs to no order (e.g. a towing fee beyond the free
    allowance). `purpose` names it for the plugin that owns it ("<plugin>:<what>:<id>");
    when captured, `PaymentCaptured` is emitted and `on_payment_captured` runs. Returns the
    Payment with `client_secret`. Raises ValidationError (amount), GatewayError."""
    amount = quantize(amount)
    if not amount.is_finite() or amount <= 0:
        raise ValidationError("Charge a positive amount.", field="amount")
    if capture_method not in CAPTURE_METHODS:
        raise ValidationError("capture_method is automatic or manual.", field="capture_method")
    gateway = get_gateway(gateway)
    caps.require(gateway, caps.STANDALONE_CHARGES)
    if capture_method == "manual":
        caps.require(gateway, caps.MANUAL_CAPTURE, field="capture_method")
    payment = Payment.objects.create(customer=customer, purpose=purpose[:100], gateway=gateway.name, amount=amount,
                                     currency=currency, capture_method=capture_method,
                                     description=description[:200], metadata=dict(metadata or {}))
    return _start(payment, gateway, None)


# -- the state machine ---------------------------------------------------------------------------
def _advance(payment, status, amount=None, currency=None):
    """Move a (locked) payment forward in its state machine; older news is ignored.
    Returns a result string, or "" when nothing changed."""
    if status is None or STATUS_RANK[status] <= STATUS_RANK[payment.status]:
        return ""
    if status == PaymentStatus.CAPTURED:
        if currency is not None and currency.upper() != payment.currency.upper():
            # A capture in another currency is not this payment's money: never pay an order with it.
            logger.error("Payment %s: captured in %s, expected %s; not applied", payment.pk, currency, payment.currency)
            return f"currency mismatch ({currency} for a {payment.currency} payment): not applied"
        payment.captured_amount = quantize(amount if amount is not None else payment.amount)
    payment.status = status
    payment.save(update_fields=["status", "captured_amount", "updated_at"])
    if status == PaymentStatus.CAPTURED:
        _on_captured(payment)
    elif status == PaymentStatus.AUTHORIZED and payment.order_id is not None:
        from .info import payment_info

        _manager().call("on_payment_authorized", payment=payment_info(payment))
    elif status == PaymentStatus.FAILED:
        emit(PaymentFailed(payment_id=payment.pk, order_id=payment.order_id, purpose=payment.purpose))
    return f"payment {payment.pk} -> {payment.status}"


def _on_captured(payment):
    from .info import payment_info

    if payment.order_id is not None:
        order = Order.objects.get(pk=payment.order_id)
        if order.status != OrderStatus.UNPAID or payment.captured_amount < order.amount_due:
            # Money arrived for an order that can no longer take it (expired, cancelled,
            # already paid by another payment) or too little: keep it visible for staff.
            logger.error("Payment %s captured %s for order %s (%s, due %s): refund or reconcile it",
                         payment.pk, payment.captured_amount, order.number, order.status, order.amount_due)
        else:
            orders.mark_paid(payment.order_id, payment.captured_amount)
    else:
        _manager().call("on_payment_captured", payment=payment_info(payment))
    emit(PaymentCaptured(payment_id=payment.pk, order_id=payment.order_id, purpose=payment.purpose,
                         amount=payment.captured_amount, currency=payment.currency))


@transaction.atomic
def process_event(gateway_name, event) -> str:
    """Apply one verified gateway event exactly once. Duplicates and stale events (out of
    order) are recorded and change nothing. Events about payments and refunds are the
    core's; any other type goes to the plugins' `gateway_event` hook (e.g. billing), in this
    same transaction; a type nobody handles is recorded with handled=False and counted for
    staff. Returns a short result string."""
    try:
        with transaction.atomic():
            record = GatewayEvent.objects.create(gateway=gateway_name, event_id=event.event_id, type=event.type,
                                                 payload=event.payload)
    except IntegrityError:
        return "duplicate"
    handled = True
    if event.refund_reference:
        result = settle_refund_event(gateway_name, event)
    elif event.reference:
        payment = Payment.objects.select_for_update().filter(gateway=gateway_name, reference=event.reference).first()
        if payment is None:
            result = "unknown payment"
        else:
            result = _advance(payment, event.status, event.amount, event.currency) or "no change"
    else:
        answers = _manager().call("gateway_event", gateway=gateway_name, event=event)
        result = "; ".join(str(a) for a in answers if a) if answers else ""
        if not result:
            handled, result = False, f"unhandled {event.type}"
    record.processed_at = clock.now()
    record.result = result[:255]
    record.handled = handled
    record.save(update_fields=["processed_at", "result", "handled"])
    return result


def unhandled_event_counts(gateway_name=None) -> dict[str, int]:
    """{event type: count} of gateway events nobody handled (for staff)."""
    from django.db.models import Count

    qs = GatewayEvent.objects.filter(handled=False)
    if gateway_name:
        qs = qs.filter(gateway=gateway_name)
    return dict(qs.values_list("type").annotate(n=Count("pk")).values_list("type", "n"))


# -- capture and void -------------------------------------------------------------------------------
def capture(payment_id, amount=None) -> Payment:
    """Capture an authorised (manual-capture) payment, in full. The gateway call carries an
    idempotency key, so two concurrent captures capture once. Raises NotFound,
    ValidationError (INVALID_STATE, amount), GatewayError."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("Payment not found.", field="payment_id")
    if payment.status != PaymentStatus.AUTHORIZED:
        raise ValidationError(f"A {payment.status} payment cannot be captured.", code=ErrorCode.INVALID_STATE)
    amount = quantize(amount if amount is not None else payment.amount)
    if amount != payment.amount:
        raise ValidationError("Capture the whole authorised amount; refund afterwards to charge less.", field="amount")
    status = get_gateway(payment.gateway).capture(payment, amount, idempotency_key=f"capture-{payment.pk}")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        _advance(payment, status, amount, payment.currency)
    return payment


def void(payment_id) -> Payment:
    """Void an authorised or pending payment (no money moves). Raises NotFound,
    ValidationError (INVALID_STATE), GatewayError."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("Payment not found.", field="payment_id")
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED):
        raise ValidationError(f"A {payment.status} payment cannot be voided.", code=ErrorCode.INVALID_STATE)
    get_gateway(payment.gateway).cancel(payment)
    Payment.objects.filter(pk=payment.pk, status=payment.status).update(status=PaymentStatus.CANCELLED)
    payment.refresh_from_db()
    return payment


def void_open_payments(order_id):
    """After an order is cancelled: void its pending or authorised payments (best effort;
    a payment captured later is flagged for staff by `_on_captured`)."""
    for payment in Payment.objects.filter(order_id=order_id, status__in=[PaymentStatus.PENDING, PaymentStatus.AUTHORIZED]):
        try:
            void(payment.pk)
        except Exception:
            logger.exception("Could not void payment %s", payment.pk)
