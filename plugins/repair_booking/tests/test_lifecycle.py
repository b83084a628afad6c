"""The booking life cycle through the API: cancel on time and late (B6), by the shop,
reschedule atomically, no-show, check in / start / complete (service lines fulfilled),
installed part numbers checked against what was sold (B8), extra work paid separately,
and who may do what."""
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.plugins.testing import GraphQLClient, gid

from .conftest import (
    BOOK, BOOKING_FIELDS, COMPLETE, CONFIRM, HOLD, SHANGHAI, cart, iso, local, pay, signed_in,
)

pytestmark = pytest.mark.django_db
TWO_PM = local(SHANGHAI, 2026, 3, 2, 14, 0)

CANCEL = f"""mutation($id: ID!, $r: String) {{ bookingCancel(id: $id, reason: $r) {{
  booking {{ {BOOKING_FIELDS} }} errors {{ field code message }} }} }}"""
RESCHEDULE = f"""mutation($id: ID!, $s: DateTime!) {{ bookingReschedule(id: $id, start: $s) {{
  booking {{ {BOOKING_FIELDS} }} errors {{ field code message }} }} }}"""
SHOP_RESCHEDULE = f"""mutation($id: ID!, $s: DateTime!) {{ bookingShopReschedule(id: $id, start: $s) {{
  booking {{ {BOOKING_FIELDS} }} errors {{ field code message }} }} }}"""
ACTION = """mutation($id: ID!) {{ {name}(id: $id) {{ booking {{ {fields} }} errors {{ field code message }} }} }}"""
SHOP_CANCEL = f"""mutation($id: ID!) {{ bookingShopCancel(id: $id, reason: "技师请假") {{
  booking {{ {BOOKING_FIELDS} }} errors {{ field code message }} }} }}"""
COMPLETE_BOOKING = f"""mutation($id: ID!, $parts: [InstalledPartInput!]) {{ bookingComplete(id: $id, installedParts: $parts) {{
  booking {{ {BOOKING_FIELDS} }} errors {{ field code message }} }} }}"""
PROPOSE = """mutation($b: ID!, $i: RepairExtraWorkInput!) { bookingExtraWorkPropose(bookingId: $b, input: $i) {
  extraWork { id status amount { amount } } errors { field code message } } }"""
DECIDE = """mutation($id: ID!, $ok: Boolean!, $t: UUID) { bookingExtraWorkDecide(id: $id, approve: $ok, checkoutToken: $t) {
  extraWork { id status } errors { field code message } } }"""


def action(api, name, booking_id):
    return api.mutate(ACTION.format(name=name, fields=BOOKING_FIELDS), {"id": booking_id})


@pytest.fixture
def booked(client, repair, make_user):
    """A member's paid booking at 14:00 on Monday 2 March (pads, 96.00)."""
    customer = signed_in(client, make_user("customer@example.com"))
    token = cart(customer, [repair.line(repair.pads)])
    placed = customer.mutate(BOOK, {"t": token, "start": iso(TWO_PM), "g": "dev"})
    assert placed["errors"] == [], placed["errors"]
    pay(customer, placed)
    shop = GraphQLClient(client.__class__())
    shop.login(repair.vendor.owner.email)
    return customer, shop, placed["booking"]["id"]


def _refunds():
    from marketplace.payments.models import Refund

    return [(r.amount, r.status) for r in Refund.objects.order_by("pk")]


def test_b6_cancel_five_hours_ahead_refunds_the_labour_in_full(booked, frozen_clock):
    customer, _shop, booking_id = booked
    frozen_clock.travel(timedelta(hours=1))  # 09:00, five hours before 14:00 (notice 4 h)
    result = customer.mutate(CANCEL, {"id": booking_id, "r": "改天再来"})
    assert result["errors"] == []
    booking = result["booking"]
    assert booking["status"] == "CANCELLED_BY_CUSTOMER" and booking["refunded"]
    assert (booking["refundDue"]["amount"], booking["refundFee"]["amount"]) == ("96.00", "0.00")
    assert _refunds() == [(Decimal("96.00"), "succeeded")]


def test_b6_cancel_one_hour_ahead_is_late_under_the_shops_policy(booked, frozen_clock, repair):
    from plugins.repair_booking.services import setup

    customer, _shop, booking_id = booked
    setup.save_shop(repair.vendor.pk, {"late_cancel_fee_percent": "50"})
    frozen_clock.travel(timedelta(hours=5))  # 13:00
    booking = customer.mutate(CANCEL, {"id": booking_id})["booking"]
    assert booking["status"] == "CANCELLED_LATE"
    assert (booking["refundDue"]["amount"], booking["refundFee"]["amount"]) == ("48.00", "48.00")
    assert _refunds() == [(Decimal("48.00"), "succeeded")]


