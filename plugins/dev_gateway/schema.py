"""Mutations of the development gateway: what a card form and a gateway's webhooks would do."""
import uuid

import graphene

from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError
from marketplace.plugins.graphql import BaseMutation, permissions
from marketplace.plugins.payments import GatewayEventData, PaymentStatus, RefundStatus, deliver_event, find_payment

from .gateway import NAME, reference_from_secret

Outcome = graphene.Enum("DevPaymentOutcome", [("SUCCEED", "succeed"), ("FAIL", "fail")])


class DevPaymentConfirm(BaseMutation):
    """Confirm a payment of the development gateway, as a buyer's card form would: SUCCEED
    captures it (or authorises it, for manual capture), FAIL declines it. The client secret
    from `checkoutComplete`/`orderPaymentCreate` proves the payment is the caller's."""

    permission = permissions.allow_any
    text_not_stored = {"clientSecret": "checked against the payment"}
    status = graphene.String(description="The payment's status afterwards.")

    class Arguments:
        client_secret = graphene.String(required=True)
        outcome = Outcome(default_value="succeed")

    @classmethod
    def perform(cls, info, client_secret, outcome="succeed"):
        reference = reference_from_secret(client_secret)
        payment = find_payment(NAME, reference) if reference else None
        if payment is None:
            raise NotFound("No payment has this client secret.", field="client_secret")
        outcome = getattr(outcome, "value", outcome)
        if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
            raise ValidationError(f"A {payment.status} payment cannot be confirmed again.",
                                  code=ErrorCode.INVALID_STATE, field="client_secret")
        if outcome == "fail":
            kind, status = "payment_intent.payment_failed", PaymentStatus.FAILED
        elif payment.capture_method == "manual":
            kind, status = "payment_intent.amount_capturable_updated", PaymentStatus.AUTHORIZED
        else:
            kind, status = "payment_intent.succeeded", PaymentStatus.CAPTURED
        event = GatewayEventData(event_id=f"dev_evt_{uuid.uuid4().hex}", type=kind, reference=reference,
                                 status=status, amount=payment.amount if status == PaymentStatus.CAPTURED else None,
                                 currency=payment.currency, payload={"type": kind, "reference": reference})
        deliver_event(NAME, event)
        return cls(status=find_payment(NAME, reference).status)


class DevRefundSettle(BaseMutation):
    """Settle a pending refund of the development gateway (refund_mode "async"), as the
    gateway's later webhook would. Platform staff."""

    permission = permissions.platform_staff
    text_not_stored = {"reference": "a lookup"}
    status = graphene.String()

    class Arguments:
        reference = graphene.String(required=True, description="The refund's reference (dev_re_...).")
        succeed = graphene.Boolean(default_value=True)

    @classmethod
    def perform(cls, info, reference, succeed=True):
        event = GatewayEventData(event_id=f"dev_evt_{uuid.uuid4().hex}", type="refund.updated",
                                 refund_reference=reference,
                                 refund_status=RefundStatus.SUCCEEDED if succeed else RefundStatus.FAILED,
                                 refund_failure_reason="" if succeed else "declined by the dev gateway",
                                 payload={"type": "refund.updated", "reference": reference})
        result = deliver_event(NAME, event)
        if result == "unknown refund":
            raise NotFound("No refund has this reference.", field="reference")
        return cls(status="succeeded" if succeed else "failed")


class Mutation(graphene.ObjectType):
    dev_payment_confirm = DevPaymentConfirm.Field()
    dev_refund_settle = DevRefundSettle.Field()
