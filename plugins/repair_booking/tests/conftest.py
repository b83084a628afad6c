"""Fixtures and client helpers for the repair-booking tests: shops are set up through the
plugin's services (what the staff mutations call); everything a customer or a shop does
afterwards goes through the GraphQL API, as a client would."""
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from marketplace.plugins.testing import GraphQLClient, gid

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
# Monday 2 March 2026, 08:00 in Beijing: the tests' "now" unless they say otherwise.
MONDAY_8AM = datetime(2026, 3, 2, 8, 0, tzinfo=SHANGHAI)

CREATE = """mutation($lines: [CheckoutLineInput!], $email: String) { checkoutCreate(lines: $lines, email: $email) {
  checkout { token } errors { field code message } } }"""
ADD = """mutation($t: UUID!, $lines: [CheckoutLineInput!]!) { checkoutLinesAdd(token: $t, lines: $lines) {
  checkout { token } errors { field code message } } }"""
SLOTS = """query($shop: ID, $services: [ID!], $t: UUID, $from: Date, $to: Date, $car: ID, $parts: Boolean) {
  repairSlots(shopId: $shop, serviceIds: $services, checkoutToken: $t, dateFrom: $from, dateTo: $to,
              garageVehicleId: $car, installParts: $parts) {
    durationMinutes bayType earliestStart firstFree timezone
    days { date slots { start end localTime freeBays } } } }"""
HOLD = """mutation($t: UUID!, $start: DateTime!, $car: ID, $parts: Boolean) {
  bookingHold(token: $t, start: $start, garageVehicleId: $car, installParts: $parts) {
    hold { start end expiresAt installParts } errors { field code message } } }"""
BOOK = """mutation($t: UUID!, $start: DateTime!, $car: ID, $parts: Boolean, $g: String) {
  bookingCreate(token: $t, start: $start, garageVehicleId: $car, installParts: $parts, gateway: $g) {
    booking { id status start end localStart bayName labourAmount { amount } }
    orderId orderNumber amountDue { amount } clientSecret errors { field code message } } }"""
COMPLETE = """mutation($t: UUID!, $g: String) { checkoutComplete(token: $t, gateway: $g) {
  order { id number status total { amount }
          vendorOrders { id vendor { slug } shippingAddress deliveryLabel total { amount }
                         lines { kind sku unitPrice { amount } total { amount } fulfilled metadata } } }
  payment { clientSecret amount { amount } } errors { field code message } } }"""
CONFIRM = """mutation($s: String!) { devPaymentConfirm(clientSecret: $s) { status errors { field code message } } }"""
VIEW = """query($t: UUID!) { checkout(token: $t) { total { amount }
  lines { id kind sku metadata unitPrice { list { amount } final { amount } floorApplied
          adjustments { source label amount { amount } } } }
  vendors { vendor { slug } deliveryAddress deliveryLabel } } }"""
MY_BOOKINGS = """{ myRepairBookings(first: 20) { totalCount edges { node { id status start localStart orderNumber
  labourAmount { amount } refundDue { amount } refundFee { amount } refunded extraWork { id status } } } } }"""
BOOKING_FIELDS = "id status start end localStart refundDue { amount } refundFee { amount } refunded installedParts"


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


