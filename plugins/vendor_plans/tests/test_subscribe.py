"""Subscribing through the API on stripe-mock: what is sent to Stripe, state only from
signed events (S1), wallet payers, refused input, and the owner-only policy."""
import pytest

from marketplace.plugins import is_active
from marketplace.plugins.entitlements import EntitlementSpec, entitlement, has_entitlement

from .helpers import NOW, YEAR, Owner, deliver, invoice_event, subscription_event, subscription_of

START_ANY = """mutation($v: ID!, $m: VendorPlanPaymentMethod) {
  vendorSubscriptionStart(vendorId: $v, plan: "shop_yearly", paymentMethod: $m) { errors { code } } }"""

pytestmark = pytest.mark.django_db


class BookingProbe:
    """A throw-away plugin gated by the `booking` entitlement, as repair_booking will be."""

    from marketplace.plugins import hookimpl

    @hookimpl
    def register_entitlements(self):
        return [EntitlementSpec("booking", "flag", True, "all", "Repair bookings.")]


def test_s1_shop_trial_pending_until_created_event_then_full_with_booking(owner, billing, client, plugin, frozen_clock,
                                                                         require_plan):
    frozen_clock(NOW)
    plugin(BookingProbe(), "booking_probe", requires_entitlement="booking")
    shop = owner("repair_shop")

    started = shop.start("shop_yearly")
    assert started["errors"] == []
    assert started["subscription"]["status"] == "PENDING" and started["subscription"]["plan"]["code"] == "shop_yearly"
    assert started["clientSecretKind"] == "setup"  # a card is optional during the free year

    (_, _, sent), = billing.calls("POST", "/v1/subscriptions")
    assert sent["trial_period_days"] == "365"
    assert sent["trial_settings[end_behavior][missing_payment_method]"] == "pause"
    assert sent["payment_behavior"] == "default_incomplete"
    assert sent["payment_settings[payment_method_types][0]"] == "card"
    sub = subscription_of(shop.vendor.pk)
    assert sent["metadata[vendor_subscription]"] == str(sub.pk)
    assert sent["items[0][price]"] == sub.started_plan.gateway_price_id
    (_, _, price), = billing.calls("POST", "/v1/prices")
    assert price["unit_amount"] == "120000" and price["currency"] == "cny" and price["recurring[interval]"] == "year"
    assert price["product"] == "vendor_plan_shop_yearly"
    assert billing.calls("POST", "/v1/customers")
    assert sub.subscription_id and sub.customer_id

    # stripe-mock answered "active": the engine does not believe it. Until the gateway's
    # event, nothing changes: a new shop on a platform that requires a plan stays hidden.
    before = shop.subscription()
    assert before["vendorSubscription"]["status"] == "PENDING" and before["vendorPlanAccess"] == "SUSPENDED"
    assert not is_active("booking_probe", shop.vendor.pk)
    assert entitlement(shop.vendor.pk, "max_products") == 0

    deliver(client, subscription_event("created", sub, "trialing", NOW, trial_end=NOW + YEAR,
                                       period=(NOW, NOW + YEAR)))
    after = shop.subscription()
    state = after["vendorSubscription"]
    assert state["status"] == "TRIALING" and after["vendorPlanAccess"] == "FULL"
    assert state["trialEnd"].startswith((NOW + YEAR).date().isoformat())
    assert state["entitlements"] == {"maxProducts": 500, "booking": True, "vipTiers": True, "pointsCashback": False,
                                     "groupBuy": True, "commissionRate": None, "searchBoost": 1.0}
    assert is_active("booking_probe", shop.vendor.pk) and has_entitlement(shop.vendor.pk, "booking")
    assert entitlement(shop.vendor.pk, "max_products") == 500


def test_price_is_made_once_per_terms(owner, billing, plans, staff_gql):
    owner("repair_shop").start("shop_yearly")
    owner("repair_shop").start("shop_yearly")
    assert len(billing.calls("POST", "/v1/prices")) == 1
    staff_gql.mutate('mutation { vendorPlanUpdate(code: "shop_yearly", input: {amount: "1500.00"}) '
                     '{ plan { price { amount } } errors { code } } }')
    owner("repair_shop").start("shop_yearly")
    prices = billing.calls("POST", "/v1/prices")
    assert len(prices) == 2 and prices[-1][2]["unit_amount"] == "150000"


def test_parts_vendor_pays_first_invoice_by_card(owner, billing):
    vendor = owner("parts_vendor")
    started = vendor.start("storefront_yearly")
    assert started["errors"] == [] and started["clientSecretKind"] in ("payment", None)
    (_, _, sent), = billing.calls("POST", "/v1/subscriptions")
    assert "trial_period_days" not in sent and sent["expand[0]"] == "latest_invoice.confirmation_secret"
    assert sent["items[0][price]"] and sent["metadata[vendor_plan]"] == "storefront_yearly"
    assert sent["payment_settings[save_default_payment_method]"] == "on_subscription"


