"""Redeeming points and cashback as an order tender (V5, V6), refunds returning them
exactly, expiry and FIFO lots, 20 concurrent redemptions, and bad input."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections

from marketplace.plugins.testing import GraphQLClient

from .conftest import (
    ADJUST, COMPLETE, CREATE, REDEEM, VIEW, account, assert_ledger_consistent, at, buy, cart, complete_order,
    needs_postgresql, pay, place, refund, run_task, signed_in,
)


def credit(store, user, points=0, cashback="0", key="setup"):
    from plugins.vip_tiers.services import balances

    if points:
        balances.adjust(store.pk, user.pk, "points", points, "test credit", key=f"{key}:p")
    if Decimal(cashback):
        balances.adjust(store.pk, user.pk, "cashback", Decimal(cashback), "test credit", key=f"{key}:c")


@pytest.fixture
def store(make_store):
    return make_store("store-a").enable(cashback_enabled=True, cashback_percent="5")


@pytest.mark.django_db(transaction=True)
def test_v5_ten_thousand_points_on_a_150_item_use_4500_because_of_the_floor(worker, store, member):
    from marketplace.checkout.models import ShippingMethod

    ShippingMethod.objects.filter(pk=store.method.pk).update(price=Decimal("12.00"))
    credit(store, member, points=10000)
    buyer = signed_in(None, member)
    token = cart(buyer, [(store, store.item_150, 1)])
    redeemed = buyer.mutate(REDEEM, {"t": token, "v": store.gid, "p": 10000})
    # The 50 % cap would allow 75.00; the 70 % floor (105.00) leaves 45.00: 4 500 points, no error.
    assert redeemed["errors"] == []
    assert (redeemed["pointsAsked"], redeemed["pointsUsed"], redeemed["pointsValue"]) == (10000, 4500,
                                                                                          {"amount": "45.00"})
    view = buyer.data(VIEW, {"t": token})["checkout"]
    assert view["adjustments"] == [{"source": f"vip_points:{store.pk}", "kind": "tender",
                                    "requested": {"amount": "75.00"}, "applied": {"amount": "45.00"}}]
    assert (view["total"], view["tendered"], view["amountDue"]) == ({"amount": "162.00"}, {"amount": "45.00"},
                                                                   {"amount": "117.00"})
    placed = place(buyer, token, expected="162.00")
    assert placed["payment"]["amount"] == {"amount": "117.00"}  # 105.00 + 12.00 shipping
    assert placed["order"]["tenderedTotal"] == {"amount": "45.00"}
    explanation = placed["order"]["vendorOrders"][0]["lines"][0]["priceExplanation"]
    assert '"source": "vip_points:' in explanation and '"amount": "45.00"' in explanation
    mine = account(buyer, store)
    assert mine["points"]["available"] == 5500  # claimed at completion, before payment
    assert mine["history"]["edges"][0]["node"]["kind"] == "redeem"
    assert mine["history"]["edges"][0]["node"]["amount"] == "-4500.00"
    pay(buyer, placed)
    mine = account(buyer, store)
    assert (mine["points"]["available"], mine["points"]["pending"]) == (5500, 105)  # earned on 150 - 45
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_a_full_refund_returns_the_balance_to_where_it_was(worker, store, member, frozen_clock):
    from marketplace.plugins.ledger import account_total

    frozen_clock(at(2026, 6, 1, 4, 0))
    credit(store, member, points=3000, cashback="20.00")
    buyer = signed_in(None, member)
    before = account(buyer, store)
    liability = account_total("customer_credit_liability", vendor_id=store.pk)
    placed = buy(buyer, [(store, store.item_200, 1), (store, store.item_359, 1)],
                 redeem={store: (2999, "17.77")})
    during = account(buyer, store)
    assert during["points"]["available"] == 1 and during["cashback"]["available"] == {"amount": "2.23"}
    assert during["points"]["pending"] > 0 and Decimal(during["cashback"]["pending"]["amount"]) > 0
    # Three partial refunds with awkward amounts, then the rest.
    for amount in ("33.33", "100.01", "0.07"):
        refund(store, placed, amount)
    refund(store, placed)
    after = account(buyer, store)
    assert after["points"] == before["points"] and after["cashback"] == before["cashback"]
    assert account_total("customer_credit_liability", vendor_id=store.pk) == liability
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_v6_spent_cashback_then_refunded_order_leaves_a_debt_paid_by_the_next_cashback(worker, store, member,
                                                                                        frozen_clock):
    frozen_clock(at(2026, 7, 1, 4, 0))
    buyer = signed_in(None, member)
    first = buy(buyer, [(store, store.item_200, 1)])  # 5 % of 200.00
    complete_order(buyer, first)
    frozen_clock.travel(timedelta(days=8))
    run_task("mature_and_expire")
    assert account(buyer, store)["cashback"]["available"] == {"amount": "10.00"}

    second = buy(buyer, [(store, store.item_150, 1)], redeem={store: (0, "10.00")})
    assert second["order"]["tenderedTotal"] == {"amount": "10.00"}
    refund(store, first)  # the order that earned the 10.00 spent above
    mine = account(buyer, store)
    assert mine["cashback"]["available"] == {"amount": "0.00"} and mine["cashback"]["debt"] == {"amount": "10.00"}

    token = cart(buyer, [(store, store.item_359, 1)])
    refused = buyer.mutate(REDEEM, {"t": token, "v": store.gid, "c": "1.00"})
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("cashback", "INVALID_STATE")]
    third = pay(buyer, place(buyer, token))  # 5 % of 359.90 = 17.99
    complete_order(buyer, third)
    frozen_clock.travel(timedelta(days=8))
    run_task("mature_and_expire")
    mine = account(buyer, store)
    assert mine["cashback"]["available"] == {"amount": "7.99"} and mine["cashback"]["debt"] == {"amount": "0.00"}
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_redeemed_points_return_to_their_lot_or_for_30_days_once_it_expired(worker, store, member, frozen_clock):
    from plugins.vip_tiers.models import VipLot

    frozen_clock(at(2026, 3, 10, 4, 0))
    credit(store, member, points=1000, key="march")  # expires at the end of March 2027
    frozen_clock(at(2026, 8, 10, 4, 0))
    credit(store, member, points=800, key="august")  # expires at the end of August 2027
    buyer = signed_in(None, member)
    frozen_clock(at(2027, 3, 20, 4, 0))
    placed = buy(buyer, [(store, store.item_200, 1)], redeem={store: (1500, None)})  # FIFO: 1000 March + 500 Aug.
    lots = {lot.key.split(":")[-2]: lot.remaining for lot in VipLot.objects.all()}
    assert lots == {"march": 0, "august": 300}
    frozen_clock(at(2027, 4, 2, 4, 0))
    assert run_task("mature_and_expire")["expired"] == 1  # the March lot, empty anyway
    refund(store, placed)
    mine = account(buyer, store)
    assert mine["points"]["available"] == 1800
    by_key = {lot.key: lot for lot in VipLot.objects.all()}
    august = next(lot for key, lot in by_key.items() if "august" in key)
    assert august.remaining == 800  # back into its own lot, original expiry
    returned = [lot for key, lot in by_key.items() if key.startswith("return:")]
    assert [(lot.amount, lot.expires_at) for lot in returned] == [(1000, at(2027, 5, 2, 4, 0))]
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_points_expire_at_the_end_of_the_twelfth_month(worker, store, member, frozen_clock):
    from marketplace.plugins.ledger import account_total

    frozen_clock(at(2026, 1, 31, 17, 0))  # 2026-02-01 01:00 in Beijing: a February lot
    credit(store, member, points=700)
    frozen_clock(at(2027, 2, 28, 15, 59))  # 23:59 on the last day of February 2027, Beijing
    assert run_task("mature_and_expire")["expired"] == 0
    frozen_clock(at(2027, 2, 28, 16, 0))
    assert run_task("mature_and_expire")["expired"] == 1
    buyer = signed_in(None, member)
    mine = account(buyer, store)
    assert mine["points"]["available"] == 0
    assert mine["history"]["edges"][0]["node"]["kind"] == "expire"
    assert account_total("customer_credit_liability", vendor_id=store.pk) == 0  # the vendor got it back
    assert_ledger_consistent()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_redemptions_never_take_the_balance_below_zero(worker, store, member):
    """Twenty carts (started on other devices) each redeem 1 000 points of a 5 000 balance
    and complete at the same moment: five take their points, fifteen are refused."""
    needs_postgresql()
    from django.test import Client

    from plugins.vip_tiers.models import VipAccount, VipRedemption

    credit(store, member, points=5000)
    tokens = []
    for _ in range(20):
        anonymous = GraphQLClient(Client())
        tokens.append(cart(anonymous, [(store, store.item_150, 1)]))
    buyer = signed_in(None, member)
    for token in tokens:
        redeemed = buyer.mutate(REDEEM, {"t": token, "v": store.gid, "p": 1000})
        assert redeemed["errors"] == [] and redeemed["pointsUsed"] == 1000
    barrier = threading.Barrier(len(tokens))
    outcomes = []

    def complete(token):
        api = GraphQLClient(Client())
        api.token = buyer.token
        barrier.wait()
        try:
            payload = api.mutate(COMPLETE, {"t": token})
            outcomes.append("ok" if not payload["errors"] else (payload["errors"][0]["field"],
                                                                 payload["errors"][0]["code"]))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=complete, args=(token,)) for token in tokens]
    [t.start() for t in threads]
    [t.join(timeout=300) for t in threads]
    assert outcomes.count("ok") == 5, outcomes
    assert outcomes.count(("points", "LIMIT_EXCEEDED")) == 15, outcomes
    account_row = VipAccount.objects.get(vendor_id=store.pk, user=member)
    assert account_row.points_available == 0
    assert VipRedemption.objects.count() == 5
    assert_ledger_consistent()


@pytest.mark.django_db
def test_bad_redemptions_get_a_field_error_with_a_code(make_store, member, make_user):
    a = make_store("store-a").enable()
    b = make_store("store-b", count=3)
    credit(a, member, points=800, cashback="5.00")
    buyer = signed_in(None, member)
    token = cart(buyer, [(a, a.item_150, 1)])

    def errors(**variables):
        payload = buyer.mutate(REDEEM, {"t": token, "v": a.gid, **variables})
        return [(e["field"], e["code"]) for e in payload["errors"]]

    assert errors(p=801) == [("points", "LIMIT_EXCEEDED")]  # more than the balance
    assert errors(c="5.01") == [("cashback", "LIMIT_EXCEEDED")]
    assert errors(c="NaN") == [("cashback", "INVALID")]
    assert errors(c="Infinity") == [("cashback", "INVALID")]
    assert errors(p=-5) == [("points", "INVALID")]
    assert errors(c="1.234") == [("cashback", "INVALID")]
    other = buyer.mutate(REDEEM, {"t": token, "v": b.gid, "p": 10})  # another store's points
    assert [(e["field"], e["code"]) for e in other["errors"]] == [("vendorId", "INVALID")]
    anonymous = GraphQLClient(buyer.client.__class__())
    anonymous_token = anonymous.mutate(CREATE, {"lines": [{"variantId": _gid(a.item_150), "quantity": 1}]})[
        "checkout"]["token"]
    refused = anonymous.mutate(REDEEM, {"t": anonymous_token, "v": a.gid, "p": 10})
    assert [e["code"] for e in refused["errors"]] == ["NOT_AUTHENTICATED"]
    stranger = signed_in(None, make_user("stranger@example.com"))
    assert stranger.mutate(REDEEM, {"t": token, "v": a.gid, "p": 1})["errors"][0]["code"] == "NOT_FOUND"
    ok = buyer.mutate(REDEEM, {"t": token, "v": a.gid, "p": 800, "c": "5.00"})
    assert ok["errors"] == [] and (ok["pointsUsed"], ok["cashbackUsed"]) == (800, {"amount": "5.00"})
    cleared = buyer.mutate(REDEEM, {"t": token, "v": a.gid, "p": 0, "c": "0"})
    assert cleared["errors"] == [] and cleared["pointsUsed"] == 0
    assert buyer.data(VIEW, {"t": token})["checkout"]["tendered"] == {"amount": "0.00"}


def _gid(variant):
    from marketplace.plugins.testing import gid

    return gid("ProductVariant", variant.pk)


@pytest.mark.django_db
def test_a_store_adjusts_a_customers_balance_through_the_api(make_store, member, make_user):
    from plugins.vip_tiers.services import balances

    a = make_store("store-a", count=3)
    b = make_store("store-b", count=3)
    customer = balances.account_for(a.pk, member.pk)
    from marketplace.plugins.testing import gid

    cid = gid("VipCustomer", customer.pk)
    owner = a.owner_api()
    done = owner.mutate(ADJUST, {"c": cid, "p": 300, "cb": "8.50", "r": "Thanks for the review"})
    assert done["errors"] == [] and done["customer"]["points"] == {"available": 300}
    assert done["customer"]["cashback"] == {"available": {"amount": "8.50"}}
    too_much = owner.mutate(ADJUST, {"c": cid, "p": -301, "r": "correction"})
    assert [(e["field"], e["code"]) for e in too_much["errors"]] == [("points", "LIMIT_EXCEEDED")]
    assert owner.mutate(ADJUST, {"c": cid, "p": -100, "r": "correction"})["customer"]["points"] == {"available": 200}
    assert b.owner_api().mutate(ADJUST, {"c": cid, "p": 5, "r": "x"})["errors"][0]["code"] == "PERMISSION_DENIED"
    assert owner.mutate(ADJUST, {"c": cid, "r": "nothing"})["errors"][0]["code"] == "REQUIRED"
    assert owner.mutate(ADJUST, {"c": cid, "cb": "NaN", "r": "x"})["errors"][0]["code"] == "INVALID"
    assert_ledger_consistent()
