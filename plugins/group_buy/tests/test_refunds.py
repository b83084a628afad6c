"""Refunds of failed groups tracked to the money: pending too long raises an alert and is
sent again; a failed one raises an alert and is retried under a new key; money captured
after its order was cancelled is refunded; Stripe authorises and captures on success."""
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.plugins import clock, hookimpl, ledger
from marketplace.plugins.testing import gid

from .helpers import GROUP, PAY, live_deal, my_groups, pay_dev, place

DISSOLVE = """mutation($id: ID!) { groupBuyGroupDissolve(id: $id, settleReason: "黄牛团") { group { status } errors { field code } } }"""
ALERTS = """{ groupBuyAlerts(first: 10) { totalCount edges { node { id kind message } } } }"""
RESOLVE = """mutation($id: ID!) { groupBuyAlertResolve(id: $id) { alert { resolvedAt } errors { code } } }"""
SETTLE = """mutation($r: String!, $ok: Boolean) { devRefundSettle(reference: $r, succeed: $ok) { status errors { code } } }"""
ASYNC = """mutation { pluginUpdate(name: "dev_gateway", input: {settings: {refund_mode: "async"}}) { errors { code } } }"""


def _reference(member_id):
    from marketplace.plugins.payments import refund_record

    from plugins.group_buy.models import RefundTrack

    return refund_record(RefundTrack.objects.get(member_id=member_id).refund_id).reference


def _reconcile():
    from plugins.group_buy import tasks

    return tasks.reconcile_refunds.delay().get(timeout=30)


