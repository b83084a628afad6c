"""Slots (B2, B4, B5, B10) and the refusals of bad times, through the GraphQL API."""
from datetime import date, datetime, timedelta

import pytest

from marketplace.plugins.testing import GraphQLClient, gid

from .conftest import (
    BERLIN, HOLD, MONDAY_8AM, SHANGHAI, RepairShopSetup, cart, iso, local, local_times, signed_in, slots, starts,
)

pytestmark = pytest.mark.django_db


def test_b2_first_slot_after_notice_and_a_long_job_must_end_by_closing(gql, repair):
    pads = slots(gql, shop=repair.shop_id, services=[repair.service_id(repair.pads)], **{"from": "2026-03-02",
                                                                                           "to": "2026-03-02"})
    assert pads["durationMinutes"] == 60  # 0.8 h on 30-minute slots -> 2 slots
    times = local_times(pads, "2026-03-02")
    assert times[0] == "10:00"  # 08:00 + 120 minutes' notice
    assert times[-1] == "17:00"  # a 60-minute job must end by 18:00
    long = slots(gql, shop=repair.shop_id, services=[repair.service_id(repair.long_job)],
                 **{"from": "2026-03-03", "to": "2026-03-03"})
    times = local_times(long, "2026-03-03")
    assert "15:00" in times and "15:30" not in times  # 3 h from 15:30 would run past 18:00
    assert times[0] == "09:00"


def test_b4_a_hold_hides_the_slot_from_others_only_until_it_expires(client, repair, make_user, frozen_clock):
    a, b = signed_in(client, make_user("a@example.com")), GraphQLClient(client.__class__())
    b.login(make_user("b@example.com").email)
    ten = local(SHANGHAI, 2026, 3, 2, 11, 0)
    token_a = cart(a, [repair.line(repair.pads)])
    held = a.mutate(HOLD, {"t": token_a, "start": iso(ten)})
    assert held["errors"] == [] and held["hold"]["start"].startswith("2026-03-02T03:00:00")  # UTC
    day = {"from": "2026-03-02", "to": "2026-03-02"}
    seen_by_b = local_times(slots(b, shop=repair.shop_id, services=[repair.service_id(repair.pads)], **day),
                            "2026-03-02")
    assert "11:00" not in seen_by_b and "10:30" not in seen_by_b and "11:30" not in seen_by_b  # 1 bay, 60 minutes
    assert "10:00" in seen_by_b and "12:00" in seen_by_b
    seen_by_a = local_times(slots(a, t=token_a, **day), "2026-03-02")
    assert "11:00" in seen_by_a  # the owner still sees (and can book) it
    token_b = cart(b, [repair.line(repair.pads)])
    taken = b.mutate(HOLD, {"t": token_b, "start": iso(ten)})
    assert taken["errors"] == [{"field": "start", "code": "SLOT_TAKEN",
                                "message": "That time was just taken; choose another."}]
    frozen_clock.travel(timedelta(minutes=5, seconds=1))  # A's hold lapses
    seen_by_b = local_times(slots(b, shop=repair.shop_id, services=[repair.service_id(repair.pads)], **day),
                            "2026-03-02")
    assert "11:00" in seen_by_b
    assert b.mutate(HOLD, {"t": token_b, "start": iso(ten)})["errors"] == []


def test_b4_the_owner_books_the_slot_it_holds(client, repair, make_user):
    from .conftest import BOOK

    a = signed_in(client, make_user("a@example.com"))
    token = cart(a, [repair.line(repair.pads)])
    ten = local(SHANGHAI, 2026, 3, 2, 10, 0)
    assert a.mutate(HOLD, {"t": token, "start": iso(ten)})["errors"] == []
    booked = a.mutate(BOOK, {"t": token, "start": iso(ten)})
    assert booked["errors"] == [] and booked["booking"]["status"] == "CONFIRMED"
    assert booked["booking"]["localStart"] == "2026-03-02 10:00"


