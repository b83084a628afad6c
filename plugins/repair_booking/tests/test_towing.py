"""Towing for members (B9): free within the allowance and distance, the part beyond paid
through a standalone charge, dispatch states, the allowance consumed on delivery and
given back on cancel or failure."""
import pytest

from marketplace.plugins.testing import GraphQLClient

from .conftest import signed_in

pytestmark = pytest.mark.django_db

REQUEST = """mutation($s: ID!, $p: TowPickupInput!) { towRequest(shopId: $s, pickup: $p) {
  tow { id status distanceKm freeKm listAmount { amount } freeAmount { amount } paidAmount { amount } }
  errors { field code message } } }"""
QUOTE = """query($s: ID!, $p: TowPickupInput!) { towQuote(shopId: $s, pickup: $p) {
  distanceKm freeKm paidAmount { amount } listAmount { amount } member } }"""
ADVANCE = """mutation($id: ID!, $st: TowStatus!, $d: String, $r: String) { towAdvance(id: $id, status: $st, driver: $d,
  reason: $r) { tow { id status paidAmount { amount } } errors { field code message } } }"""
CANCEL = """mutation($id: ID!) { towCancel(id: $id) { tow { status } errors { field code message } } }"""
PAY = """mutation($id: ID!) { towPay(id: $id, gateway: "dev") { clientSecret amount { amount }
  errors { field code message } } }"""
MY = """{ myMembership { benefits { freeTowingUsed freeTowingLeft } } }"""
# The shop is at 39.996521, 116.470108 (Wangjing). About 5 km (x 1.3 road factor) south-west:
NEAR = {"lat": 39.96, "lon": 116.43, "address": "三元桥"}
FAR = {"lat": 39.75, "lon": 116.30, "address": "大兴"}  # ~31 km straight, ~40 km by road


def _deliver(staff_api, tow_id):
    for status, driver in (("DISPATCHED", "京A·拖车01"), ("EN_ROUTE", None), ("ON_SITE", None), ("TOWING", None),
                           ("DELIVERED", None)):
        result = staff_api.mutate(ADVANCE, {"id": tow_id, "st": status, "d": driver})
        assert result["errors"] == [], result["errors"]
    return result["tow"]


def test_b9_a_free_tow_is_used_on_delivery_and_beyond_30_km_only_the_rest_is_paid(client, repair, make_member,
                                                                                   staff_gql):
    from marketplace.plugins.ledger import account_total

    member = signed_in(client, make_member())
    near = member.mutate(REQUEST, {"s": repair.shop_id, "p": NEAR})
    assert near["errors"] == []
    assert near["tow"]["paidAmount"]["amount"] == "0.00" and near["tow"]["status"] == "REQUESTED"
    assert member.data(MY)["myMembership"]["benefits"]["freeTowingLeft"] == 2  # consumed on delivery, not before
    busy = member.mutate(REQUEST, {"s": repair.shop_id, "p": NEAR})
    assert busy["errors"][0]["code"] == "LIMIT_EXCEEDED"  # one tow at a time
    delivered = _deliver(staff_gql, near["tow"]["id"])
    assert delivered["status"] == "DELIVERED"
    assert member.data(MY)["myMembership"]["benefits"]["freeTowingLeft"] == 1
    assert account_total("towing_partner_payable") > 0  # the membership booked the free tow's cost
    quote = member.data(QUOTE, {"s": repair.shop_id, "p": FAR})["towQuote"]
    km = float(quote["distanceKm"])
    assert km > 30 and quote["freeKm"] == "30.00" and quote["member"] is True
    expected = round((km - 30) * 8.0, 2)  # tow_per_km 8.00 beyond the 30 free km; the base is covered
    assert abs(float(quote["paidAmount"]["amount"]) - expected) < 0.011
    far = member.mutate(REQUEST, {"s": repair.shop_id, "p": FAR})["tow"]
    assert far["paidAmount"] == quote["paidAmount"]
    _deliver(staff_gql, far["id"])
    assert member.data(MY)["myMembership"]["benefits"]["freeTowingLeft"] == 0
    payment = member.mutate(PAY, {"id": far["id"]})
    assert payment["errors"] == [] and payment["amount"] == quote["paidAmount"]
    confirmed = member.mutate("""mutation($s: String!) { devPaymentConfirm(clientSecret: $s) { status } }""",
                              {"s": payment["clientSecret"]})
    assert confirmed["status"] == "captured"
    assert member.mutate(PAY, {"id": far["id"]})["errors"][0]["code"] == "INVALID_STATE"  # paid once


