"""A read-only view of a payment, for plugins (what `on_payment_captured` receives)."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class PaymentInfo:
    payment_id: int
    order_id: int | None
    purpose: str
    gateway: str
    reference: str
    status: str
    amount: Decimal
    captured: Decimal
    refunded: Decimal
    currency: str
    capture_method: str
    customer_id: int | None
    metadata: Mapping
    client_secret: str = ""


def payment_info(payment) -> PaymentInfo:
    return PaymentInfo(payment_id=payment.pk, order_id=payment.order_id, purpose=payment.purpose,
                       gateway=payment.gateway, reference=payment.reference, status=payment.status,
                       amount=payment.amount, captured=payment.captured_amount, refunded=payment.refunded_amount,
                       currency=payment.currency, capture_method=payment.capture_method,
                       customer_id=payment.customer_id,
                       metadata=MappingProxyType(dict(payment.metadata or {})),
                       client_secret=getattr(payment, "client_secret", "") or "")
