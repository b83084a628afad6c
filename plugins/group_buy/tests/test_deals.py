"""Deals: the review workflow, the floor (G6), the plan entitlement, vendor isolation and
the deal price in carts (exclusive of other prices)."""
import json
from datetime import timedelta

import pytest

from marketplace.plugins import clock, hookimpl
from marketplace.plugins.testing import gid

from .helpers import ADDRESS, APPROVE, CANCEL, CHECKOUT, CREATE_DEAL, SHIP, SUBMIT, deal_input, live_deal, my_groups, pay_dev, place

REJECT = """mutation($id: ID!, $n: String!) { groupDealReject(id: $id, reviewNote: $n) { deal { status reviewNote }
  errors { field code message } } }"""
UPDATE = """mutation($id: ID!, $input: GroupDealInput!) { groupDealUpdate(id: $id, input: $input) {
  deal { dealPrice { amount } } errors { field code message } } }"""
DEALS = """query($v: ID, $s: [GroupDealStatus!]) { groupDeals(vendorId: $v, status: $s, first: 10) { totalCount
  edges { node { id status dealPrice { amount } groupSize vendor { slug } product { slug } variant { sku }
  openGroups { id seatsLeft leaderName shareCode } } } } }"""


def _create(owner, shop, **overrides):
    return owner.mutate(CREATE_DEAL, {"v": gid("Vendor", shop["vendor"].pk),
                                      "var": gid("ProductVariant", shop["variant"].pk),
                                      "input": deal_input(**overrides)})


@pytest.mark.django_db
def test_g6_deal_below_the_floor_is_refused_at_submission_naming_the_minimum(shop, owner, staff_api):
    created = _create(owner, shop, dealPrice="120.00")
    assert created["errors"] == [] and created["deal"]["status"] == "DRAFT"
    refused = owner.mutate(SUBMIT, {"id": created["deal"]["id"]})
    assert refused["errors"] == [{"field": "dealPrice", "code": "INVALID",
                                  "message": "Below the 70 % floor: at least 140.00."}]
    fixed = owner.mutate(UPDATE, {"id": created["deal"]["id"], "input": {"dealPrice": "140.00"}})
    assert fixed["errors"] == [] and fixed["deal"]["dealPrice"] == {"amount": "140.00"}
    assert owner.mutate(SUBMIT, {"id": created["deal"]["id"]})["deal"]["status"] == "REVIEW"


def _campaign(staff_api, days, **fields):
    """A platform campaign running from yesterday for `days` days, made through the public API."""
    now = clock.now()
    made = staff_api.mutate(
        "mutation($i: CampaignInput!) { campaignCreate(input: $i) { campaign { id } errors { field code } } }",
        {"i": {"startsAt": (now - timedelta(days=1)).isoformat(), "endsAt": (now + timedelta(days=days)).isoformat(),
               **fields}})
    assert made["errors"] == []

@pytest.mark.django_db
def test_a_floor_exempt_campaign_allows_a_deeper_deal(shop, owner, staff_api):
    _campaign(staff_api, nameZh="双十一", days=30, exemptFromFloor=True, vendorIds=[gid("Vendor", shop["vendor"].pk)])
    created = _create(owner, shop, dealPrice="120.00")
    assert owner.mutate(SUBMIT, {"id": created["deal"]["id"]})["errors"] == []


@pytest.mark.django_db
def test_review_workflow_and_who_may_do_what(shop, owner, staff_api, members, make_vendor):
    from .helpers import signed_in

    created = _create(owner, shop)
    deal_id = created["deal"]["id"]
    stranger = make_vendor("other-parts")
    from django.test import Client

    other = signed_in(Client(), stranger.owner)
    assert other.mutate(SUBMIT, {"id": deal_id})["errors"][0]["code"] == "PERMISSION_DENIED"
    assert owner.mutate(APPROVE, {"id": deal_id})["errors"][0]["code"] == "PERMISSION_DENIED"  # staff only
    assert members[0].mutate(CREATE_DEAL, {"v": gid("Vendor", shop["vendor"].pk), "var": gid(
        "ProductVariant", shop["variant"].pk), "input": deal_input()})["errors"][0]["code"] == "PERMISSION_DENIED"
    assert staff_api.mutate(APPROVE, {"id": deal_id})["errors"][0]["code"] == "INVALID_STATE"  # not submitted
    owner.mutate(SUBMIT, {"id": deal_id})
    assert staff_api.mutate(REJECT, {"id": deal_id, "n": " "})["errors"][0] == {
        "field": "reviewNote", "code": "REQUIRED", "message": "Say why, for the vendor."}
    rejected = staff_api.mutate(REJECT, {"id": deal_id, "n": "图片不清楚"})["deal"]
    assert rejected == {"status": "DRAFT", "reviewNote": "图片不清楚"}
    # a draft is seen by its vendor and staff only
    assert members[0].data("query($id: ID!) { groupDeal(id: $id) { id } }", {"id": deal_id})["groupDeal"] is None
    assert owner.data(DEALS, {"v": gid("Vendor", shop["vendor"].pk), "s": ["DRAFT"]})["groupDeals"]["totalCount"] == 1
    assert other.data(DEALS, {"v": gid("Vendor", shop["vendor"].pk), "s": ["DRAFT"]})["groupDeals"]["totalCount"] == 0
    owner.mutate(SUBMIT, {"id": deal_id})
    assert staff_api.mutate(APPROVE, {"id": deal_id})["deal"]["status"] == "LIVE"
    listed = members[0].data(DEALS, {})["groupDeals"]
    assert listed["totalCount"] == 1 and listed["edges"][0]["node"]["variant"]["sku"] == shop["variant"].sku


