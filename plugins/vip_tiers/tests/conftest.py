"""Fixtures and client helpers for the loyalty plugin's tests: stores with enough products,
and everything a customer and a store do through the GraphQL API (carts, redeeming,
paying with the development gateway, fulfilling, confirming, refunding)."""
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.db import connection

from marketplace.plugins.testing import GraphQLClient, gid

CREATE = """mutation($lines: [CheckoutLineInput!]) { checkoutCreate(lines: $lines) {
  checkout { token } errors { field code message } } }"""
ADDRESS = """mutation($t: UUID!) { checkoutShippingAddressUpdate(token: $t, address: {fullName: "王小明",
  phone: "13800138000", province: "北京市", city: "北京市", district: "朝阳区", street: "建国路88号"}) {
  errors { field code } } }"""
SHIP = """mutation($t: UUID!, $v: ID!, $m: ID!) { checkoutShippingMethodUpdate(token: $t, vendorId: $v,
  shippingMethodId: $m) { errors { field code } } }"""
EMAIL = """mutation($t: UUID!, $e: String!) { checkoutEmailUpdate(token: $t, email: $e) { errors { code } } }"""
VIEW = """query($t: UUID!) { checkout(token: $t) { total { amount } tendered { amount } amountDue { amount }
  adjustments { source kind requested { amount } applied { amount } }
  lines { sku total { amount } unitPrice { list { amount } final { amount } floorApplied
          adjustments { source label amount { amount } } } } } }"""
REDEEM = """mutation($t: UUID!, $v: ID!, $p: Int, $c: Decimal) { vipRedeem(token: $t, vendorId: $v, points: $p,
  cashback: $c) { pointsAsked pointsUsed pointsValue { amount } cashbackAsked { amount } cashbackUsed { amount }
  checkout { amountDue { amount } } errors { field code message } } }"""
COMPLETE = """mutation($t: UUID!, $e: Decimal) { checkoutComplete(token: $t, gateway: "dev", expectedTotal: $e) {
  order { id number status total { amount } tenderedTotal { amount } amountDue { amount }
          vendorOrders { id vendor { slug } total { amount } tendered { amount }
                         lines { sku unitPrice { amount } total { amount } tendered { amount } priceExplanation } } }
  payment { clientSecret amount { amount } } errors { field code message } } }"""
CONFIRM_PAYMENT = """mutation($s: String!) { devPaymentConfirm(clientSecret: $s) { status errors { code } } }"""
FULFIL = """mutation($id: ID!) { vendorOrderFulfil(id: $id, carrier: "顺丰", trackingNumber: "SF1") {
  vendorOrder { status } errors { code message } } }"""
RECEIVED = """mutation($id: ID!) { orderConfirmReceived(id: $id) { order { status } errors { code message } } }"""
REFUND = """mutation($o: ID!, $vo: ID, $a: Decimal) { orderRefund(orderId: $o, vendorOrderId: $vo, amount: $a) {
  refunds { status amount { amount } cash { amount } tendered { amount } } errors { field code message } } }"""
ACCOUNT = """query($v: ID!) { myVipAccount(vendorId: $v) { id tierSince protectedUntil netSpend { amount }
  tier { rank nameZh } nextTier { rank } spendToNextTier { amount }
  points { available pending debt value { amount } } cashback { available { amount } pending { amount }
  debt { amount } } history(first: 50) { totalCount edges { node { asset bucket kind amount orderNumber
  expiresAt } } } } }"""
PROGRAM_UPDATE = """mutation($v: ID!, $i: VipProgramInput!) { vipProgramUpdate(vendorId: $v, input: $i) {
  program { status enabled productCount minProducts graceEndsAt stacking tiers { rank nameZh } }
  errors { field code message } } }"""
TIER_CREATE = """mutation($v: ID!, $i: VipTierInput!) { vipTierCreate(vendorId: $v, input: $i) {
  tier { id rank nameZh percentOff threshold { amount } } errors { field code message } } }"""
ADJUST = """mutation($c: ID!, $p: Int, $cb: Decimal, $r: String!) { vipBalanceAdjust(customerId: $c, points: $p,
  cashback: $cb, reason: $r) { customer { points { available } cashback { available { amount } } }
  errors { field code message } } }"""
PLUGIN_UPDATE = """mutation($v: ID, $i: PluginUpdateInput!) { pluginUpdate(name: "vip_tiers", vendorId: $v, input: $i) {
  plugin { name } errors { field code message } } }"""


def needs_postgresql():
    from tests.conftest import unavailable

    if connection.vendor != "postgresql":
        unavailable("needs PostgreSQL row locks (developer run on SQLite)", "CI must run this on PostgreSQL")


def signed_in(client_or_api, user):
    from django.test import Client

    api = GraphQLClient(Client())
    api.login(user.email)
    return api