class RepairShopSetup:
    """A Beijing shop: one general bay, open 09:00-18:00 every day, 120 CNY/h, 30-minute
    slots, 2 h notice; services: brake pads (0.8 h), a 3-hour job, an alignment (1 h,
    alignment bay)."""

    def __init__(self, make_vendor, taxonomy, slug="fix-it", timezone="Asia/Shanghai", bays=1):
        from plugins.repair_booking.services import setup

        self.vendor = make_vendor(slug, kind="repair_shop", name_zh="望京修车铺", phone="010-84716633",
                                  province="北京市", city="北京市", district="朝阳区", street="望京街10号",
                                  latitude="39.996521", longitude="116.470108")
        self.shop = setup.save_shop(self.vendor.pk, {"labour_rate": "120", "timezone": timezone})
        setup.set_weekly_hours(self.shop, [{"weekday": d, "intervals": [["09:00", "18:00"]]} for d in range(7)])
        self.bays = [setup.save_bay(self.shop, {"name": f"{i + 1}号工位"})[0] for i in range(bays)]
        self.alignment_bay, _ = setup.save_bay(self.shop, {"name": "四轮定位", "bay_type": "alignment"})
        self.pads = setup.save_service(self.shop, {"code": "brake-pads", "name_zh": "刹车片更换", "name_en": "Brake pads",
                                                   "labour_hours": "0.8", "category": "brakes",
                                                   "category_id": taxonomy.maintenance.pk})
        self.long_job = setup.save_service(self.shop, {"code": "clutch", "name_zh": "离合器更换", "labour_hours": "3",
                                                       "category": "maintenance",
                                                       "category_id": taxonomy.maintenance.pk})
        self.alignment = setup.save_service(self.shop, {"code": "alignment", "name_zh": "四轮定位", "labour_hours": "1",
                                                        "bay_type": "alignment", "category": "alignment",
                                                        "category_id": taxonomy.maintenance.pk})
        self.shop_id = gid("Vendor", self.vendor.pk)

    def line(self, service, quantity=1):
        return {"variantId": gid("ProductVariant", service.variant_id), "quantity": quantity}

    def service_id(self, service):
        return gid("RepairService", service.pk)


@pytest.fixture
def clock_at(frozen_clock):
    def freeze(instant=MONDAY_8AM):
        frozen_clock(instant)
        return instant

    freeze()
    return freeze


@pytest.fixture
def repair(make_vendor, taxonomy, clock_at):
    return RepairShopSetup(make_vendor, taxonomy)


def signed_in(client, user):
    api = GraphQLClient(client)
    api.login(user.email)
    return api


def cart(api, lines, email=None):
    created = api.mutate(CREATE, {"lines": lines, "email": email})
    assert created["errors"] == [], created["errors"]
    return created["checkout"]["token"]


def slots(api, **variables):
    return api.data(SLOTS, variables)["repairSlots"]


def starts(result):
    return [slot["start"] for day in result["days"] for slot in day["slots"]]


def local_times(result, day):
    return [slot["localTime"] for d in result["days"] if d["date"] == day for slot in d["slots"]]


def iso(instant):
    return instant.isoformat()


def pay(api, placed):
    confirmed = api.mutate(CONFIRM, {"s": placed["payment"]["clientSecret"] if "payment" in placed
                                     else placed["clientSecret"]})
    assert confirmed["errors"] == [] and confirmed["status"] == "captured", confirmed
    return confirmed


@pytest.fixture
def plan(db):
    """The membership plugin's yearly plan (20 % off labour, 2 free tows of up to 30 km)."""
    from plugins.membership.services import setup

    return setup.save_plan({"code": "annual", "name_zh": "年卡会员", "name_en": "Annual membership",
                            "price": "168.00", "term_months": 12, "parts_discount_percent": "5",
                            "labour_discount_percent": "20", "free_towing_per_term": 2, "free_towing_km": 30})


@pytest.fixture
def make_member(make_user, plan):
    """A user with an active membership (granted by the platform)."""
    from plugins.membership.services import memberships

    def make(email="member@example.com"):
        user = make_user(email)
        memberships.grant(user.pk, "annual", "test")
        return user

    return make


@pytest.fixture
def garage(db):
    """The vehicle registry and a helper putting a car in a member's garage."""
    from plugins.parts_storefront import services as parts

    make = parts.create_make({"name_zh": "丰田", "name_en": "Toyota", "slug": "toyota"})
    model = parts.create_model(make, {"name_zh": "卡罗拉", "name_en": "Corolla", "slug": "corolla"})
    corolla = parts.create_vehicle(model, {"year_from": 2019, "year_to": 2023, "engine": "1.2T"})
    other = parts.create_vehicle(parts.create_model(make, {"name_zh": "凯美瑞", "name_en": "Camry", "slug": "camry"}),
                                 {"year_from": 2018, "year_to": 2023, "engine": "2.0L"})

    class Garage:
        pass

    g = Garage()
    g.corolla, g.camry = corolla, other

    def add(user, vehicle=corolla, year=2020):
        item = parts.add_garage_vehicle(user, vehicle.pk, year)
        return gid("GarageVehicle", item.pk)

    g.add = add
    return g


ZERO = Decimal("0.00")
__all__ = ["timedelta"]
