"""Plan changes, cancellation, card updates and platform staff's actions through the API:
what is sent to Stripe (asserted on the outgoing requests) and what the signed events
then change (S7: an upgrade's entitlements arrive with its paid invoice)."""
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.plugins.ledger import account_total
from marketplace.plugins.vendors import vendor_info
from tests.conftest import wait_for

from .helpers import DAY, ERRORS, NOW, YEAR, deliver, event, invoice_event, subscription_event, subscription_of

CHANGE = """mutation($v: ID!, $p: String!) { vendorSubscriptionChangePlan(vendorId: $v, plan: $p) {
  change clientSecret subscription { plan { code } entitledPlan { code } } %s } }""" % ERRORS
CANCEL = """mutation($v: ID!, $u: Boolean) { vendorSubscriptionCancel(vendorId: $v, undo: $u) {
  subscription { cancelRequested cancelAtPeriodEnd } %s } }""" % ERRORS
PLAN_CREATE = """mutation($c: String!, $i: VendorPlanInput!) { vendorPlanCreate(code: $c, input: $i) {
  plan { code price { amount currency } vendorKinds entitlements { maxProducts searchBoost commissionRate } } %s } }""" % ERRORS
PRO = {"nameZh": "配件商家专业版", "nameEn": "Parts storefront pro", "amount": "3000.00", "vendorKinds": ["PARTS_VENDOR"],
       "maxProducts": 10000, "vipTiers": True, "pointsCashback": True, "groupBuy": True, "commissionRate": "0.04",
       "searchBoost": "1.50"}


@pytest.fixture
def active(owner, billing, client, frozen_clock):
    """A parts vendor on `plan`, active and paid for its first year."""
    frozen_clock(NOW)

    def make(plan="storefront_yearly"):
        vendor = owner("parts_vendor")
        assert vendor.start(plan)["errors"] == []
        sub = subscription_of(vendor.vendor.pk)
        deliver(client, subscription_event("created", sub, "active", NOW, period=(NOW, NOW + YEAR)))
        deliver(client, invoice_event("paid", sub, f"in_first_{sub.pk}", NOW, period=(NOW, NOW + YEAR)))
        billing.clear()
        return vendor, sub

    return make


@pytest.fixture
def pro(staff_gql, plans):
    created = staff_gql.mutate(PLAN_CREATE, {"c": "storefront_pro", "i": PRO})
    assert created["errors"] == []
    assert created["plan"] == {"code": "storefront_pro", "price": {"amount": "3000.00", "currency": "CNY"},
                               "vendorKinds": ["PARTS_VENDOR"],
                               "entitlements": {"maxProducts": 10000, "searchBoost": 1.5, "commissionRate": "0.0400"}}
    from plugins.vendor_plans.models import Plan

    return Plan.objects.get(code="storefront_pro")


