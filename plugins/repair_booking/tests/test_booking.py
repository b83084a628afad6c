"""Booking through the normal checkout: prices (B1), the hold becoming a confirmed booking
in the completion transaction, SLOT_TAKEN with nothing written, concurrency (B3), the
database's own guard, and slots given back when an order is not paid."""
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, connections, transaction

from marketplace.plugins.testing import GraphQLClient, gid

from .conftest import (
    BOOK, COMPLETE, HOLD, MY_BOOKINGS, SHANGHAI, VIEW, cart, iso, local, pay, signed_in,
)

pytestmark = pytest.mark.django_db
TEN = local(SHANGHAI, 2026, 3, 2, 10, 0)
TWO_PM = local(SHANGHAI, 2026, 3, 2, 14, 0)


def _unit(api, token):
    (line,) = api.data(VIEW, {"t": token})["checkout"]["lines"]
    return line["unitPrice"]


def test_b1_labour_list_price_member_discount_and_the_floor(client, repair, make_member, staff):
    from marketplace.pricing import services as pricing

    shop = client.__class__()
    listed = GraphQLClient(shop).data("query($s: ID!) { repairShop(shopId: $s) { labourRate { amount } "
                                      "services { code listPrice { amount } durationMinutes } } }",
                                      {"s": repair.shop_id})["repairShop"]
    assert listed["labourRate"]["amount"] == "120.00"
    pads = next(s for s in listed["services"] if s["code"] == "brake-pads")
    assert (pads["listPrice"]["amount"], pads["durationMinutes"]) == ("96.00", 60)
    anonymous = GraphQLClient(client.__class__())
    token = cart(anonymous, [repair.line(repair.pads)], email="walk-in@example.com")
    assert _unit(anonymous, token)["final"]["amount"] == "96.00"
    member = signed_in(client, make_member())
    token = cart(member, [repair.line(repair.pads)])
    price = _unit(member, token)
    assert (price["list"]["amount"], price["final"]["amount"]) == ("96.00", "76.80")
    (adjustment,) = price["adjustments"]
    assert adjustment["source"] == "repair_booking" and adjustment["amount"]["amount"] == "-19.20"
    pricing.create_campaign(data={"name_zh": "五折", "starts_at": "2026-03-01", "ends_at": "2026-03-31",
                                  "discount_percent": Decimal("50")})
    price = _unit(member, token)
    assert price["final"]["amount"] == "67.20" and price["floorApplied"]  # 96 x 50% x 80% = 38.40 < 70% floor


def test_the_member_price_is_kept_on_the_order_and_the_platform_funds_it(client, repair, make_member):
    member = signed_in(client, make_member())
    token = cart(member, [repair.line(repair.pads)])
    assert member.mutate(HOLD, {"t": token, "start": iso(TEN)})["errors"] == []
    placed = member.mutate(COMPLETE, {"t": token, "g": "dev"})
    assert placed["errors"] == [], placed["errors"]
    (part,) = placed["order"]["vendorOrders"]
    (line,) = part["lines"]
    assert line["unitPrice"]["amount"] == "76.80" and line["fulfilled"] is False
    assert line["metadata"]["repair_booking"]["start"].startswith("2026-03-02T02:00")
    pay(member, placed)
    from marketplace.orders.models import VendorOrder

    assert VendorOrder.objects.get(pk=int(__import__("graphql_relay").from_global_id(part["id"])[1])) \
        .platform_funded == Decimal("19.20")
    bookings = member.data(MY_BOOKINGS)["myRepairBookings"]
    assert bookings["totalCount"] == 1
    assert bookings["edges"][0]["node"]["labourAmount"]["amount"] == "76.80"


def test_checkout_needs_a_time_and_completes_into_one_confirmed_booking(client, repair, make_user):
    from plugins.repair_booking.models import RepairBooking, RepairHold

    api = signed_in(client, make_user("a@example.com"))
    token = cart(api, [repair.line(repair.pads)])
    unscheduled = api.mutate(COMPLETE, {"t": token})
    assert unscheduled["errors"][0]["code"] == "REQUIRED" and unscheduled["errors"][0]["field"] == "lines.0"
    assert api.mutate(HOLD, {"t": token, "start": iso(TEN)})["errors"] == []
    assert RepairHold.objects.count() == 1
    placed = api.mutate(COMPLETE, {"t": token, "g": "dev"})
    assert placed["errors"] == []
    booking = RepairBooking.objects.get()
    assert booking.status == "confirmed" and booking.start == TEN and booking.bay_id == repair.bays[0].pk
    assert RepairHold.objects.count() == 0  # the hold became the booking


