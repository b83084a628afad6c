"""Buying a membership through the normal checkout (M1, M2, M5 of the spec), activation by
the gateway's signed webhook, and the term rules."""
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from .conftest import (
    MY, complete, line_of, local, membership_line, my_membership, pay_stripe, product_line, ready,
    signed_in, start_cart, view,
)

ADD_LINES = """mutation($t: UUID!, $lines: [CheckoutLineInput!]!) { checkoutLinesAdd(token: $t, lines: $lines) {
  errors { field code message } } }"""


@pytest.mark.django_db(transaction=True)
def test_m1_joining_in_the_cart_prices_the_rest_as_member_and_payment_activates(worker, 
        client, member, plan, shop, stripe_mock, frozen_clock):
    frozen_clock(local(2026, 3, 15, 10, 30))
    api = signed_in(client, member)
    token = start_cart(api, [product_line(shop.pads)])
    pads = line_of(view(api, token))
    assert pads["unitPrice"]["final"] == {"amount": "200.00"} and pads["unitPrice"]["adjustments"] == []

    assert api.mutate(ADD_LINES, {"t": token, "lines": [membership_line()]})["errors"] == []
    cart = view(api, token)
    pads, fee = line_of(cart), line_of(cart, "membership")
    assert pads["unitPrice"]["final"] == {"amount": "190.00"}
    assert pads["unitPrice"]["adjustments"] == [
        {"source": "membership", "label": "会员价 Member price", "amount": {"amount": "-10.00"}}]
    assert (fee["reference"], fee["sku"], fee["total"]) == ("annual", "MEMBERSHIP-ANNUAL", {"amount": "168.00"})
    assert my_membership(api) is None

    placed = complete(api, ready(api, token, shop))
    assert placed["errors"] == []
    order = placed["order"]
    assert order["status"] == "UNPAID" and order["total"] == {"amount": "368.00"}  # 190 + 168 + 10 shipping
    platform = next(vo for vo in order["vendorOrders"] if vo["vendor"] is None)
    assert [(l["kind"], l["total"]) for l in platform["lines"]] == [("membership", {"amount": "168.00"})]
    pending = my_membership(api)
    assert pending["status"] == "PENDING" and pending["endsAt"] is None

    frozen_clock.travel(timedelta(seconds=40))
    assert pay_stripe(client, placed)["results"][0].endswith("-> captured")
    mine = my_membership(api)
    assert mine["status"] == "ACTIVE"
    assert mine["startsAt"] == "2026-03-15T02:30:40+00:00"
    assert mine["endsAt"] == "2027-03-15T15:59:59+00:00"  # 2027-03-15 23:59:59 Asia/Shanghai
    assert mine["pricePaid"] == {"amount": "168.00"}
    assert mine["savingsThisTerm"] == {"amount": "10.00"}  # the pads in the same order
    assert mine["benefits"] == {"partsDiscountPercent": "5.00", "labourDiscountPercent": "20.00",
                                "freeTowingPerTerm": 2, "freeTowingKm": 30, "freeTowingUsed": 0, "freeTowingLeft": 2}
    # The ledger books the fee as platform membership revenue.
    from marketplace.plugins.ledger import account_total, is_balanced

    assert account_total("platform_membership_revenue") == Decimal("168.00") and is_balanced()
    # The next cart is priced as a member without a membership line.
    again = start_cart(api, [product_line(shop.oil)])
    oil = line_of(view(api, again))
    assert oil["unitPrice"]["final"] == {"amount": "71.25"}  # 100 -> sale 75 -> member 5%


@pytest.mark.django_db(transaction=True)
def test_an_unpaid_order_makes_no_member(client, member, plan, shop, frozen_clock, settings, stripe_mock):
    frozen_clock(local(2026, 3, 15, 10, 30))
    api = signed_in(client, member)
    token = ready(api, start_cart(api, [product_line(shop.pads), membership_line()]), shop)
    placed = complete(api, token, gateway="stripe")
    assert placed["errors"] == []
    assert my_membership(api)["status"] == "PENDING"
    frozen_clock.travel(timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES + 1))
    from marketplace.plugins.orders import cancel_order  # as the expiry sweep does

    cancel_order(int(__import__("graphql_relay").from_global_id(placed["order"]["id"])[1]), "expired")
    assert my_membership(api) is None  # the void row is not shown
    # No member price without a paid membership.
    pads = line_of(view(api, start_cart(api, [product_line(shop.pads)])))
    assert pads["unitPrice"]["final"] == {"amount": "200.00"}


