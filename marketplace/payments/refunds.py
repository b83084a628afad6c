"""Refunds: money returned to the customer for part or all of a sub-order, or of a
standalone charge.

Each refund is written pending and committed before the gateway is called, the gateway is
called outside any transaction (idempotency key `refund-<id>`), and the outcome is
recorded in a new transaction: a refund the gateway confirms at once is booked at once,
one that stays pending is booked when its webhook says so (`settle_refund_event`), and a
failure marks it failed without undoing the refunds made before it.
"""
from __future__ import annotations

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
from .events import RefundFailed, RefundSucceeded
from .gateways import GatewayRefund, get_gateway
from .models import Payment, PaymentStatus, Refund, RefundStatus

ZERO = Decimal("0.00")
REFUNDABLE = {OrderStatus.PAID, OrderStatus.PARTIALLY_FULFILLED, OrderStatus.FULFILLED, OrderStatus.COMPLETED}


def refund(order_id, amount=None, vendor_order_id=None, reason="", idempotency_key=None) -> list[Refund]:
    """Refund money: a partial or whole amount of one sub-order, or (no sub-order named)
    everything still unrefunded, sub-order by sub-order. `amount` is in the sub-order's
    value; the part its tenders paid goes back to them, the rest to the customer's payment.

    Each sub-order's refund is written as pending and committed, the gateway is called
    outside any transaction, and the outcome is recorded in a new transaction: a later
    failure never undoes money already returned. Refunds the gateway confirms at once are
    booked at once; pending ones when their webhook arrives. Returns the Refunds made.
    Raises NotFound, ValidationError (INVALID_STATE, amount, REQUIRED vendor_order_id),
    GatewayError (from the first sub-order whose refund failed; earlier ones stay).

    With `idempotency_key`, a call repeating one already made (a retry after a timeout or a
    crash) returns the refunds made under that key, whatever their state, and refunds
    nothing more."""
    if idempotency_key:
        made = refunds_under_key(idempotency_key)
        if made:
            return made
    plan = _refund_plan(order_id, amount, vendor_order_id)
    refunds = []
    for index, (vendor_order_pk, part) in enumerate(plan):
        key = f"{idempotency_key}-{index}" if idempotency_key else None
        refunds.append(_refund_part(order_id, vendor_order_pk, part, reason, key))
    return refunds


def refunds_under_key(idempotency_key) -> list[Refund]:
    """The refunds made under an idempotency key: an order refund's parts are keyed
    `<key>-<n>`, a payment refund `<key>`."""
    import re

    return list(Refund.objects.filter(idempotency_key__regex=rf"^{re.escape(idempotency_key)}(-[0-9]+)?$")
                .order_by("pk"))


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
    return {row["vendor_order_id"]: quantize(row["s"] or ZERO) for row in rows}  # exact even on SQLite


def _tender_share(vendor_order, amount):
    """How much of `amount` refunded on a sub-order goes back to tenders: pro rata, the
    refund that empties the sub-order taking exactly what is left."""
    if not vendor_order.tendered:
        return ZERO
    returned = quantize(Refund.objects.filter(vendor_order=vendor_order).exclude(status=RefundStatus.FAILED)
                        .aggregate(s=Sum("tendered"))["s"] or ZERO)
    committed = vendor_order.refunded + quantize(Refund.objects.filter(vendor_order=vendor_order,
                                                                       status=RefundStatus.PENDING)
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
    # 3. the outcome, in a new transaction (recorded as failed before the error is raised)
    refund_row = _record_outcome(refund_row.pk, result)
    if refund_row.status == RefundStatus.FAILED:
        raise ValidationError(f"The gateway refused the refund: {result.failure_reason or 'no reason given'}.",
                              field="amount")
    return refund_row


def _record_outcome(refund_id, result):
    """Record what the gateway answered about a pending refund (its reference; booked when
    it succeeded). A reference already stored is kept."""
    with transaction.atomic():
        refund_row = Refund.objects.select_for_update().get(pk=refund_id)
        refund_row.reference = refund_row.reference or result.reference or ""
        refund_row.save(update_fields=["reference", "updated_at"])
        if refund_row.status == RefundStatus.PENDING:
            if result.status == RefundStatus.SUCCEEDED:
                _succeed(refund_row)
            elif result.status == RefundStatus.FAILED:
                _fail_refund(refund_row.pk, result.failure_reason or "refused by the gateway")
    refund_row.refresh_from_db()
    return refund_row


def resend_refund(refund_id) -> Refund:
    """Send a pending refund to its gateway again, under the gateway idempotency key of its
    first attempt (`refund-<id>`), and record the answer: for a refund whose gateway call
    was cut short (the process died after the intent was committed, or before the answer
    was recorded). A gateway that honours idempotency keys (Stripe does) answers with the
    refund it already made, so the money goes back once. Raises NotFound, ValidationError
    (INVALID_STATE: the refund is not pending), GatewayError (it stays pending)."""
    refund_row = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund_row is None:
        raise NotFound("Refund not found.", field="refund_id")
    if refund_row.status != RefundStatus.PENDING:
        raise ValidationError(f"A {refund_row.status} refund is not sent again.", code=ErrorCode.INVALID_STATE)
    if refund_row.cash > 0 and refund_row.payment_id is not None:
        payment = refund_row.payment
        result = get_gateway(payment.gateway).refund(payment, refund_row.cash, refund_row.reason or "",
                                                     idempotency_key=f"refund-{refund_row.pk}")
        if isinstance(result, str):
            result = GatewayRefund(reference=result, status=RefundStatus.SUCCEEDED)
    else:
        result = GatewayRefund(reference="", status=RefundStatus.SUCCEEDED)
    return _record_outcome(refund_row.pk, result)


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


def settle_refund_event(gateway_name, event):
    """Apply a gateway's refund event (inside process_event's transaction)."""
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
    steps as order refunds; with `idempotency_key`, a repeated call returns the refund
    already made under it. Raises NotFound, ValidationError, GatewayError."""
    if idempotency_key:
        made = refunds_under_key(idempotency_key)
        if made:
            return made[0]  # a retry of a refund already asked for
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
    if isinstance(result, str):
        result = GatewayRefund(reference=result, status=RefundStatus.SUCCEEDED)
    return _record_outcome(refund_row.pk, result)
