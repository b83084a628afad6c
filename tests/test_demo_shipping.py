"""The demo vendors ship (issue 16): after `populatedb` every vendor offers realistic
shipping methods, a buyer sees priced options and can place an order; a vendor with no
shipping method says so at completion instead of asking for a choice that does not exist."""
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from fixtures import catalog_demo, demo
from tests.conftest import GraphQLClient, gid

VENDORS = """{ vendors(first: 50) { edges { node { id slug kind } } } }"""
METHODS = """query($v: ID!) { shippingMethods(vendorId: $v) {
  id nameZh nameEn kind price pricePerKg freeOver isActive } }"""
PRODUCTS = """query($v: ID!) { products(first: 50, filter: {vendors: [$v], inStock: true}) {
  edges { node { slug variants { id sku available price { final { amount } } } } } } }"""
CREATE = """mutation($lines: [CheckoutLineInput!]) { checkoutCreate(lines: $lines) {
  checkout { token } errors { field code message } } }"""
VIEW = """query($t: UUID!) { checkout(token: $t) { total { amount }
  vendors { vendor { id slug } subtotal { amount } shipping { amount }
            shippingOptions { method { id nameEn kind freeOver } cost { amount } } } } }"""
ADDRESS = """mutation($t: UUID!) { checkoutShippingAddressUpdate(token: $t, address: {fullName: "王小明",
  phone: "13800138000", province: "北京市", city: "北京市", district: "朝阳区", street: "建国路88号"}) {
  errors { field code } } }"""
SHIP = """mutation($t: UUID!, $v: ID!, $m: ID!) { checkoutShippingMethodUpdate(token: $t, vendorId: $v,
  shippingMethodId: $m) { errors { field code } } }"""
COMPLETE = """mutation($t: UUID!) { checkoutComplete(token: $t) {
  order { status total { amount } vendorOrders { vendor { slug } } } errors { field code message } } }"""


def _first_variant(api, vendor_id):
    for edge in api.data(PRODUCTS, {"v": vendor_id})["products"]["edges"]:
        for variant in edge["node"]["variants"]:
            if variant["available"] >= 1:
                return variant
    raise AssertionError(f"no variant in stock at {vendor_id}")


@pytest.mark.django_db
def test_every_demo_vendor_ships_and_a_member_places_an_order(client):
    call_command("populatedb", stdout=StringIO())
    api = GraphQLClient(client)
    vendors = {e["node"]["slug"]: e["node"] for e in api.data(VENDORS)["vendors"]["edges"]}
    approved = {s["slug"] for s in catalog_demo.VENDORS if s["status"] == "approved"}
    assert approved <= set(vendors)
    for slug in approved:
        vendor = vendors[slug]
        methods = api.data(METHODS, {"v": vendor["id"]})["shippingMethods"]
        kinds = {m["kind"] for m in methods}
        assert {"FLAT", "WEIGHT"} <= kinds, slug
        assert any(m["kind"] == "FLAT" and m["freeOver"] and Decimal(m["price"]) > 0 for m in methods), slug
        weight = [m for m in methods if m["kind"] == "WEIGHT"]
        assert all(Decimal(m["pricePerKg"]) > 0 for m in weight), slug
        pickup = [m for m in methods if "Pick up" in m["nameEn"]]
        if vendor["kind"] in ("REPAIR_SHOP", "DEALER"):
            assert len(pickup) == 1 and pickup[0]["price"] == "0.00" and pickup[0]["kind"] == "FLAT", slug
        assert all(m["nameZh"] and m["nameEn"] and m["isActive"] for m in methods), slug

    # A member buys from a parts vendor and a repair shop in one cart.
    api.login("member@demo.marketplace", demo.DEMO_PASSWORD)
    parts, shop = vendors["jingcheng-auto-parts"], vendors["wangjing-quick-service"]
    lines = [{"variantId": _first_variant(api, v["id"])["id"], "quantity": 1} for v in (parts, shop)]
    created = api.mutate(CREATE, {"lines": lines})
    assert created["errors"] == []
    token = created["checkout"]["token"]
    view = api.data(VIEW, {"t": token})["checkout"]
    parts_view = {p["vendor"]["slug"]: p for p in view["vendors"]}
    assert set(parts_view) == {"jingcheng-auto-parts", "wangjing-quick-service"}
    for slug, part in parts_view.items():
        assert part["shipping"] is None and len(part["shippingOptions"]) >= 3, slug
        subtotal = Decimal(part["subtotal"]["amount"])
        for option in part["shippingOptions"]:
            free_over = option["method"]["freeOver"]
            if free_over is not None and subtotal >= Decimal(free_over):
                assert option["cost"] == {"amount": "0.00"}, option
        pickup = [o for o in part["shippingOptions"] if "Pick up" in o["method"]["nameEn"]]
        assert (slug == "wangjing-quick-service") == bool(pickup)
        if pickup:
            assert pickup[0]["cost"] == {"amount": "0.00"}

    # Completing before choosing asks for a choice (the vendors do ship).
    assert api.mutate(ADDRESS, {"t": token})["errors"] == []
    refused = api.mutate(COMPLETE, {"t": token})
    assert {(e["field"], e["code"]) for e in refused["errors"]} == {("shippingMethod", "REQUIRED")}
    chosen = {
        "jingcheng-auto-parts": next(o for o in parts_view["jingcheng-auto-parts"]["shippingOptions"]
                                     if o["method"]["kind"] == "WEIGHT"),
        "wangjing-quick-service": next(o for o in parts_view["wangjing-quick-service"]["shippingOptions"]
                                       if "Pick up" in o["method"]["nameEn"]),
    }
    for slug, option in chosen.items():
        result = api.mutate(SHIP, {"t": token, "v": vendors[slug]["id"], "m": option["method"]["id"]})
        assert result["errors"] == []
    view = api.data(VIEW, {"t": token})["checkout"]
    expected = sum(Decimal(p["subtotal"]["amount"]) for p in view["vendors"]) + sum(
        Decimal(o["cost"]["amount"]) for o in chosen.values())
    assert Decimal(view["total"]["amount"]) == expected
    placed = api.mutate(COMPLETE, {"t": token})
    assert placed["errors"] == []
    assert placed["order"]["status"] == "UNPAID" and Decimal(placed["order"]["total"]["amount"]) == expected
    assert sorted(v["vendor"]["slug"] for v in placed["order"]["vendorOrders"]) == sorted(chosen)

    # populatedb stays idempotent for shipping methods too.
    from marketplace.checkout.models import ShippingMethod

    count = ShippingMethod.objects.count()
    call_command("populatedb", stdout=StringIO())
    assert ShippingMethod.objects.count() == count


