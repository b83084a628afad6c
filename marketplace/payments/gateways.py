"""The payment gateway interface. Gateways are contributed by plugins through the
`payment_gateways` hook (the Stripe plugin is one)."""
from dataclasses import dataclass, field
from decimal import Decimal

from marketplace.core.errors import ErrorCode, MarketplaceError


class GatewayError(MarketplaceError):
    code = ErrorCode.INVALID


class WebhookRejected(Exception):
    """The webhook request is not authentic (bad or missing signature) or malformed."""


@dataclass
class GatewayPayment:
    reference: str
    status: str  # a PaymentStatus value
    client_secret: str = ""


@dataclass
class GatewayEventData:
    event_id: str
    type: str
    reference: str  # the payment's gateway reference
    status: str | None  # the PaymentStatus the event proves, or None (informational)
    amount: Decimal | None = None  # captured amount, when status == captured
    payload: dict = field(default_factory=dict)


class PaymentGateway:
    name = ""

    def create_payment(self, payment, order):
        """Create the payment at the gateway; return GatewayPayment."""
        raise NotImplementedError

    def capture(self, payment, amount):
        """Capture an authorised payment; return the new status."""
        raise NotImplementedError

    def cancel(self, payment):
        raise NotImplementedError

    def refund(self, payment, amount, reason=""):
        """Refund `amount`; return the gateway's refund reference."""
        raise NotImplementedError

    def parse_webhook(self, body: bytes, headers):
        """Verify the request and return a list of GatewayEventData; raise WebhookRejected."""
        raise NotImplementedError


def get_gateway(name):
    from marketplace.plugins.manager import get_manager

    for gateways in get_manager().call_all("payment_gateways"):
        for gateway in gateways:
            if gateway.name == name:
                return gateway
    raise GatewayError(f"No active payment gateway named {name!r}.", code=ErrorCode.NOT_FOUND, field="gateway")
