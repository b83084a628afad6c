"""Earning points (V3), exact reversals by refunds (V4), maturation, expiry and the engine
ledger, through the API on PostgreSQL with a real Celery worker."""
from datetime import timedelta
from decimal import Decimal

import pytest

from .conftest import (
    account, assert_ledger_consistent, at, buy, complete_order, refund, run_task, signed_in,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store(make_store):
    return make_store("store-a").enable(tiers=[(1, "银卡", "300", "0", "1"), (2, "金卡", "2000", "8", "2")])


def test_v3_points_pending_at_payment_and_available_after_completion_and_the_window(worker, store, member,
                                                                                   frozen_clock):
    from marketplace.plugins.ledger import account_total

    frozen_clock(at(2026, 3, 14, 2, 0))
    buyer = signed_in(None, member)
    placed = buy(buyer, [(store, store.item_359, 1)])
    assert placed["order"]["total"] == {"amount": "359.90"}
    mine = account(buyer, store)
    assert mine["points"] == {"available": 0, "pending": 359, "debt": 0, "value": {"amount": "0.00"}}
    assert [(e["kind"], e["bucket"], e["amount"]) for e in (n["node"] for n in mine["history"]["edges"])] == [
        ("earn_pending", "pending", "359.00")]
    # Vendor-funded credit booked in the engine ledger (spec 6.5).
    assert account_total("customer_credit_liability", vendor_id=store.pk) == Decimal("3.59")

    complete_order(buyer, placed)
    mine = account(buyer, store)
    assert mine["tier"] == {"rank": 1, "nameZh": "银卡"}  # 359.90 >= 300: up at once on completion
    assert mine["points"]["pending"] == 359 and mine["points"]["available"] == 0
    frozen_clock.travel(timedelta(days=6, hours=23))
    assert run_task("mature_and_expire")["matured"] == 0
    frozen_clock.travel(timedelta(hours=1))
    assert run_task("mature_and_expire")["matured"] == 1
    mine = account(buyer, store)
    assert mine["points"] == {"available": 359, "pending": 0, "debt": 0, "value": {"amount": "3.59"}}
    newest = mine["history"]["edges"][0]["node"]
    assert (newest["kind"], newest["amount"]) == ("earn_available", "359.00")
    # Available in March 2026 (Asia/Shanghai): expires at the end of March 2027, local time.
    assert newest["expiresAt"] == "2027-03-31T16:00:00+00:00"
    assert assert_ledger_consistent() == 1


@pytest.mark.parametrize("completed", [False, True], ids=["pending", "available"])
def test_v4_refunds_of_100_100_and_159_90_reverse_exactly_359_points(worker, store, member, frozen_clock, completed):
    from marketplace.plugins.ledger import account_total

    frozen_clock(at(2026, 5, 1, 4, 0))
    buyer = signed_in(None, member)
    placed = buy(buyer, [(store, store.item_359, 1)])
    if completed:
        complete_order(buyer, placed)
        frozen_clock.travel(timedelta(days=8))
        run_task("mature_and_expire")
        assert account(buyer, store)["points"]["available"] == 359
    bucket = "available" if completed else "pending"
    reversals = []
    for amount in ("100.00", "100.00", "159.90"):
        refund(store, placed, amount)
        history = account(buyer, store)["history"]["edges"]
        reversals.append(-Decimal(history[0]["node"]["amount"]))
        assert history[0]["node"]["kind"] == "reverse" and history[0]["node"]["bucket"] == bucket
    assert reversals == [Decimal("100"), Decimal("100"), Decimal("159")]
    assert sum(reversals) == 359
    mine = account(buyer, store)
    assert mine["points"] == {"available": 0, "pending": 0, "debt": 0, "value": {"amount": "0.00"}}
    # The grant and its reversals net to zero in the engine ledger, for this store.
    assert account_total("customer_credit_liability", vendor_id=store.pk) == 0
    assert assert_ledger_consistent() == 1


def test_a_thirty_thirty_forty_percent_refund_sequence_never_drifts(worker, store, member, frozen_clock):
    frozen_clock(at(2026, 5, 1, 4, 0))
    buyer = signed_in(None, member)
    placed = buy(buyer, [(store, store.item_359, 3)])  # 1079.70 -> 1079 points
    assert account(buyer, store)["points"]["pending"] == 1079
    for amount in ("323.91", "323.91", "431.88"):
        refund(store, placed, amount)
    assert account(buyer, store)["points"]["pending"] == 0
    assert_ledger_consistent()
