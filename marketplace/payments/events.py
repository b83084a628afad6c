"""Events of the payments app."""
from dataclasses import dataclass
from decimal import Decimal

from marketplace.core.events import Event


@dataclass(frozen=True, kw_only=True)
class PaymentCaptured(Event):
    name = "payment_captured"
    description = ("A payment was captured (payload: payment_id, order_id or null for a standalone charge, purpose, "
                   "amount, currency).")
    payment_id: int
    order_id: int | None
    purpose: str
    amount: Decimal
    currency: str


@dataclass(frozen=True, kw_only=True)
class PaymentFailed(Event):
    name = "payment_failed"
    description = "A payment failed at the gateway (payload: payment_id, order_id, purpose)."
    payment_id: int
    order_id: int | None
    purpose: str


@dataclass(frozen=True, kw_only=True)
class RefundSucceeded(Event):
    name = "refund_succeeded"
    description = ("The gateway confirmed a refund (payload: refund_id, order_id, vendor_order_id, payment_id, "
                   "amount).")
    refund_id: int
    order_id: int | None
    vendor_order_id: int | None
    payment_id: int | None
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class RefundFailed(Event):
    name = "refund_failed"
    description = "A refund failed at the gateway; staff must act (payload: refund_id, payment_id, reason)."
    refund_id: int
    payment_id: int | None
    vendor_order_id: int | None
    reason: str


EVENTS = [PaymentCaptured, PaymentFailed, RefundSucceeded, RefundFailed]
