"""Builders for the vendor plans tests: vendor owners signed in, and Stripe-shaped billing
events (2025-03-31 "basil" shapes) delivered signed to the payments webhook, as Stripe
would."""
import uuid
from datetime import datetime, timedelta, timezone

from django.test import Client

from marketplace.plugins.testing import GraphQLClient, gid
from tests.conftest import STRIPE_WEBHOOK_SECRET, signed_post

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # 10:00 in Beijing
DAY = timedelta(days=1)
YEAR = timedelta(days=365)
ERRORS = "errors { field code message }"

START = """
mutation($v: ID!, $p: String!, $m: VendorPlanPaymentMethod) {
  vendorSubscriptionStart(vendorId: $v, plan: $p, paymentMethod: $m) {
    subscription { id status access plan { code } paymentMethod }
    clientSecret clientSecretKind hostedInvoiceUrl %s
  }
}""" % ERRORS
SUBSCRIPTION = """
query($v: ID!) {
  vendorSubscription(vendorId: $v) {
    id status access paymentMethod trialEnd currentPeriodEnd paidThrough graceUntil cancelAtPeriodEnd cancelRequested
    plan { code } entitledPlan { code }
    pendingChange { kind plan { code } }
    entitlements { maxProducts booking vipTiers pointsCashback groupBuy commissionRate searchBoost }
    quota { limit listed deadline }
    invoices { invoiceId status amountPaid { amount currency } periodEnd attemptCount finalFailure hostedInvoiceUrl }
  }
  vendorPlanAccess(vendorId: $v)
}"""


def ts(value):
    return int(value.timestamp())


class Owner:
    """A vendor with its owner signed in (`api`)."""

    def __init__(self, vendor):
        self.vendor = vendor
        self.id = gid("Vendor", vendor.pk)
        self.api = GraphQLClient(Client())
        self.api.login(vendor.owner.email)

    def start(self, plan, method=None):
        variables = {"v": self.id, "p": plan}
        if method:
            variables["m"] = method
        return self.api.mutate(START, variables)

    def subscription(self):
        return self.api.data(SUBSCRIPTION, {"v": self.id})


def subscription_of(vendor_id):
    from plugins.vendor_plans.models import VendorSubscription

    return VendorSubscription.objects.filter(vendor_id=vendor_id).order_by("-pk").first()


# -- Stripe-shaped events ------------------------------------------------------------------------------
def _metadata(sub):
    return {"vendor_id": str(sub.vendor_id), "vendor_subscription": str(sub.pk), "vendor_plan": sub.started_plan.code}


def _price(plan):
    return {"id": plan.gateway_price_id or f"price_{plan.code}", "object": "price", "product": plan.product_key,
            "currency": "cny", "unit_amount": int(plan.amount * 100), "lookup_key": plan.product_key,
            "recurring": {"interval": plan.interval, "interval_count": plan.interval_count}}


def event(event_type, obj, created, event_id=None):
    return {"id": event_id or f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "type": event_type,
            "api_version": "2025-03-31.basil", "created": ts(created), "livemode": False,
            "data": {"object": obj}}


def subscription_event(kind, sub, status, created, plan=None, trial_end=None, period=None, cancel_at_period_end=False,
                       event_id=None, collection="charge_automatically"):
    plan = plan or sub.started_plan
    start, end = period or (created, created + YEAR)
    obj = {
        "id": sub.subscription_id, "object": "subscription", "customer": sub.customer_id or "cus_test",
        "status": status, "collection_method": collection, "cancel_at_period_end": cancel_at_period_end,
        "trial_end": ts(trial_end) if trial_end else None, "metadata": _metadata(sub),
        "items": {"object": "list", "data": [{
            "id": sub.item_id or "si_test", "object": "subscription_item", "quantity": 1,
            "current_period_start": ts(start), "current_period_end": ts(end), "price": _price(plan)}]},
    }
    return event(f"customer.subscription.{kind}", obj, created, event_id)


def invoice_event(kind, sub, invoice_id, created, plan=None, amount=None, period=None, attempt_count=0,
                  next_attempt=None, event_id=None, proration=False, billing_reason="subscription_create",
                  collection="charge_automatically"):
    plan = plan or sub.started_plan
    amount = int((plan.amount if amount is None else amount) * 100)
    start, end = period or (created, created + YEAR)
    paid = kind in ("paid", "payment_succeeded")
    obj = {
        "id": invoice_id, "object": "invoice", "customer": sub.customer_id or "cus_test", "currency": "cny",
        "status": "paid" if paid else "open", "amount_due": amount, "amount_paid": amount if paid else 0,
        "attempt_count": attempt_count, "next_payment_attempt": ts(next_attempt) if next_attempt else None,
        "billing_reason": billing_reason, "collection_method": collection, "number": f"VP-{invoice_id[-6:]}",
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{invoice_id}", "due_date": None,
        "parent": {"type": "subscription_details",
                   "subscription_details": {"subscription": sub.subscription_id, "metadata": _metadata(sub)}},
        "lines": {"object": "list", "data": [{
            "id": f"il_{invoice_id}", "object": "line_item", "amount": amount, "currency": "cny",
            "period": {"start": ts(start), "end": ts(end)},
            "pricing": {"type": "price_details", "price_details": {"price": _price(plan)["id"],
                                                                    "product": plan.product_key}},
            "parent": {"type": "subscription_item_details",
                       "subscription_item_details": {"subscription": sub.subscription_id,
                                                     "subscription_item": sub.item_id or "si_test",
                                                     "proration": proration}}}]},
    }
    return event(f"invoice.{kind}", obj, created, event_id)


def deliver(client, evt, status=200):
    response = signed_post(client, evt)
    assert response.status_code == status, response.content
    return response.json()


__all__ = ["NOW", "DAY", "YEAR", "ERRORS", "START", "SUBSCRIPTION", "Owner", "subscription_of", "event",
           "subscription_event", "invoice_event", "deliver", "ts", "STRIPE_WEBHOOK_SECRET"]