@pytest.mark.django_db(transaction=True)
def test_m2_renewal_is_scheduled_from_the_old_end_and_covers_24_months(worker, client, member, plan, frozen_clock,
                                                                      stripe_mock):
    frozen_clock(local(2026, 2, 28, 9, 0))
    api = signed_in(client, member)
    first = complete(api, start_cart(api, [membership_line()]), gateway="stripe")
    pay_stripe(client, first)
    ends = my_membership(api)["endsAt"]
    assert ends == "2027-02-28T15:59:59+00:00"

    frozen_clock(local(2027, 1, 29, 20, 0))  # 30 days before the end
    second = complete(api, start_cart(api, [membership_line()]), gateway="stripe")
    assert second["order"]["total"] == {"amount": "168.00"}  # no proration credit
    pay_stripe(client, second)
    mine = my_membership(api)
    assert mine["status"] == "ACTIVE" and mine["endsAt"] == ends  # never shortened
    renewal = mine["renewal"]
    assert renewal["status"] == "SCHEDULED" and renewal["startsAt"] == ends
    assert renewal["endsAt"] == "2028-02-28T15:59:59+00:00"  # 24 months to the day from 2026-02-28

    # When the first period ends, the renewal runs (the sweep only catches up the stored status).
    frozen_clock(local(2027, 3, 1, 0, 0, 1))
    mine = my_membership(api)
    assert mine["id"] == renewal["id"] and mine["status"] == "ACTIVE"
    from plugins.membership.services import memberships

    assert memberships.sweep() == {"expired": 1, "started": 1, "activated": 0, "voided": 0}


@pytest.mark.django_db(transaction=True)
def test_renewal_after_expiry_starts_at_payment_and_leap_day_ends_on_the_28th(client, member, plan, frozen_clock,
                                                                               stripe_mock):
    frozen_clock(local(2028, 2, 29, 12, 0))
    api = signed_in(client, member)
    pay_stripe(client, complete(api, start_cart(api, [membership_line()]), gateway="stripe"))
    assert my_membership(api)["endsAt"] == "2029-02-28T15:59:59+00:00"
    frozen_clock(local(2029, 6, 1, 8, 0))
    assert my_membership(api)["status"] == "EXPIRED"
    pay_stripe(client, complete(api, start_cart(api, [membership_line()]), gateway="stripe"))
    mine = my_membership(api)
    assert mine["status"] == "ACTIVE" and mine["startsAt"] == "2029-06-01T00:00:00+00:00"
    assert mine["endsAt"] == "2030-06-01T15:59:59+00:00" and mine["renewal"] is None


@pytest.mark.django_db(transaction=True)
def test_m5_a_cart_priced_as_member_is_repriced_when_completed_after_the_end(worker, client, member, plan, shop,
                                                                            frozen_clock, stripe_mock):
    from plugins.membership.services import memberships

    frozen_clock(local(2026, 3, 15, 10, 0))
    memberships.grant(member.pk, "annual", "test")  # ends 2027-03-15 23:59:59 local
    api = signed_in(client, member)
    frozen_clock(local(2027, 3, 15, 23, 59, 50))
    token = ready(api, start_cart(api, [product_line(shop.pads)]), shop)
    cart = view(api, token)
    assert line_of(cart)["unitPrice"]["final"] == {"amount": "190.00"} and cart["total"] == {"amount": "200.00"}

    frozen_clock(local(2027, 3, 16, 0, 0, 5))
    stale = complete(api, token, gateway="stripe", expected="200.00")
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [("expectedTotal", "PRICE_CHANGED")]
    placed = complete(api, token, gateway="stripe")
    assert placed["errors"] == []
    line = placed["order"]["vendorOrders"][0]["lines"][0]
    assert line["unitPrice"] == {"amount": "200.00"}
    assert json.loads(line["priceExplanation"])["adjustments"] == []
    assert placed["order"]["total"] == {"amount": "210.00"}


@pytest.mark.django_db
def test_membership_lines_are_for_signed_in_buyers_one_per_order(gql, client, member, plan):
    anonymous = gql.mutate("""mutation($lines: [CheckoutLineInput!]) { checkoutCreate(lines: $lines) {
      errors { field code } } }""", {"lines": [membership_line()]})
    assert anonymous["errors"] == [{"field": "lines.0.reference", "code": "NOT_AUTHENTICATED"}]
    api = signed_in(client, member)
    token = start_cart(api, [membership_line()])
    two = api.mutate(ADD_LINES, {"t": token, "lines": [{"kind": "membership", "reference": "annual", "quantity": 2}]})
    assert [(e["field"], e["code"]) for e in two["errors"]] == [("lines.0.quantity", "INVALID")]
    unknown = api.mutate(ADD_LINES, {"t": token, "lines": [membership_line("gold")]})
    assert [(e["field"], e["code"]) for e in unknown["errors"]] == [("lines.0.reference", "NOT_FOUND")]
    odd = api.mutate(ADD_LINES, {"t": token, "lines": [{**membership_line(), "metadata": {"colour": "red"}}]})
    assert [(e["field"], e["code"]) for e in odd["errors"]] == [("lines.0.metadata", "INVALID")]


