import hashlib
import json
import secrets
from decimal import Decimal

from django.core.cache import cache

from marketplace.plugins.payments import (
    MANUAL_CAPTURE, PARTIAL_REFUNDS, REFUNDS, GatewayPayment, GatewayRefund, PaymentGateway, PaymentStatus,
    RefundStatus,
)
from plugins.group_buy import failpoints

NAME = "tally"
TIMEOUT = 3600


def captured_times(reference):
    return int(cache.get(f"tally:captured:{reference}") or 0)


def refunded_amounts(reference):
    return [Decimal(a) for a in json.loads(cache.get(f"tally:refunded:{reference}") or "[]")]


class TallyGateway(PaymentGateway):
    name = NAME
    capabilities = frozenset({MANUAL_CAPTURE, REFUNDS, PARTIAL_REFUNDS})

    def create_payment(self, payment, order=None):
        reference = f"tally_pi_{payment.pk}_{secrets.token_hex(6)}"
        return GatewayPayment(reference=reference, status=PaymentStatus.PENDING, client_secret=f"{reference}_secret")

    def _replay(self, key):
        done = cache.get(f"tally:key:{key}")
        return json.loads(done) if done else None

    def capture(self, payment, amount, idempotency_key=None):
        failpoints.checkpoint("gateway.capture.before")
        if idempotency_key and self._replay(idempotency_key):
            return self._replay(idempotency_key)["status"]
        cache.add(f"tally:captured:{payment.reference}", 0, TIMEOUT)
        cache.incr(f"tally:captured:{payment.reference}")
        if idempotency_key:
            cache.set(f"tally:key:{idempotency_key}", json.dumps({"status": PaymentStatus.CAPTURED}), TIMEOUT)
        failpoints.checkpoint("gateway.capture.after")
        return PaymentStatus.CAPTURED

    def cancel(self, payment):
        return None

    def refund(self, payment, amount, reason="", idempotency_key=None):
        failpoints.checkpoint("gateway.refund.before")
        if idempotency_key and self._replay(idempotency_key):
            done = self._replay(idempotency_key)
            return GatewayRefund(reference=done["reference"], status=done["status"])
        moved = refunded_amounts(payment.reference) + [Decimal(amount)]
        cache.set(f"tally:refunded:{payment.reference}", json.dumps([str(a) for a in moved]), TIMEOUT)
        reference = "tally_re_" + hashlib.sha256((idempotency_key or secrets.token_hex(8)).encode()).hexdigest()[:16]
        if idempotency_key:
            cache.set(f"tally:key:{idempotency_key}", json.dumps(
                {"reference": reference, "status": RefundStatus.SUCCEEDED}), TIMEOUT)
        failpoints.checkpoint("gateway.refund.after")
        return GatewayRefund(reference=reference, status=RefundStatus.SUCCEEDED)
