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
- `payment_info(payment) -> PaymentInfo`, `refund_status(refund_id)`.
"""
from __future__ import annotations

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
