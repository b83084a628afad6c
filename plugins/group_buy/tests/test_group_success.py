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


@pytest.mark.django_db(transaction=True)
def test_a_later_return_never_reopens_a_succeeded_group(client, shop, owner, staff_api, members, worker):
    """After success, the vendor refunds one member (a return): the group stays SUCCEEDED
    and full, the member stays WON, nobody can take the seat."""
    from tests.conftest import wait_for

    from .helpers import CHECKOUT

    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], groupSize=2)
    leader, friend = members[:2]
    pay_dev(leader, place(leader, shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    code = my_groups(leader)[0]["group"]["shareCode"]
    joined = place(friend, shop, code=code)
    pay_dev(friend, joined["order"]["id"], method="WALLET")
    wait_for(lambda: my_groups(friend)[0]["status"] == "WON", message="won")
    vendor_order = joined["order"]["vendorOrders"][0]["id"]
    returned = owner.mutate("""mutation($o: ID!, $vo: ID!) { orderRefund(orderId: $o, vendorOrderId: $vo, reason: "退货") {
      vendorOrder { status } errors { field code message } } }""", {"o": joined["order"]["id"], "vo": vendor_order})
    assert returned["errors"] == [] and returned["vendorOrder"]["status"] == "REFUNDED"
    group = leader.data(GROUP, {"code": code})["groupBuyGroup"]
    assert group["status"] == "SUCCEEDED" and group["paidCount"] == 2 and group["seatsLeft"] == 0
    assert my_groups(friend)[0]["status"] == "WON"
    refused = members[2].mutate(CHECKOUT, {"code": code})
    assert refused["errors"][0]["code"] == "GROUP_CLOSED"
    assert ledger.is_balanced()


@pytest.mark.django_db
def test_admin_pages_for_platform_operators(client, shop, owner, staff_api, members):
    from marketplace.accounts.models import User

    live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    pay_dev(members[0], place(members[0], shop, deal_id=live_deal(
        owner, staff_api, shop["vendor"], shop["variant"], groupSize=4)["id"])["order"]["id"], method="WALLET")
    client.force_login(User.objects.create_superuser("root@example.com", "Corolla-2026-brakes"))
    for model in ("deal", "group", "voucher", "refundtrack", "alert"):
        response = client.get(f"/admin/group_buy/{model}/")
        assert response.status_code == 200, model
    from plugins.group_buy.models import Group

    response = client.get(f"/admin/group_buy/group/{Group.objects.get().pk}/change/")
    assert response.status_code == 200 and b"members" in response.content.lower()