def test_non_members_pay_the_full_quote(client, repair, make_user):
    driver = signed_in(client, make_user("driver@example.com"))
    tow = driver.mutate(REQUEST, {"s": repair.shop_id, "p": NEAR})["tow"]
    assert tow["paidAmount"] == tow["listAmount"] and tow["freeKm"] == "0.00"


def test_cancel_and_failure_leave_the_allowance_untouched(client, repair, make_member, staff_gql):
    member = signed_in(client, make_member())
    first = member.mutate(REQUEST, {"s": repair.shop_id, "p": NEAR})["tow"]
    assert member.mutate(CANCEL, {"id": first["id"]})["tow"]["status"] == "CANCELLED"
    second = member.mutate(REQUEST, {"s": repair.shop_id, "p": NEAR})["tow"]
    staff_gql.mutate(ADVANCE, {"id": second["id"], "st": "DISPATCHED", "d": "京A·拖车02"})
    no_reason = staff_gql.mutate(ADVANCE, {"id": second["id"], "st": "FAILED"})
    assert no_reason["errors"][0]["code"] == "REQUIRED"
    assert staff_gql.mutate(ADVANCE, {"id": second["id"], "st": "FAILED", "r": "车辆无法拖动"})["errors"] == []
    assert member.data(MY)["myMembership"]["benefits"]["freeTowingLeft"] == 2
    skipping = member.mutate(REQUEST, {"s": repair.shop_id, "p": NEAR})["tow"]
    jump = staff_gql.mutate(ADVANCE, {"id": skipping["id"], "st": "DELIVERED"})
    assert jump["errors"][0]["code"] == "INVALID_STATE"
    staff_gql.mutate(ADVANCE, {"id": skipping["id"], "st": "DISPATCHED", "d": "x"})
    staff_gql.mutate(ADVANCE, {"id": skipping["id"], "st": "EN_ROUTE"})
    staff_gql.mutate(ADVANCE, {"id": skipping["id"], "st": "ON_SITE"})
    assert member.mutate(CANCEL, {"id": skipping["id"]})["errors"][0]["code"] == "INVALID_STATE"


def test_only_platform_staff_dispatch_and_only_the_member_pays(client, repair, make_member, make_user):
    member = signed_in(client, make_member())
    tow = member.mutate(REQUEST, {"s": repair.shop_id, "p": NEAR})["tow"]
    assert member.mutate(ADVANCE, {"id": tow["id"], "st": "DISPATCHED", "d": "me"})["errors"][0]["code"] \
        == "PERMISSION_DENIED"
    other = GraphQLClient(client.__class__())
    other.login(make_user("other@example.com").email)
    assert other.mutate(CANCEL, {"id": tow["id"]})["errors"][0]["code"] == "NOT_FOUND"


def test_gps_points_are_converted_to_gcj02(client, repair, make_user):
    from plugins.repair_booking.services.towing import wgs84_to_gcj02

    lat, lon = wgs84_to_gcj02(39.9, 116.4)
    assert 0.0005 < abs(lat - 39.9) < 0.01 and 0.004 < abs(lon - 116.4) < 0.01  # a few hundred metres in Beijing
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)  # outside China: unchanged
    driver = signed_in(client, make_user("gps@example.com"))
    tow = driver.mutate(REQUEST, {"s": repair.shop_id, "p": {**NEAR, "wgs84": True}})
    assert tow["errors"] == []
