"""Partner codes: applied in the cart, held by an unpaid order, counted when paid, freed
when the order is cancelled; never more uses than the cap under parallel payments (M3);
field errors with codes for bad codes; the per-partner monthly report and its CSV."""
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from marketplace.plugins.testing import GraphQLClient, gid

from .conftest import (
    APPLY, REMOVE, complete, line_of, local, membership_line, my_membership, pay_stripe, product_line, ready,
    signed_in, start_cart, view,
)


def needs_postgresql():
    from tests.conftest import unavailable

    if connection.vendor != "postgresql":
        unavailable("needs PostgreSQL row locks (developer run on SQLite)", "CI must run this on PostgreSQL")


def buyers(make_user, count, prefix="learner"):
    from django.test import Client

    apis = []
    for index in range(count):
        user = make_user(f"{prefix}{index}@example.com")
        api = GraphQLClient(Client(REMOTE_ADDR=f"10.1.{index // 200}.{index % 200 + 1}"))  # sign-ins per address
        api.login(user.email)
        apis.append(api)
    return apis


def complete_and_pay(api, token):
    """What one buyer's storefront does: place the order with Stripe, then Stripe's webhook."""
    from django.test import Client

    placed = complete(api, token)
    if placed["errors"]:
        return placed["errors"][0]["field"], placed["errors"][0]["code"], None
    pay_stripe(Client(), placed)
    return "ok", placed["order"]["total"]["amount"], placed["order"]["number"]


def race(apis, tokens):
    barrier = threading.Barrier(len(tokens))
    outcomes = [None] * len(tokens)

    def run(index):
        try:
            barrier.wait()
            outcomes[index] = complete_and_pay(apis[index], tokens[index])
        except Exception as exc:  # reported, never swallowed: the assertion below shows it
            outcomes[index] = ("crash", repr(exc), None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tokens))]
    [t.start() for t in threads]
    [t.join(timeout=300) for t in threads]
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_m3_three_buyers_pay_concurrently_for_a_code_capped_at_two(worker, make_user, plan, make_code, stripe_mock):
    needs_postgresql()
    from plugins.membership.models import PartnerCode

    make_code("JIAXIAO-A", discount_percent="50", max_redemptions=2)
    apis = buyers(make_user, 3)
    tokens = []
    for api in apis:
        token = start_cart(api, [membership_line()])
        applied = api.mutate(APPLY, {"t": token, "c": "jiaxiao-a"})  # any case
        assert applied["errors"] == [] and applied["discount"] == {"amount": "84.00"}
        tokens.append(token)
    outcomes = race(apis, tokens)
    paid = [o for o in outcomes if o[0] == "ok"]
    refused = [o for o in outcomes if o[0] != "ok"]
    assert sorted(o[1] for o in paid) == ["84.00", "84.00"], outcomes
    assert refused == [("code", "INVALID", None)], outcomes
    code = PartnerCode.objects.get()
    assert (code.redeemed_count, code.held_count) == (2, 0)

    # The third buyer drops the code and pays the full fee.
    loser = apis[[i for i, o in enumerate(outcomes) if o[0] != "ok"][0]]
    token = tokens[[i for i, o in enumerate(outcomes) if o[0] != "ok"][0]]
    assert loser.mutate(REMOVE, {"t": token})["errors"] == []
    assert complete_and_pay(loser, token)[:2] == ("ok", "168.00")
    assert my_membership(loser)["status"] == "ACTIVE" and my_membership(loser)["partnerCode"] is None
    assert [my_membership(api)["partnerCode"] for api in apis].count("JIAXIAO-A") == 2


