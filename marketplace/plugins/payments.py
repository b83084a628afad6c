"""What payment-gateway plugins implement and return (part of the public plugin API)."""
from marketplace.payments.gateways import (  # noqa: F401
    GatewayError, GatewayEventData, GatewayPayment, PaymentGateway, WebhookRejected,
)
from marketplace.payments.models import PaymentStatus  # noqa: F401