@pytest.mark.django_db
def test_s7_upgrade_is_invoiced_now_and_entitles_once_paid(active, pro, billing, client):
    vendor, sub = active()
    changed = vendor.api.mutate(CHANGE, {"v": vendor.id, "p": "storefront_pro"})
    assert changed["errors"] == [] and changed["change"] == "UPGRADE"
    (_, path, sent), = billing.calls("POST", "/v1/subscriptions/")
    assert path == f"/v1/subscriptions/{sub.subscription_id}"
    assert sent["proration_behavior"] == "always_invoice"
    assert sent["payment_behavior"] == "pending_if_incomplete"
    pro.refresh_from_db()
    assert sent["items[0][price]"] == pro.gateway_price_id and sent["items[0][id]"] == sub.item_id

    state = vendor.subscription()["vendorSubscription"]
    assert state["pendingChange"] == {"kind": "UPGRADE", "plan": {"code": "storefront_pro"}}
    assert state["entitlements"]["maxProducts"] == 2000
    again = vendor.api.mutate(CHANGE, {"v": vendor.id, "p": "storefront_pro"})
    assert again["errors"][0]["code"] == "INVALID_STATE"  # an upgrade awaits its payment

    # Stripe reports the new price (as with pending updates, before or after payment):
    # still the old entitlements until the matching invoice is paid.
    deliver(client, subscription_event("updated", sub, "active", NOW + 30 * DAY, plan=pro, period=(NOW, NOW + YEAR)))
    state = vendor.subscription()["vendorSubscription"]
    assert state["plan"]["code"] == "storefront_pro" and state["entitledPlan"]["code"] == "storefront_yearly"
    assert state["entitlements"]["maxProducts"] == 2000
    # An unrelated invoice paid meanwhile (not billing the new plan) does not count.
    deliver(client, invoice_event("paid", sub, "in_other", NOW + 30 * DAY, amount=Decimal("0")))
    assert vendor.subscription()["vendorSubscription"]["entitledPlan"]["code"] == "storefront_yearly"

    deliver(client, invoice_event("paid", sub, "in_upgrade", NOW + 30 * DAY + timedelta(seconds=1), plan=pro,
                                  amount=Decimal("1643.84"), period=(NOW + 30 * DAY, NOW + YEAR), proration=True,
                                  billing_reason="subscription_update"))
    state = vendor.subscription()["vendorSubscription"]
    assert state["entitledPlan"]["code"] == "storefront_pro" and state["pendingChange"] is None
    assert state["entitlements"] == {"maxProducts": 10000, "booking": False, "vipTiers": True, "pointsCashback": True,
                                     "groupBuy": True, "commissionRate": "0.0400", "searchBoost": 1.5}
    from marketplace.plugins.entitlements import entitlement

    assert entitlement(vendor.vendor.pk, "search_boost") == 1.5
    assert entitlement(vendor.vendor.pk, "commission_rate") == Decimal("0.04")
    assert account_total("platform_subscription_revenue", vendor_id=vendor.vendor.pk) == Decimal("2843.84")


@pytest.mark.django_db
def test_downgrade_waits_for_the_period_end(active, pro, billing, client):
    vendor, sub = active("storefront_pro")
    changed = vendor.api.mutate(CHANGE, {"v": vendor.id, "p": "storefront_yearly"})
    assert changed["errors"] == [] and changed["change"] == "DOWNGRADE"
    (_, _, created), = [c for c in billing.calls("POST") if c[1] == "/v1/subscription_schedules"]
    assert created == {"from_subscription": sub.subscription_id}
    phases = [c for c in billing.calls("POST", "/v1/subscription_schedules/") if "phases[1][items][0][price]" in c[2]]
    (_, _, update), = phases
    yearly = subscription_of(vendor.vendor.pk).requested_plan
    assert update["phases[1][items][0][price]"] == yearly.gateway_price_id and update["end_behavior"] == "release"
    assert update["proration_behavior"] == "none"
    state = vendor.subscription()["vendorSubscription"]
    assert state["pendingChange"] == {"kind": "DOWNGRADE", "plan": {"code": "storefront_yearly"}}
    assert state["entitlements"]["maxProducts"] == 10000  # paid features kept until the period ends

    deliver(client, subscription_event("updated", sub, "active", NOW + YEAR, plan=yearly,
                                       period=(NOW + YEAR, NOW + 2 * YEAR)))
    state = vendor.subscription()["vendorSubscription"]
    assert state["entitledPlan"]["code"] == "storefront_yearly" and state["entitlements"]["maxProducts"] == 2000
    assert state["pendingChange"] is None

    # Refused changes send nothing.
    billing.clear()
    same = vendor.api.mutate(CHANGE, {"v": vendor.id, "p": "storefront_yearly"})
    assert same["errors"][0] == {"field": "plan", "code": "INVALID", "message": "The vendor is on this plan already."}
    wrong = vendor.api.mutate(CHANGE, {"v": vendor.id, "p": "shop_yearly"})
    assert wrong["errors"][0]["field"] == "plan" and wrong["errors"][0]["code"] == "INVALID"
    assert billing.requests == []


@pytest.mark.django_db
def test_cancel_at_period_end_then_undo(active, billing, client):
    vendor, sub = active()
    cancelled = vendor.api.mutate(CANCEL, {"v": vendor.id})
    assert cancelled["errors"] == [] and cancelled["subscription"] == {"cancelRequested": True,
                                                                       "cancelAtPeriodEnd": False}
    (_, path, sent), = billing.calls("POST", "/v1/subscriptions/")
    assert path.endswith(sub.subscription_id) and sent == {"cancel_at_period_end": "true"}
    deliver(client, subscription_event("updated", sub, "active", NOW + DAY, cancel_at_period_end=True))
    assert vendor.subscription()["vendorSubscription"]["cancelAtPeriodEnd"] is True
    assert vendor.subscription()["vendorPlanAccess"] == "FULL"  # paid until the period ends
    kept = vendor.api.mutate(CANCEL, {"v": vendor.id, "u": True})
    assert kept["subscription"]["cancelRequested"] is False
    assert billing.calls("POST", "/v1/subscriptions/")[-1][2] == {"cancel_at_period_end": "false"}
    deliver(client, subscription_event("updated", sub, "active", NOW + 2 * DAY, cancel_at_period_end=False))
    assert vendor.subscription()["vendorSubscription"]["cancelAtPeriodEnd"] is False


