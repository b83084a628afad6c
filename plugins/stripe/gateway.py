"""Stripe as a payment gateway (stripe-python's StripeClient)."""
import json
from decimal import Decimal

import stripe
from django.conf import settings as django_settings

from marketplace.plugins import get_settings
from marketplace.plugins.payments import (
    GatewayError, GatewayEventData, GatewayPayment, PaymentGateway, PaymentStatus, WebhookRejected,
)

# Stripe amounts are in the currency's minor unit; these currencies have none.
ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "isk", "ugx", "xaf", "xof", "bif", "djf", "gnf", "kmf", "mga", "pyg", "rwf",
                "vuv", "xpf"}
INTENT_STATUS = {
    "requires_payment_method": PaymentStatus.PENDING,
    "requires_confirmation": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.PENDING,
    "processing": PaymentStatus.PENDING,
    "requires_capture": PaymentStatus.AUTHORIZED,
    "succeeded": PaymentStatus.CAPTURED,
    "canceled": PaymentStatus.CANCELLED,
}
EVENT_STATUS = {
    "payment_intent.amount_capturable_updated": PaymentStatus.AUTHORIZED,
    "payment_intent.succeeded": PaymentStatus.CAPTURED,
    "payment_intent.payment_failed": PaymentStatus.FAILED,
    "payment_intent.canceled": PaymentStatus.CANCELLED,
}


def to_minor(amount, currency):
    factor = 1 if currency.lower() in ZERO_DECIMAL else 100
    return int((Decimal(amount) * factor).to_integral_value())


def from_minor(value, currency):
    factor = 1 if currency.lower() in ZERO_DECIMAL else 100
    return Decimal(value) / factor


def _secret(value):
    return value.get_secret_value() if value is not None else None


class StripeGateway(PaymentGateway):
    name = "stripe"

    def _config(self):
        config = get_settings("stripe")
        api_key = _secret(config.api_key) or django_settings.STRIPE_API_KEY
        if not api_key:
            raise GatewayError("Stripe is not configured (STRIPE_API_KEY).", field="gateway")
        return config, api_key

    def _client(self):
        config, api_key = self._config()
        api_base = config.api_base or django_settings.STRIPE_API_BASE
        options = {"base_addresses": {"api": api_base}} if api_base else {}
        return stripe.StripeClient(api_key, max_network_retries=2, **options)

    def _call(self, function, **params):
        try:
            return function(**params)
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe refused: {exc.user_message or exc.__class__.__name__}", field="gateway") from exc

    def create_payment(self, payment, order):
        intent = self._call(
            self._client().v1.payment_intents.create,
            params={
                "amount": to_minor(payment.amount, payment.currency),
                "currency": payment.currency.lower(),
                "capture_method": payment.capture_method,
                "receipt_email": order.email or None,
                "metadata": {"order_number": order.number, "payment_id": str(payment.pk)},
                "automatic_payment_methods": {"enabled": True},
            },
            options={"idempotency_key": f"payment-{payment.pk}"},
        )
        return GatewayPayment(reference=intent.id, status=INTENT_STATUS.get(intent.status, PaymentStatus.PENDING),
                              client_secret=intent.client_secret or "")

    def capture(self, payment, amount):
        intent = self._call(self._client().v1.payment_intents.capture, intent=payment.reference,
                            params={"amount_to_capture": to_minor(amount, payment.currency)})
        return INTENT_STATUS.get(intent.status, PaymentStatus.CAPTURED)

    def cancel(self, payment):
        self._call(self._client().v1.payment_intents.cancel, intent=payment.reference)

    def refund(self, payment, amount, reason=""):
        refund = self._call(
            self._client().v1.refunds.create,
            params={"payment_intent": payment.reference, "amount": to_minor(amount, payment.currency),
                    "metadata": {"reason": reason[:400]}},
        )
        return refund.id

    def parse_webhook(self, body, headers):
        config, _api_key = self._config()
        secret = _secret(config.webhook_secret) or django_settings.STRIPE_WEBHOOK_SECRET
        if not secret:
            raise WebhookRejected("No webhook secret is configured")
        signature = headers.get("Stripe-Signature")
        if not signature:
            raise WebhookRejected("Missing Stripe-Signature")
        try:
            stripe.WebhookSignature.verify_header(body.decode("utf-8"), signature, secret, tolerance=300)
            event = json.loads(body)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
            raise WebhookRejected(f"Invalid signature or payload: {exc}") from None
        obj = (event.get("data") or {}).get("object") or {}
        if not event.get("id") or not event.get("type"):
            raise WebhookRejected("Not a Stripe event")
        reference, status, amount = "", None, None
        if event["type"].startswith("payment_intent."):
            reference = obj.get("id", "")
            status = EVENT_STATUS.get(event["type"])
            if status == PaymentStatus.CAPTURED:
                amount = from_minor(obj.get("amount_received") or obj.get("amount") or 0, obj.get("currency", "cny"))
        elif event["type"].startswith("charge."):
            reference = obj.get("payment_intent") or ""
        return [GatewayEventData(event_id=event["id"], type=event["type"], reference=reference, status=status,
                                 amount=amount, payload=event)]
