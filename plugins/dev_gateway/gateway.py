"""The development gateway: a PaymentGateway with no network.

A payment starts `pending` with a client secret, as a PaymentIntent does. The buyer
"confirms" it with the `devPaymentConfirm` mutation (the client secret proves it is theirs),
choosing the outcome; the result reaches the engine as a gateway event through the same
exactly-once path a signed webhook takes (`GatewayEvent`), so orders are paid, events
emitted and the ledger booked exactly as with Stripe. Manual capture authorises first;
capture and void are immediate. Refunds succeed at once, or stay pending until
`devRefundSettle` when the setting `refund_mode` is "async".
"""
import secrets

from marketplace.plugins import get_settings
from marketplace.plugins.payments import (
    ASYNC_REFUNDS, MANUAL_CAPTURE, PARTIAL_REFUNDS, REFUNDS, STANDALONE_CHARGES, GatewayPayment, GatewayRefund,
    PaymentGateway, PaymentStatus, RefundStatus, WebhookRejected,
)

NAME = "dev"


class DevGateway(PaymentGateway):
    name = NAME
    capabilities = frozenset({MANUAL_CAPTURE, REFUNDS, PARTIAL_REFUNDS, ASYNC_REFUNDS, STANDALONE_CHARGES})

    def create_payment(self, payment, order=None):
        token = secrets.token_hex(12)
        return GatewayPayment(reference=f"dev_pi_{payment.pk}_{token}", status=PaymentStatus.PENDING,
                              client_secret=f"dev_pi_{payment.pk}_{token}_secret_{secrets.token_hex(8)}")

    def capture(self, payment, amount, idempotency_key=None):
        return PaymentStatus.CAPTURED

    def cancel(self, payment):
        return None

    def refund(self, payment, amount, reason="", idempotency_key=None):
        mode = get_settings("dev_gateway").refund_mode
        status = RefundStatus.PENDING if mode == "async" else RefundStatus.SUCCEEDED
        return GatewayRefund(reference=f"dev_re_{secrets.token_hex(10)}", status=status)

    def parse_webhook(self, body, headers):
        raise WebhookRejected("The development gateway sends no webhooks: use devPaymentConfirm")


def reference_from_secret(client_secret):
    """The payment reference inside a client secret ("<reference>_secret_<random>")."""
    if not isinstance(client_secret, str) or "_secret_" not in client_secret:
        return None
    return client_secret.split("_secret_", 1)[0]