class Store:
    """A parts store with `count` published products (list 100.00 each, plenty of stock),
    an item at 359.90, one at 150.00 and one at 200.00, and free shipping."""

    def __init__(self, make_vendor, make_product, slug, count=50, taxonomy=None):
        from marketplace.checkout.models import ShippingMethod

        self.vendor = make_vendor(slug, name_zh=f"{slug}店")
        self.owner = self.vendor.owner
        self.products = [make_product(self.vendor, f"{slug}-p{i}", price="100.00", stock=1000)
                         for i in range(max(count - 3, 0))]
        self.item_359 = make_product(self.vendor, f"{slug}-kit", price="359.90", stock=1000).variants.first()
        self.item_150 = make_product(self.vendor, f"{slug}-pads", price="150.00", stock=1000).variants.first()
        self.item_200 = make_product(self.vendor, f"{slug}-disc", price="200.00", stock=1000).variants.first()
        self.method = ShippingMethod.objects.create(vendor=self.vendor, name_zh="包邮", price=Decimal("0.00"))
        self.gid = gid("Vendor", self.vendor.pk)

    @property
    def pk(self):
        return self.vendor.pk

    def enable(self, tiers=(), **program):
        """Switch the programme on (through the services) with tiers
        [(rank, name, threshold, percent_off, multiplier)]."""
        from plugins.vip_tiers.services import programs

        programs.save_program(self.pk, {"enabled": True, **program})
        for rank, name, threshold, percent, multiplier in tiers:
            programs.create_tier(self.pk, {"rank": rank, "name_zh": name, "threshold": Decimal(threshold),
                                           "percent_off": Decimal(percent), "points_multiplier": Decimal(multiplier)})
        return self

    def owner_api(self):
        return signed_in(None, self.owner)


@pytest.fixture
def make_store(make_vendor, make_product, taxonomy):
    def make(slug="store-a", count=50):
        return Store(make_vendor, make_product, slug, count)

    return make


def line(variant, quantity=1):
    return {"variantId": gid("ProductVariant", variant.pk), "quantity": quantity}


def cart(api, store_lines):
    """A cart holding `store_lines` [(store, variant, quantity)], addressed and with each
    store's shipping chosen. Returns its token."""
    created = api.mutate(CREATE, {"lines": [line(v, q) for _s, v, q in store_lines]})
    assert created["errors"] == [], created["errors"]
    token = created["checkout"]["token"]
    assert api.mutate(ADDRESS, {"t": token})["errors"] == []
    for store in {s.pk: s for s, _v, _q in store_lines}.values():
        assert api.mutate(SHIP, {"t": token, "v": store.gid, "m": gid("ShippingMethod", store.method.pk)})[
            "errors"] == []
    return token


def place(api, token, expected=None):
    placed = api.mutate(COMPLETE, {"t": token, "e": expected})
    assert placed["errors"] == [], placed["errors"]
    return placed


def pay(api, placed):
    if placed["payment"] is None:  # nothing was due
        return placed
    confirmed = api.mutate(CONFIRM_PAYMENT, {"s": placed["payment"]["clientSecret"]})
    assert confirmed["errors"] == [] and confirmed["status"] == "captured", confirmed
    return placed


def buy(api, store_lines, redeem=None):
    """Cart -> (optional vipRedeem per store: {store: (points, cashback)}) -> place ->
    pay. Returns the placed order payload."""
    token = cart(api, store_lines)
    for store, (points, cashback) in (redeem or {}).items():
        redeemed = api.mutate(REDEEM, {"t": token, "v": store.gid, "p": points, "c": cashback})
        assert redeemed["errors"] == [], redeemed["errors"]
    return pay(api, place(api, token))


def vendor_order_of(placed, store):
    return next(vo for vo in placed["order"]["vendorOrders"] if vo["vendor"]["slug"] == store.vendor.slug)


def complete_order(buyer, placed):
    """Every store fulfils its part, the buyer confirms receipt."""
    from marketplace.orders.models import VendorOrder
    from marketplace.vendors.models import VendorStaff

    for vo in placed["order"]["vendorOrders"]:
        from graphql_relay import from_global_id

        vendor_order = VendorOrder.objects.get(pk=int(from_global_id(vo["id"])[1]))
        owner = VendorStaff.objects.filter(vendor_id=vendor_order.vendor_id, role="owner").first().user
        done = signed_in(None, owner).mutate(FULFIL, {"id": vo["id"]})
        assert done["errors"] == [], done["errors"]
    received = buyer.mutate(RECEIVED, {"id": placed["order"]["id"]})
    assert received["errors"] == [], received["errors"]


def refund(store, placed, amount=None):
    vo = vendor_order_of(placed, store)
    done = store.owner_api().mutate(REFUND, {"o": placed["order"]["id"], "vo": vo["id"],
                                             "a": str(amount) if amount is not None else None})
    assert done["errors"] == [], done["errors"]
    return done


def account(api, store):
    return api.data(ACCOUNT, {"v": store.gid})["myVipAccount"]


def run_task(name, **kwargs):
    """Run one of the plugin's Celery tasks on the real worker and wait for its result."""
    from plugins.vip_tiers import tasks

    return getattr(tasks, name).apply_async(kwargs=kwargs).get(timeout=60)


def assert_ledger_consistent():
    from marketplace.plugins.ledger import is_balanced
    from plugins.vip_tiers.services import integrity

    checked, mismatches = integrity.check()
    assert mismatches == [], [str(m) for m in mismatches]
    assert is_balanced()
    return checked


def at(*args):
    return datetime(*args, tzinfo=timezone.utc)