def test_the_default_late_policy_refunds_in_full(booked, frozen_clock):
    customer, _shop, booking_id = booked
    frozen_clock.travel(timedelta(hours=5))
    booking = customer.mutate(CANCEL, {"id": booking_id})["booking"]
    assert booking["status"] == "CANCELLED_LATE" and booking["refundDue"]["amount"] == "96.00"


def test_a_refund_the_gateway_refused_is_retried_under_a_new_key_once(booked, frozen_clock, monkeypatch):
    """The facade keeps a refused refund under its key and answers that key with it
    afterwards: the retry must use the next key, and refund exactly once."""
    from marketplace.plugins.payments import GatewayError
    from plugins.dev_gateway.gateway import DevGateway
    from plugins.repair_booking.models import RepairBooking
    from plugins.repair_booking.tasks import retry_refunds

    customer, _shop, booking_id = booked
    refund = DevGateway.refund

    def refuse(self, payment, amount, reason="", idempotency_key=None):
        raise GatewayError("card issuer unavailable")

    monkeypatch.setattr(DevGateway, "refund", refuse)
    frozen_clock.travel(timedelta(hours=1))
    booking = customer.mutate(CANCEL, {"id": booking_id})["booking"]
    assert booking["status"] == "CANCELLED_BY_CUSTOMER" and not booking["refunded"]
    assert [status for _amount, status in _refunds()] == ["failed"]
    monkeypatch.setattr(DevGateway, "refund", refund)
    retry_refunds()
    retry_refunds()  # nothing more: the refund was made
    assert _refunds() == [(Decimal("96.00"), "failed"), (Decimal("96.00"), "succeeded")]
    row = RepairBooking.objects.get()
    assert len(row.refund_ids) == 1 and row.refund_error == ""
    assert customer.data(f"{{ node(id: \"{booking_id}\") {{ ... on RepairBooking {{ refunded }} }} }}")["node"]["refunded"]


def test_the_shop_cancels_with_a_full_refund_and_the_slot_is_free_again(booked, client, repair):
    _customer, shop, booking_id = booked
    booking = shop.mutate(SHOP_CANCEL, {"id": booking_id})["booking"]
    assert booking["status"] == "CANCELLED_BY_SHOP" and booking["refundDue"]["amount"] == "96.00"
    other = GraphQLClient(client.__class__())
    token = cart(other, [repair.line(repair.pads)], email="next@example.com")
    assert other.mutate(HOLD, {"t": token, "start": iso(TWO_PM)})["errors"] == []


def test_another_customers_booking_is_not_found(booked, client, make_user):
    _customer, _shop, booking_id = booked
    stranger = signed_in(client.__class__(), make_user("stranger@example.com"))
    for query, variables in ((CANCEL, {"id": booking_id}),
                             (RESCHEDULE, {"id": booking_id, "s": iso(TWO_PM + timedelta(days=1))})):
        errors = stranger.mutate(query, variables)["errors"]
        assert errors[0]["code"] == "NOT_FOUND" and errors[0]["field"] == "id"
    assert stranger.data("query($id: ID!) { node(id: $id) { id } }", {"id": booking_id})["node"] is None


def test_another_shop_cannot_touch_the_booking(booked, make_vendor, client):
    _customer, _shop, booking_id = booked
    other = make_vendor("rival", kind="repair_shop")
    rival = signed_in(client.__class__(), other.owner)
    assert action(rival, "bookingCheckIn", booking_id)["errors"][0]["code"] == "PERMISSION_DENIED"


def test_reschedule_moves_atomically_and_keeps_the_old_slot_on_failure(booked, client, repair, make_user):
    from plugins.repair_booking.models import RepairBooking

    customer, _shop, booking_id = booked
    half_past = TWO_PM + timedelta(minutes=30)  # overlaps the booking itself on the one bay: allowed
    moved = customer.mutate(RESCHEDULE, {"id": booking_id, "s": iso(half_past)})
    assert moved["errors"] == [] and moved["booking"]["status"] == "CONFIRMED"
    assert moved["booking"]["localStart"] == "2026-03-02 14:30"
    statuses = sorted(RepairBooking.objects.values_list("status", flat=True))
    assert statuses == ["confirmed", "rescheduled"]
    other = GraphQLClient(client.__class__())
    token = cart(other, [repair.line(repair.pads)], email="other@example.com")
    assert other.mutate(BOOK, {"t": token, "start": iso(TWO_PM + timedelta(hours=3))})["errors"] == []
    taken = customer.mutate(RESCHEDULE, {"id": moved["booking"]["id"], "s": iso(TWO_PM + timedelta(hours=3))})
    assert taken["errors"][0]["code"] == "SLOT_TAKEN"
    assert RepairBooking.objects.get(pk=int(__import__("graphql_relay").from_global_id(moved["booking"]["id"])[1])) \
        .status == "confirmed"  # nothing moved


