"""Loyalty next to the group-buy plugin: a deal line takes the deal price only (the deal is
EXCLUSIVE: no tier price), the order earns points on that price at payment, points can pay
part of it, and a group that fails gives everything back (the earned points reversed, the
redeemed points returned). Through the API, PostgreSQL and the real Celery worker."""
from datetime import timedelta

import pytest

from marketplace.plugins import clock
from plugins.group_buy.tests.helpers import CHECKOUT, COMPLETE, live_deal, my_groups, pay_dev
from plugins.group_buy.tests.helpers import place as place_deal

from .conftest import REDEEM, account, assert_ledger_consistent, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store(make_store):
    # Everyone is in the 8 % tier from the first yuan: a normal line would be 184.00.
    return make_store("store-gb").enable(tiers=[(1, "金卡", "0", "8", "2")])


def fail_group(frozen_clock):
    from plugins.group_buy import tasks
    from tests.conftest import wait_for

    frozen_clock.travel(timedelta(hours=24, minutes=2))
    assert tasks.sweep.delay().get(timeout=30)["failed"] == 1
    return wait_for


def shop_of(store):
    return {"vendor": store.vendor, "method": store.method}


def test_a_group_order_earns_on_the_deal_price_and_a_failed_group_reverses_it(worker, store, member, staff,
                                                                              frozen_clock):
    from plugins.vip_tiers.services import tiers

    frozen_clock(clock.now())
    tiers.grant(store.pk, member.pk, 1)
    buyer = signed_in(None, member)
    deal = live_deal(store.owner_api(), signed_in(None, staff), store.vendor, store.item_200)  # 150.00
    placed = place_deal(buyer, shop_of(store), deal_id=deal["id"])
    assert placed["order"]["total"] == {"amount": "150.00"}  # the deal price, no VIP on top
    pay_dev(buyer, placed["order"]["id"], method="WALLET")  # wallets are charged at once
    assert account(buyer, store)["points"] == {"available": 0, "pending": 300, "debt": 0,
                                                "value": {"amount": "0.00"}}  # 150 x 2 (the tier's multiplier)

    wait_for = fail_group(frozen_clock)
    wait_for(lambda: all(m["status"] == "REFUNDED" for m in my_groups(buyer)), message="the member refunded")
    mine = account(buyer, store)
    assert mine["points"] == {"available": 0, "pending": 0, "debt": 0, "value": {"amount": "0.00"}}
    assert mine["netSpend"] == {"amount": "0.00"}
    assert assert_ledger_consistent() == 1


def test_points_paying_part_of_a_group_order_come_back_when_the_group_fails(worker, store, member, staff,
                                                                           frozen_clock):
    from plugins.vip_tiers.services import balances

    frozen_clock(clock.now())
    balances.adjust(store.pk, member.pk, "points", 6000, "welcome", key="gb-welcome")
    buyer = signed_in(None, member)
    deal = live_deal(store.owner_api(), signed_in(None, staff), store.vendor, store.item_200)
    prepared = buyer.mutate(CHECKOUT, {"deal": deal["id"]})
    assert prepared["errors"] == [], prepared["errors"]
    token = prepared["checkout"]["token"]
    from .conftest import ADDRESS, SHIP
    from marketplace.plugins.testing import gid

    assert buyer.mutate(ADDRESS, {"t": token})["errors"] == []
    assert buyer.mutate(SHIP, {"t": token, "v": store.gid, "m": gid("ShippingMethod", store.method.pk)})[
        "errors"] == []
    redeemed = buyer.mutate(REDEEM, {"t": token, "v": store.gid, "p": 6000, "c": None})
    assert redeemed["errors"] == [], redeemed["errors"]
    # The deal price 150.00 sits 10.00 above the floor (70 % of the 200.00 list): that is
    # all points may pay of this line.
    assert redeemed["pointsUsed"] == 1000 and redeemed["checkout"]["amountDue"] == {"amount": "140.00"}
    placed = buyer.mutate(COMPLETE, {"t": token, "g": None})
    assert placed["errors"] == [], placed["errors"]
    pay_dev(buyer, placed["order"]["id"], method="WALLET")
    mine = account(buyer, store)
    assert mine["points"]["available"] == 5000 and mine["points"]["pending"] == 140  # earned on what was paid

    wait_for = fail_group(frozen_clock)
    wait_for(lambda: all(m["status"] == "REFUNDED" for m in my_groups(buyer)), message="the member refunded")
    mine = account(buyer, store)
    assert mine["points"] == {"available": 6000, "pending": 0, "debt": 0, "value": {"amount": "60.00"}}
    assert assert_ledger_consistent() == 1
