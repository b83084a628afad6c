"""Parts + installation in one checkout (B7), fitment against the member's car, and the
installed part numbers checked against what was sold (B8)."""
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.plugins.testing import GraphQLClient, gid

from .conftest import COMPLETE, HOLD, SHANGHAI, SLOTS, VIEW, cart, iso, local, pay, signed_in, starts
from .test_lifecycle import ACTION, BOOKING_FIELDS, COMPLETE_BOOKING, DECIDE, PROPOSE

pytestmark = pytest.mark.django_db
SHIP = """mutation($t: UUID!, $v: ID!, $m: ID!) { checkoutShippingMethodUpdate(token: $t, vendorId: $v,
  shippingMethodId: $m) { errors { field code message } } }"""


class PartsVendor:
    def __init__(self, make_vendor, make_product):
        from marketplace.checkout.models import ShippingMethod
        from marketplace.plugins.catalog import variant_info
        from plugins.parts_storefront import services as parts

        self.vendor = make_vendor("parts-a", name_zh="甲汽配")
        self.pads = make_product(self.vendor, "corolla-pads", price="200.00", stock=20).variants.first()
        self.method = ShippingMethod.objects.create(vendor=self.vendor, name_zh="顺丰", price=Decimal("12.00"))
        parts.set_part_numbers(variant_info(self.pads.pk), [{"number": "04465-02220", "kind": "oe"}])
        self.info = variant_info(self.pads.pk)


@pytest.fixture
def parts_a(make_vendor, make_product):
    return PartsVendor(make_vendor, make_product)


@pytest.fixture
def member_api(client, make_user):
    user = make_user("driver@example.com")
    api = signed_in(client, user)
    api.user = user
    return api


def _installation_cart(api, repair, parts_a):
    token = cart(api, [{"variantId": gid("ProductVariant", parts_a.pads.pk), "quantity": 1},
                       repair.line(repair.pads)])
    assert api.mutate(SHIP, {"t": token, "v": gid("Vendor", parts_a.vendor.pk),
                             "m": gid("ShippingMethod", parts_a.method.pk)})["errors"] == []
    return token


def test_b7_parts_and_installation_in_one_checkout(member_api, repair, parts_a):
    from plugins.repair_booking.models import RepairBooking

    token = _installation_cart(member_api, repair, parts_a)
    offered = member_api.data(SLOTS, {"t": token, "parts": True, "from": "2026-03-02", "to": "2026-03-08"})["repairSlots"]
    # Monday 08:00 + 2 days (vendor A: 1 day to dispatch, 1 in transit) + 24 h margin = Thursday 08:00
    assert offered["earliestStart"].startswith("2026-03-05T00:00")
    first = min(starts(offered))
    assert first.startswith("2026-03-05T01:00")  # Thursday 09:00 Beijing
    assert all(s >= "2026-03-05T00:00" for s in starts(offered))
    without_parts = member_api.data(SLOTS, {"t": token, "from": "2026-03-02", "to": "2026-03-02"})["repairSlots"]
    assert starts(without_parts)  # booking the labour alone could be today
    too_early = member_api.mutate(HOLD, {"t": token, "start": iso(local(SHANGHAI, 2026, 3, 3, 10, 0)), "parts": True})
    assert too_early["errors"][0]["field"] == "start" and "parts" in too_early["errors"][0]["message"]
    thursday = local(SHANGHAI, 2026, 3, 5, 10, 0)
    held = member_api.mutate(HOLD, {"t": token, "start": iso(thursday), "parts": True})
    assert held["errors"] == [] and held["hold"]["installParts"] is True
    view = member_api.data(VIEW, {"t": token})["checkout"]
    redirected = {p["vendor"]["slug"]: p for p in view["vendors"]}
    assert json.loads(redirected["parts-a"]["deliveryAddress"])["street"] == "望京街10号"
    assert redirected["parts-a"]["deliveryLabel"].startswith("送至安装门店")
    placed = member_api.mutate(COMPLETE, {"t": token, "g": "dev"})  # no cart address needed: the parts go to the shop
    assert placed["errors"] == [], placed["errors"]
    parts = {vo["vendor"]["slug"]: vo for vo in placed["order"]["vendorOrders"]}
    assert set(parts) == {"parts-a", "fix-it"}
    address = json.loads(parts["parts-a"]["shippingAddress"])
    assert address["full_name"].startswith("望京修车铺") and address["district"] == "朝阳区"
    assert parts["parts-a"]["deliveryLabel"].startswith("送至安装门店")
    assert parts["fix-it"]["lines"][0]["sku"].startswith("SVC-")
    booking = RepairBooking.objects.get()
    assert booking.status == "confirmed" and booking.start == thursday and len(booking.part_line_ids) == 1


