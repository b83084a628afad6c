"""G2 (a group that does not fill fails, everyone refunded in full), cards authorised and
released, G5 (a payment after the group failed is refunded, never a seat)."""
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.plugins import clock, ledger

from .helpers import CONFIRM, GROUP, ORDER, PAY, live_deal, my_groups, pay_dev, place


def sweep_on_worker():
    """What beat does every 30 s: the sweep task, run by the real worker."""
    from plugins.group_buy import tasks

    return tasks.sweep.delay().get(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_g2_group_not_filled_in_24h_fails_and_refunds_everyone(shop, owner, staff_api, members, worker,
                                                                 frozen_clock):
    from marketplace.catalog.models import Stock
    from tests.conftest import wait_for

    frozen_clock(clock.now())
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], maxUnits=9)
    leader, friend = members[:2]
    first = place(leader, shop, deal_id=deal["id"])
    pay_dev(leader, first["order"]["id"], method="WALLET")
    code = my_groups(leader)[0]["group"]["shareCode"]
    second = place(friend, shop, code=code)
    pay_dev(friend, second["order"]["id"], method="WALLET")
    assert staff_api.data("query($id: ID!) { groupDeal(id: $id) { unitsLeft } }", {"id": deal["id"]}) == {
        "groupDeal": {"unitsLeft": 6}}  # the forming group holds its 3 units of the cap
    assert Stock.objects.get(variant=shop["variant"]).reserved == 2

    frozen_clock.travel(timedelta(hours=23, minutes=59))
    assert sweep_on_worker()["failed"] == 0  # still inside the window
    frozen_clock.travel(timedelta(minutes=2))
    assert sweep_on_worker()["failed"] == 1
    group = leader.data(GROUP, {"code": code})["groupBuyGroup"]
    assert group["status"] == "FAILED" and group["seatsLeft"] == 0

    def refunded():
        return all(m["status"] == "REFUNDED" and m["refund"]["status"] == "SUCCEEDED"
                   for api in (leader, friend) for m in my_groups(api))

    wait_for(refunded, message="both members refunded")
    for api, placed in ((leader, first), (friend, second)):
        order = api.data(ORDER, {"n": placed["order"]["number"]})["order"]
        assert order["status"] == "REFUNDED" and order["refundedTotal"] == {"amount": "150.00"}
        assert order["vendorOrders"] == [{"status": "REFUNDED", "onHold": True, "refunded": {"amount": "150.00"}}]
        (mine,) = my_groups(api)
        assert mine["refund"]["amount"] == {"amount": "150.00"} and mine["refund"]["attempt"] == 1
    assert Stock.objects.get(variant=shop["variant"]).reserved == 0
    assert staff_api.data("query($id: ID!) { groupDeal(id: $id) { unitsLeft } }", {"id": deal["id"]}) == {
        "groupDeal": {"unitsLeft": 9}}
    assert ledger.is_balanced() and ledger.balance(shop["vendor"].pk) == Decimal("0.00")


@pytest.mark.django_db(transaction=True)
def test_card_payments_are_authorised_then_captured_on_success(shop, owner, staff_api, members, worker):
    from marketplace.plugins.payments import find_payment
    from tests.conftest import wait_for

    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], groupSize=2)
    leader, friend = members[:2]
    first = place(leader, shop, deal_id=deal["id"])
    payment = pay_dev(leader, first["order"]["id"])  # a card on a gateway that captures later
    assert payment["captureMethod"] == "manual"
    (mine,) = my_groups(leader)
    assert mine["status"] == "JOINED" and mine["paidBy"] == "authorization"
    assert mine["order"]["status"] == "UNPAID"  # authorised, not charged
    second = place(friend, shop, code=mine["group"]["shareCode"])
    pay_dev(friend, second["order"]["id"])
    assert leader.data(GROUP, {"code": mine["group"]["shareCode"]})["groupBuyGroup"]["status"] == "SUCCEEDED"

    def captured():
        return all(m["status"] == "WON" and m["order"]["status"] == "PAID" for api in (leader, friend)
                   for m in my_groups(api))

    wait_for(captured, message="both authorisations captured")
    reference = payment["reference"]
    assert find_payment("dev", reference).captured == Decimal("150.00")
    assert ledger.is_balanced()


@pytest.mark.django_db(transaction=True)
def test_card_authorisations_are_released_when_the_group_fails(shop, owner, staff_api, members, worker,
                                                                 frozen_clock):
    from tests.conftest import wait_for

    frozen_clock(clock.now())
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    leader = members[0]
    first = place(leader, shop, deal_id=deal["id"])
    pay_dev(leader, first["order"]["id"])
    frozen_clock.travel(timedelta(hours=25))  # past the 30-minute payment timeout too: the order waits
    from marketplace.plugins.orders import order_info

    from plugins.group_buy.models import Member

    assert order_info(Member.objects.get().order_id).status == "unpaid"
    sweep_on_worker()
    wait_for(lambda: my_groups(leader)[0]["status"] == "VOIDED", message="the authorisation released")
    (mine,) = my_groups(leader)
    assert mine["order"]["status"] == "CANCELLED" and mine["refund"] is None  # nothing was charged
    assert ledger.is_balanced()


