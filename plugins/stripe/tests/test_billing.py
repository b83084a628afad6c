"""The Stripe plugin's billing side: the SUBSCRIPTIONS capability behind the engine's
billing contract, request builders (stripe-mock does not enforce Stripe's business rules),
event parsing of current and older shapes, and the capture/void calls on stripe-mock."""
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from marketplace.plugins.billing import MalformedBillingEvent, SubscriptionBilling, billing_gateway
from marketplace.plugins.payments import SUBSCRIPTIONS, GatewayError, GatewayEventData, PaymentStatus
from plugins.stripe.amounts import from_minor, to_minor
from plugins.stripe.billing import parse_billing_event, subscription_params

T = 1_772_416_800  # 2026-03-02 02:00 UTC


def _event(event_type, obj, created=T):
    return GatewayEventData(event_id="evt_1", type=event_type, payload={"data": {"object": obj}},
                            created=datetime.fromtimestamp(created, tz=timezone.utc) if created else None)


@pytest.mark.django_db
def test_stripe_bills_subscriptions_and_the_dev_gateway_does_not():
    gateway = billing_gateway("stripe")
    assert gateway.supports(SUBSCRIPTIONS) and isinstance(gateway, SubscriptionBilling)
    with pytest.raises(GatewayError) as refused:
        billing_gateway("dev")
    assert refused.value.field == "gateway" and "subscriptions" in refused.value.message
    with pytest.raises(GatewayError):
        billing_gateway("paypal")


@pytest.mark.unit
def test_subscription_requests():
    trial = subscription_params(customer_id="cus_1", price_id="price_1", metadata={"vendor_id": 7}, trial_days=365)
    assert trial["trial_period_days"] == 365
    assert trial["trial_settings"] == {"end_behavior": {"missing_payment_method": "pause"}}
    assert trial["payment_behavior"] == "default_incomplete" and trial["metadata"] == {"vendor_id": "7"}
    assert trial["payment_settings"] == {"save_default_payment_method": "on_subscription",
                                         "payment_method_types": ["card"]}
    wallet = subscription_params(customer_id="cus_1", price_id="price_1", metadata={}, collection="send_invoice",
                                 days_until_due=10, payment_method_types=["alipay", "wechat_pay", "alipay"])
    assert wallet["collection_method"] == "send_invoice" and wallet["days_until_due"] == 10
    assert wallet["payment_settings"] == {"payment_method_types": ["alipay", "wechat_pay"]}
    assert "payment_behavior" not in wallet and "automatic_payment_methods" not in wallet
    with pytest.raises(GatewayError, match="cannot renew off-session"):
        subscription_params(customer_id="c", price_id="p", metadata={}, payment_method_types=["wechat_pay"])
    with pytest.raises(GatewayError, match="unionpay_xx"):
        subscription_params(customer_id="c", price_id="p", metadata={}, payment_method_types=["unionpay_xx"])


@pytest.mark.unit
def test_minor_units():
    assert to_minor(Decimal("1200.00"), "CNY") == 120000 and to_minor(Decimal("1000"), "ISK") == 100000
    assert to_minor(Decimal("500"), "JPY") == 500
    assert from_minor(120000, "cny") == Decimal("1200.00") and str(from_minor(1, "cny")) == "0.01"