@pytest.mark.django_db(transaction=True)
def test_a_hundred_parallel_payments_redeem_a_code_capped_at_ten_at_most_ten_times(worker, make_user, plan, make_code,
                                                                                   stripe_mock):
    needs_postgresql()
    from marketplace.plugins.ledger import account_total, is_balanced
    from plugins.membership.models import CodeRedemption, Membership, PartnerCode

    make_code("JIAXIAO-100", discount_percent="50", max_redemptions=10)
    apis = buyers(make_user, 100)
    tokens = [start_cart(api, [membership_line(code="JIAXIAO-100")]) for api in apis]
    outcomes = race(apis, tokens)
    paid = [o for o in outcomes if o[0] == "ok"]
    assert len(paid) == 10 and {o[1] for o in paid} == {"84.00"}, outcomes
    assert {o for o in outcomes if o[0] != "ok"} == {("code", "INVALID", None)}, outcomes
    code = PartnerCode.objects.get()
    assert (code.redeemed_count, code.held_count) == (10, 0)
    assert CodeRedemption.objects.filter(status="redeemed").count() == 10
    assert Membership.objects.filter(status="active", partner_code=code).count() == 10
    assert Membership.objects.filter(status="pending").count() == 0  # refused completions wrote nothing
    assert account_total("platform_membership_revenue") == Decimal("840.00") and is_balanced()


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_order_frees_the_use(client, make_user, plan, make_code, stripe_mock):
    from marketplace.plugins.orders import cancel_order
    from graphql_relay import from_global_id
    from plugins.membership.models import PartnerCode

    make_code("SOLO", discount_amount="68.00", max_redemptions=1)
    first, second = buyers(make_user, 2)
    token = start_cart(first, [membership_line(code="SOLO")])
    placed = complete(first, token)
    assert placed["errors"] == [] and placed["order"]["total"] == {"amount": "100.00"}
    assert PartnerCode.objects.values_list("held_count", "redeemed_count").get() == (1, 0)

    other = start_cart(second, [membership_line()])
    full = second.mutate(APPLY, {"t": other, "c": "SOLO"})
    assert [(e["field"], e["code"]) for e in full["errors"]] == [("code", "INVALID")]
    assert "limit of 1" in full["errors"][0]["message"]

    cancel_order(int(from_global_id(placed["order"]["id"])[1]), "changed my mind")
    assert PartnerCode.objects.values_list("held_count", "redeemed_count").get() == (0, 0)
    assert second.mutate(APPLY, {"t": other, "c": "SOLO"})["errors"] == []
    assert complete_and_pay(second, other)[:2] == ("ok", "100.00")
    assert PartnerCode.objects.values_list("held_count", "redeemed_count").get() == (0, 1)


@pytest.mark.django_db(transaction=True)
def test_bad_codes_get_field_errors_and_change_nothing(client, member, make_user, plan, make_code, frozen_clock,
                                                       stripe_mock):
    from plugins.membership.models import CodeRedemption

    frozen_clock(local(2026, 6, 1, 12, 0))
    make_code("OLD", valid_from=local(2025, 1, 1), valid_until=local(2026, 1, 1))
    make_code("LATER", valid_from=local(2026, 9, 1))
    make_code("ONCE")
    make_code("OFF", is_active=False)
    api = signed_in(client, member)
    token = start_cart(api, [membership_line()])

    def refused(code):
        payload = api.mutate(APPLY, {"t": token, "c": code})
        return [(e["field"], e["code"]) for e in payload["errors"]], payload["errors"][0]["message"]

    assert refused("NOPE") == ([("code", "NOT_FOUND")], "No partner code NOPE.")
    assert refused("OLD")[0] == [("code", "INVALID")] and "expired" in refused("OLD")[1]
    assert refused("LATER")[0] == [("code", "INVALID")] and "valid from 2026-09-01" in refused("LATER")[1]
    assert refused("OFF")[0] == [("code", "INVALID")]
    assert refused("  ")[0] == [("code", "REQUIRED")]
    fee = line_of(view(api, token), "membership")
    assert fee["metadata"] == {} and fee["total"] == {"amount": "168.00"}  # nothing half-written

    # Used once (paid): a second use by the same member is refused, at apply and in the line.
    assert api.mutate(APPLY, {"t": token, "c": "once"})["errors"] == []
    assert complete_and_pay(api, token)[:2] == ("ok", "84.00")
    again = start_cart(api, [membership_line()])
    assert refused_on(api, again, "ONCE") == [("code", "INVALID")]
    add = api.mutate("""mutation($t: UUID!, $lines: [CheckoutLineInput!]!) { checkoutLinesAdd(token: $t, lines: $lines) {
      errors { field code } } }""", {"t": again, "lines": [membership_line(code="ONCE")]})
    assert add["errors"] == [{"field": "lines.0.code", "code": "INVALID"}]
    assert CodeRedemption.objects.count() == 1