@pytest.mark.django_db
def test_a_plan_taken_off_sale_cannot_be_bought(client, member, plan, staff_gql, stripe_mock):
    from marketplace.plugins.testing import gid

    api = signed_in(client, member)
    token = start_cart(api, [membership_line()])
    off = staff_gql.mutate("""mutation($id: ID!) { membershipPlanUpdate(id: $id, input: {isActive: false}) {
      plan { isActive } errors { field code } } }""", {"id": gid("MembershipPlan", plan.pk)})
    assert off == {"plan": {"isActive": False}, "errors": []}
    refused = complete(api, token, gateway="stripe")
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("lines.0", "INVALID_STATE")]
    again = api.mutate(ADD_LINES, {"t": token, "lines": [membership_line()]})
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("lines.0.reference", "INVALID_STATE")]
    assert api.data("{ membershipPlans { code } }")["membershipPlans"] == []
    assert my_membership(api) is None
    assert MY  # the query used above


@pytest.mark.django_db(transaction=True)
def test_two_memberships_paid_at_once_stack_never_overlap(client, member, plan, frozen_clock, stripe_mock):
    import threading

    from django.db import connections

    from tests.conftest import signed_post, stripe_event

    frozen_clock(local(2026, 5, 1, 9, 0))
    api = signed_in(client, member)
    first = complete(api, start_cart(api, [membership_line()]))
    second = complete(api, start_cart(api, [membership_line()]))
    barrier = threading.Barrier(2)

    def deliver(placed):
        from django.test import Client

        try:
            barrier.wait()
            signed_post(Client(), stripe_event("payment_intent.succeeded", placed["payment"]["reference"], 16800))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(placed,)) for placed in (first, second)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    periods = api.data("{ myMemberships { status startsAt endsAt } }")["myMemberships"]
    assert sorted(p["status"] for p in periods) == ["ACTIVE", "SCHEDULED"]
    active = next(p for p in periods if p["status"] == "ACTIVE")
    scheduled = next(p for p in periods if p["status"] == "SCHEDULED")
    assert scheduled["startsAt"] == active["endsAt"] == "2027-05-01T15:59:59+00:00"
    assert scheduled["endsAt"] == "2028-05-01T15:59:59+00:00"


@pytest.mark.django_db(transaction=True)
def test_a_deleted_account_ends_the_membership_and_keeps_the_records(client, member, plan, frozen_clock,
                                                                    stripe_mock):
    from marketplace.plugins import call_hook
    from marketplace.plugins.ledger import account_total
    from plugins.membership.models import Membership

    frozen_clock(local(2026, 5, 1, 9, 0))
    api = signed_in(client, member)
    pay_stripe(client, complete(api, start_cart(api, [membership_line()])))
    user_id = member.pk
    member.delete()
    kept = Membership.objects.get()
    assert kept.user_id is None and kept.price_paid == Decimal("168.00")  # reports and the ledger keep it
    assert call_hook("is_member", user_id=user_id, at=None) is False
    assert account_total("platform_membership_revenue") == Decimal("168.00")  # nothing refunded automatically


@pytest.mark.django_db(transaction=True)
def test_a_payment_while_the_plugin_was_off_is_caught_up_by_the_sweep(client, member, plan, staff_gql, frozen_clock,
                                                                     stripe_mock):
    from plugins.membership.services import memberships

    frozen_clock(local(2026, 5, 1, 9, 0))
    api = signed_in(client, member)
    placed = complete(api, start_cart(api, [membership_line()]))
    switch = 'mutation($a: Boolean!) { pluginUpdate(name: "membership", input: {active: $a}) { errors { code } } }'
    assert staff_gql.mutate(switch, {"a": False})["errors"] == []
    pay_stripe(client, placed)  # the order is paid; the plugin's hooks did not run
    assert staff_gql.mutate(switch, {"a": True})["errors"] == []
    assert my_membership(api)["status"] == "PENDING"
    frozen_clock.travel(timedelta(minutes=10))
    assert memberships.sweep()["activated"] == 1
    mine = my_membership(api)
    assert mine["status"] == "ACTIVE" and mine["startsAt"] == "2026-05-01T01:00:00+00:00"  # from the payment
