"""Fixtures and client helpers for the membership plugin's tests: everything through the
GraphQL API as a storefront would drive it (carts, codes, payment), the gateway's signed
webhooks included."""
import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from marketplace.plugins.testing import GraphQLClient, gid

SHANGHAI = ZoneInfo("Asia/Shanghai")

CREATE = """mutation($lines: [CheckoutLineInput!]) { checkoutCreate(lines: $lines) {
  checkout { token } errors { field code message } } }"""
ADD = """mutation($t: UUID!, $lines: [CheckoutLineInput!]!) { checkoutLinesAdd(token: $t, lines: $lines) {
  checkout { token } errors { field code message } } }"""
VIEW = """query($t: UUID!) { checkout(token: $t) { total { amount } subtotal { amount }
  lines { id kind reference quantity name sku total { amount } metadata
          unitPrice { list { amount } final { amount } floorApplied adjustments { source label amount { amount } } } } } }"""
ADDRESS = """mutation($t: UUID!) { checkoutShippingAddressUpdate(token: $t, address: {fullName: "王小明",
  phone: "13800138000", province: "北京市", city: "北京市", district: "朝阳区", street: "建国路88号"}) {
  errors { field code } } }"""
SHIP = """mutation($t: UUID!, $v: ID!, $m: ID!) { checkoutShippingMethodUpdate(token: $t, vendorId: $v,
  shippingMethodId: $m) { errors { field code } } }"""
COMPLETE = """mutation($t: UUID!, $g: String, $e: Decimal) { checkoutComplete(token: $t, gateway: $g, expectedTotal: $e) {
  order { id number status total { amount } amountDue { amount }
          vendorOrders { id vendor { slug } total { amount }
                         lines { kind reference sku unitPrice { amount } total { amount } priceExplanation } } }
  payment { reference clientSecret amount { amount } }
  errors { field code message } } }"""
APPLY = """mutation($t: UUID!, $c: String!, $p: String) { partnerCodeApply(token: $t, code: $c, plan: $p) {
  discount { amount } checkout { total { amount } } errors { field code message } } }"""
REMOVE = """mutation($t: UUID!) { partnerCodeRemove(token: $t) { errors { field code message } } }"""
MY = """{ myMembership { id status startsAt endsAt pricePaid { amount } partnerCode
  benefits { partsDiscountPercent labourDiscountPercent freeTowingPerTerm freeTowingKm freeTowingUsed freeTowingLeft }
  savingsThisTerm { amount } renewal { id status startsAt endsAt } } }"""


def local(*args):
    """An aware datetime in Asia/Shanghai."""
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def plan(db):
    from plugins.membership.services import setup

    return setup.save_plan({"code": "annual", "name_zh": "年卡会员", "name_en": "Annual membership",
                            "price": "168.00", "term_months": 12, "parts_discount_percent": "5",
                            "labour_discount_percent": "20", "free_towing_per_term": 2, "free_towing_km": 30})


@pytest.fixture
def partner(db):
    from plugins.membership.services import setup

    return setup.save_partner({"name_zh": "东方时尚驾校", "name_en": "Eastern Fashion Driving School"})


@pytest.fixture
def make_code(partner):
    from plugins.membership.services import setup

    def make(code="JIAXIAO-A", **data):
        if "discount_amount" not in data:
            data.setdefault("discount_percent", "50")
        data.setdefault("valid_from", local(2020, 1, 1))
        return setup.save_code({"code": code, **data}, partner_id=partner.pk)

    return make


class Shop:
    """A parts vendor selling brake pads (list 200) and oil (list 100, sale 75)."""

    def __init__(self, make_vendor, make_product, taxonomy):
        from marketplace.checkout.models import ShippingMethod

        self.vendor = make_vendor("parts-a", name_zh="甲汽配")
        self.pads = make_product(self.vendor, "pads", price="200.00", stock=500).variants.first()
        self.oil = make_product(self.vendor, "oil", price="100.00", sale_price="75.00", stock=500,
                                category=taxonomy.oil).variants.first()
        self.method = ShippingMethod.objects.create(vendor=self.vendor, name_zh="顺丰", price=Decimal("10.00"))


@pytest.fixture
def shop(make_vendor, make_product, taxonomy):
    return Shop(make_vendor, make_product, taxonomy)


def product_line(variant, quantity=1):
    return {"variantId": gid("ProductVariant", variant.pk), "quantity": quantity}


def membership_line(plan_code="annual", code=None):
    line = {"kind": "membership", "reference": plan_code, "quantity": 1}
    if code is not None:
        line["metadata"] = {"code": code}
    return line


def start_cart(api, lines):
    created = api.mutate(CREATE, {"lines": lines})
    assert created["errors"] == [], created["errors"]
    return created["checkout"]["token"]


def view(api, token):
    return api.data(VIEW, {"t": token})["checkout"]


def line_of(cart, kind="product"):
    return next(line for line in cart["lines"] if line["kind"] == kind)


def ready(api, token, shop=None):
    """Address and shipping method (when the cart holds goods)."""
    if shop is not None:
        assert api.mutate(ADDRESS, {"t": token})["errors"] == []
        assert api.mutate(SHIP, {"t": token, "v": gid("Vendor", shop.vendor.pk),
                                 "m": gid("ShippingMethod", shop.method.pk)})["errors"] == []
    return token


def complete(api, token, gateway="stripe", expected=None):
    return api.mutate(COMPLETE, {"t": token, "g": gateway, "e": expected})


def pay_stripe(client, placed):
    """Stripe confirms the payment: a signed `payment_intent.succeeded` webhook."""
    from tests.conftest import signed_post, stripe_event

    amount = Decimal(placed["payment"]["amount"]["amount"])
    response = signed_post(client, stripe_event("payment_intent.succeeded", placed["payment"]["reference"],
                                                int(amount * 100)))
    assert response.status_code == 200, response.content
    return response.json()


def signed_in(client, user):
    api = GraphQLClient(client)
    api.login(user.email)
    return api


def my_membership(api):
    return api.data(MY)["myMembership"]