@pytest.mark.django_db(transaction=True)
def test_card_update_pays_the_open_invoice(active, billing, client, worker, frozen_clock):
    vendor, sub = active()
    renewal = NOW + YEAR
    frozen_clock(renewal + DAY)
    deliver(client, invoice_event("payment_failed", sub, "in_renewal", renewal, attempt_count=2,
                                  next_attempt=renewal + 3 * DAY, period=(renewal, renewal + YEAR)))
    assert vendor.subscription()["vendorPlanAccess"] == "GRACE"
    secret = vendor.api.mutate("""mutation($v: ID!) { vendorSubscriptionCardUpdate(vendorId: $v) {
        clientSecret errors { code } } }""", {"v": vendor.id})
    assert secret["errors"] == [] and "_secret_" in secret["clientSecret"]
    (_, _, intent), = billing.calls("POST", "/v1/setup_intents")
    assert intent["customer"] == sub.customer_id and intent["usage"] == "off_session"
    assert intent["metadata[vendor_subscription]"] == str(sub.pk)

    # The card form succeeded at Stripe: its event makes the card the default and pays.
    saved = event("setup_intent.succeeded", {"id": "seti_card", "object": "setup_intent", "status": "succeeded",
                                             "customer": sub.customer_id, "payment_method": "pm_card_visa",
                                             "metadata": {"vendor_subscription": str(sub.pk)}}, renewal + DAY)
    assert "paying open invoices" in deliver(client, saved)["results"][0]
    paid = wait_for(lambda: billing.calls("POST", "/v1/invoices/in_renewal/pay"), message="the open invoice paid")
    assert paid[0][2] == {"payment_method": "pm_card_visa"}
    default = [c for c in billing.calls("POST", "/v1/customers/") if c[1].endswith(sub.customer_id)]
    assert default[0][2] == {"invoice_settings[default_payment_method]": "pm_card_visa"}
    deliver(client, invoice_event("paid", sub, "in_renewal", renewal + DAY, period=(renewal, renewal + YEAR)))
    state = vendor.subscription()
    assert state["vendorPlanAccess"] == "FULL" and state["vendorSubscription"]["status"] == "ACTIVE"
    # A setup intent that is not ours (no metadata) is counted as unhandled.
    other = event("setup_intent.succeeded", {"id": "seti_other", "object": "setup_intent", "customer": "cus_x",
                                             "payment_method": "pm_x", "metadata": {}}, renewal + DAY)
    assert deliver(client, other)["results"] == ["unhandled setup_intent.succeeded"]


