"""The payment gateway interface. Gateways are contributed by plugins through the
`payment_gateways` hook (Stripe and the development gateway are two).

A gateway declares what it can do in `capabilities`; the payments facade refuses what a
gateway cannot do before calling it:

- `MANUAL_CAPTURE`: authorise now, capture (or void) later;
- `REFUNDS` / `PARTIAL_REFUNDS`: return money, all or part;
- `ASYNC_REFUNDS`: refunds may answer "pending" and settle later through a webhook;
- `STANDALONE_CHARGES`: charges that belong to no order (a towing fee);
- `SUBSCRIPTIONS`: recurring billing (a gateway that says so also implements the billing
  calls a subscription plugin needs; see that plugin's documentation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from marketplace.core.errors import ErrorCode, MarketplaceError

MANUAL_CAPTURE = "manual_capture"
REFUNDS = "refunds"
PARTIAL_REFUNDS = "partial_refunds"
ASYNC_REFUNDS = "async_refunds"
STANDALONE_CHARGES = "standalone_charges"
SUBSCRIPTIONS = "subscriptions"
CAPABILITIES = frozenset({MANUAL_CAPTURE, REFUNDS, PARTIAL_REFUNDS, ASYNC_REFUNDS, STANDALONE_CHARGES, SUBSCRIPTIONS})


class GatewayError(MarketplaceError):
    """The gateway refused or failed (declined, unreachable, not configured)."""

    code = ErrorCode.INVALID


class WebhookRejected(Exception):
    """The webhook request is not authentic (bad, missing or stale signature) or malformed."""


@dataclass
class GatewayPayment:
    reference: str
    status: str  # a PaymentStatus value
    client_secret: str = ""


@dataclass
class GatewayRefund:
    reference: str
    status: str  # a RefundStatus value: "succeeded", "pending" or "failed"
    failure_reason: str = ""


@dataclass
class GatewayEventData:
    """One verified webhook event, in the engine's terms.

    `reference` is the payment's gateway reference when the event is about a payment;
    `status` the PaymentStatus it proves (None: informational); `amount` and `currency` what
    was captured (checked against the payment); `refund_reference` and `refund_status` when
    the event settles a refund; `created` the gateway's time of the event."""

    event_id: str
    type: str
    reference: str = ""
    status: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    refund_reference: str = ""
    refund_status: str | None = None
    refund_failure_reason: str = ""
    created: datetime | None = None
    payload: dict = field(default_factory=dict)


class PaymentGateway:
    """Subclass and return an instance from the `payment_gateways` hook."""

    name = ""
    capabilities: frozenset = frozenset({REFUNDS, PARTIAL_REFUNDS})

    def supports(self, capability) -> bool:
        return capability in self.capabilities

    def client_config(self) -> dict | None:
        """Public, non-secret values a storefront needs to take payments with this gateway
        (e.g. `{"publishableKey": "pk_..."}`), or None when the gateway cannot take payments
        from buyers as configured now (it is then left out of `paymentGateways`)."""
        return {}

    def create_payment(self, payment, order=None) -> GatewayPayment:
        """Create the payment at the gateway for `payment.amount` (`payment.currency`),
        capturing automatically or only authorising (`payment.capture_method`). `order` is
        the order model, or None for a standalone charge. Idempotent per payment id."""
        raise NotImplementedError

    def capture(self, payment, amount, idempotency_key=None) -> str:
        """Capture an authorised payment; return the new PaymentStatus value."""
        raise NotImplementedError

    def cancel(self, payment) -> None:
        """Void an authorised or pending payment."""
        raise NotImplementedError

    def refund(self, payment, amount, reason="", idempotency_key=None) -> GatewayRefund:
        """Refund `amount` of a captured payment; `idempotency_key` makes a retry safe."""
        raise NotImplementedError

    def parse_webhook(self, body: bytes, headers) -> list[GatewayEventData]:
        """Verify the request and return its events; raise WebhookRejected."""
        raise NotImplementedError


def gateways() -> dict[str, PaymentGateway]:
    from marketplace.plugins.manager import get_manager

    found = {}
    for contributed in get_manager().call("payment_gateways"):
        for gateway in contributed or ():
            found.setdefault(gateway.name, gateway)
    return found


def get_gateway(name) -> PaymentGateway:
    gateway = gateways().get(name)
    if gateway is None:
        raise GatewayError(f"No active payment gateway named {name!r}.", code=ErrorCode.NOT_FOUND, field="gateway")
    return gateway


def require(gateway, capability, field="gateway"):
    if not gateway.supports(capability):
        raise GatewayError(f"The {gateway.name} gateway does not support {capability.replace('_', ' ')}.",
                           field=field)