@pytest.mark.unit
def test_parse_current_and_older_shapes():
    subscription = {"id": "sub_1", "customer": {"id": "cus_1"}, "status": "trialing", "trial_end": T + 100,
                    "cancel_at_period_end": True, "collection_method": "send_invoice",
                    "metadata": {"vendor_subscription": "4", "ignored": {"nested": 1}},
                    "items": {"data": [{"id": "si_1", "current_period_start": T, "current_period_end": T + 50,
                                        "price": {"id": "price_1", "product": "vendor_plan_x"}}]}}
    parsed = parse_billing_event(_event("customer.subscription.updated", subscription))
    snap = parsed.subscription
    assert parsed.kind == "subscription.updated" and snap.customer_id == "cus_1" and snap.item_id == "si_1"
    assert snap.product_id == "vendor_plan_x" and snap.period_end.timestamp() == T + 50
    assert snap.cancel_at_period_end and snap.collection == "send_invoice" and snap.metadata == {
        "vendor_subscription": "4"}
    legacy = dict(subscription, current_period_end=T + 70, items={"data": [{"id": "si_1", "price": "price_9"}]})
    assert parse_billing_event(_event("customer.subscription.updated", legacy)).subscription.period_end.timestamp() \
        == T + 70

    invoice = {"id": "in_1", "customer": "cus_1", "currency": "cny", "amount_due": 120000, "amount_paid": 120000,
               "attempt_count": 0, "status": "paid",
               "parent": {"subscription_details": {"subscription": "sub_1", "metadata": {"vendor_subscription": "4"}}},
               "lines": {"data": [
                   {"amount": 120000, "period": {"start": T, "end": T + 31_536_000},
                    "pricing": {"price_details": {"price": "price_1", "product": "vendor_plan_x"}}},
                   {"amount": -5000, "period": {"start": T, "end": T + 100}, "price": {"id": "price_0",
                                                                                      "product": "vendor_plan_y"},
                    "proration": True}]}}
    parsed = parse_billing_event(_event("invoice.payment_succeeded", invoice))
    inv = parsed.invoice
    assert parsed.kind == "invoice.paid" and inv.subscription_id == "sub_1" and inv.amount_paid == Decimal("1200.00")
    assert inv.period_end.timestamp() == T + 31_536_000 and inv.currency == "CNY"
    assert [(line.product_id, line.proration) for line in inv.lines] == [("vendor_plan_x", False),
                                                                          ("vendor_plan_y", True)]
    older = dict(invoice, subscription="sub_2")
    del older["parent"]
    assert parse_billing_event(_event("invoice.paid", older)).invoice.subscription_id == "sub_2"

    note = parse_billing_event(_event("credit_note.created", {"id": "cn_1", "invoice": "in_1", "currency": "cny",
                                                              "total": 30000, "refunds": [{"amount_refunded": 20000}]}))
    assert note.credit_note.total == Decimal("300.00") and note.credit_note.refunded == Decimal("200.00")
    saved = parse_billing_event(_event("setup_intent.succeeded", {"id": "seti_1", "customer": "cus_1",
                                                                  "payment_method": {"id": "pm_1"}, "metadata": {}}))
    assert saved.kind == "payment_method.saved" and saved.payment_method.payment_method_id == "pm_1"
    assert parse_billing_event(_event("customer.created", {"id": "cus_1"})) is None


@pytest.mark.unit
@pytest.mark.parametrize("event_type, obj, created", [
    ("customer.subscription.updated", {"id": "sub_1", "status": "sleeping"}, T),
    ("customer.subscription.updated", {"id": "sub_1", "status": "active"}, None),
    ("customer.subscription.updated", {"status": "active"}, T),
    ("customer.subscription.updated", {"id": "sub_1", "status": "active", "trial_end": "soon"}, T),
    ("customer.subscription.updated", {"id": "sub_1", "status": "active", "items": {"data": ["si_1"]}}, T),
    ("invoice.paid", {"id": "in_1", "amount_paid": 100}, T),
    ("invoice.paid", {"id": "in_1", "currency": "cny", "amount_paid": 12.5}, T),
    ("invoice.paid", {"id": "in_1", "currency": "cny", "amount_paid": -1}, T),
    ("invoice.paid", {"id": "in_1", "currency": "cny", "lines": {"data": [{"amount": "1"}]}}, T),
    ("invoice.paid", {"id": ["in_1"], "currency": "cny"}, T),
    ("credit_note.created", {"id": "cn_1", "currency": "cny", "total": 1}, T),
    ("setup_intent.succeeded", {"id": "seti_1", "customer": "cus_1"}, T),
])
def test_malformed_billing_events(event_type, obj, created):
    with pytest.raises(MalformedBillingEvent):
        parse_billing_event(_event(event_type, obj, created))


@pytest.mark.django_db
def test_capture_and_void_on_stripe_mock(stripe_mock):
    """Regression: stripe-python takes ids positionally (a keyword id raised TypeError, a 500)."""
    from plugins.stripe.gateway import StripeGateway

    payment = SimpleNamespace(pk=1, reference="pi_123", currency="CNY")
    assert StripeGateway().capture(payment, Decimal("10.00"), idempotency_key="capture-1") in (
        PaymentStatus.CAPTURED, PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)
    StripeGateway().cancel(payment)
