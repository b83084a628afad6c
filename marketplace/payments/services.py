"""Payments: creating them at a gateway, webhook events processed exactly once, capture,
void and refunds.

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
from django.db.models import Sum

from marketplace.core import clock
from marketplace.core.errors import ErrorCode, MarketplaceError, NotFound, ValidationError
from marketplace.core.events import emit
from marketplace.core.money import quantize
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus, VendorOrder

from . import gateways as caps
from .events import PaymentCaptured, PaymentFailed, RefundFailed, RefundSucceeded
from .gateways import GatewayError, GatewayRefund, get_gateway
from .models import STATUS_RANK, GatewayEvent, Payment, PaymentStatus, Refund, RefundStatus

logger = logging.getLogger("marketplace.payments")
ZERO = Decimal("0.00")
PAYABLE = {OrderStatus.UNPAID}
REFUNDABLE = {OrderStatus.PAID, OrderStatus.PARTIALLY_FULFILLED, OrderStatus.FULFILLED, OrderStatus.COMPLETED}
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
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        locked.reference = result.reference
        locked.save(update_fields=["reference", "updated_at"])
        _advance(locked, result.status)
    locked.client_secret = result.client_secret
    return locked


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
    elif status == PaymentStatus.FAILED:
        emit(PaymentFailed(payment_id=payment.pk, order_id=payment.order_id, purpose=payment.purpose))
    return f"payment {payment.pk} -> {payment.status}"


def _on_captured(payment):
    from marketplace.plugins.payments import payment_info

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
        result = _settle_refund_event(gateway_name, event)
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


# -- refunds ----------------------------------------------------------------------------------------------
def refund(order_id, amount=None, vendor_order_id=None, reason="", idempotency_key=None) -> list[Refund]:
    """Refund money: a partial or whole amount of one sub-order, or (no sub-order named)
    everything still unrefunded, sub-order by sub-order. `amount` is in the sub-order's
    value; the part its tenders paid goes back to them, the rest to the customer's payment.

    Each sub-order's refund is written as pending and committed, the gateway is called
    outside any transaction, and the outcome is recorded in a new transaction: a later
    failure never undoes money already returned. Refunds the gateway confirms at once are
    booked at once; pending ones when their webhook arrives. Returns the Refunds made.
    Raises NotFound, ValidationError (INVALID_STATE, amount, REQUIRED vendor_order_id),
    GatewayError (from the first sub-order whose refund failed; earlier ones stay)."""
    plan = _refund_plan(order_id, amount, vendor_order_id)
    refunds = []
    for index, (vendor_order_pk, part) in enumerate(plan):
        key = f"{idempotency_key}-{index}" if idempotency_key else None
        refunds.append(_refund_part(order_id, vendor_order_pk, part, reason, key))
    return refunds


def _refund_plan(order_id, amount, vendor_order_id):
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise NotFound("Order not found.", field="order_id")
    if order.status not in REFUNDABLE:
        raise ValidationError(f"A {order.status} order cannot be refunded.", code=ErrorCode.INVALID_STATE)
    vendor_orders = list(VendorOrder.objects.filter(order=order).order_by("pk"))
    if vendor_order_id is not None:
        vendor_orders = [vo for vo in vendor_orders if vo.pk == int(vendor_order_id)]
        if not vendor_orders:
            raise NotFound("That sub-order is not part of this order.", field="vendor_order_id")
    pending = _pending_by_vendor_order([vo.pk for vo in vendor_orders])
    if amount is not None:
        amount = Decimal(amount)
        if not amount.is_finite() or amount <= 0:
            raise ValidationError("Refund a positive amount.", field="amount")
        amount = quantize(amount)
        if vendor_order_id is None and len(vendor_orders) > 1:
            raise ValidationError("Name the sub-order for a partial refund.", code=ErrorCode.REQUIRED,
                                  field="vendor_order_id")
        vo = vendor_orders[0]
        remaining = vo.total - vo.refunded - pending.get(vo.pk, ZERO)
        if amount > remaining:
            raise ValidationError(f"At most {remaining} can still be refunded.", field="amount")
        return [(vo.pk, amount)]
    plan = [(vo.pk, vo.total - vo.refunded - pending.get(vo.pk, ZERO)) for vo in vendor_orders]
    plan = [(pk, part) for pk, part in plan if part > 0]
    if not plan:
        raise ValidationError("Nothing left to refund.", code=ErrorCode.INVALID_STATE)
    return plan


def _pending_by_vendor_order(vendor_order_ids):
    rows = (Refund.objects.filter(vendor_order_id__in=vendor_order_ids, status=RefundStatus.PENDING)
            .values("vendor_order_id").annotate(s=Sum("amount")))
    return {row["vendor_order_id"]: row["s"] for row in rows}


def _tender_share(vendor_order, amount):
    """How much of `amount` refunded on a sub-order goes back to tenders: pro rata, the
    refund that empties the sub-order taking exactly what is left."""
    if not vendor_order.tendered:
        return ZERO
    returned = Refund.objects.filter(vendor_order=vendor_order).exclude(status=RefundStatus.FAILED) \
        .aggregate(s=Sum("tendered"))["s"] or ZERO
    committed = vendor_order.refunded + (Refund.objects.filter(vendor_order=vendor_order, status=RefundStatus.PENDING)
                                         .aggregate(s=Sum("amount"))["s"] or ZERO)
    if committed + amount >= vendor_order.total:
        return vendor_order.tendered - returned
    return min(quantize(amount * vendor_order.tendered / vendor_order.total), vendor_order.tendered - returned)


def _refund_part(order_id, vendor_order_id, amount, reason, idempotency_key):
    # 1. the intent, committed
    with transaction.atomic():
        vendor_order = VendorOrder.objects.select_for_update().select_related("order").get(pk=vendor_order_id)
        pending = _pending_by_vendor_order([vendor_order.pk]).get(vendor_order.pk, ZERO)
        if amount > vendor_order.total - vendor_order.refunded - pending:
            raise ValidationError("The refund exceeds what can still be refunded.", field="amount")
        tendered = _tender_share(vendor_order, amount)
        cash = amount - tendered
        payment = None
        if cash > 0:
            payment = (Payment.objects.select_for_update()
                       .filter(order_id=order_id, status=PaymentStatus.CAPTURED).order_by("pk").first())
            if payment is None or payment.refunded_amount + cash > payment.captured_amount:
                raise ValidationError("The order has no captured payment that covers this refund.",
                                      code=ErrorCode.INVALID_STATE)
            caps.require(get_gateway(payment.gateway), caps.REFUNDS)
        try:
            with transaction.atomic():
                refund_row = Refund.objects.create(payment=payment, vendor_order=vendor_order, amount=amount, cash=cash,
                                                   tendered=tendered, reason=(reason or "")[:255],
                                                   idempotency_key=idempotency_key)
        except IntegrityError:
            return Refund.objects.get(idempotency_key=idempotency_key)  # a retry of a refund already made
        if payment is not None:
            payment.refunded_amount += cash  # reserved now, given back if the gateway fails
            payment.save(update_fields=["refunded_amount", "updated_at"])
    # 2. the gateway, outside any transaction
    if cash > 0:
        try:
            result = get_gateway(payment.gateway).refund(payment, cash, reason or "",
                                                         idempotency_key=f"refund-{refund_row.pk}")
        except MarketplaceError as exc:
            _fail_refund(refund_row.pk, exc.message)
            raise
        if isinstance(result, str):  # a gateway written for the older interface
            result = GatewayRefund(reference=result, status=RefundStatus.SUCCEEDED)
    else:
        result = GatewayRefund(reference="", status=RefundStatus.SUCCEEDED)
    # 3. the outcome, in a new transaction
    with transaction.atomic():
        refund_row = Refund.objects.select_for_update().get(pk=refund_row.pk)
        refund_row.reference = result.reference or ""
        refund_row.save(update_fields=["reference", "updated_at"])
        if result.status == RefundStatus.SUCCEEDED:
            _succeed(refund_row)
        elif result.status == RefundStatus.FAILED:
            _fail_refund(refund_row.pk, result.failure_reason or "refused by the gateway")
            raise ValidationError(f"The gateway refused the refund: {result.failure_reason or 'no reason given'}.",
                                  field="amount")
    return refund_row


def _succeed(refund_row):
    """Book a refund the gateway confirmed (inside the caller's transaction). Idempotent."""
    if refund_row.status != RefundStatus.PENDING:
        return False
    refund_row.status = RefundStatus.SUCCEEDED
    refund_row.settled_at = clock.now()
    refund_row.save(update_fields=["status", "settled_at", "updated_at"])
    if refund_row.vendor_order_id is not None:
        orders.record_refund(refund_row.vendor_order, refund_row.amount, refund_row.tendered,
                             tenders=_tenders_returned(refund_row), refund_id=refund_row.pk)
    emit(RefundSucceeded(refund_id=refund_row.pk, order_id=refund_row.vendor_order.order_id if refund_row.vendor_order_id
                         else None, vendor_order_id=refund_row.vendor_order_id, payment_id=refund_row.payment_id,
                         amount=refund_row.amount, vendor_id=refund_row.vendor_order.vendor_id
                         if refund_row.vendor_order_id else None))
    return True


def _tenders_returned(refund_row):
    """{tender source: amount} of a refund's tender part, split like the sub-order's tenders."""
    if not refund_row.tendered:
        return {}
    by_source = {}
    for explanation in refund_row.vendor_order.lines.values_list("price_explanation", flat=True):
        for item in (explanation or {}).get("order_adjustments", []):
            if item.get("kind") == "tender":
                by_source[item["source"]] = by_source.get(item["source"], ZERO) + Decimal(item["amount"])
    total = sum(by_source.values(), ZERO)
    if not total:
        return {}
    from marketplace.checkout.allocation import allocate

    return allocate(refund_row.tendered, [(source, value, value) for source, value in by_source.items()])


def _fail_refund(refund_id, reason):
    with transaction.atomic():
        refund_row = Refund.objects.select_for_update().get(pk=refund_id)
        if refund_row.status != RefundStatus.PENDING:
            return
        refund_row.status = RefundStatus.FAILED
        refund_row.failure_reason = (reason or "")[:255]
        refund_row.settled_at = clock.now()
        refund_row.save(update_fields=["status", "failure_reason", "settled_at", "updated_at"])
        if refund_row.payment_id:
            payment = Payment.objects.select_for_update().get(pk=refund_row.payment_id)
            payment.refunded_amount -= refund_row.cash
            payment.save(update_fields=["refunded_amount", "updated_at"])
        emit(RefundFailed(refund_id=refund_row.pk, payment_id=refund_row.payment_id,
                          vendor_order_id=refund_row.vendor_order_id, reason=refund_row.failure_reason))


def _settle_refund_event(gateway_name, event):
    refund_row = (Refund.objects.select_for_update(of=("self",)).select_related("vendor_order", "vendor_order__order")
                  .filter(reference=event.refund_reference, payment__gateway=gateway_name).first())
    if refund_row is None:
        return "unknown refund"
    if event.refund_status == RefundStatus.SUCCEEDED:
        return f"refund {refund_row.pk} -> succeeded" if _succeed(refund_row) else "no change"
    if event.refund_status == RefundStatus.FAILED:
        _fail_refund(refund_row.pk, event.refund_failure_reason or "failed at the gateway")
        return f"refund {refund_row.pk} -> failed"
    return "no change"


def refund_payment(payment_id, amount=None, reason="", idempotency_key=None) -> Refund:
    """Refund (part of) a standalone charge, e.g. a towing fee. Same commit-call-record
    steps as order refunds. Raises NotFound, ValidationError, GatewayError."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None:
            raise NotFound("Payment not found.", field="payment_id")
        if payment.status != PaymentStatus.CAPTURED:
            raise ValidationError(f"A {payment.status} payment cannot be refunded.", code=ErrorCode.INVALID_STATE)
        amount = quantize(amount if amount is not None else payment.captured_amount - payment.refunded_amount)
        if amount <= 0 or payment.refunded_amount + amount > payment.captured_amount:
            raise ValidationError("The refund exceeds what can still be refunded.", field="amount")
        gateway = get_gateway(payment.gateway)
        caps.require(gateway, caps.REFUNDS)
        try:
            with transaction.atomic():
                refund_row = Refund.objects.create(payment=payment, amount=amount, cash=amount,
                                                   reason=(reason or "")[:255], idempotency_key=idempotency_key)
        except IntegrityError:
            return Refund.objects.get(idempotency_key=idempotency_key)
        payment.refunded_amount += amount
        payment.save(update_fields=["refunded_amount", "updated_at"])
    try:
        result = gateway.refund(payment, amount, reason or "", idempotency_key=f"refund-{refund_row.pk}")
    except MarketplaceError as exc:
        _fail_refund(refund_row.pk, exc.message)
        raise
    with transaction.atomic():
        refund_row = Refund.objects.select_for_update().get(pk=refund_row.pk)
        refund_row.reference = result.reference or ""
        refund_row.save(update_fields=["reference", "updated_at"])
        if result.status == RefundStatus.SUCCEEDED:
            _succeed(refund_row)
        elif result.status == RefundStatus.FAILED:
            _fail_refund(refund_row.pk, result.failure_reason)
    return refund_row
