"""Billing webhooks through the payments endpoint, signed as Stripe signs them: checks S2-S6,
events that are not ours counted for staff, and refused requests changing nothing."""
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.plugins.ledger import account_total
from tests.conftest import signed_post

from .helpers import (
    DAY, NOW, YEAR, deliver, event, invoice_event, subscription_event, subscription_of,
)

pytestmark = pytest.mark.django_db
PRODUCT_CREATE = """
mutation($v: ID!, $c: ID!, $t: ID!) {
  productCreate(vendorId: $v, input: {slug: "new-pads", nameZh: "刹车片", category: $c, productType: $t,
                                      status: PUBLISHED}) { product { id } errors { field code message } }
}"""


@pytest.fixture
def started(owner, billing, frozen_clock):
    """A vendor that asked for a plan (PENDING; the gateway's ids stored)."""
    frozen_clock(NOW)

    def make(kind="parts_vendor", plan="storefront_yearly"):
        vendor = owner(kind)
        assert vendor.start(plan)["errors"] == []
        return vendor, subscription_of(vendor.vendor.pk)

    return make


def test_s2_updated_before_created_then_paid_ends_active(started, client):
    vendor, sub = started()
    period = (NOW, NOW + YEAR)
    deliver(client, subscription_event("updated", sub, "active", NOW + timedelta(seconds=2), period=period))
    deliver(client, subscription_event("created", sub, "incomplete", NOW + timedelta(seconds=1), period=period))
    result = deliver(client, invoice_event("paid", sub, "in_s2", NOW + timedelta(seconds=3), period=period))
    assert result["results"] == ["invoice in_s2 paid: 1200.00 CNY booked"]
    state = vendor.subscription()
    sub_state = state["vendorSubscription"]
    assert sub_state["status"] == "ACTIVE" and state["vendorPlanAccess"] == "FULL"
    assert sub_state["paidThrough"].startswith((NOW + YEAR).date().isoformat())
    assert sub_state["invoices"][0]["status"] == "PAID"


def test_s3_failed_payments_grace_then_limited_then_paid(started, client, frozen_clock, taxonomy, make_product):
    vendor, sub = started()
    deliver(client, subscription_event("created", sub, "active", NOW, period=(NOW, NOW + YEAR)))
    deliver(client, invoice_event("paid", sub, "in_year1", NOW, period=(NOW, NOW + YEAR)))
    renewal = NOW + YEAR
    frozen_clock(renewal + timedelta(hours=1))
    deliver(client, invoice_event("payment_failed", sub, "in_year2", renewal, attempt_count=1,
                                  next_attempt=renewal + 3 * DAY, period=(renewal, renewal + YEAR),
                                  billing_reason="subscription_cycle"))
    state = vendor.subscription()
    assert state["vendorSubscription"]["status"] == "PAST_DUE" and state["vendorPlanAccess"] == "GRACE"
    assert state["vendorSubscription"]["graceUntil"].startswith((renewal + 14 * DAY).date().isoformat())
    frozen_clock(renewal + 13 * DAY)
    assert vendor.subscription()["vendorPlanAccess"] == "GRACE"  # still selling, with a banner
    frozen_clock(renewal + 15 * DAY)
    assert vendor.subscription()["vendorPlanAccess"] == "LIMITED"  # grace over, even without Stripe's news

    frozen_clock(renewal + 5 * DAY)
    deliver(client, invoice_event("payment_failed", sub, "in_year2", renewal + 4 * DAY, attempt_count=4,
                                  next_attempt=None, period=(renewal, renewal + YEAR)))
    deliver(client, subscription_event("updated", sub, "unpaid", renewal + 4 * DAY + timedelta(seconds=1),
                                       period=(renewal, renewal + YEAR)))
    state = vendor.subscription()
    assert state["vendorSubscription"]["status"] == "UNPAID" and state["vendorPlanAccess"] == "LIMITED"
    invoice = next(i for i in state["vendorSubscription"]["invoices"] if i["invoiceId"] == "in_year2")
    assert invoice["finalFailure"] is True and invoice["attemptCount"] == 4
    refused = vendor.api.mutate(PRODUCT_CREATE, {"v": vendor.id, "c": _gid("Category", taxonomy.pads.pk),
                                                 "t": _gid("ProductType", taxonomy.part.pk)})
    assert refused["errors"][0]["code"] == "LIMIT_EXCEEDED"
    assert vendor.subscription()["vendorSubscription"]["entitlements"]["vipTiers"] is False

    deliver(client, invoice_event("paid", sub, "in_year2", renewal + 6 * DAY, period=(renewal, renewal + YEAR)))
    state = vendor.subscription()
    assert state["vendorSubscription"]["status"] == "ACTIVE" and state["vendorPlanAccess"] == "FULL"
    assert state["vendorSubscription"]["paidThrough"].startswith((renewal + YEAR).date().isoformat())
    created = vendor.api.mutate(PRODUCT_CREATE, {"v": vendor.id, "c": _gid("Category", taxonomy.pads.pk),
                                                 "t": _gid("ProductType", taxonomy.part.pk)})
    assert created["errors"] == []