@pytest.mark.django_db(transaction=True)
def test_g5_payment_after_the_group_failed_is_refunded_never_a_seat(shop, owner, staff_api, members, worker,
                                                                      frozen_clock, plugin):
    """G5: the group FAILED (its follow-up cancelled the unpaid order, but the void failed at
    the gateway: the buyer had just paid); then the payment's event arrives -> the member is
    LATE and refunded, the group stays FAILED with its one paid seat."""
    import uuid

    from marketplace.plugins.payments import GatewayEventData, deliver_event, find_payment

    from plugins.group_buy.models import Group
    from tests.conftest import wait_for

    from .test_refunds import VoidFails

    plugin(VoidFails(), "stubborn-gateway")
    frozen_clock(clock.now())
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    leader, friend = members[:2]
    first = place(leader, shop, deal_id=deal["id"])
    pay_dev(leader, first["order"]["id"], method="WALLET")
    code = my_groups(leader)[0]["group"]["shareCode"]
    late = place(friend, shop, code=code)  # holds a seat, pays later
    paying = friend.mutate(PAY, {"o": late["order"]["id"], "g": "stubborn", "m": "WALLET"})["payment"]
    frozen_clock.travel(timedelta(hours=24, seconds=61))
    assert sweep_on_worker()["failed"] == 1  # the grace passed with the payment still in flight
    wait_for(lambda: Group.objects.filter(share_code=code, follow_up_done_at__isnull=False).exists(),
             message="the failed group's follow-up")
    assert my_groups(friend)[0]["status"] == "ABANDONED"
    deliver_event("stubborn", GatewayEventData(event_id=f"evt_{uuid.uuid4().hex}", type="payment_intent.succeeded",
                                               reference=paying["reference"], status="captured",
                                               amount=Decimal("150.00"), currency="CNY"))

    def late_refunded():
        (mine,) = my_groups(friend)
        return mine["status"] == "REFUNDED" and mine["refund"]["status"] == "SUCCEEDED"

    wait_for(late_refunded, message="the late payment refunded")
    group = leader.data(GROUP, {"code": code})["groupBuyGroup"]
    assert group["status"] == "FAILED" and group["paidCount"] == 1  # never an extra seat
    payment = find_payment("stubborn", paying["reference"])
    assert payment.refunded == payment.captured == Decimal("150.00")
    assert ledger.is_balanced()


@pytest.mark.django_db(transaction=True)
def test_payment_after_the_window_but_before_the_sweep_is_late(shop, owner, staff_api, members, worker,
                                                                frozen_clock):
    """The window and its grace are over but the sweep has not failed the group yet: the
    payment is LATE (its sub-order held, refunded in full); the sweep then fails the group."""
    from tests.conftest import wait_for

    frozen_clock(clock.now())
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    leader, friend = members[:2]
    pay_dev(leader, place(leader, shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    code = my_groups(leader)[0]["group"]["shareCode"]
    late = place(friend, shop, code=code)
    paying = friend.mutate(PAY, {"o": late["order"]["id"], "g": "dev", "m": "WALLET"})["payment"]
    frozen_clock.travel(timedelta(hours=24, seconds=61))
    assert friend.mutate(CONFIRM, {"s": paying["clientSecret"], "o": "SUCCEED"})["errors"] == []
    wait_for(lambda: my_groups(friend)[0]["status"] == "REFUNDED", message="the late payment refunded")
    order = friend.data(ORDER, {"n": late["order"]["number"]})["order"]
    assert order["status"] == "REFUNDED" and order["vendorOrders"][0]["onHold"] is True
    assert sweep_on_worker()["failed"] == 1
    group = leader.data(GROUP, {"code": code})["groupBuyGroup"]
    assert group["status"] == "FAILED" and group["paidCount"] == 1
    assert ledger.is_balanced()


@pytest.mark.django_db(transaction=True)
def test_a_deal_that_ends_closes_its_groups_with_it(shop, owner, staff_api, members, worker, frozen_clock):
    """A group's window never passes its deal's end: when the deal ends (the sweep moves it
    to ENDED) its forming group fails and is refunded; the deal leaves the listing."""
    from tests.conftest import wait_for

    frozen_clock(clock.now())
    ends = clock.now() + timedelta(hours=10)
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], endsAt=ends.isoformat())
    leader = members[0]
    pay_dev(leader, place(leader, shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    (mine,) = my_groups(leader)
    assert mine["group"]["expiresAt"].startswith(ends.isoformat()[:16])  # not 24 h: the deal's end
    frozen_clock.travel(timedelta(hours=10, minutes=2))
    assert sweep_on_worker() == {"deals": 1, "failed": 1, "resumed": 0}
    assert staff_api.data("query($id: ID!) { groupDeal(id: $id) { status } }", {"id": deal["id"]}) == {
        "groupDeal": {"status": "ENDED"}}
    assert leader.data("{ groupDeals(first: 5) { totalCount } }")["groupDeals"]["totalCount"] == 0
    wait_for(lambda: my_groups(leader)[0]["status"] == "REFUNDED", message="the leader refunded")
    assert my_groups(leader)[0]["group"]["status"] == "FAILED"