def _dissolved_group_with_one_paid_member(shop, owner, staff_api, members):
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    leader = members[0]
    pay_dev(leader, place(leader, shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    (mine,) = my_groups(leader)
    assert staff_api.mutate(DISSOLVE, {"id": mine["group"]["id"]})["group"]["status"] == "DISSOLVED"
    return leader


@pytest.mark.django_db(transaction=True)
def test_a_refund_pending_for_24h_raises_an_alert_and_is_sent_again(shop, owner, staff_api, members, worker,
                                                                     frozen_clock):
    from plugins.group_buy.models import Member
    from tests.conftest import wait_for

    frozen_clock(clock.now())
    staff_api.mutate(ASYNC)
    leader = _dissolved_group_with_one_paid_member(shop, owner, staff_api, members)
    wait_for(lambda: (my_groups(leader)[0]["refund"] or {}).get("status") == "PENDING", message="refund pending")
    (mine,) = my_groups(leader)
    assert mine["status"] == "REFUNDING"  # never "refunded" while the money has not gone back
    frozen_clock.travel(timedelta(hours=23))
    _reconcile()
    assert staff_api.data(ALERTS)["groupBuyAlerts"]["totalCount"] == 0
    frozen_clock.travel(timedelta(hours=2))
    _reconcile()
    (alert,) = [e["node"] for e in staff_api.data(ALERTS)["groupBuyAlerts"]["edges"]]
    assert alert["kind"] == "REFUND_PENDING" and "still pending" in alert["message"]
    _reconcile()  # once per refund: no second alert
    assert staff_api.data(ALERTS)["groupBuyAlerts"]["totalCount"] == 1
    assert members[0].execute(ALERTS)["data"]["groupBuyAlerts"] is None  # staff only
    assert staff_api.mutate(SETTLE, {"r": _reference(Member.objects.get().pk), "ok": True})["errors"] == []
    (mine,) = my_groups(leader)
    assert mine["status"] == "REFUNDED" and mine["refund"]["status"] == "SUCCEEDED"
    assert staff_api.mutate(RESOLVE, {"id": alert["id"]})["alert"]["resolvedAt"]
    assert staff_api.data(ALERTS)["groupBuyAlerts"]["totalCount"] == 0
    assert ledger.is_balanced()


@pytest.mark.django_db(transaction=True)
def test_a_failed_refund_raises_an_alert_and_is_retried_with_a_new_key(shop, owner, staff_api, members, worker,
                                                                         frozen_clock):
    from marketplace.plugins.payments import find_payment, find_refunds

    from plugins.group_buy.models import Member, RefundTrack
    from tests.conftest import wait_for

    frozen_clock(clock.now())
    staff_api.mutate(ASYNC)
    leader = _dissolved_group_with_one_paid_member(shop, owner, staff_api, members)
    member = Member.objects.get()
    wait_for(lambda: RefundTrack.objects.filter(member=member, refund_id__isnull=False).exists(), message="refund")
    assert staff_api.mutate(SETTLE, {"r": _reference(member.pk), "ok": False})["errors"] == []  # the card was closed
    wait_for(lambda: RefundTrack.objects.get(member=member).status == "failed", message="the failure noticed")
    (alert,) = [e["node"] for e in staff_api.data(ALERTS)["groupBuyAlerts"]["edges"]]
    assert alert["kind"] == "REFUND_FAILED"
    (mine,) = my_groups(leader)
    assert mine["status"] == "REFUNDING" and mine["refund"]["status"] == "FAILED" and mine["refund"]["failureReason"]
    frozen_clock.travel(timedelta(minutes=31))
    _reconcile()
    track = RefundTrack.objects.get(member=member)
    assert track.attempt == 2 and track.status == "pending"
    assert staff_api.mutate(SETTLE, {"r": _reference(member.pk), "ok": True})["errors"] == []
    (mine,) = my_groups(leader)
    assert mine["status"] == "REFUNDED" and mine["refund"]["attempt"] == 2
    key = track.key
    assert [r.status for r in find_refunds(f"{key}-a1")] == ["failed"]
    assert [r.status for r in find_refunds(f"{key}-a2")] == ["succeeded"]
    payment = find_payment("dev", member.order.payments.get().reference)
    assert payment.refunded == payment.captured == Decimal("150.00")  # returned once
    assert ledger.is_balanced() and ledger.balance(shop["vendor"].pk) == Decimal("0.00")


class VoidFails:
    """A gateway whose void fails (the buyer paid at that very moment), so money arrives
    for an order already cancelled."""

    @hookimpl
    def payment_gateways(self):
        from marketplace.plugins.payments import GatewayError

        from plugins.dev_gateway.gateway import DevGateway

        class Stubborn(DevGateway):
            name = "stubborn"

            def cancel(self, payment):
                raise GatewayError("already paid")

        return [Stubborn()]


@pytest.mark.django_db(transaction=True)
def test_money_captured_after_the_order_was_cancelled_is_refunded(shop, owner, staff_api, members, worker, plugin):
    import uuid

    from marketplace.plugins.payments import GatewayEventData, deliver_event, find_payment

    from tests.conftest import wait_for

    plugin(VoidFails(), "stubborn-gateway")
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    leader = members[0]
    placed = place(leader, shop, deal_id=deal["id"])
    started = leader.mutate(PAY, {"o": placed["order"]["id"], "g": "stubborn", "m": "WALLET"})["payment"]
    cancelled = leader.mutate("""mutation($id: ID!) { orderCancel(id: $id) { order { status } errors { code } } }""",
                              {"id": placed["order"]["id"]})
    assert cancelled["order"]["status"] == "CANCELLED"
    assert my_groups(leader)[0]["status"] == "ABANDONED"
    deliver_event("stubborn", GatewayEventData(event_id=f"evt_{uuid.uuid4().hex}", type="payment_intent.succeeded",
                                               reference=started["reference"], status="captured",
                                               amount=Decimal("150.00"), currency="CNY"))
    wait_for(lambda: my_groups(leader)[0]["status"] == "REFUNDED", message="the stray payment refunded")
    payment = find_payment("stubborn", started["reference"])
    assert payment.refunded == payment.captured == Decimal("150.00")
    assert my_groups(leader)[0]["group"] is None  # no group ever existed


@pytest.mark.django_db(transaction=True)
def test_stripe_cards_are_authorised_and_captured_when_the_group_fills(client, shop, owner, staff_api, members,
                                                                        stripe_mock, worker):
    """stripe-mock and signed webhooks: the card is authorised (amount_capturable_updated),
    the group's success captures it at Stripe, and the member wins when Stripe's
    payment_intent.succeeded arrives."""
    from marketplace.plugins.payments import find_payment
    from tests.conftest import signed_post, stripe_event, wait_for

    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], groupSize=2)
    intents = []
    for index, api in enumerate(members[:2]):
        placed = place(api, shop, deal_id=deal["id"]) if index == 0 else place(api, shop, code=code)
        started = api.mutate(PAY, {"o": placed["order"]["id"], "g": "stripe"})["payment"]
        assert started["captureMethod"] == "manual" and started["reference"].startswith("pi_")
        intents.append(started["reference"])
        event = stripe_event("payment_intent.amount_capturable_updated", started["reference"], 15000)
        assert signed_post(client, event).status_code == 200
        if index == 0:
            (mine,) = my_groups(api)
            assert mine["paidBy"] == "authorization" and mine["order"]["status"] == "UNPAID"
            code = mine["group"]["shareCode"]
    assert members[0].data(GROUP, {"code": code})["groupBuyGroup"]["status"] == "SUCCEEDED"
    from plugins.group_buy.models import Member

    wait_for(lambda: Member.objects.filter(capture_requested_at__isnull=False).count() == 2,
             message="both captures sent to Stripe")
    assert all(m["status"] == "JOINED" for api in members[:2] for m in my_groups(api))  # Stripe has not confirmed
    for intent in intents:
        assert signed_post(client, stripe_event("payment_intent.succeeded", intent, 15000)).status_code == 200
    wait_for(lambda: all(m["status"] == "WON" for api in members[:2] for m in my_groups(api)), message="won")
    assert all(find_payment("stripe", i).captured == Decimal("150.00") for i in intents)
    assert ledger.is_balanced()