def test_wallet_payers_get_invoices_not_off_session_charges(owner, billing, client, frozen_clock):
    frozen_clock(NOW)
    vendor = owner("parts_vendor")
    started = vendor.start("storefront_yearly", "WALLET")
    assert started["errors"] == [] and started["subscription"]["paymentMethod"] == "WALLET"
    (_, _, sent), = billing.calls("POST", "/v1/subscriptions")
    assert sent["collection_method"] == "send_invoice" and sent["days_until_due"] == "14"
    assert {sent["payment_settings[payment_method_types][0]"], sent["payment_settings[payment_method_types][1]"]} == {
        "alipay", "wechat_pay"}
    assert "payment_behavior" not in sent and "trial_settings[end_behavior][missing_payment_method]" not in sent

    sub = subscription_of(vendor.vendor.pk)
    finalized = invoice_event("finalized", sub, "in_wallet_1", NOW, collection="send_invoice")
    deliver(client, finalized)
    invoices = vendor.subscription()["vendorSubscription"]["invoices"]
    assert invoices[0]["status"] == "OPEN" and invoices[0]["hostedInvoiceUrl"].endswith("in_wallet_1")
    from plugins.vendor_plans.models import Notice

    assert Notice.objects.filter(kind="invoice_to_pay", subscription=sub).count() == 1
    deliver(client, finalized | {"id": "evt_again_finalized"})
    assert Notice.objects.filter(kind="invoice_to_pay", subscription=sub).count() == 1  # reminded once


def test_refused_input_changes_nothing(owner, billing, make_vendor, plans, gql):
    shop = owner("repair_shop")
    wrong_kind = shop.start("storefront_yearly")
    assert wrong_kind["errors"] == [{"field": "plan", "code": "INVALID",
                                     "message": "The storefront_yearly plan is not offered to repair shops "
                                                "(only: parts_vendor)."}]
    assert shop.start("gold_forever")["errors"][0] == {"field": "plan", "code": "NOT_FOUND",
                                                        "message": "No offered plan 'gold_forever'."}
    bad_method = shop.api.execute(START_ANY, {"v": shop.id, "m": "BITCOIN"}, status=400)
    assert bad_method["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert subscription_of(shop.vendor.pk) is None and billing.calls("POST", "/v1/subscriptions") == []

    assert shop.start("shop_yearly")["errors"] == []
    second = shop.start("shop_yearly")
    assert second["errors"][0]["code"] == "INVALID_STATE" and second["errors"][0]["field"] == "vendorId"
    assert len(billing.calls("POST", "/v1/subscriptions")) == 1

    # Another vendor's owner, a member, an anonymous caller: refused, nothing sent.
    other = owner("repair_shop")
    stranger = other.api.mutate("""mutation($v: ID!) { vendorSubscriptionStart(vendorId: $v, plan: "shop_yearly")
        { errors { code } } }""", {"v": shop.id})
    assert stranger["errors"][0]["code"] == "PERMISSION_DENIED"
    anonymous = gql.mutate("""mutation($v: ID!) { vendorSubscriptionStart(vendorId: $v, plan: "shop_yearly")
        { errors { code } } }""", {"v": shop.id})
    assert anonymous["errors"][0]["code"] == "NOT_AUTHENTICATED"
    assert len(billing.calls("POST", "/v1/subscriptions")) == 1

    pending = make_vendor("pending-shop", kind="repair_shop", approve=False)
    applied = Owner(pending).start("shop_yearly")
    assert applied["errors"][0]["code"] == "INVALID_STATE"


def test_gateway_refusal_marks_the_attempt_failed(owner, stripe_mock, settings):
    settings.STRIPE_API_KEY = ""  # not configured: the gateway refuses before any call
    shop = owner("repair_shop")
    refused = shop.start("shop_yearly")
    assert refused["errors"][0]["field"] == "gateway"
    settings.STRIPE_API_KEY = "sk_test_123"
    assert shop.start("shop_yearly")["errors"] == []  # nothing left half-open


def test_later_trial_start_and_invoice_zero(owner, billing, client, frozen_clock):
    frozen_clock(NOW)
    shop = owner("dealer")
    shop.start("dealer_yearly")
    sub = subscription_of(shop.vendor.pk)
    deliver(client, invoice_event("paid", sub, "in_trial_0", NOW, amount=0, period=(NOW, NOW + YEAR)))
    deliver(client, subscription_event("created", sub, "trialing", NOW, trial_end=NOW + YEAR))
    state = shop.subscription()["vendorSubscription"]
    assert state["status"] == "TRIALING" and state["entitlements"]["maxProducts"] == 5000
    from marketplace.plugins.ledger import account_total

    assert account_total("platform_subscription_revenue", vendor_id=shop.vendor.pk) == 0  # nothing to book


def test_the_example_operations_run_as_documented(owner, billing):
    from django.conf import settings

    operations = settings.BASE_DIR / "graphql" / "operations"
    shop = owner("repair_shop")
    started = shop.api.mutate((operations / "vendor_subscription_start.graphql").read_text(),
                              {"vendorId": shop.id, "plan": "shop_yearly"})
    assert started["errors"] == [] and started["subscription"]["status"] == "PENDING"
    page = shop.api.data((operations / "vendor_subscription.graphql").read_text(), {"vendorId": shop.id})
    assert [p["code"] for p in page["vendorPlans"]] == ["shop_yearly"]
    assert page["vendorSubscription"]["plan"] == {"code": "shop_yearly"} and page["vendorPlanAccess"] == "FULL"