@pytest.mark.django_db
def test_bad_deal_input_gets_field_errors(shop, owner):
    bad = _create(owner, shop, groupSize=1, maxUnits=2, dealPrice="250.00", windowHours=0)
    assert {(e["field"], e["code"]) for e in bad["errors"]} == {
        ("groupSize", "INVALID"), ("windowHours", "INVALID"), ("dealPrice", "INVALID")}
    backwards = _create(owner, shop, endsAt=(clock.now() - timedelta(hours=1)).isoformat())
    assert [(e["field"], e["code"]) for e in backwards["errors"]] == [("endsAt", "INVALID")]
    over = _create(owner, shop, startsAt=(clock.now() - timedelta(days=2)).isoformat(),
                   endsAt=(clock.now() - timedelta(hours=1)).isoformat())
    submitted = owner.mutate(SUBMIT, {"id": over["deal"]["id"]})
    assert [(e["field"], e["code"], e["message"]) for e in submitted["errors"]] == [
        ("endsAt", "INVALID", "The deal would already be over.")]
    missing = owner.mutate(CREATE_DEAL, {"v": gid("Vendor", shop["vendor"].pk),
                                         "var": gid("ProductVariant", shop["variant"].pk), "input": {"groupSize": 2}})
    assert {e["field"] for e in missing["errors"]} == {"input.dealPrice", "input.startsAt", "input.endsAt",
                                                       "input.maxUnits"}


class NoGroupBuyPlan:
    """A plans plugin: this vendor's plan leaves group deals out."""

    def __init__(self, vendor_id):
        self.vendor_id = vendor_id

    @hookimpl
    def vendor_entitlements(self, vendor_ids):
        return {self.vendor_id: {"group_buy": False}} if self.vendor_id in vendor_ids else {}


@pytest.mark.django_db
def test_a_vendor_whose_plan_excludes_group_buy_cannot_create_or_sell_deals(shop, owner, staff_api, members, plugin):
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    plugin(NoGroupBuyPlan(shop["vendor"].pk), "plans")
    refused = _create(owner, shop)
    assert refused["errors"][0]["code"] == "ENTITLEMENT_REQUIRED"
    joined = members[0].mutate(CHECKOUT, {"deal": deal["id"]})
    assert joined["errors"][0]["code"] == "ENTITLEMENT_REQUIRED"
    # its deal price is gone from carts, and the product's badge with it
    badge = members[0].data("query($id: ID!) { product(id: $id) { groupDeal { label } } }",
                            {"id": gid("Product", shop["product"].pk)})
    assert badge["product"]["groupDeal"] is None


@pytest.mark.django_db(transaction=True)
def test_deal_price_is_exclusive_and_the_cart_holds_only_the_deal(shop, owner, staff_api, members, make_product):
    _campaign(staff_api, nameZh="店庆", days=3, discountPercent="10")  # 10% off everything: not on a deal line
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    cart = members[0].mutate(CHECKOUT, {"deal": deal["id"]})["checkout"]
    (line,) = cart["lines"]
    assert line["unitPrice"]["final"] == {"amount": "150.00"}
    assert [a["source"] for a in line["unitPrice"]["adjustments"]] == [f"deal:{_pk(deal['id'])}"]
    metadata = line["metadata"] if isinstance(line["metadata"], dict) else json.loads(line["metadata"])
    assert metadata["group_buy"] == {"deal": _pk(deal["id"]), "share_code": None}
    # another item in the cart: refused at completion, naming the lines
    other = make_product(shop["vendor"], "gb-oil", price="80.00", stock=5)
    members[0].mutate("""mutation($t: UUID!, $v: ID!) { checkoutLinesAdd(token: $t, lines: [{variantId: $v, quantity: 1}]) {
      errors { code } } }""", {"t": cart["token"], "v": gid("ProductVariant", other.variants.first().pk)})
    members[0].mutate(ADDRESS, {"t": cart["token"]})
    members[0].mutate(SHIP, {"t": cart["token"], "v": gid("Vendor", shop["vendor"].pk),
                             "m": gid("ShippingMethod", shop["method"].pk)})
    refused = members[0].mutate("""mutation($t: UUID!) { checkoutComplete(token: $t) { errors { field code } } }""",
                                {"t": cart["token"]})
    assert refused["errors"] == [{"field": "lines", "code": "INVALID_STATE"}]
    assert members[0].mutate(CHECKOUT, {"deal": deal["id"]})["errors"][0] == {
        "field": "checkout", "code": "INVALID_STATE",
        "message": "A group order holds only its deal: check out or remove the other items first."}


