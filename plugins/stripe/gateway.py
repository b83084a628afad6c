"""Stripe as a payment gateway (stripe-python's StripeClient), with Stripe Billing for
subscriptions (`SUBSCRIPTIONS`: the calls are in `billing.py`)."""
import json
import time
from datetime import datetime, timezone

import stripe
from django.conf import settings as django_settings


from marketplace.plugins import get_settings
from marketplace.plugins.billing import MalformedBillingEvent
from marketplace.plugins.payments import (
    ASYNC_REFUNDS, MANUAL_CAPTURE, PARTIAL_REFUNDS, REFUNDS, STANDALONE_CHARGES, SUBSCRIPTIONS, GatewayError,
    GatewayEventData, GatewayPayment, GatewayRefund, PaymentGateway, PaymentStatus, RefundStatus, WebhookRejected,
)

from .amounts import ZERO_DECIMAL, from_minor, to_minor  # noqa: F401 (re-exported)
from .billing import StripeBilling, is_billing_type, parse_billing_event

# Signed events older or newer than this many seconds are refused (replay and clock skew).
TOLERANCE_SECONDS = 300
REFUND_STATUS = {"succeeded": RefundStatus.SUCCEEDED, "pending": RefundStatus.PENDING,
                 "requires_action": RefundStatus.PENDING, "failed": RefundStatus.FAILED,
                 "canceled": RefundStatus.FAILED}
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


def _secret(value):
    return value.get_secret_value() if value is not None else None