def test_fitment_is_checked_against_the_chosen_car(member_api, repair, parts_a, garage):
    from marketplace.plugins.catalog import variant_info
    from plugins.parts_storefront import services as parts

    corolla = garage.add(member_api.user, garage.corolla, 2020)
    parts.set_fitments(variant_info(parts_a.pads.pk), [garage.camry.pk])  # pads for the Camry only
    token = _installation_cart(member_api, repair, parts_a)
    thursday = iso(local(SHANGHAI, 2026, 3, 5, 10, 0))
    refused = member_api.mutate(HOLD, {"t": token, "start": thursday, "parts": True, "car": corolla})
    assert refused["errors"][0]["field"] == "lines.0" and refused["errors"][0]["code"] == "INVALID"
    assert "corolla-pads-1" in refused["errors"][0]["message"]
    parts.set_fitments(variant_info(parts_a.pads.pk), [garage.corolla.pk])
    assert member_api.mutate(HOLD, {"t": token, "start": thursday, "parts": True, "car": corolla})["errors"] == []
    # a service limited to other cars is refused too, in the slot query as in the hold
    parts.set_fitments(variant_info(repair.pads.variant_id), [garage.camry.pk])
    result = member_api.execute(SLOTS, {"shop": repair.shop_id, "services": [repair.service_id(repair.pads)],
                                        "car": corolla})
    assert result["errors"][0]["extensions"]["code"] == "INVALID"
    assert result["errors"][0]["extensions"]["field"] == "serviceIds.0"
    refused = member_api.mutate(HOLD, {"t": token, "start": thursday, "parts": True, "car": corolla})
    assert refused["errors"][0]["field"] == "lines.1"


def test_someone_elses_car_is_not_found(member_api, repair, garage, make_user):
    theirs = garage.add(make_user("neighbour@example.com"))
    token = cart(member_api, [repair.line(repair.pads)])
    refused = member_api.mutate(HOLD, {"t": token, "start": iso(local(SHANGHAI, 2026, 3, 2, 14, 0)), "car": theirs})
    assert refused["errors"] == [{"field": "garageVehicleId", "code": "NOT_FOUND",
                                  "message": "This vehicle is not in your garage."}]


def test_a_service_that_needs_its_parts_asks_for_them(member_api, repair, taxonomy, parts_a):
    from plugins.repair_booking.services import setup

    setup.save_service(repair.shop, {"required_part_categories": [taxonomy.pads.pk]}, service=repair.pads)
    token = cart(member_api, [repair.line(repair.pads)])
    refused = member_api.mutate(HOLD, {"t": token, "start": iso(local(SHANGHAI, 2026, 3, 2, 14, 0))})
    assert refused["errors"][0]["code"] == "REQUIRED" and refused["errors"][0]["field"] == "lines.0"


@pytest.fixture
def installed(member_api, repair, parts_a, client, frozen_clock):
    """Pads from vendor A installed at the shop: paid, checked in and in service."""
    token = _installation_cart(member_api, repair, parts_a)
    thursday = local(SHANGHAI, 2026, 3, 5, 10, 0)
    assert member_api.mutate(HOLD, {"t": token, "start": iso(thursday), "parts": True})["errors"] == []
    placed = member_api.mutate(COMPLETE, {"t": token, "g": "dev"})
    pay(member_api, placed)
    shop = GraphQLClient(client.__class__())
    shop.login(repair.vendor.owner.email)
    booking_id = member_api.data("{ myRepairBookings { edges { node { id } } } }")["myRepairBookings"]["edges"][0][
        "node"]["id"]
    frozen_clock(thursday - timedelta(minutes=10))
    for name in ("bookingCheckIn", "bookingStart"):
        assert shop.mutate(ACTION.format(name=name, fields=BOOKING_FIELDS), {"id": booking_id})["errors"] == []
    return shop, booking_id


def test_b8_another_part_number_without_an_approved_substitution_is_refused(installed, member_api):
    shop, booking_id = installed
    wrong = shop.mutate(COMPLETE_BOOKING, {"id": booking_id, "parts": [{"partNumber": "04465-99999"}]})
    assert wrong["errors"][0]["code"] == "INVALID"
    assert wrong["errors"][0]["field"] == "installedParts.0.partNumber"
    nothing = shop.mutate(COMPLETE_BOOKING, {"id": booking_id, "parts": []})
    assert nothing["errors"][0]["code"] == "REQUIRED"
    right = shop.mutate(COMPLETE_BOOKING, {"id": booking_id, "parts": [{"partNumber": "04465 02220",
                                                                        "photoId": "img-1"}]})
    assert right["errors"] == [] and right["booking"]["status"] == "COMPLETED"
    assert right["booking"]["installedParts"] == [{"part_number": "0446502220", "photo_id": "img-1"}]


def test_b8_an_approved_substitution_is_accepted(installed, member_api):
    shop, booking_id = installed
    proposed = shop.mutate(PROPOSE, {"b": booking_id, "i": {"description": "原厂缺货，换用同规格博世刹车片",
                                                            "replacesPartNumber": "04465-02220",
                                                            "substitutePartNumber": "0986AB1234"}})
    assert proposed["errors"] == [] and proposed["extraWork"]["amount"]["amount"] == "0.00"
    assert member_api.mutate(DECIDE, {"id": proposed["extraWork"]["id"], "ok": True})["errors"] == []
    done = shop.mutate(COMPLETE_BOOKING, {"id": booking_id, "parts": [{"partNumber": "0986-AB1234"}]})
    assert done["errors"] == [] and done["booking"]["status"] == "COMPLETED"


__all__ = ["starts"]
