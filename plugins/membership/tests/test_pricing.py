"""Member prices through the one price pipeline: identical in listing, detail, search, cart
and order; after the sale price and campaigns, the floor last (M4); the as-member preview;
vendors' exclusions; the stacking group; and the listing's SQL budget for a member."""
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.plugins.hookspecs import hookimpl
from marketplace.plugins.testing import GraphQLClient, gid

from .conftest import (
    complete, line_of, local, membership_line, pay_stripe, product_line, ready, signed_in, start_cart, view,
)

PRICE = "price { list { amount } final { amount } floorApplied adjustments { source label amount { amount } } }"
LISTING = "query($n: Int!) { products(first: $n) { edges { node { slug variants { sku %s } } } } }" % PRICE
DETAIL = "query($v: String!, $s: String!) { product(vendorSlug: $v, slug: $s) { variants { %s } } }" % PRICE
SEARCH = ("query($q: String!) { searchProducts(query: $q, first: 10) { edges { node { slug variants { %s } } } } }"
          % PRICE)
PREVIEW = """query($v: String!, $s: String!) { product(vendorSlug: $v, slug: $s) { variants {
  price { final { amount } } memberPrice { final { amount } adjustments { source amount { amount } } } } } }"""
OFFER = """query($t: UUID!) { membershipOffer(token: $t) { plan { code price { amount } } goodsTotal { amount }
  goodsTotalAsMember { amount } savings { amount } alreadyMember } }"""
MEMBER_PRICE = {"source": "membership", "label": "会员价 Member price", "amount": {"amount": "-10.00"}}


@pytest.fixture
def a_member(member, plan, frozen_clock):
    from plugins.membership.services import memberships

    frozen_clock(local(2026, 11, 10, 12, 0))
    memberships.grant(member.pk, "annual", "test")
    return member


def listed(api, slug="pads"):
    edges = api.data(LISTING, {"n": 50})["products"]["edges"]
    return next(e["node"]["variants"][0]["price"] for e in edges if e["node"]["slug"] == slug)


@pytest.mark.django_db(transaction=True)
def test_member_price_is_identical_in_listing_detail_search_cart_and_order(client, a_member, shop, settings,
                                                                          stripe_mock):
    settings.SEARCH_BACKEND = "database"
    api = signed_in(client, a_member)
    prices = {
        "listing": listed(api),
        "detail": api.data(DETAIL, {"v": "parts-a", "s": "pads"})["product"]["variants"][0]["price"],
        "search": next(e["node"]["variants"][0]["price"] for e in
                       api.data(SEARCH, {"q": "商品"})["searchProducts"]["edges"] if e["node"]["slug"] == "pads"),
    }
    token = ready(api, start_cart(api, [product_line(shop.pads, 2)]), shop)
    prices["cart"] = {k: v for k, v in line_of(view(api, token))["unitPrice"].items()}
    for where, price in prices.items():
        assert price["final"] == {"amount": "190.00"}, where
        assert price["adjustments"] == [MEMBER_PRICE], where
    placed = complete(api, token)
    line = placed["order"]["vendorOrders"][0]["lines"][0]
    explanation = json.loads(line["priceExplanation"])
    assert line["unitPrice"] == {"amount": "190.00"} and explanation["final"] == "190.00"
    assert [(a["source"], a["kind"], a["funded_by"], a["amount"]) for a in explanation["adjustments"]] == [
        ("membership", "membership", "platform", "-10.00")]
    pay_stripe(client, placed)
    # The platform funds the member price: the vendor is made whole.
    from marketplace.plugins.ledger import account_total, balance

    assert account_total("platform_promotions") == -20 and balance(shop.vendor.pk) > 380 - 20
    assert api.data("{ myMembership { savingsThisTerm { amount } } }")["myMembership"] == {
        "savingsThisTerm": {"amount": "20.00"}}
    # Anonymous shoppers and signed-in non-members see list prices everywhere.
    from marketplace.plugins.testing import GraphQLClient

    assert listed(GraphQLClient(client.__class__()))["final"] == {"amount": "200.00"}


@pytest.mark.django_db(transaction=True)
def test_m4_member_price_comes_after_sale_and_campaign_and_the_floor_applies_last(worker, client, a_member, shop, staff_gql,
                                                                                  frozen_clock):
    create = """mutation($i: CampaignInput!) { campaignCreate(input: $i, allowOverlap: true) {
      campaign { id } errors { field code message } } }"""
    campaign = staff_gql.mutate(create, {"i": {"nameZh": "双十一", "startsAt": "2026-11-11", "endsAt": "2026-11-11",
                                               "discountPercent": "10"}})
    assert campaign["errors"] == []
    frozen_clock(local(2026, 11, 11, 10, 0))
    api = signed_in(client, a_member)
    oil = listed(api, "oil")  # list 100, vendor sale 75, campaign 10% -> 67.50, member 5% -> 64.13 < floor 70
    assert oil["final"] == {"amount": "70.00"} and oil["floorApplied"] is True
    assert [(a["source"].split(":")[0], a["amount"]["amount"]) for a in oil["adjustments"]] == [
        ("vendor", "-25.00"), ("campaign", "-7.50"), ("membership", "-3.37"), ("platform", "5.87")]
    token = start_cart(api, [product_line(shop.oil)])
    assert line_of(view(api, token))["unitPrice"]["final"] == {"amount": "70.00"}  # the cart agrees

    frozen_clock(local(2026, 11, 10, 12, 0))
    exempt = staff_gql.mutate(create, {"i": {"nameZh": "双十一（免底价）", "startsAt": "2026-11-12", "endsAt": "2026-11-12",
                                             "discountPercent": "10", "exemptFromFloor": True}})
    assert exempt["errors"] == []
    frozen_clock(local(2026, 11, 12, 10, 0))
    oil = listed(api, "oil")
    assert oil["final"] == {"amount": "64.13"} and oil["floorApplied"] is False