def test_b5_a_make_up_saturday_opens_and_the_spring_festival_closes(gql, repair, clock_at):
    from plugins.repair_booking.services import setup

    clock_at(local(SHANGHAI, 2026, 2, 10, 8, 0))
    setup.set_weekly_hours(repair.shop, [{"weekday": d, "intervals": [["09:00", "18:00"]]} for d in range(5)])
    service = [repair.service_id(repair.pads)]
    saturday = {"from": "2026-02-28", "to": "2026-02-28"}
    assert slots(gql, shop=repair.shop_id, services=service, **saturday)["days"] == []  # weekends closed
    setup.set_date_exception(repair.shop, date(2026, 2, 28), intervals=[["09:00", "18:00"]], label="调休上班")
    assert local_times(slots(gql, shop=repair.shop_id, services=service, **saturday), "2026-02-28")[0] == "09:00"
    wednesday = {"from": "2026-02-18", "to": "2026-02-18"}
    assert local_times(slots(gql, shop=repair.shop_id, services=service, **wednesday), "2026-02-18")
    setup.set_date_exception(repair.shop, date(2026, 2, 18), closed=True, label="春节 Spring Festival")
    assert slots(gql, shop=repair.shop_id, services=service, **wednesday)["days"] == []


@pytest.fixture
def berlin(make_vendor, taxonomy, clock_at):
    clock_at(local(BERLIN, 2026, 3, 26, 8, 0))
    return RepairShopSetup(make_vendor, taxonomy, slug="berlin-werkstatt", timezone="Europe/Berlin")


def test_b10_berlin_opens_at_nine_local_around_the_spring_change(gql, berlin):
    result = slots(gql, shop=berlin.shop_id, services=[berlin.service_id(berlin.pads)],
                   **{"from": "2026-03-28", "to": "2026-03-30"})
    assert result["timezone"] == "Europe/Berlin"
    firsts = {day["date"]: day["slots"][0] for day in result["days"]}
    assert [firsts[d]["localTime"] for d in ("2026-03-28", "2026-03-29", "2026-03-30")] == ["09:00"] * 3
    # 09:00 CET is 08:00 UTC; after the change 09:00 CEST is 07:00 UTC.
    assert firsts["2026-03-28"]["start"].startswith("2026-03-28T08:00")
    assert firsts["2026-03-29"]["start"].startswith("2026-03-29T07:00")
    assert firsts["2026-03-30"]["start"].startswith("2026-03-30T07:00")


def test_berlin_around_the_autumn_change_and_the_missing_hour(gql, make_vendor, taxonomy, clock_at):
    from plugins.repair_booking.services import setup

    clock_at(local(BERLIN, 2026, 3, 27, 8, 0))
    night = RepairShopSetup(make_vendor, taxonomy, slug="nacht-werkstatt", timezone="Europe/Berlin")
    setup.save_shop(night.vendor.pk, {"min_notice_minutes": 0, "max_advance_days": 365})
    setup.set_weekly_hours(night.shop, [{"weekday": d, "intervals": [["00:00", "06:00"]]} for d in range(7)])
    half_hour = setup.save_service(night.shop, {"code": "check", "name_zh": "检测", "labour_hours": "0.5",
                                                "category_id": taxonomy.maintenance.pk})
    spring = local_times(slots(gql, shop=night.shop_id, services=[night.service_id(half_hour)],
                               **{"from": "2026-03-29", "to": "2026-03-29"}), "2026-03-29")
    assert "01:30" in spring and "02:00" not in spring and "02:30" not in spring and "03:00" in spring
    token = cart(gql, [night.line(half_hour)], email="nacht@example.com")
    missing = gql.mutate(HOLD, {"t": token, "start": "2026-03-29T02:30:00"})  # local wall time, no offset
    assert missing["errors"][0]["field"] == "start" and missing["errors"][0]["code"] == "INVALID"
    assert "does not exist" in missing["errors"][0]["message"]
    clock_at(local(BERLIN, 2026, 10, 20, 8, 0))
    autumn = slots(gql, shop=night.shop_id, services=[night.service_id(half_hour)],
                   **{"from": "2026-10-25", "to": "2026-10-25"})
    times = local_times(autumn, "2026-10-25")
    assert times.count("02:30") == 1 and times.count("02:00") == 1  # the repeated hour is offered once
    assert times[:6] == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]