def test_an_expired_hold_whose_slot_went_elsewhere_is_slot_taken_with_nothing_written(client, repair, make_user,
                                                                                       frozen_clock):
    from marketplace.orders.models import Order
    from plugins.repair_booking.models import RepairBooking

    a = signed_in(client, make_user("a@example.com"))
    b = GraphQLClient(client.__class__())
    b.login(make_user("b@example.com").email)
    eleven = local(SHANGHAI, 2026, 3, 2, 11, 0)
    token_a = cart(a, [repair.line(repair.pads)])
    assert a.mutate(HOLD, {"t": token_a, "start": iso(eleven)})["errors"] == []
    frozen_clock.travel(timedelta(minutes=6))
    token_b = cart(b, [repair.line(repair.pads)])
    assert b.mutate(BOOK, {"t": token_b, "start": iso(eleven)})["errors"] == []
    late = a.mutate(COMPLETE, {"t": token_a})
    assert late["errors"][0]["code"] == "SLOT_TAKEN" and late["order"] is None
    assert Order.objects.count() == 1 and RepairBooking.objects.count() == 1


def test_the_database_refuses_an_overlap_even_without_the_lock(repair):
    if connection.vendor != "postgresql":
        from tests.conftest import unavailable

        unavailable("the exclusion constraint exists on PostgreSQL only", "CI must run this on PostgreSQL")
    from plugins.repair_booking.models import RepairBooking

    values = dict(shop=repair.shop, bay=repair.bays[0], order_id=1, vendor_order_id=1, status="confirmed")
    RepairBooking.objects.create(start=TEN, end=TEN + timedelta(hours=1), **values)
    with pytest.raises(IntegrityError), transaction.atomic():
        RepairBooking.objects.create(start=TEN + timedelta(minutes=30), end=TEN + timedelta(hours=2), **values)
    RepairBooking.objects.create(start=TEN + timedelta(hours=1), end=TEN + timedelta(hours=2), **values)  # adjacent
    RepairBooking.objects.create(start=TEN, end=TEN + timedelta(hours=1), **{**values, "status": "rescheduled"})


@pytest.mark.django_db(transaction=True)
def test_b3_hundred_parallel_bookings_of_the_last_bay_slot_make_exactly_one(client, make_vendor, taxonomy, clock_at):
    """B3: 100 customers book the same single-bay slot at once: exactly one booking and one
    order; 99 SLOT_TAKEN with nothing written (PostgreSQL: row lock + exclusion constraint)."""
    if connection.vendor != "postgresql":
        from tests.conftest import unavailable

        unavailable("needs PostgreSQL", "CI must run this on PostgreSQL")
    from marketplace.orders.models import Order
    from plugins.repair_booking.models import RepairBooking

    from .conftest import RepairShopSetup

    repair = RepairShopSetup(make_vendor, taxonomy, slug="one-bay")
    tokens = []
    for number in range(100):
        api = GraphQLClient(client.__class__())
        tokens.append(cart(api, [repair.line(repair.pads)], email=f"driver{number}@example.com"))
    barrier = threading.Barrier(len(tokens))
    outcomes = []

    def book(token):
        from django.test import Client

        api = GraphQLClient(Client())
        try:
            barrier.wait()
            payload = api.mutate(BOOK, {"t": token, "start": iso(TEN)})
            outcomes.append("ok" if not payload["errors"] else payload["errors"][0]["code"])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=(t,)) for t in tokens]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count("SLOT_TAKEN") == 99, outcomes
    assert RepairBooking.objects.filter(status="confirmed").count() == 1
    assert Order.objects.count() == 1


def test_an_unpaid_order_that_expires_gives_the_slot_back(client, repair, make_user, frozen_clock, settings):
    from marketplace.orders.models import Order
    from plugins.repair_booking.models import RepairBooking

    api = signed_in(client, make_user("a@example.com"))
    token = cart(api, [repair.line(repair.pads)])
    assert api.mutate(BOOK, {"t": token, "start": iso(TWO_PM)})["errors"] == []
    frozen_clock.travel(timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES + 1))
    from marketplace.orders.services import expire_unpaid

    assert expire_unpaid() == 1
    assert Order.objects.get().status == "cancelled"
    assert RepairBooking.objects.get().status == "released"
    again = cart(GraphQLClient(client.__class__()), [repair.line(repair.pads)], email="x@example.com")
    other = GraphQLClient(client.__class__())
    assert other.mutate(HOLD, {"t": again, "start": iso(TWO_PM)})["errors"] == []


def test_services_of_two_shops_cannot_be_booked_together(client, repair, make_vendor, taxonomy, make_user):
    from .conftest import RepairShopSetup

    other = RepairShopSetup(make_vendor, taxonomy, slug="other-shop")
    api = signed_in(client, make_user("a@example.com"))
    token = cart(api, [repair.line(repair.pads), other.line(other.pads)])
    refused = api.mutate(HOLD, {"t": token, "start": iso(TEN)})
    assert refused["errors"][0]["field"] == "lines" and refused["errors"][0]["code"] == "INVALID"


__all__ = ["gid"]
