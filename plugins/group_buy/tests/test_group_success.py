"""G1 and the paths around it: a group fills, its sub-orders leave the hold, one
settlement whatever is replayed (G4), bad joins refused with codes."""
import pytest

from marketplace.plugins import ledger

from .helpers import GROUP, ORDER, live_deal, my_groups, pay_dev, place


@pytest.mark.django_db(transaction=True)
def test_g1_three_pay_group_succeeds_and_holds_are_released(shop, owner, staff_api, members, worker):
    """G1: size 3, price 150 (list 200, floor 140): the leader pays -> FORMING with a share
    code; two friends pay -> SUCCEEDED; all three sub-orders leave the hold."""
    from tests.conftest import wait_for

    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    leader, *friends = members[:3]
    placed = place(leader, shop, deal_id=deal["id"])
    assert placed["order"]["total"] == {"amount": "150.00"}
    assert my_groups(leader)[0]["group"] is None  # no group before the leader pays
    pay_dev(leader, placed["order"]["id"], method="WALLET")  # captured at once
    (mine,) = my_groups(leader)
    group = mine["group"]
    assert mine["status"] == "JOINED" and group["status"] == "FORMING" and len(group["shareCode"]) == 8
    assert mine["order"]["vendorOrders"] == [{"status": "PAID", "onHold": True}]

    for friend in friends:
        joined = place(friend, shop, code=group["shareCode"])
        pay_dev(friend, joined["order"]["id"], method="WALLET")
    settled = leader.data(GROUP, {"code": group["shareCode"]})["groupBuyGroup"]
    assert settled["status"] == "SUCCEEDED" and settled["paidCount"] == 3

    def released():
        return all(not m["order"]["vendorOrders"][0]["onHold"] and m["status"] == "WON"
                   for api in members[:3] for m in my_groups(api))

    wait_for(released, message="the follow-up to release every hold")
    assert ledger.is_balanced()