def _gid(type_name, pk):
    from marketplace.plugins.testing import gid

    return gid(type_name, pk)


def test_s4_deleted_is_terminal_and_hides_the_storefront(started, client, make_product, gql):
    vendor, sub = started()
    deliver(client, subscription_event("created", sub, "active", NOW))
    make_product(vendor.vendor, "pads-s4", name_zh="刹车片")
    listing = '{ products(first: 50) { edges { node { slug } } } }'
    assert "pads-s4" in json.dumps(gql.data(listing))
    deleted = subscription_event("deleted", sub, "canceled", NOW + 10 * DAY)
    deliver(client, deleted)
    stale = deliver(client, subscription_event("updated", sub, "active", NOW + 5 * DAY))
    assert stale["results"] == ["subscription.updated recorded, not applied (subscription ended)"]
    newer = deliver(client, subscription_event("updated", sub, "active", NOW + 20 * DAY))
    assert "not applied" in newer["results"][0]
    state = vendor.subscription()
    assert state["vendorSubscription"]["status"] == "CANCELED" and state["vendorPlanAccess"] == "SUSPENDED"
    assert "pads-s4" not in json.dumps(gql.data(listing))
    search = gql.data('{ searchProducts(query: "刹车片", first: 10) { products { slug } } }')
    assert "pads-s4" not in json.dumps(search)
    # Nothing was deleted, and the vendor's own status is untouched.
    from marketplace.plugins.vendors import vendor_info

    info = vendor_info(vendor.vendor.pk)
    assert info.status == "approved" and info.storefront_hidden
    # A new subscription brings it back once the gateway confirms.
    vendor.start("storefront_yearly")
    second = subscription_of(vendor.vendor.pk)
    assert second.pk != sub.pk
    deliver(client, subscription_event("created", second, "active", NOW + 21 * DAY))
    assert "pads-s4" in json.dumps(gql.data(listing))


def test_s5_invoice_paid_three_times_books_once(started, client):
    vendor, sub = started()
    paid = invoice_event("paid", sub, "in_s5", NOW)
    results = [deliver(client, paid)["results"][0] for _ in range(3)]
    assert results == ["invoice in_s5 paid: 1200.00 CNY booked", "duplicate", "duplicate"]
    # The same invoice reported again under other event ids (Stripe also sends
    # invoice.payment_succeeded): still one booking.
    deliver(client, invoice_event("paid", sub, "in_s5", NOW + timedelta(seconds=5)))
    deliver(client, invoice_event("payment_succeeded", sub, "in_s5", NOW + timedelta(seconds=6)))
    # A failure reported after the payment changes nothing: paid wins.
    deliver(client, invoice_event("payment_failed", sub, "in_s5", NOW - timedelta(seconds=5), attempt_count=1,
                                  next_attempt=NOW + DAY))
    vendor_id = vendor.vendor.pk
    assert account_total("platform_subscription_revenue", vendor_id=vendor_id) == Decimal("1200.00")
    assert account_total("customer_payments", vendor_id=vendor_id) == Decimal("-1200.00")
    invoices = vendor.subscription()["vendorSubscription"]["invoices"]
    assert [(i["invoiceId"], i["status"]) for i in invoices] == [("in_s5", "PAID")]
    assert invoices[0]["amountPaid"] == {"amount": "1200.00", "currency": "CNY"}


def _recorded():
    from marketplace.payments.models import GatewayEvent

    return GatewayEvent.objects.count()