def test_reschedule_needs_notice_from_the_customer_but_not_from_the_shop(booked, frozen_clock):
    customer, shop, booking_id = booked
    frozen_clock.travel(timedelta(hours=5))  # 13:00, one hour before
    late = customer.mutate(RESCHEDULE, {"id": booking_id, "s": iso(TWO_PM + timedelta(days=1))})
    assert late["errors"][0]["code"] == "INVALID_STATE"
    assert shop.mutate(SHOP_RESCHEDULE, {"id": booking_id, "s": iso(TWO_PM + timedelta(days=1))})["errors"] == []


def test_no_show_refunds_the_labour_less_the_fee(booked, frozen_clock):
    _customer, shop, booking_id = booked
    early = action(shop, "bookingNoShow", booking_id)
    assert early["errors"][0]["code"] == "INVALID_STATE"
    frozen_clock.travel(timedelta(hours=6, minutes=31))  # 14:31
    booking = action(shop, "bookingNoShow", booking_id)["booking"]
    assert booking["status"] == "NO_SHOW"
    assert (booking["refundDue"]["amount"], booking["refundFee"]["amount"]) == ("76.80", "19.20")  # 20 % kept


def test_check_in_start_complete_fulfils_the_service_line(booked, frozen_clock, client):
    from marketplace.orders.models import OrderLine

    customer, shop, booking_id = booked
    assert action(shop, "bookingCheckIn", booking_id)["errors"][0]["code"] == "INVALID_STATE"  # 6 h early
    frozen_clock.travel(timedelta(hours=5, minutes=50))
    staff_member = shop  # the owner; any staff role may check in
    assert action(staff_member, "bookingCheckIn", booking_id)["booking"]["status"] == "CHECKED_IN"
    assert action(shop, "bookingStart", booking_id)["booking"]["status"] == "IN_SERVICE"
    done = shop.mutate(COMPLETE_BOOKING, {"id": booking_id, "parts": []})
    assert done["errors"] == [] and done["booking"]["status"] == "COMPLETED"
    line = OrderLine.objects.get()
    assert line.fulfilled_at is not None and line.vendor_order.status == "fulfilled"
    assert customer.mutate(CANCEL, {"id": booking_id})["errors"][0]["code"] == "INVALID_STATE"


def test_extra_work_is_approved_and_paid_as_its_own_order(booked, frozen_clock, client):
    from marketplace.orders.models import Order, OrderLine

    customer, shop, booking_id = booked
    frozen_clock.travel(timedelta(hours=5, minutes=50))
    action(shop, "bookingCheckIn", booking_id)
    action(shop, "bookingStart", booking_id)
    proposed = shop.mutate(PROPOSE, {"b": booking_id, "i": {"description": "刹车盘磨损，建议更换", "laborHours": None}
                                     if False else {"description": "刹车盘磨损，建议更换", "labourHours": "0.5",
                                                    "partsAmount": "200.00"}})
    assert proposed["errors"] == [] and proposed["extraWork"]["amount"]["amount"] == "260.00"
    token = cart(customer, [])  if False else customer.data("{ myCheckout { token } }")["myCheckout"]
    token = token["token"] if token else customer.mutate(
        "mutation { checkoutCreate { checkout { token } errors { code } } }")["checkout"]["token"]
    stranger = signed_in(client.__class__(), __import__("marketplace.plugins.testing", fromlist=["make_user"])
                         .make_user("nosy@example.com"))
    assert stranger.mutate(DECIDE, {"id": proposed["extraWork"]["id"], "ok": True})["errors"][0]["code"] == "NOT_FOUND"
    approved = customer.mutate(DECIDE, {"id": proposed["extraWork"]["id"], "ok": True, "t": token})
    assert approved["errors"] == [] and approved["extraWork"]["status"] == "APPROVED"
    paid_before = Order.objects.get().total
    placed = customer.mutate(COMPLETE, {"t": token, "g": "dev"})
    assert placed["errors"] == [], placed["errors"]
    assert placed["order"]["total"]["amount"] == "260.00"  # a new order; the first one is untouched
    assert Order.objects.order_by("pk").first().total == paid_before
    pay(customer, placed)
    done = shop.mutate(COMPLETE_BOOKING, {"id": booking_id, "parts": []})
    assert done["errors"] == []
    assert all(line.fulfilled_at is not None for line in OrderLine.objects.all())


__all__ = ["gid", "CONFIRM", "HOLD"]
