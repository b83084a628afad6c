"""Commerce and payment fault kinds found by attacking the API (issue 15, items 10-13, 15,
18-20), each a regression test through the API, plus the rule it stands for."""
import json
import time
from decimal import Decimal

import pytest

from marketplace.catalog.models import Stock
from marketplace.orders import ledger
from marketplace.orders.models import Order
from marketplace.payments.models import GatewayEvent, Payment
from tests.conftest import STRIPE_WEBHOOK_SECRET, GraphQLClient, gid, post_stripe_event, signed_post, stripe_event
from tests.test_checkout import ADDRESS, COMPLETE, CREATE, SHIP, fill_cart, shop  # noqa: F401 (fixture)


def place_with_stripe(client, member, shop):  # noqa: F811
    api = GraphQLClient(client)
    api.login(member.email)
    placed = api.mutate(COMPLETE, {"t": fill_cart(api, shop), "g": "stripe"})
    assert placed["errors"] == []
    return placed, Payment.objects.get()


# -- 10. the signature tolerance holds in both directions of time ---------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_signed_event_from_the_future_is_refused(client, member, shop, stripe_mock):  # noqa: F811
    _placed, payment = place_with_stripe(client, member, shop)
    event = stripe_event("payment_intent.succeeded", payment.reference, 69200)
    for skew in (3600, 301):
        answer = signed_post(client, event, timestamp=time.time() + skew)
        assert answer.status_code == 400 and "future" in answer.json()["error"]
    old = signed_post(client, event, timestamp=time.time() - 301)
    assert old.status_code == 400
    assert Order.objects.get().status == "unpaid" and not GatewayEvent.objects.exists()
    assert signed_post(client, event, timestamp=time.time() + 30).status_code == 200  # within the tolerance
    assert Order.objects.get().status == "paid"


# -- 11. currency and amount are checked against the payment ---------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_capture_in_another_currency_never_pays_an_order(client, member, shop, stripe_mock):  # noqa: F811
    _placed, payment = place_with_stripe(client, member, shop)
    answer = signed_post(client, stripe_event("payment_intent.succeeded", payment.reference, 69200, currency="usd"))
    assert answer.status_code == 200 and "currency mismatch" in answer.json()["results"][0]
    payment.refresh_from_db()
    assert payment.status == "pending" and Order.objects.get().status == "unpaid"
    short = signed_post(client, stripe_event("payment_intent.succeeded", payment.reference, 100))
    assert short.status_code == 200 and Order.objects.get().status == "unpaid"  # too little: staff reconcile
    assert ledger.is_balanced() and not ledger.account_total("customer_payments")


# -- 12. signed but malformed events are a 400, never a 500 -----------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("body", [
    "[]", "{}", "null", '"text"', "42", '{"id": 5, "type": "payment_intent.succeeded", "data": {"object": {}}}',
    '{"id": "evt_1", "type": ["x"], "data": {"object": {}}}',
    '{"id": "evt_1", "type": "payment_intent.succeeded"}',
    '{"id": "evt_1", "type": "payment_intent.succeeded", "data": []}',
    '{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": "pi_1"}}',
    '{"id": "evt_1", "type": "payment_intent.succeeded", "created": "yesterday", "data": {"object": {"id": "pi"}}}',
    '{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi", "amount_received": "lots"}}}',
    '{"id": "evt_1", "type": "charge.refund.updated", "data": {"object": {"status": "succeeded"}}}',
    "[" * 10000 + "]" * 10000,
    '{"id": "evt_\\ud800", "type": "x", "data": {"object": {}}}',
])
def test_signed_malformed_events_are_refused_with_400(client, stripe_mock, body):
    answer = post_stripe_event(client, body, STRIPE_WEBHOOK_SECRET)
    assert answer.status_code in (400, 200) and answer["Content-Type"] == "application/json"
    if answer.status_code == 200:  # well-formed enough to record: it must change nothing
        assert not Payment.objects.exists()
    else:
        assert not GatewayEvent.objects.exists()


