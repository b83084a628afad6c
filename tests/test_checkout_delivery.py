"""Public plugin API added for repair booking (issue 11), tested as a plugin uses it:
a per-seller delivery address ("deliver to installer"), completing a cart from a plugin,
`decode_id` by type name and `vendors.touch_shop`."""
import json
from decimal import Decimal

import pytest

from marketplace.plugins.testing import GraphQLClient, gid

pytestmark = pytest.mark.django_db

CREATE = """mutation($lines: [CheckoutLineInput!]) { checkoutCreate(lines: $lines, email: "buyer@example.com") {
  checkout { token } errors { field code message } } }"""
SHIP = """mutation($t: UUID!, $v: ID!, $m: ID!) { checkoutShippingMethodUpdate(token: $t, vendorId: $v,
  shippingMethodId: $m) { errors { field code } } }"""
ADDRESS = """mutation($t: UUID!) { checkoutShippingAddressUpdate(token: $t, address: {fullName: "王小明",
  phone: "13800138000", province: "北京市", city: "北京市", district: "朝阳区", street: "建国路88号"}) {
  errors { field code } } }"""
VIEW = """query($t: UUID!) { checkout(token: $t) { vendors { vendor { slug } deliveryAddress deliveryLabel } } }"""
COMPLETE = """mutation($t: UUID!) { checkoutComplete(token: $t) { order { number shippingAddress
  vendorOrders { vendor { slug } shippingAddress deliveryLabel } } errors { field code message } } }"""
SHOP_ADDRESS = {"full_name": "望京修车铺", "phone": "010-84716633", "province": "北京市", "city": "北京市",
                "district": "朝阳区", "street": "望京街10号"}


@pytest.fixture
def two_sellers(make_vendor, make_product):
    from marketplace.checkout.models import ShippingMethod

    sellers = []
    for slug in ("seller-a", "seller-b"):
        vendor = make_vendor(slug)
        variant = make_product(vendor, f"{slug}-pads", price="100.00", stock=5).variants.first()
        method = ShippingMethod.objects.create(vendor=vendor, name_zh="顺丰", price=Decimal("10.00"))
        sellers.append((vendor, variant, method))
    return sellers


def _cart(gql, sellers):
    token = gql.mutate(CREATE, {"lines": [{"variantId": gid("ProductVariant", v.pk), "quantity": 1}
                                          for _vendor, v, _m in sellers]})["checkout"]["token"]
    for vendor, _variant, method in sellers:
        assert gql.mutate(SHIP, {"t": token, "v": gid("Vendor", vendor.pk), "m": gid("ShippingMethod", method.pk)})[
            "errors"] == []
    return token


def test_a_plugin_redirects_one_sellers_goods_and_the_sub_order_ships_there(gql, two_sellers):
    from marketplace.plugins.checkout import clear_delivery_address, set_delivery_address

    (a, _pa, _ma), (b, _pb, _mb) = two_sellers
    token = _cart(gql, two_sellers)
    set_delivery_address(token, a.pk, SHOP_ADDRESS, label="送至安装门店", owner="repair_booking")
    parts = {p["vendor"]["slug"]: p for p in gql.data(VIEW, {"t": token})["checkout"]["vendors"]}
    assert json.loads(parts["seller-a"]["deliveryAddress"])["street"] == "望京街10号"
    assert parts["seller-b"]["deliveryAddress"] is None
    missing = gql.mutate(COMPLETE, {"t": token})
    assert [(e["field"], e["code"]) for e in missing["errors"]] == [("shippingAddress", "REQUIRED")]  # seller B
    assert gql.mutate(ADDRESS, {"t": token})["errors"] == []
    placed = gql.mutate(COMPLETE, {"t": token})
    assert placed["errors"] == []
    shipped = {vo["vendor"]["slug"]: vo for vo in placed["order"]["vendorOrders"]}
    assert json.loads(shipped["seller-a"]["shippingAddress"])["full_name"] == "望京修车铺"
    assert shipped["seller-a"]["deliveryLabel"] == "送至安装门店"
    assert json.loads(shipped["seller-b"]["shippingAddress"])["street"] == "建国路88号"
    assert clear_delivery_address  # (see the next test)


def test_when_every_seller_is_redirected_the_cart_needs_no_address(gql, two_sellers):
    from marketplace.plugins.checkout import clear_delivery_address, set_delivery_address

    token = _cart(gql, two_sellers[:1])
    vendor = two_sellers[0][0]
    set_delivery_address(token, vendor.pk, SHOP_ADDRESS, owner="repair_booking")
    assert clear_delivery_address(token, owner="someone_else") == 0  # only the owner's own
    assert gql.mutate(COMPLETE, {"t": token})["errors"] == []


def test_delivery_addresses_are_checked(gql, two_sellers, make_vendor):
    from marketplace.plugins.checkout import set_delivery_address
    from marketplace.plugins.errors import ValidationError

    token = _cart(gql, two_sellers[:1])
    with pytest.raises(ValidationError) as refused:
        set_delivery_address(token, two_sellers[0][0].pk, {"full_name": "x"})
    assert {e.field for e in refused.value.as_list()} >= {"phone", "street"}
    with pytest.raises(ValidationError) as nothing_there:
        set_delivery_address(token, make_vendor("no-goods").pk, SHOP_ADDRESS)
    assert nothing_there.value.field == "vendor_id"


def test_a_plugin_completes_a_cart(gql, two_sellers):
    from marketplace.plugins.checkout import complete
    from marketplace.plugins.errors import ValidationError

    token = _cart(gql, two_sellers[:1])
    with pytest.raises(ValidationError) as incomplete:
        complete(token)
    assert incomplete.value.as_list()[0].field == "shipping_address"
    gql.mutate(ADDRESS, {"t": token})
    order = complete(token)
    assert order.status == "unpaid" and order.total == Decimal("110.00") and len(order.vendor_orders) == 1


def test_decode_id_takes_a_type_name_for_another_plugins_type():
    from marketplace.plugins.errors import ValidationError
    from marketplace.plugins.graphql import decode_id

    assert decode_id(gid("GarageVehicle", 7), "GarageVehicle", field="car") == "7"
    with pytest.raises(ValidationError) as wrong:
        decode_id(gid("Vendor", 7), "GarageVehicle", field="car")
    assert wrong.value.field == "car"


def test_touch_shop_reindexes_the_vendor_after_commit(make_vendor, plugin, django_capture_on_commit_callbacks):
    from marketplace.plugins import hookimpl
    from marketplace.plugins.events import VendorUpdated
    from marketplace.plugins.vendors import touch_shop

    seen = []

    class Listener:
        @hookimpl
        def handle_event(self, event):
            if isinstance(event, VendorUpdated):
                seen.append(event.vendor_id)

    vendor = make_vendor("touched")
    plugin(Listener(), "touch_listener")
    with django_capture_on_commit_callbacks(execute=True):
        touch_shop(vendor.pk)
        assert seen == []  # not before the commit
    assert seen == [vendor.pk]


__all__ = ["GraphQLClient"]
