"""Payments for plugins: the gateway interface (to write a gateway) and the payments facade
(to move money). No facade function may be called inside a transaction of yours that must
not wait on the network: each commits its intent, calls the gateway outside any
transaction, and records the outcome in a new one.

Gateways: subclass `PaymentGateway` (`name`, `capabilities`, `create_payment`, `capture`,
`cancel`, `refund` returning `GatewayRefund`, `parse_webhook` returning `GatewayEventData`),
return it from `payment_gateways`. Capabilities: MANUAL_CAPTURE, REFUNDS, PARTIAL_REFUNDS,
ASYNC_REFUNDS, STANDALONE_CHARGES, SUBSCRIPTIONS (such a gateway also implements
`marketplace.plugins.billing.SubscriptionBilling`). Raise `GatewayError` when the gateway
refuses, `WebhookRejected` for a request that is not authentic or malformed.

Facade:
- `pay(order_id, gateway, capture_method="automatic")`: start paying an order (what is due);
- `authorize(order_id, gateway)`: the same with manual capture (refused when the gateway
  cannot);
- `capture(payment_id)`, `void(payment_id)`;
- `refund(order_id, amount=None, vendor_order_id=None, reason="", idempotency_key=None)`:
  refunds are pending until the gateway confirms, then booked;
- `charge(customer, amount, purpose, gateway, ...)`: a standalone charge (no order), e.g. a
  towing fee; its capture runs `on_payment_captured`;
- `refund_payment(payment_id, amount=None, reason="", idempotency_key=None)`;
- `payment_info(payment) -> PaymentInfo`, `get_payment(payment_id)`, `gateway_supports(name,
  capability)`, `refund_status(refund_id)`, `refund_record(refund_id) -> RefundRecord`,
  `find_refunds(idempotency_key) -> [RefundRecord]`;
- `resend_refund(refund_id)`: send a pending refund whose gateway call was cut short (a
  crash) again, under its original gateway idempotency key.

Idempotency: `refund` and `refund_payment` called again with an `idempotency_key` already
used return the refunds made under it and refund nothing more (order refunds key their
parts `<key>-<n>`).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from marketplace.payments.info import PaymentInfo, payment_info  # noqa: F401
from marketplace.payments.gateways import (  # noqa: F401
    ASYNC_REFUNDS, CAPABILITIES, MANUAL_CAPTURE, PARTIAL_REFUNDS, REFUNDS, STANDALONE_CHARGES, SUBSCRIPTIONS,
    GatewayError, GatewayEventData, GatewayPayment, GatewayRefund, PaymentGateway, WebhookRejected, get_gateway,
)
from marketplace.payments.models import PaymentStatus, RefundStatus  # noqa: F401


def pay(order_id, gateway, capture_method="automatic") -> PaymentInfo:
    from marketplace.orders.models import Order
    from marketplace.payments import services

    return payment_info(services.create_payment(Order.objects.get(pk=order_id), gateway, capture_method))


def authorize(order_id, gateway) -> PaymentInfo:
    return pay(order_id, gateway, capture_method="manual")


def capture(payment_id) -> PaymentInfo:
    from marketplace.payments import services

    return payment_info(services.capture(payment_id))


def void(payment_id) -> PaymentInfo:
    from marketplace.payments import services

    return payment_info(services.void(payment_id))


def refund(order_id, amount=None, vendor_order_id=None, reason="", idempotency_key=None):
    """Returns [(refund_id, status)]."""
    from marketplace.payments import services

    return [(r.pk, r.status) for r in services.refund(order_id, amount=amount, vendor_order_id=vendor_order_id,
                                                      reason=reason, idempotency_key=idempotency_key)]


def charge(customer, amount, purpose, gateway, currency="CNY", description="", metadata=None,
           capture_method="automatic") -> PaymentInfo:
    from marketplace.payments import services

    return payment_info(services.charge(customer=customer, amount=amount, purpose=purpose, gateway=gateway,
                                        currency=currency, description=description, metadata=metadata,
                                        capture_method=capture_method))


def refund_payment(payment_id, amount=None, reason="", idempotency_key=None):
    """Returns (refund_id, status)."""
    from marketplace.payments import services

    refund_row = services.refund_payment(payment_id, amount=amount, reason=reason, idempotency_key=idempotency_key)
    return refund_row.pk, refund_row.status


def get_payment(payment_id) -> PaymentInfo | None:
    """A payment by id, or None."""
    from marketplace.payments.models import Payment

    payment = Payment.objects.filter(pk=payment_id).first()
    return payment_info(payment) if payment is not None else None


def gateway_supports(gateway, capability) -> bool:
    """Whether the active gateway named `gateway` can do `capability` (e.g.
    MANUAL_CAPTURE); False for an unknown gateway."""
    from marketplace.payments.gateways import gateways

    found = gateways().get(gateway)
    return found is not None and found.supports(capability)


@dataclass(frozen=True)
class RefundRecord:
    """A refund as the payments core knows it: `status` pending/succeeded/failed (from
    the gateway), `reference` the gateway's id ("" until the gateway answered), `amount`
    refunded on the sub-order (`cash` back to the payment), `idempotency_key` as given."""

    refund_id: int
    payment_id: int | None
    vendor_order_id: int | None
    amount: Decimal
    cash: Decimal
    status: str
    reference: str
    failure_reason: str
    idempotency_key: str
    created_at: object
    settled_at: object


def _record(row) -> RefundRecord:
    return RefundRecord(refund_id=row.pk, payment_id=row.payment_id, vendor_order_id=row.vendor_order_id,
                        amount=row.amount, cash=row.cash, status=row.status, reference=row.reference,
                        failure_reason=row.failure_reason, idempotency_key=row.idempotency_key or "",
                        created_at=row.created_at, settled_at=row.settled_at)


def refund_record(refund_id) -> RefundRecord | None:
    from marketplace.payments.models import Refund

    row = Refund.objects.filter(pk=refund_id).first()
    return _record(row) if row is not None else None


def find_refunds(idempotency_key) -> list[RefundRecord]:
    """The refunds made under an idempotency key (an order refund's parts `<key>-<n>`, a
    payment refund `<key>`), oldest first; [] when none was made."""
    from marketplace.payments import refunds

    return [_record(row) for row in refunds.refunds_under_key(idempotency_key)]


def resend_refund(refund_id) -> RefundRecord:
    """Send a pending refund to its gateway again under the gateway idempotency key of its
    first attempt, and record the answer (see `marketplace.payments.refunds.resend_refund`).
    Call it only for a refund whose first call cannot still be in flight. Raises NotFound,
    ValidationError (INVALID_STATE), GatewayError."""
    from marketplace.payments import refunds

    return _record(refunds.resend_refund(refund_id))


def refund_status(refund_id):
    from marketplace.payments.models import Refund

    return Refund.objects.filter(pk=refund_id).values_list("status", flat=True).first()


def refunds_of_order(order_id):
    """[(refund_id, vendor_order_id, amount, status, created_at)] of an order's refunds."""
    from marketplace.payments.models import Refund

    return list(Refund.objects.filter(vendor_order__order_id=order_id).order_by("pk")
                .values_list("pk", "vendor_order_id", "amount", "status", "created_at"))


def find_payment(gateway, reference) -> PaymentInfo | None:
    """The payment a gateway knows by `reference`, or None."""
    from marketplace.payments.models import Payment

    payment = Payment.objects.filter(gateway=gateway, reference=reference).first()
    return payment_info(payment) if payment is not None else None


def deliver_event(gateway, event) -> str:
    """Apply a verified gateway event (`GatewayEventData`) exactly once, as a webhook
    delivery would: for gateways that learn outcomes another way than webhooks (the
    development gateway's confirm mutation, a polling job). Returns the result text."""
    from marketplace.payments import services

    return services.process_event(gateway, event)