def test_bad_times_get_field_errors_with_codes(gql, repair, clock_at):
    token = cart(gql, [repair.line(repair.pads)], email="buyer@example.com")

    def hold(start):
        return gql.mutate(HOLD, {"t": token, "start": start})["errors"]

    past = hold(iso(local(SHANGHAI, 2026, 3, 1, 10, 0)))
    assert (past[0]["field"], past[0]["code"]) == ("start", "INVALID") and "past" in past[0]["message"]
    soon = hold(iso(local(SHANGHAI, 2026, 3, 2, 9, 0)))
    assert (soon[0]["field"], soon[0]["code"]) == ("start", "INVALID") and "120 minutes" in soon[0]["message"]
    night = hold(iso(local(SHANGHAI, 2026, 3, 3, 20, 0)))
    assert (night[0]["field"], night[0]["code"]) == ("start", "INVALID") and "opening hours" in night[0]["message"]
    odd = hold(iso(local(SHANGHAI, 2026, 3, 3, 10, 10)))
    assert odd[0]["code"] == "INVALID" and "slot start" in odd[0]["message"]
    late = hold(iso(local(SHANGHAI, 2026, 3, 3, 17, 30)))
    assert late[0]["code"] == "INVALID" and "past closing" in late[0]["message"]
    far = hold(iso(local(SHANGHAI, 2026, 4, 20, 10, 0)))
    assert far[0]["code"] == "INVALID" and "30 days" in far[0]["message"]
    local_wall_time = gql.mutate(HOLD, {"t": token, "start": "2026-03-03T10:00:00"})
    assert local_wall_time["errors"] == [] and local_wall_time["hold"]["start"].startswith("2026-03-03T02:00")


def test_a_range_too_long_and_mixed_bay_types_are_refused(gql, repair):
    result = gql.execute(
        "query($s: ID!, $x: [ID!]) { repairSlots(shopId: $s, serviceIds: $x, dateFrom: \"2026-03-02\", "
        "dateTo: \"2026-04-10\") { durationMinutes } }",
        {"s": repair.shop_id, "x": [repair.service_id(repair.pads)]})
    assert result["errors"][0]["extensions"]["code"] == "INVALID"
    mixed = gql.execute("query($s: ID!, $x: [ID!]) { repairSlots(shopId: $s, serviceIds: $x) { durationMinutes } }",
                        {"s": repair.shop_id, "x": [repair.service_id(repair.pads), repair.service_id(repair.alignment)]})
    assert mixed["errors"][0]["extensions"]["code"] == "INVALID"
    assert mixed["errors"][0]["extensions"]["field"] == "services"


def test_the_first_free_slot_skips_blocked_bays(gql, repair):
    from plugins.repair_booking.services import setup

    setup.block_bay(repair.bays[0], local(SHANGHAI, 2026, 3, 2, 9, 0), local(SHANGHAI, 2026, 3, 2, 14, 0), "lift service")
    result = slots(gql, shop=repair.shop_id, services=[repair.service_id(repair.pads)],
                   **{"from": "2026-03-02", "to": "2026-03-02"})
    assert local_times(result, "2026-03-02")[0] == "14:00"
    assert result["firstFree"].startswith("2026-03-02T06:00")


__all__ = ["MONDAY_8AM", "gid", "datetime"]


def test_dates_at_the_far_ends_of_the_calendar_are_refused_not_crashed(gql, repair):
    """The fuzz test found it: year 1 or 9999 overflowed the time-zone arithmetic."""
    token = cart(gql, [repair.line(repair.pads)], email="far@example.com")
    for start in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:00:00+00:00", "0001-01-01T00:00:00"):
        errors = gql.mutate(HOLD, {"t": token, "start": start})["errors"]
        assert (errors[0]["field"], errors[0]["code"]) == ("start", "INVALID"), (start, errors)
    far = gql.execute("query($s: ID!, $x: [ID!]) { repairSlots(shopId: $s, serviceIds: $x, dateFrom: \"9999-12-31\") "
                      "{ durationMinutes } }", {"s": repair.shop_id, "x": [repair.service_id(repair.pads)]})
    assert far["errors"][0]["extensions"]["code"] == "INVALID" and far["errors"][0]["extensions"]["field"] == "dateFrom"
