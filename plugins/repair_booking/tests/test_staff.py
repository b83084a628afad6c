"""Shop set-up by its staff through the API, the calendar, the bookings list, vendor
isolation and the `booking` entitlement."""
from datetime import date

import pytest

from marketplace.plugins.testing import GraphQLClient, gid

from .conftest import BOOK, SHANGHAI, cart, iso, local, signed_in

pytestmark = pytest.mark.django_db

SHOP_UPDATE = """mutation($v: ID!, $i: RepairShopInput!) { repairShopUpdate(vendorId: $v, input: $i) {
  shop { timezone labourRate { amount } slotMinutes holdMinutes accepting } errors { field code message } } }"""
HOURS = """mutation($v: ID!, $d: [RepairWeeklyHoursInput!]!) { repairHoursSet(vendorId: $v, days: $d) {
  shop { weeklyHours { weekday intervals } } conflicts { id localStart } errors { field code message } } }"""
EXCEPTION = """mutation($v: ID!, $d: Date!, $c: Boolean, $i: [[String!]!], $l: String) {
  repairDateExceptionSet(vendorId: $v, date: $d, closed: $c, intervals: $i, label: $l) {
  shop { dateExceptions { date closed intervals label } } conflicts { id } errors { field code message } } }"""
BAY_CREATE = """mutation($v: ID!, $i: RepairBayInput!) { repairBayCreate(vendorId: $v, input: $i) {
  bay { id name bayType isActive } errors { field code message } } }"""
BAY_UPDATE = """mutation($id: ID!, $i: RepairBayInput!) { repairBayUpdate(id: $id, input: $i) {
  bay { isActive } conflicts { id } errors { field code message } } }"""
SERVICE_CREATE = """mutation($v: ID!, $i: RepairServiceInput!) { repairServiceCreate(vendorId: $v, input: $i) {
  service { id code listPrice { amount } durationMinutes bayType
            variant { id sku price { final { amount } } } }
  errors { field code message } } }"""
CALENDAR = """query($v: ID!, $f: Date, $t: Date) { repairShopCalendar(vendorId: $v, dateFrom: $f, dateTo: $t) {
  date opening bays { bay { name } bookings { localStart status } blocks { reason } } } }"""
BOOKINGS = """query($v: ID) { repairBookings(vendorId: $v, first: 10) { totalCount
  edges { node { id status customerEmail shop { slug } extraWork { id } } } } }"""


@pytest.fixture
def owner(client, repair):
    api = GraphQLClient(client)
    api.login(repair.vendor.owner.email)
    return api


def test_the_owner_sets_up_the_shop(owner, repair, taxonomy):
    changed = owner.mutate(SHOP_UPDATE, {"v": repair.shop_id, "i": {"labourRate": "150", "slotMinutes": 15,
                                                                     "holdMinutes": 10, "accepting": True}})
    assert changed["errors"] == [] and changed["shop"]["labourRate"]["amount"] == "150.00"
    pads = owner.data("query($s: ID!) { repairShop(shopId: $s) { services { code listPrice { amount } } } }",
                      {"s": repair.shop_id})["repairShop"]["services"]
    assert {s["code"]: s["listPrice"]["amount"] for s in pads}["brake-pads"] == "120.00"  # re-priced: 0.8 x 150
    bad = owner.mutate(SHOP_UPDATE, {"v": repair.shop_id, "i": {"timezone": "Mars/Olympus"}})
    assert bad["errors"][0]["field"] == "timezone"
    too_small = owner.mutate(SHOP_UPDATE, {"v": repair.shop_id, "i": {"slotMinutes": 1}})
    assert too_small["errors"][0]["field"] == "slotMinutes"
    created = owner.mutate(SERVICE_CREATE, {"v": repair.shop_id, "i": {
        "code": "oil-change", "nameZh": "机油更换", "labourHours": "0.5", "category": "MAINTENANCE",
        "categoryId": gid("Category", taxonomy.maintenance.pk)}})
    assert created["errors"] == []
    service = created["service"]
    assert service["listPrice"]["amount"] == "75.00" and service["durationMinutes"] == 30
    from graphql_relay import from_global_id

    from marketplace.plugins.catalog import variant_info

    sold_as = variant_info(int(from_global_id(service["variant"]["id"])[1]))
    assert sold_as.track_inventory is False and sold_as.product.requires_shipping is False
    assert service["variant"]["sku"] == f"SVC-{repair.vendor.pk}-OIL-CHANGE"
    dup = owner.mutate(SERVICE_CREATE, {"v": repair.shop_id, "i": {"code": "oil-change", "nameZh": "又一个",
                                                                   "labourHours": "1",
                                                                   "categoryId": gid("Category", taxonomy.maintenance.pk)}})
    assert dup["errors"][0]["code"] == "UNIQUE"


def test_hours_and_exceptions_never_move_bookings_they_report_them(owner, client, repair, make_user):
    customer = signed_in(client.__class__(), make_user("c@example.com"))
    token = cart(customer, [repair.line(repair.pads)])
    assert customer.mutate(BOOK, {"t": token, "start": iso(local(SHANGHAI, 2026, 3, 3, 16, 0))})["errors"] == []
    lunch = [{"weekday": d, "intervals": [["09:00", "12:00"], ["13:00", "15:00"]]} for d in range(6)]
    result = owner.mutate(HOURS, {"v": repair.shop_id, "d": lunch})
    assert result["errors"] == [] and [c["localStart"] for c in result["conflicts"]] == ["2026-03-03 16:00"]
    assert result["shop"]["weeklyHours"][0]["intervals"] == [["09:00", "12:00"], ["13:00", "15:00"]]
    overlapping = owner.mutate(HOURS, {"v": repair.shop_id, "d": [{"weekday": 0, "intervals": [["09:00", "12:00"],
                                                                                              ["11:00", "15:00"]]}]})
    assert overlapping["errors"][0]["field"] == "days.0.intervals"
    closed = owner.mutate(EXCEPTION, {"v": repair.shop_id, "d": "2026-03-03", "c": True, "l": "停电 Power cut"})
    assert closed["errors"] == [] and len(closed["conflicts"]) == 1
    assert closed["shop"]["dateExceptions"] == [{"date": "2026-03-03", "closed": True, "intervals": [],
                                                 "label": "停电 Power cut"}]
    from plugins.repair_booking.models import RepairBooking

    assert RepairBooking.objects.get().status == "confirmed"  # still there: staff decide