def test_s6_forged_stale_future_and_malformed_events_are_refused(started, client):
    vendor, sub = started()
    good = subscription_event("created", sub, "active", NOW)
    before = _recorded()
    assert signed_post(client, good, secret="whsec_forged").status_code == 400
    real_now = time.time()
    assert signed_post(client, good, timestamp=real_now - 301).status_code == 400  # stale
    assert signed_post(client, good, timestamp=real_now + 301).status_code == 400  # future-dated
    assert signed_post(client, "{not json").status_code == 400
    assert signed_post(client, json.dumps([good])).status_code == 400
    bad_status = subscription_event("created", sub, "happy", NOW)
    no_created = dict(good, id="evt_no_created")
    no_created.pop("created")
    float_amount = invoice_event("paid", sub, "in_bad", NOW)
    float_amount["data"]["object"]["amount_paid"] = 1200.5
    no_invoice_id = invoice_event("paid", sub, "in_x", NOW)
    del no_invoice_id["data"]["object"]["id"]
    bad_lines = invoice_event("paid", sub, "in_y", NOW)
    bad_lines["data"]["object"]["lines"] = {"data": "all of them"}
    for malformed in (bad_status, no_created, float_amount, no_invoice_id, bad_lines):
        response = signed_post(client, malformed)
        assert response.status_code == 400, malformed
        assert "Malformed" in response.json()["error"] or "required" in response.json()["error"]
    assert _recorded() == before
    state = vendor.subscription()["vendorSubscription"]
    assert state["status"] == "PENDING" and state["invoices"] == []
    assert account_total("platform_subscription_revenue", vendor_id=vendor.vendor.pk) == 0
    deliver(client, good)  # the genuine event still applies
    assert vendor.subscription()["vendorSubscription"]["status"] == "ACTIVE"


def test_events_that_are_not_ours_are_counted_for_staff(started, client, staff_gql):
    vendor, sub = started()
    deliver(client, event("entitlements.active_entitlement_summary.updated",
                          {"object": "entitlements.active_entitlement_summary", "customer": "cus_1",
                           "entitlements": {"data": []}}, NOW))
    deliver(client, event("customer.created", {"id": "cus_other", "object": "customer"}, NOW))
    foreign = invoice_event("paid", sub, "in_foreign", NOW)
    foreign["data"]["object"]["parent"]["subscription_details"] = {"subscription": "sub_someone_else",
                                                                     "metadata": {}}
    assert deliver(client, foreign)["results"] == ["unhandled invoice.paid"]
    deliver(client, subscription_event("updated", sub, "active", NOW) | {"id": "evt_ours"})
    counts = {row["type"]: row["count"] for row in
              staff_gql.data('{ unhandledGatewayEvents(gateway: "stripe") { type count } }')["unhandledGatewayEvents"]}
    assert counts == {"entitlements.active_entitlement_summary.updated": 1, "customer.created": 1, "invoice.paid": 1}
    assert account_total("platform_subscription_revenue", vendor_id=vendor.vendor.pk) == 0


def test_trial_without_card_pauses_then_card_resumes(started, client, frozen_clock):
    vendor, sub = started("repair_shop", "shop_yearly")
    trial_end = NOW + YEAR
    deliver(client, subscription_event("created", sub, "trialing", NOW, trial_end=trial_end))
    deliver(client, subscription_event("trial_will_end", sub, "trialing", trial_end - 3 * DAY, trial_end=trial_end))
    frozen_clock(trial_end + DAY)
    deliver(client, subscription_event("paused", sub, "paused", trial_end, trial_end=trial_end))
    state = vendor.subscription()
    assert state["vendorSubscription"]["status"] == "PAUSED" and state["vendorPlanAccess"] == "LIMITED"
    assert state["vendorSubscription"]["entitlements"]["booking"] is False
    deliver(client, subscription_event("resumed", sub, "active", trial_end + DAY, trial_end=trial_end,
                                       period=(trial_end + DAY, trial_end + DAY + YEAR)))
    state = vendor.subscription()
    assert state["vendorSubscription"]["status"] == "ACTIVE" and state["vendorPlanAccess"] == "FULL"
    from plugins.vendor_plans.models import Notice

    assert list(Notice.objects.filter(subscription=sub).values_list("kind", flat=True)) == ["trial_will_end"]