@pytest.mark.django_db
def test_a_vendor_without_shipping_methods_says_it_ships_nothing_yet(gql, member, make_vendor, make_product):
    from marketplace.checkout.models import ShippingMethod

    ships = make_vendor("ships", name_zh="有快递汽配")
    silent = make_vendor("silent", name_zh="新开汽配")
    pads = make_product(ships, "pads", price="100.00").variants.first()
    oil = make_product(silent, "oil", price="80.00").variants.first()
    courier = ShippingMethod.objects.create(vendor=ships, name_zh="顺丰", price=Decimal("12.00"))
    ShippingMethod.objects.create(vendor=silent, name_zh="停用", price=Decimal("5.00"), is_active=False)
    gql.login(member.email)
    created = gql.mutate(CREATE, {"lines": [{"variantId": gid("ProductVariant", v.pk), "quantity": 1}
                                            for v in (pads, oil)]})
    token = created["checkout"]["token"]
    assert gql.mutate(ADDRESS, {"t": token})["errors"] == []
    assert gql.mutate(SHIP, {"t": token, "v": gid("Vendor", ships.pk), "m": gid("ShippingMethod", courier.pk)})[
        "errors"] == []
    view = gql.data(VIEW, {"t": token})["checkout"]
    assert {p["vendor"]["slug"]: len(p["shippingOptions"]) for p in view["vendors"]} == {"ships": 1, "silent": 0}

    result = gql.mutate(COMPLETE, {"t": token})
    assert result["order"] is None
    (error,) = result["errors"]
    assert (error["field"], error["code"]) == ("shippingMethod", "INVALID_STATE")
    assert "新开汽配 ships nothing yet" in error["message"]

    # Once the vendor adds a method, the buyer can choose it and the order goes through.
    method = ShippingMethod.objects.create(vendor=silent, name_zh="同城配送", price=Decimal("8.00"))
    assert gql.mutate(SHIP, {"t": token, "v": gid("Vendor", silent.pk), "m": gid("ShippingMethod", method.pk)})[
        "errors"] == []
    placed = gql.mutate(COMPLETE, {"t": token})
    assert placed["errors"] == [] and placed["order"]["total"] == {"amount": "200.00"}