def _pk(global_id):
    from graphql_relay import from_global_id

    return int(from_global_id(global_id)[1])


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_deal_dissolves_forming_groups_and_refunds(shop, owner, staff_api, members, worker):
    from tests.conftest import wait_for

    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    leader = members[0]
    pay_dev(leader, place(leader, shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    unpaid_leader = place(members[1], shop, deal_id=deal["id"])  # a second group, its leader still paying
    cancelled = owner.mutate(CANCEL, {"id": deal["id"], "r": "缺货"})
    assert cancelled["errors"] == [] and cancelled["deal"]["status"] == "CANCELLED"
    wait_for(lambda: my_groups(leader)[0]["status"] == "REFUNDED", message="the leader refunded")
    assert my_groups(leader)[0]["group"]["status"] == "DISSOLVED"
    (opening,) = my_groups(members[1])
    assert opening["status"] == "ABANDONED" and opening["group"] is None
    assert members[1].data("query($n: String!) { order(number: $n) { status } }",
                           {"n": unpaid_leader["order"]["number"]})["order"]["status"] == "CANCELLED"
    assert owner.mutate(CANCEL, {"id": deal["id"], "r": "again"})["errors"][0]["code"] == "INVALID_STATE"


class Coupon:
    """A coupon plugin offering 10.00 off every cart (an order-level discount)."""

    @hookimpl
    def checkout_adjustments(self, checkout, lines):
        from decimal import Decimal

        from marketplace.plugins.checkout import DISCOUNT, OrderAdjustment

        return [OrderAdjustment(source="coupon:SAVE10", label="满减券", amount=Decimal("10.00"), kind=DISCOUNT)]


@pytest.mark.django_db
def test_coupons_do_not_combine_with_a_deal_price(shop, owner, staff_api, members, plugin):
    from .helpers import COMPLETE

    plugin(Coupon(), "coupons")
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    api = members[0]
    token = api.mutate(CHECKOUT, {"deal": deal["id"]})["checkout"]["token"]
    api.mutate(ADDRESS, {"t": token})
    api.mutate(SHIP, {"t": token, "v": gid("Vendor", shop["vendor"].pk), "m": gid("ShippingMethod", shop["method"].pk)})
    refused = api.mutate(COMPLETE, {"t": token})
    assert refused["order"] is None
    assert refused["errors"] == [{"field": "lines.0", "code": "INVALID",
                                  "message": "Group prices do not combine with other discounts: remove the code."}]


@pytest.mark.django_db
def test_deal_and_group_listings_cost_the_same_queries_whatever_their_length(shop, owner, staff_api, members,
                                                                               make_product):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .helpers import MY_GROUPS

    def count(api, query):
        with CaptureQueriesContext(connection) as queries:
            api.data(query)
        return len(queries)

    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"], groupSize=5, perUserLimit=9, maxUnits=90)
    buyer, other = members[0], members[1]
    pay_dev(other, place(other, shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    pay_dev(buyer, place(buyer, shop, code=my_groups(other)[0]["group"]["shareCode"])["order"]["id"], method="WALLET")
    deals_once, mine_once = count(buyer, DEALS), count(buyer, MY_GROUPS)
    for index in range(3):
        product = make_product(shop["vendor"], f"gb-more-{index}", price="200.00", stock=5)
        more = live_deal(owner, staff_api, shop["vendor"], product.variants.first(), groupSize=5)
        pay_dev(members[2 + index], place(members[2 + index], shop, deal_id=more["id"])["order"]["id"],
                method="WALLET")
        pay_dev(buyer, place(buyer, shop, code=my_groups(members[2 + index])[0]["group"]["shareCode"])[
            "order"]["id"], method="WALLET")
    listed = buyer.data(DEALS)["groupDeals"]
    assert listed["totalCount"] == 4 and all(e["node"]["openGroups"] for e in listed["edges"])
    assert count(buyer, DEALS) == deals_once
    assert len(my_groups(buyer)) == 4
    assert count(buyer, MY_GROUPS) <= mine_once + 3 * 2  # the core's Order.vendorOrders: one query per order