@pytest.mark.django_db(transaction=True)
def test_as_member_preview_shows_without_granting(client, gql, member, plan, shop, stripe_mock):
    preview = gql.data(PREVIEW, {"v": "parts-a", "s": "pads"})["product"]["variants"][0]
    assert preview == {"price": {"final": {"amount": "200.00"}},
                       "memberPrice": {"final": {"amount": "190.00"},
                                       "adjustments": [{"source": "membership", "amount": {"amount": "-10.00"}}]}}
    api = signed_in(client, member)
    token = start_cart(api, [product_line(shop.pads, 2)])
    offer = api.data(OFFER, {"t": token})["membershipOffer"]
    assert offer == {"plan": {"code": "annual", "price": {"amount": "168.00"}}, "goodsTotal": {"amount": "400.00"},
                     "goodsTotalAsMember": {"amount": "380.00"}, "savings": {"amount": "20.00"},
                     "alreadyMember": False}
    assert line_of(view(api, token))["unitPrice"]["final"] == {"amount": "200.00"}  # nothing granted
    placed = complete(api, ready(api, token, shop))
    assert placed["order"]["total"] == {"amount": "410.00"}


@pytest.mark.django_db
def test_member_price_preview_is_null_while_the_plugin_is_off(gql, staff_gql, plan, shop):
    off = staff_gql.mutate('mutation { pluginUpdate(name: "membership", input: {active: false}) { errors { code } } }')
    assert off["errors"] == []
    result = gql.execute(PREVIEW, {"v": "parts-a", "s": "pads"})
    assert result["data"]["product"]["variants"][0] == {"price": {"final": {"amount": "200.00"}}, "memberPrice": None}
    assert result["errors"][0]["extensions"]["code"] == "PLUGIN_DISABLED"


@pytest.mark.django_db
def test_vendors_may_exclude_products_from_member_prices(client, gql, a_member, shop, make_vendor):
    exclude = """mutation($p: ID!, $e: Boolean!) { memberPriceExclusionSet(productId: $p, excluded: $e) {
      excluded errors { field code } } }"""
    product = gid("Product", shop.pads.product_id)
    stranger = make_vendor("parts-b")
    other = signed_in(client, stranger.owner)
    assert other.mutate(exclude, {"p": product, "e": True})["errors"] == [{"field": None, "code": "PERMISSION_DENIED"}]
    owner = signed_in(client, shop.vendor.owner)
    assert owner.mutate(exclude, {"p": product, "e": True}) == {"excluded": True, "errors": []}
    api = signed_in(client, a_member)
    assert listed(api)["final"] == {"amount": "200.00"}
    assert listed(api, "oil")["final"] == {"amount": "71.25"}  # other products keep the member price
    assert gql.data(PREVIEW, {"v": "parts-a", "s": "pads"})["product"]["variants"][0]["memberPrice"]["final"] == {
        "amount": "200.00"}
    assert owner.mutate(exclude, {"p": product, "e": False}) == {"excluded": False, "errors": []}
    assert listed(api)["final"] == {"amount": "190.00"}


class StoreVip:
    """A store VIP price competing with the member price in its stacking group."""

    @hookimpl
    def price_adjustments(self, lines, context):
        from marketplace.plugins.pricing import BEST_OF, PriceAdjustment

        return {line.key: [PriceAdjustment("vip", "VIP 价", percent_off=8, kind="vip", group="member_price",
                                           stacking=BEST_OF)] for line in lines if line.kind == "product"}


@pytest.mark.django_db
def test_the_member_price_group_keeps_the_best_of_member_and_vip(client, a_member, shop, plugin):
    plugin(StoreVip(), "store_vip")
    api = signed_in(client, a_member)
    price = listed(api)
    assert price["final"] == {"amount": "184.00"}
    assert [a["source"] for a in price["adjustments"]] == ["vip"]


@pytest.mark.django_db
def test_a_members_listing_of_fifty_stays_in_the_sql_budget(client, gql, a_member, make_vendor, make_product,
                                                            make_user):
    vendor = make_vendor("bulk")
    for index in range(50):
        make_product(vendor, f"p{index}", price="100.00", stock=3)
    api = signed_in(client, a_member)

    def count(caller, size):
        with CaptureQueriesContext(connection) as ctx:
            data = caller.data(LISTING, {"n": size})
        edges = data["products"]["edges"]
        return len(ctx.captured_queries), edges, [q["sql"] for q in ctx.captured_queries]

    anonymous, _, _ = count(gql, 50)
    other = GraphQLClient(client.__class__())
    other.login(make_user("not-a-member@example.com").email)
    count(other, 1)
    non_member, _, _ = count(other, 50)
    count(api, 1)  # warm: the exclusions set enters the cache
    small, _, _ = count(api, 5)
    member_count, edges, sql = count(api, 50)
    assert len(edges) == 50
    assert all(e["node"]["variants"][0]["price"]["final"] == {"amount": "95.00"} for e in edges)
    assert member_count == small <= 12, sql
    assert sum("membership_membership" in q for q in sql) == 1  # the member lookup: once per request
    # The member lookup is the only query a member's listing adds to a signed-in non-member's
    # (signing in costs the same for both; exclusions come from the cache).
    assert member_count - non_member <= 1, (anonymous, non_member, member_count)
    print(f"listing queries: anonymous {anonymous}, non-member {non_member}, member {member_count} (first 5: {small})")