def refused_on(api, token, code):
    return [(e["field"], e["code"]) for e in api.mutate(APPLY, {"t": token, "c": code})["errors"]]


@pytest.mark.django_db(transaction=True)
def test_a_code_that_expires_before_completion_is_refused_at_completion(client, member, plan, make_code,
                                                                        frozen_clock, stripe_mock):
    frozen_clock(local(2026, 6, 1, 23, 50))
    make_code("MIDNIGHT", valid_from=local(2026, 1, 1), valid_until=local(2026, 6, 2))
    api = signed_in(client, member)
    token = start_cart(api, [membership_line(code="MIDNIGHT")])
    assert view(api, token)["total"] == {"amount": "84.00"}
    frozen_clock(local(2026, 6, 2, 0, 1))
    assert view(api, token)["total"] == {"amount": "168.00"}  # the discount is gone from the price
    placed = complete(api, token)
    assert [(e["field"], e["code"]) for e in placed["errors"]] == [("code", "INVALID")]
    assert placed["order"] is None and my_membership(api) is None


@pytest.mark.django_db(transaction=True)
def test_first_term_only_codes_and_codes_for_renewals(client, member, plan, make_code, stripe_mock):
    from plugins.membership.services import memberships

    make_code("NEWBIE")
    make_code("LOYAL", discount_amount="20.00", first_term_only=False)
    memberships.grant(member.pk, "annual", "a former member")
    api = signed_in(client, member)
    token = start_cart(api, [membership_line()])
    newbie = api.mutate(APPLY, {"t": token, "c": "newbie"})
    assert [(e["field"], e["code"]) for e in newbie["errors"]] == [("code", "INVALID")]
    assert "first membership" in newbie["errors"][0]["message"]
    assert api.mutate(APPLY, {"t": token, "c": "loyal"})["discount"] == {"amount": "20.00"}
    assert view(api, token)["total"] == {"amount": "148.00"}


@pytest.mark.django_db(transaction=True)
def test_apply_adds_the_default_plan_and_the_code_rides_along_with_parts(client, member, plan, shop, make_code,
                                                                        stripe_mock):
    make_code("DFSS", discount_percent="50")
    api = signed_in(client, member)
    token = start_cart(api, [product_line(shop.pads)])
    applied = api.mutate(APPLY, {"t": token, "c": "dfss"})
    assert applied["errors"] == [] and applied["discount"] == {"amount": "84.00"}
    cart = view(api, token)
    fee = line_of(cart, "membership")
    assert fee["total"] == {"amount": "84.00"}
    assert fee["unitPrice"]["adjustments"] == [{"source": "membership", "label": "东方时尚驾校 优惠码 Partner code DFSS",
                                                "amount": {"amount": "-84.00"}}]
    assert line_of(cart)["unitPrice"]["final"] == {"amount": "190.00"}
    assert cart["total"] is None  # shipping not chosen yet
    ok, total, _ = complete_and_pay(api, ready(api, token, shop))
    assert (ok, total) == ("ok", "284.00")  # 190 + 84 + 10