@pytest.mark.django_db
def test_unsigned_and_wrongly_signed_events_change_nothing(client, stripe_mock):
    event = json.dumps({"id": "evt_x", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi"}}})
    assert client.post("/webhooks/payments/stripe/", event, content_type="application/json").status_code == 400
    assert post_stripe_event(client, event, "whsec_wrong").status_code == 400
    assert not GatewayEvent.objects.exists()


# -- 13. ledger reversals sum exactly; money is two decimals in the API -------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_partial_refunds_reverse_exactly_what_was_booked(client, member, staff, make_vendor, make_product):
    from marketplace.checkout.models import ShippingMethod
    from marketplace.vendors import services as vendors

    vendor = make_vendor("drift-parts")
    vendors.set_commission_rate(vendor.pk, Decimal("0.05"))
    variant = make_product(vendor, "drift-pads", price="90.00").variants.get()
    method = ShippingMethod.objects.create(vendor=vendor, name_zh="快递", price=Decimal("10.00"))
    api = GraphQLClient(client)
    api.login(member.email)
    token = api.mutate(CREATE, {"lines": [{"variantId": gid("ProductVariant", variant.pk), "quantity": 1}]})["checkout"]["token"]
    api.mutate(ADDRESS, {"t": token})
    api.mutate(SHIP, {"t": token, "v": gid("Vendor", vendor.pk), "m": gid("ShippingMethod", method.pk)})
    placed = api.mutate(COMPLETE, {"t": token, "g": "dev"})
    api.mutate('mutation($s: String!) { devPaymentConfirm(clientSecret: $s) { status } }',
               {"s": placed["payment"]["clientSecret"]})
    staff_api = GraphQLClient(client)
    staff_api.login(staff.email)
    refund = """mutation($o: ID!, $vo: ID!, $a: Decimal!) { orderRefund(orderId: $o, vendorOrderId: $vo, amount: $a) {
        errors { field code message } } }"""
    for amount in ("1.00", "1.00", "1.00", "97.00"):
        assert staff_api.mutate(refund, {"o": placed["order"]["id"], "vo": placed["order"]["vendorOrders"][0]["id"],
                                         "a": amount})["errors"] == []
    assert ledger.balance(vendor.pk) == Decimal("0.00")
    assert ledger.balance(vendor.pk, "platform_revenue") == Decimal("0.00")
    assert ledger.is_balanced() and ledger.account_total("customer_payments") == 0
    owner = GraphQLClient(client)
    owner.login(vendor.owner.email)
    seen = owner.data('query($v: ID!) { vendorLedger(vendorId: $v) { balance { amount } commissionPaid { amount } } }',
                      {"v": gid("Vendor", vendor.pk)})["vendorLedger"]
    assert seen == {"balance": {"amount": "0.00"}, "commissionPaid": {"amount": "0.00"}}


# -- 15. merging carts at sign-in makes the checks adding makes ----------------------------------------------------
@pytest.mark.django_db
def test_cart_merge_clamps_to_stock_and_leaves_out_what_is_not_for_sale(client, member, make_vendor, make_product):
    from marketplace.catalog import services as catalog

    vendor = make_vendor("merge-parts")
    x = make_product(vendor, "merge-x", stock=3).variants.get()
    later_draft = make_product(vendor, "merge-draft", stock=5)
    visitor = GraphQLClient(client)
    guest_token = visitor.mutate(CREATE, {"lines": [{"variantId": gid("ProductVariant", x.pk), "quantity": 2},
                                                    {"variantId": gid("ProductVariant", later_draft.variants.get().pk),
                                                     "quantity": 1}]})["checkout"]["token"]
    catalog.save_product(vendor, {"status": "draft"}, later_draft)
    visitor.login(member.email)
    mine = visitor.mutate(CREATE, {"lines": [{"variantId": gid("ProductVariant", x.pk), "quantity": 3}]})["checkout"]["token"]
    merged = visitor.mutate("""mutation($t: UUID!) { checkoutAttach(token: $t) {
        checkout { token lines { sku quantity } } problems { field code message } errors { code } } }""", {"t": guest_token})
    assert merged["errors"] == [] and merged["checkout"]["token"] == mine
    assert merged["checkout"]["lines"] == [{"sku": "merge-x-1", "quantity": 3}]
    assert [(p["field"], p["code"]) for p in merged["problems"]] == [
        ("lines.0.quantity", "OUT_OF_STOCK"), ("lines.1.variantId", "NOT_FOUND")]


# -- 18. completion re-validates every choice the cart holds -------------------------------------------------------
@pytest.mark.django_db
def test_a_shipping_method_deactivated_after_it_was_chosen_is_not_used(gql, shop):  # noqa: F811
    a, b, pads, oil, flat_a, flat_b = shop
    token = fill_cart(gql, shop)
    gql.mutate('mutation($t: UUID!) { checkoutEmailUpdate(token: $t, email: "x@example.com") { errors { code } } }',
               {"t": token})
    flat_a.is_active = False
    flat_a.save()
    refused = gql.mutate(COMPLETE, {"t": token})
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("shippingMethod", "INVALID_STATE")]
    assert "ships nothing yet" in refused["errors"][0]["message"]
    assert not Order.objects.exists() and Stock.objects.filter(reserved__gt=0).count() == 0


# -- 19. errors about one item of a list say which ----------------------------------------------------------------
@pytest.mark.django_db
def test_stock_errors_name_the_line(gql, make_vendor, make_product):
    vendor = make_vendor("lines-parts")
    a, b, c = (make_product(vendor, f"line-{n}", stock=stock).variants.get() for n, stock in (("a", 5), ("b", 2), ("c", 5)))
    refused = gql.mutate(CREATE, {"lines": [{"variantId": gid("ProductVariant", a.pk), "quantity": 1},
                                            {"variantId": gid("ProductVariant", b.pk), "quantity": 3},
                                            {"variantId": gid("ProductVariant", c.pk), "quantity": 1}]})
    assert refused["errors"] == [{"field": "lines.1.quantity", "code": "OUT_OF_STOCK",
                                  "message": "line-b-1: only 2 left in stock."}]
    bad_id = gql.mutate(CREATE, {"lines": [{"variantId": gid("ProductVariant", a.pk), "quantity": 1},
                                           {"variantId": "not-an-id", "quantity": 1}]})
    assert [(e["field"], e["code"]) for e in bad_id["errors"]] == [("lines.1.variantId", "INVALID")]
    from marketplace.checkout.models import Checkout

    assert not Checkout.objects.filter(lines__isnull=False).exists()  # all or nothing


# -- 20. a price change between the buyer's last look and completion is not charged silently ---------------------
@pytest.mark.django_db
def test_completion_refuses_a_total_the_buyer_did_not_see(gql, shop):  # noqa: F811
    from marketplace.catalog import services as catalog

    a, b, pads, oil, flat_a, flat_b = shop
    token = fill_cart(gql, shop)
    gql.mutate('mutation($t: UUID!) { checkoutEmailUpdate(token: $t, email: "x@example.com") { errors { code } } }',
               {"t": token})
    seen = gql.data('query($t: UUID!) { checkout(token: $t) { total { amount } } }', {"t": token})["checkout"]["total"]
    catalog.save_variant(pads.product, {"sale_price": "190.00"}, pads)  # the vendor raises the price
    complete = """mutation($t: UUID!, $e: Decimal) { checkoutComplete(token: $t, expectedTotal: $e) {
        order { total { amount } } errors { field code message } } }"""
    refused = gql.mutate(complete, {"t": token, "e": seen["amount"]})
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("expectedTotal", "PRICE_CHANGED")]
    assert "712.00" in refused["errors"][0]["message"] and not Order.objects.exists()
    placed = gql.mutate(complete, {"t": token, "e": "712.00"})
    assert placed["errors"] == [] and placed["order"]["total"] == {"amount": "712.00"}