def test_bays_deactivated_keep_their_bookings(owner, client, repair, make_user):
    created = owner.mutate(BAY_CREATE, {"v": repair.shop_id, "i": {"name": "EV工位", "bayType": "EV"}})
    assert created["errors"] == [] and created["bay"]["bayType"] == "EV"
    assert owner.mutate(BAY_CREATE, {"v": repair.shop_id, "i": {"name": "EV工位"}})["errors"][0]["code"] == "UNIQUE"
    customer = signed_in(client.__class__(), make_user("c@example.com"))
    token = cart(customer, [repair.line(repair.pads)])
    assert customer.mutate(BOOK, {"t": token, "start": iso(local(SHANGHAI, 2026, 3, 3, 10, 0))})["errors"] == []
    off = owner.mutate(BAY_UPDATE, {"id": gid("RepairBay", repair.bays[0].pk), "i": {"isActive": False}})
    assert off["bay"]["isActive"] is False and len(off["conflicts"]) == 1


def test_the_calendar_shows_bookings_per_bay_per_day(owner, client, repair, make_user):
    from plugins.repair_booking.services import setup

    customer = signed_in(client.__class__(), make_user("c@example.com"))
    token = cart(customer, [repair.line(repair.pads)])
    assert customer.mutate(BOOK, {"t": token, "start": iso(local(SHANGHAI, 2026, 3, 3, 10, 0))})["errors"] == []
    setup.block_bay(repair.alignment_bay, local(SHANGHAI, 2026, 3, 3, 9, 0), local(SHANGHAI, 2026, 3, 3, 11, 0),
                    "设备校准")
    days = owner.data(CALENDAR, {"v": repair.shop_id, "f": "2026-03-02", "t": "2026-03-04"})["repairShopCalendar"]
    assert [d["date"] for d in days] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    tuesday = {b["bay"]["name"]: b for b in days[1]["bays"]}
    assert tuesday["1号工位"]["bookings"] == [{"localStart": "2026-03-03 10:00", "status": "CONFIRMED"}]
    assert tuesday["四轮定位"]["blocks"] == [{"reason": "设备校准"}]
    assert days[1]["opening"] == [["09:00", "18:00"]]
    listed = owner.data(BOOKINGS, {"v": repair.shop_id})["repairBookings"]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["customerEmail"] == "c@example.com"
    assert customer.execute(CALENDAR, {"v": repair.shop_id})["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert customer.execute(BOOKINGS, {})["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


def test_vendors_are_isolated_and_only_shops_take_bookings(client, repair, make_vendor):
    rival = make_vendor("rival", kind="repair_shop")
    parts = make_vendor("parts-only")
    api = signed_in(client, rival.owner)
    refused = api.mutate(SHOP_UPDATE, {"v": repair.shop_id, "i": {"labourRate": "1"}})
    assert refused["errors"][0]["code"] == "PERMISSION_DENIED"
    assert api.mutate(BAY_UPDATE, {"id": gid("RepairBay", repair.bays[0].pk), "i": {"isActive": False}})["errors"][0][
        "code"] == "PERMISSION_DENIED"
    seller = signed_in(client.__class__(), parts.owner)
    wrong_kind = seller.mutate(SHOP_UPDATE, {"v": gid("Vendor", parts.pk), "i": {"labourRate": "100"}})
    assert wrong_kind["errors"][0]["field"] == "vendorId" and "repair shops" in wrong_kind["errors"][0]["message"]


def test_without_the_booking_entitlement_the_shop_takes_no_bookings(client, repair, plugin, owner):
    from marketplace.plugins import hookimpl

    class NoBooking:
        @hookimpl
        def vendor_entitlements(self, vendor_ids):
            return {vid: {"booking": False} for vid in vendor_ids if vid == repair.vendor.pk}

    plugin(NoBooking(), "plan_without_booking")
    refused = owner.mutate(SHOP_UPDATE, {"v": repair.shop_id, "i": {"labourRate": "99"}})
    assert refused["errors"][0]["code"] == "ENTITLEMENT_REQUIRED"
    result = GraphQLClient(client.__class__()).execute(
        "query($s: ID!, $x: [ID!]) { repairSlots(shopId: $s, serviceIds: $x) { durationMinutes } }",
        {"s": repair.shop_id, "x": [repair.service_id(repair.pads)]})
    assert result["errors"][0]["extensions"]["code"] == "ENTITLEMENT_REQUIRED"


def test_an_exception_can_be_removed(owner, repair):
    owner.mutate(EXCEPTION, {"v": repair.shop_id, "d": "2026-03-07", "i": [["10:00", "14:00"]], "l": "短日"})
    cleared = owner.mutate(EXCEPTION, {"v": repair.shop_id, "d": "2026-03-07"})
    assert cleared["shop"]["dateExceptions"] == []
    assert date(2026, 3, 7)