@pytest.mark.django_db(transaction=True)
def test_partner_report_counts_paid_uses_by_month_with_csv(client, make_user, plan, partner, make_code, staff_gql,
                                                            frozen_clock, stripe_mock):
    from plugins.membership.services import refunds, setup
    from plugins.membership.models import Membership

    other = setup.save_partner({"name_zh": "海淀驾校"})
    make_code("EAST", discount_percent="50")
    setup.save_code({"code": "WEST", "discount_amount": "30.00", "valid_from": local(2020, 1, 1)},
                    partner_id=other.pk)
    apis = buyers(make_user, 4)
    frozen_clock(local(2026, 3, 31, 23, 30))  # March in Beijing (still March 31 15:30 UTC)
    for api, code in zip(apis[:2], ("EAST", "WEST")):
        assert complete_and_pay(api, start_cart(api, [membership_line(code=code)]))[0] == "ok"
    unpaid = start_cart(apis[2], [membership_line(code="EAST")])
    assert complete(apis[2], unpaid)["errors"] == []  # held, never paid: not a redemption
    frozen_clock(local(2026, 4, 1, 0, 30))  # April in Beijing, still March 31 in UTC
    assert complete_and_pay(apis[3], start_cart(apis[3], [membership_line(code="EAST")]))[0] == "ok"
    refunds.refund(Membership.objects.get(partner_code__code="WEST").pk, "moved away")

    report = """query($m: String!, $p: ID) { partnerReport(month: $m, partnerId: $p) { month csv
      rows { partner { nameZh } redemptions listAmount { amount } discount { amount } paidAmount { amount }
             refunds refundedAmount { amount } } } }"""
    march = staff_gql.data(report, {"m": "2026-03"})["partnerReport"]
    assert march["rows"] == [
        {"partner": {"nameZh": "东方时尚驾校"}, "redemptions": 1, "listAmount": {"amount": "168.00"},
         "discount": {"amount": "84.00"}, "paidAmount": {"amount": "84.00"}, "refunds": 0,
         "refundedAmount": {"amount": "0.00"}},
        {"partner": {"nameZh": "海淀驾校"}, "redemptions": 1, "listAmount": {"amount": "168.00"},
         "discount": {"amount": "30.00"}, "paidAmount": {"amount": "138.00"}, "refunds": 0,
         "refundedAmount": {"amount": "0.00"}}]
    april = staff_gql.data(report, {"m": "2026-04"})["partnerReport"]
    assert [(r["redemptions"], r["refunds"], r["refundedAmount"]["amount"]) for r in april["rows"]] == [
        (1, 0, "0.00"), (0, 1, "138.00")]
    assert april["csv"].splitlines() == [
        "month,partner_id,partner,redemptions,list_amount,discount,paid_amount,refunds,refunded_amount",
        f"2026-04,{partner.pk},东方时尚驾校,1,168.00,84.00,84.00,0,0.00",
        f"2026-04,{other.pk},海淀驾校,0,0.00,0.00,0.00,1,138.00"]
    one = staff_gql.data(report, {"m": "2026-04", "p": gid("MembershipPartner", other.pk)})["partnerReport"]
    assert len(one["rows"]) == 1
    bad = staff_gql.execute(report, {"m": "2026-13"})
    assert bad["errors"][0]["extensions"]["code"] == "INVALID" and bad["errors"][0]["extensions"]["field"] == "month"
    member_api = apis[0]
    denied = member_api.execute(report, {"m": "2026-03"})
    assert denied["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


@pytest.mark.django_db(transaction=True)
def test_a_free_membership_by_code_is_paid_at_completion_without_a_gateway(client, member, plan, make_code):
    from plugins.membership.models import PartnerCode

    make_code("FREE-YEAR", discount_percent="100", max_redemptions=1)
    api = signed_in(client, member)
    placed = complete(api, start_cart(api, [membership_line(code="FREE-YEAR")]), gateway=None)
    assert placed["errors"] == [] and placed["payment"] is None
    assert placed["order"]["status"] == "PAID" and placed["order"]["total"] == {"amount": "0.00"}
    assert my_membership(api)["status"] == "ACTIVE"
    assert PartnerCode.objects.values_list("held_count", "redeemed_count").get() == (0, 1)