class StripeGateway(StripeBilling, PaymentGateway):
    name = "stripe"
    capabilities = frozenset({MANUAL_CAPTURE, REFUNDS, PARTIAL_REFUNDS, ASYNC_REFUNDS, STANDALONE_CHARGES,
                              SUBSCRIPTIONS})

    def _config(self):
        config = get_settings("stripe")
        api_key = _secret(config.api_key) or django_settings.STRIPE_API_KEY
        if not api_key:
            raise GatewayError("Stripe is not configured (STRIPE_API_KEY).", field="gateway")
        return config, api_key

    def client_config(self):
        """{"publishableKey": ...} when both the secret key and STRIPE_PUBLISHABLE_KEY are set,
        else None (a storefront cannot confirm a card payment without the publishable key)."""
        config = get_settings("stripe")
        api_key = _secret(config.api_key) or django_settings.STRIPE_API_KEY
        publishable = django_settings.STRIPE_PUBLISHABLE_KEY
        return {"publishableKey": publishable} if api_key and publishable else None

    def _client(self):
        config, api_key = self._config()
        api_base = config.api_base or django_settings.STRIPE_API_BASE
        options = {"base_addresses": {"api": api_base}} if api_base else {}
        return stripe.StripeClient(api_key, max_network_retries=2, **options)

    def _call(self, function, *args, **params):
        """Call a StripeClient method (ids positionally, as stripe-python requires), turning
        Stripe's refusals into GatewayError."""
        try:
            return function(*args, **params)
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe refused: {exc.user_message or exc.__class__.__name__}", field="gateway") from exc

    def create_payment(self, payment, order=None):
        metadata = {"payment_id": str(payment.pk), "purpose": payment.purpose}
        if order is not None:
            metadata["order_number"] = order.number
        email = order.email if order is not None else (payment.customer.email if payment.customer_id else "")
        params = {
            "amount": to_minor(payment.amount, payment.currency),
            "currency": payment.currency.lower(),
            "capture_method": payment.capture_method,
            "metadata": metadata,
            "automatic_payment_methods": {"enabled": True},
        }
        if email:
            params["receipt_email"] = email
        if payment.description:
            params["description"] = payment.description
        intent = self._call(self._client().v1.payment_intents.create, params=params,
                            options={"idempotency_key": f"payment-{payment.pk}"})
        return GatewayPayment(reference=intent.id, status=INTENT_STATUS.get(intent.status, PaymentStatus.PENDING),
                              client_secret=intent.client_secret or "")

    def capture(self, payment, amount, idempotency_key=None):
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        intent = self._call(self._client().v1.payment_intents.capture, payment.reference,
                            params={"amount_to_capture": to_minor(amount, payment.currency)}, options=options)
        return INTENT_STATUS.get(intent.status, PaymentStatus.CAPTURED)

    def cancel(self, payment):
        self._call(self._client().v1.payment_intents.cancel, payment.reference)

    def refund(self, payment, amount, reason="", idempotency_key=None):
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        refund = self._call(
            self._client().v1.refunds.create,
            params={"payment_intent": payment.reference, "amount": to_minor(amount, payment.currency),
                    "metadata": {"reason": reason[:400], "payment_id": str(payment.pk)}},
            options=options,
        )
        return GatewayRefund(reference=refund.id, status=REFUND_STATUS.get(refund.status, RefundStatus.PENDING),
                             failure_reason=getattr(refund, "failure_reason", None) or "")

    def parse_webhook(self, body, headers):
        """Verify the signature (HMAC-SHA256 over "t.payload", `TOLERANCE_SECONDS` in both
        directions of time) and the event's shape; map payment and refund events to the
        engine's terms. Other types (invoice.*, customer.subscription.*) come through with
        no payment reference: the core hands them to plugins (`gateway_event`). Billing
        events are checked against the billing contract here (`billing.py`), so a malformed
        one is refused with the request, before anything is recorded."""
        config, _api_key = self._config()
        secret = _secret(config.webhook_secret) or django_settings.STRIPE_WEBHOOK_SECRET
        if not secret:
            raise WebhookRejected("No webhook secret is configured")
        signature = headers.get("Stripe-Signature")
        if not signature:
            raise WebhookRejected("Missing Stripe-Signature")
        try:
            text = body.decode("utf-8")
            stripe.WebhookSignature.verify_header(text, signature, secret, tolerance=TOLERANCE_SECONDS)
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
            raise WebhookRejected(f"Invalid signature: {exc}") from None
        timestamps = [part.split("=", 1)[1] for part in signature.split(",") if part.strip().startswith("t=")]
        if not timestamps or not timestamps[0].strip().isdigit():
            raise WebhookRejected("No timestamp in Stripe-Signature")
        if int(timestamps[0]) > time.time() + TOLERANCE_SECONDS:
            raise WebhookRejected("Timestamp is in the future, outside the tolerance zone")
        try:
            event = json.loads(text)
            json.dumps(event, ensure_ascii=False).encode("utf-8")  # lone surrogates cannot be stored
        except (ValueError, RecursionError, UnicodeEncodeError):
            raise WebhookRejected("The body is not valid JSON text") from None
        return [self._event(event)]

    @staticmethod
    def _event(event):
        if not isinstance(event, dict):
            raise WebhookRejected("An event must be a JSON object")
        event_id, event_type = event.get("id"), event.get("type")
        if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
            raise WebhookRejected("Not a Stripe event (id and type are required strings)")
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if not isinstance(obj, dict):
            raise WebhookRejected("Not a Stripe event (data.object must be an object)")
        created = event.get("created")
        if created is not None and (not isinstance(created, int) or isinstance(created, bool)):
            raise WebhookRejected("`created` must be an integer timestamp")
        parsed = GatewayEventData(event_id=event_id[:255], type=event_type[:100], payload=event,
                                  created=datetime.fromtimestamp(created, tz=timezone.utc) if created else None)
        if event_type.startswith("payment_intent."):
            parsed.reference = _text(obj.get("id"))
            parsed.status = EVENT_STATUS.get(event_type)
            if parsed.status == PaymentStatus.CAPTURED:
                currency = _text(obj.get("currency")) or "cny"
                received = obj.get("amount_received", obj.get("amount"))
                if not isinstance(received, int) or isinstance(received, bool) or received < 0:
                    raise WebhookRejected("amount_received must be a non-negative integer")
                parsed.amount = from_minor(received, currency)
                parsed.currency = currency.upper()
        elif event_type in ("charge.refund.updated", "refund.updated", "refund.failed"):
            parsed.refund_reference = _text(obj.get("id"))
            parsed.refund_status = REFUND_STATUS.get(_text(obj.get("status")))
            parsed.refund_failure_reason = _text(obj.get("failure_reason"))
            if not parsed.refund_reference:
                raise WebhookRejected("A refund event needs the refund's id")
        elif event_type.startswith("charge."):
            parsed.reference = _text(obj.get("payment_intent"))
        elif is_billing_type(event_type):
            try:
                parse_billing_event(parsed)
            except MalformedBillingEvent as exc:
                raise WebhookRejected(f"Malformed {event_type} event: {exc}") from None
        return parsed


def _text(value):
    return value[:255] if isinstance(value, str) else ""