@pytest.mark.django_db
def test_staff_override_cancel_now_and_refund(active, billing, client, staff_gql, member_gql, frozen_clock):
    vendor, sub = active()
    override = """mutation($v: ID!, $a: VendorAccess, $u: DateTime, $r: String) {
      vendorAccessOverride(vendorId: $v, access: $a, until: $u, reason: $r) { subscription { access override { access reason } } %s } }""" % ERRORS
    denied = member_gql.mutate(override, {"v": vendor.id, "a": "SUSPENDED", "r": "policy"})
    assert denied["errors"][0]["code"] == "PERMISSION_DENIED"
    no_reason = staff_gql.mutate(override, {"v": vendor.id, "a": "SUSPENDED"})
    assert no_reason["errors"][0] == {"field": "reason", "code": "REQUIRED", "message": "Say why."}
    held = staff_gql.mutate(override, {"v": vendor.id, "a": "SUSPENDED", "r": "Counterfeit parts reported",
                                       "u": (NOW + 7 * DAY).isoformat()})
    assert held["subscription"]["access"] == "SUSPENDED"
    assert vendor_info(vendor.vendor.pk).storefront_hidden and vendor_info(vendor.vendor.pk).status == "approved"
    frozen_clock(NOW + 8 * DAY)  # the override ran out: the sweep lifts the hold
    from plugins.vendor_plans.tasks import sweep

    sweep()
    assert not vendor_info(vendor.vendor.pk).storefront_hidden
    staff_gql.mutate(override, {"v": vendor.id, "a": "LIMITED", "r": "Unpaid fine"})
    assert vendor.subscription()["vendorPlanAccess"] == "LIMITED"
    cleared = staff_gql.mutate(override, {"v": vendor.id})
    assert cleared["subscription"]["override"] is None and cleared["subscription"]["access"] == "FULL"

    refund = """mutation($i: String!, $a: Decimal) { vendorInvoiceRefund(invoiceId: $i, amount: $a, reason: "Goodwill") {
      creditNoteId %s } }""" % ERRORS
    too_much = staff_gql.mutate(refund, {"i": f"in_first_{sub.pk}", "a": "1200.01"})
    assert too_much["errors"][0]["field"] == "amount"
    assert staff_gql.mutate(refund, {"i": "in_nope"})["errors"][0]["code"] == "NOT_FOUND"
    refunded = staff_gql.mutate(refund, {"i": f"in_first_{sub.pk}", "a": "200.00"})
    assert refunded["errors"] == [] and refunded["creditNoteId"]
    (_, _, note), = billing.calls("POST", "/v1/credit_notes")
    assert note["amount"] == "20000" and note["refund_amount"] == "20000"
    assert note["invoice"] == f"in_first_{sub.pk}"
    credit = event("credit_note.created", {"id": refunded["creditNoteId"], "object": "credit_note",
                                           "invoice": f"in_first_{sub.pk}", "customer": sub.customer_id,
                                           "currency": "cny", "total": 20000,
                                           "refunds": [{"amount_refunded": 20000, "refund": "re_1"}]}, NOW + 9 * DAY)
    deliver(client, credit)
    deliver(client, credit | {"id": "evt_credit_again"})  # the same credit note again: booked once
    assert account_total("platform_subscription_revenue", vendor_id=vendor.vendor.pk) == Decimal("1000.00")
    assert account_total("customer_payments", vendor_id=vendor.vendor.pk) == Decimal("-1000.00")
    invoice = vendor.subscription()["vendorSubscription"]["invoices"][0]
    assert invoice["status"] == "PAID"  # access follows the subscription, never the refund
    assert vendor.subscription()["vendorPlanAccess"] == "FULL"

    cancel_now = staff_gql.mutate("""mutation($v: ID!) { vendorSubscriptionCancelNow(vendorId: $v, prorate: true) {
        subscription { status } %s } }""" % ERRORS, {"v": vendor.id})
    assert cancel_now["errors"] == []
    (method, path, params), = billing.calls("DELETE")
    assert path == f"/v1/subscriptions/{sub.subscription_id}" and params == {"prorate": "true", "invoice_now": "true"}
    assert cancel_now["subscription"]["status"] == "ACTIVE"  # until Stripe's deletion event
    deliver(client, subscription_event("deleted", sub, "canceled", NOW + 10 * DAY))
    assert vendor.subscription()["vendorPlanAccess"] == "SUSPENDED"


@pytest.mark.django_db
def test_only_the_owner_manages_the_plan(active, make_user, gql):
    from marketplace.plugins.testing import GraphQLClient
    from marketplace.plugins.vendors import StaffRole

    vendor, _sub = active()
    from django.test import Client

    manager = make_user("manager@example.com")
    from marketplace.vendors.models import VendorStaff

    VendorStaff.objects.create(vendor=vendor.vendor, user=manager, role=StaffRole.MANAGER)
    api = GraphQLClient(Client())
    api.login(manager.email)
    refused = api.mutate(CANCEL, {"v": vendor.id})
    assert refused["errors"][0]["code"] == "PERMISSION_DENIED"
    assert api.data("query($v: ID!) { vendorSubscription(vendorId: $v) { status } }", {"v": vendor.id}) == {
        "vendorSubscription": {"status": "ACTIVE"}}  # managers may read it
    outsider = gql.execute("query($v: ID!) { vendorSubscription(vendorId: $v) { status } }", {"v": vendor.id})
    assert outsider["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
