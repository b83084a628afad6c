"""The commerce plugin platform (issue 9), proven through the API with the third-party test
plugins in tests/thirdparty (installed through entry points, not in settings):

- guestbook sells a non-stock line with metadata (a sticker pack), claims a capacity in
  `checkout_reserve` (a limited edition; a failed completion releases it), pays part of an
  order with its own tender (guestbook credit), grants an entitlement the core enforces
  (max_products), refuses activation for a vendor scope, and publishes a hook;
- guestbook_badges calls that hook to price for signers.
"""
import ast
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.orders import ledger
from marketplace.orders.models import Order, OrderLine, VendorOrder
from marketplace.payments.models import Payment, Refund
from tests.conftest import GraphQLClient, gid

ROOT = Path(__file__).resolve().parent.parent

UPDATE = """mutation($name: String!, $v: ID, $input: PluginUpdateInput!) {
  pluginUpdate(name: $name, vendorId: $v, input: $input) { plugin { active } errors { field code message } } }"""
ADD = """mutation($t: UUID!, $lines: [CheckoutLineInput!]!) { checkoutLinesAdd(token: $t, lines: $lines) {
  checkout { lines { id kind reference name sku quantity metadata unitPrice { final { amount } } }
             vendors { vendor { slug } requiresShipping subtotal { amount } tendered { amount } }
             adjustments { source kind requested { amount } applied { amount } }
             total { amount } tendered { amount } amountDue { amount } }
  errors { field code message } } }"""
CREATE = "mutation($lines: [CheckoutLineInput!]) { checkoutCreate(lines: $lines) { checkout { token } errors { field code message } } }"
ADDRESS = """mutation($t: UUID!) { checkoutShippingAddressUpdate(token: $t, address: {fullName: "王小明",
  phone: "13800138000", province: "北京市", city: "北京市", street: "建国路88号"}) { errors { code } } }"""
SHIP = """mutation($t: UUID!, $v: ID!, $m: ID!) { checkoutShippingMethodUpdate(token: $t, vendorId: $v,
  shippingMethodId: $m) { errors { field code } } }"""
COMPLETE = """mutation($t: UUID!, $g: String, $e: Decimal) { checkoutComplete(token: $t, gateway: $g, expectedTotal: $e) {
  order { id number status total { amount } tenderedTotal { amount } amountDue { amount }
          vendorOrders { id vendor { slug } total { amount } tendered { amount }
                         lines { kind reference sku metadata total { amount } tendered { amount } } } }
  payment { id clientSecret amount { amount } }
  errors { field code message } } }"""
CONFIRM = """mutation($s: String!, $o: DevPaymentOutcome) { devPaymentConfirm(clientSecret: $s, outcome: $o) {
  status errors { field code message } } }"""
REFUND = """mutation($o: ID!, $vo: ID, $a: Decimal) { orderRefund(orderId: $o, vendorOrderId: $vo, amount: $a) {
  refunds { status amount { amount } cash { amount } tendered { amount } } errors { field code message } } }"""
STICKER = {"kind": "guestbook_sticker", "reference": "classic", "quantity": 2, "metadata": {"message": "一路平安"}}


def settings_of(staff_gql, **values):
    result = staff_gql.mutate(UPDATE, {"name": "guestbook", "input": {"settings": values}})
    assert result["errors"] == [], result["errors"]


@pytest.fixture
def store(make_vendor, make_product):
    from marketplace.checkout.models import ShippingMethod

    vendor = make_vendor("gb-parts")
    pads = make_product(vendor, "gb-pads", "刹车片", price="100.00", stock=5).variants.get()
    method = ShippingMethod.objects.create(vendor=vendor, name_zh="快递", price=Decimal("10.00"))
    return vendor, pads, method


def cart(api, store, sticker=True, pads=1):
    vendor, variant, method = store
    lines = [{"variantId": gid("ProductVariant", variant.pk), "quantity": pads}] if pads else []
    token = api.mutate(CREATE, {"lines": lines})["checkout"]["token"]
    if sticker:
        added = api.mutate(ADD, {"t": token, "lines": [STICKER]})
        assert added["errors"] == [], added["errors"]
    api.mutate(ADDRESS, {"t": token})
    if pads:
        assert api.mutate(SHIP, {"t": token, "v": gid("Vendor", vendor.pk), "m": gid("ShippingMethod", method.pk)})[
            "errors"] == []
    return token


def edition_claimed():
    from guestbook.models import Edition

    row = Edition.objects.first()
    return row.claimed if row else 0


# -- a non-stock line with metadata, a capacity claimed with the order ---------------------------------
@pytest.mark.django_db
def test_hook_register_line_kinds(member_gql, store):
    token = member_gql.mutate(CREATE, {})["checkout"]["token"]
    added = member_gql.mutate(ADD, {"t": token, "lines": [STICKER]})
    assert added["errors"] == []
    (line,) = added["checkout"]["lines"]
    assert line["kind"] == "guestbook_sticker" and line["reference"] == "classic" and line["sku"] == "GB-STICKER-CLASSIC"
    assert line["metadata"] == {"guestbook": {"message": "一路平安"}}
    assert line["unitPrice"]["final"] == {"amount": "9.90"}
    (part,) = added["checkout"]["vendors"]
    assert part["vendor"] is None and part["requiresShipping"] is False  # sold by the platform, nothing ships
    # The kind's own validation, errors naming the line.
    bad = member_gql.mutate(ADD, {"t": token, "lines": [
        {"kind": "guestbook_sticker", "reference": "classic", "quantity": 1, "metadata": {"colour": "red"}},
        {"kind": "guestbook_sticker", "reference": "gold", "quantity": 1},
        {"kind": "no_such_kind", "reference": "x", "quantity": 1}]})
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [
        ("lines.0.metadata", "INVALID"), ("lines.1.reference", "NOT_FOUND"), ("lines.2.kind", "INVALID")]


@pytest.mark.django_db(transaction=True)
def test_hook_checkout_reserve(client, member, store, staff_gql):
    """The edition is claimed atomically with the order; the platform's line is its own
    sub-order booked on the line kind's revenue account once paid (dev gateway)."""
    api = GraphQLClient(client)
    api.login(member.email)
    placed = api.mutate(COMPLETE, {"t": cart(api, store), "g": "dev"})
    assert placed["errors"] == []
    assert edition_claimed() == 2
    platform_part = next(vo for vo in placed["order"]["vendorOrders"] if vo["vendor"] is None)
    (line,) = platform_part["lines"]
    assert line["kind"] == "guestbook_sticker" and line["metadata"] == {"guestbook": {"message": "一路平安"}}
    assert platform_part["total"] == {"amount": "19.80"}
    assert api.mutate(CONFIRM, {"s": placed["payment"]["clientSecret"]}) == {"status": "captured", "errors": []}
    order = Order.objects.get(number=placed["order"]["number"])
    assert order.status == "paid"
    assert ledger.account_total("platform_sticker_revenue") == Decimal("19.80")
    assert ledger.is_balanced()


@pytest.mark.django_db
def test_a_failed_completion_releases_the_claim(gql, store, staff_gql):
    from marketplace.catalog.models import Stock

    vendor, pads, method = store
    token = cart(gql, store)
    gql.mutate('mutation($t: UUID!) { checkoutEmailUpdate(token: $t, email: "a@example.com") { errors { code } } }',
               {"t": token})
    Stock.objects.filter(variant=pads).update(quantity=0)  # sold elsewhere meanwhile
    failed = gql.mutate(COMPLETE, {"t": token})
    assert failed["errors"][0]["code"] == "OUT_OF_STOCK"
    assert edition_claimed() == 0 and not Order.objects.exists()
    # A full edition refuses with the plugin's own code, and nothing is written either.
    Stock.objects.filter(variant=pads).update(quantity=5)
    settings_of(staff_gql, edition_size=1)
    sold_out = gql.mutate(COMPLETE, {"t": token})
    assert [(e["field"], e["code"]) for e in sold_out["errors"]] == [("lines", "SOLD_OUT")]
    assert not Order.objects.exists() and Stock.objects.get(variant=pads).reserved == 0


@pytest.mark.django_db
def test_hook_on_order_released(gql, store):
    from marketplace.orders.services import expire_unpaid
    from marketplace.core import clock

    token = cart(gql, store)
    gql.mutate('mutation($t: UUID!) { checkoutEmailUpdate(token: $t, email: "a@example.com") { errors { code } } }',
               {"t": token})
    assert gql.mutate(COMPLETE, {"t": token})["errors"] == []
    assert edition_claimed() == 2
    with clock.offset(__import__("datetime").timedelta(hours=3)):
        assert expire_unpaid() == 1
    assert edition_claimed() == 0


# -- a tender, allocated under the floor; refunds give it back exactly -------------------------------------
@pytest.mark.django_db(transaction=True)
def test_hook_checkout_adjustments(client, member, store, staff):
    from guestbook.models import Credit

    Credit.objects.create(user=member, balance=Decimal("50.00"))
    api = GraphQLClient(client)
    api.login(member.email)
    token = cart(api, store, sticker=False)
    view = api.data("""query($t: UUID!) { checkout(token: $t) { total { amount } tendered { amount } amountDue { amount }
        adjustments { source kind requested { amount } applied { amount } } } }""", {"t": token})["checkout"]
    # 100.00 of pads may fall to its floor (70.00): 30.00 of the 50.00 credit applies.
    assert view["adjustments"] == [{"source": "guestbook", "kind": "tender", "requested": {"amount": "50.00"},
                                    "applied": {"amount": "30.00"}}]
    assert (view["total"], view["tendered"], view["amountDue"]) == (
        {"amount": "110.00"}, {"amount": "30.00"}, {"amount": "80.00"})
    placed = api.mutate(COMPLETE, {"t": token, "g": "dev", "e": "110.00"})
    assert placed["errors"] == [] and placed["payment"]["amount"] == {"amount": "80.00"}
    assert Credit.objects.get(user=member).balance == Decimal("20.00")  # spent in checkout_reserve
    api.mutate(CONFIRM, {"s": placed["payment"]["clientSecret"]})
    assert Order.objects.get().status == "paid"
    # Refund it all: 80.00 in cash, 30.00 back as credit; the ledger nets to zero.
    staff_api = GraphQLClient(client)
    staff_api.login(staff.email)
    done = staff_api.mutate(REFUND, {"o": placed["order"]["id"]})
    assert done["errors"] == []
    assert done["refunds"] == [{"status": "SUCCEEDED", "amount": {"amount": "110.00"}, "cash": {"amount": "80.00"},
                                "tendered": {"amount": "30.00"}}]
    assert Credit.objects.get(user=member).balance == Decimal("50.00")
    assert ledger.is_balanced()
    for account in ("customer_payments", "customer_credit_liability", "vendor_payable", "platform_revenue"):
        assert ledger.account_total(account) == 0, account


@pytest.mark.django_db(transaction=True)
def test_hook_on_refund_recorded(client, member, store, staff):
    """Partial refunds return the tender in proportion, the last one exactly what is left."""
    from guestbook.models import Credit

    Credit.objects.create(user=member, balance=Decimal("30.00"))
    api = GraphQLClient(client)
    api.login(member.email)
    placed = api.mutate(COMPLETE, {"t": cart(api, store, sticker=False), "g": "dev"})
    api.mutate(CONFIRM, {"s": placed["payment"]["clientSecret"]})
    staff_api = GraphQLClient(client)
    staff_api.login(staff.email)
    vendor_order = placed["order"]["vendorOrders"][0]["id"]
    for amount in ("33.33", "33.33", "43.34"):
        assert staff_api.mutate(REFUND, {"o": placed["order"]["id"], "vo": vendor_order, "a": amount})["errors"] == []
    refunds = list(Refund.objects.order_by("pk"))
    assert sum(r.tendered for r in refunds) == Decimal("30.00") and sum(r.cash for r in refunds) == Decimal("80.00")
    assert Credit.objects.get(user=member).balance == Decimal("30.00")
    assert ledger.is_balanced() and ledger.balance(store[0].pk) == 0


@pytest.mark.django_db(transaction=True)
def test_an_order_with_nothing_due_completes_without_a_gateway(client, member, store, staff_gql):
    settings_of(staff_gql, sticker_price="0.00")
    api = GraphQLClient(client)
    api.login(member.email)
    token = cart(api, store, pads=0)
    placed = api.mutate(COMPLETE, {"t": token, "g": "stripe"})
    assert placed["errors"] == [] and placed["payment"] is None
    assert placed["order"]["status"] == "PAID" and placed["order"]["amountDue"] == {"amount": "0.00"}
    assert not Payment.objects.exists()
    assert ledger.is_balanced()


# -- entitlements, activation guard, plugin-published hooks ---------------------------------------------------
@pytest.mark.django_db
def test_hook_vendor_entitlements(client, make_vendor, staff_gql, taxonomy):
    vendor = make_vendor("quota-parts")
    settings_of(staff_gql, product_limits={str(vendor.pk): 1})
    owner = GraphQLClient(client)
    owner.login(vendor.owner.email)
    create = """mutation($v: ID!, $slug: String!) { productCreate(vendorId: $v, input: {slug: $slug, nameZh: "刹车片",
        category: "%s", productType: "%s"}) { product { slug } errors { field code message } } }""" % (
        gid("Category", taxonomy.pads.pk), gid("ProductType", taxonomy.part.pk))
    assert owner.mutate(create, {"v": gid("Vendor", vendor.pk), "slug": "first"})["errors"] == []
    refused = owner.mutate(create, {"v": gid("Vendor", vendor.pk), "slug": "second"})["errors"]
    assert refused[0]["code"] == "LIMIT_EXCEEDED" and "at most 1" in refused[0]["message"]


@pytest.mark.django_db
def test_a_plugin_refuses_activation_for_a_scope(client, make_vendor, make_product, staff_gql):
    vendor = make_vendor("guard-parts")
    owner = GraphQLClient(client)
    owner.login(vendor.owner.email)
    staff_gql.mutate(UPDATE, {"name": "guestbook", "v": gid("Vendor", vendor.pk), "input": {"active": False}})
    refused = owner.mutate(UPDATE, {"name": "guestbook", "v": gid("Vendor", vendor.pk), "input": {"active": True}})
    assert refused["errors"] == [{"field": "active", "code": "INVALID_STATE",
                                  "message": "The guestbook needs at least 1 listed products; this store has 0."}]
    make_product(vendor, "guard-pads")
    allowed = owner.mutate(UPDATE, {"name": "guestbook", "v": gid("Vendor", vendor.pk), "input": {"active": True}})
    assert allowed == {"plugin": {"active": True}, "errors": []}


@pytest.mark.django_db
def test_a_plugin_calls_a_hook_another_plugin_published(member_gql, member, store):
    from guestbook.models import Entry

    query = """{ product(vendorSlug: "gb-parts", slug: "gb-pads") { variants { price {
        final { amount } adjustments { source amount { amount } } } } } }"""
    price = member_gql.data(query)["product"]["variants"][0]["price"]
    assert price["final"] == {"amount": "100.00"}
    Entry.objects.create(author_email=member.email, message="好店")
    price = member_gql.data(query)["product"]["variants"][0]["price"]
    assert price["final"] == {"amount": "95.00"}
    assert price["adjustments"] == [{"source": "guestbook_badges", "amount": {"amount": "-5.00"}}]


def test_hook_firstresult_and_published_specs_go_through_pluggy(db):
    from marketplace.plugins import call_hook, has_hook
    from marketplace.plugins.manager import get_manager

    assert has_hook("guestbook_signatures")
    assert call_hook("guestbook_signatures", email="nobody@example.com") == 0  # one value: firstresult
    assert get_manager().pm.hook.guestbook_signatures.spec.opts["firstresult"] is True


# -- failure policies --------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_hook_checkout_validate(gql, store, staff_gql):
    """A crashing validation blocks completion (fail closed), with a clear error."""
    settings_of(staff_gql, crash_in_validation=True)
    token = cart(gql, store)
    gql.mutate('mutation($t: UUID!) { checkoutEmailUpdate(token: $t, email: "a@example.com") { errors { code } } }',
               {"t": token})
    blocked = gql.mutate(COMPLETE, {"t": token})
    assert [e["code"] for e in blocked["errors"]] == ["PLUGIN_FAILED"]
    assert "guestbook" in blocked["errors"][0]["message"]
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_crashing_event_subscriber_does_not_block_the_request(gql):
    from marketplace.accounts.models import User
    from marketplace.core import events

    def crash(event):
        raise RuntimeError("subscriber exploded")

    events.subscribe(crash)
    try:
        result = gql.mutate('mutation { accountRegister(input: {email: "ok@example.com", password: "Corolla-2026-brakes"}) '
                            '{ errors { code } } }')
    finally:
        events._subscribers.remove((crash, ()))
    assert result == {"errors": []} and User.objects.filter(email="ok@example.com").exists()


@pytest.mark.django_db
def test_a_plugin_that_wrote_and_then_crashed_leaves_nothing_behind(gql, plugin, store):
    from guestbook.models import Entry

    from marketplace.plugins import hookimpl

    class Scribbler:
        @hookimpl
        def checkout_validate(self, checkout, lines, context):
            Entry.objects.create(author_email="ghost@example.com", message="half-written")
            raise RuntimeError("crash after writing")

    plugin(Scribbler(), "scribbler")
    token = cart(gql, store)
    gql.mutate('mutation($t: UUID!) { checkoutEmailUpdate(token: $t, email: "a@example.com") { errors { code } } }',
               {"t": token})
    assert gql.mutate(COMPLETE, {"t": token})["errors"][0]["code"] == "PLUGIN_FAILED"
    assert not Entry.objects.filter(author_email="ghost@example.com").exists()


@pytest.mark.django_db
def test_pluggy_wrappers_and_tryfirst_work(member_gql, plugin, store):
    from marketplace.plugins import hookimpl
    from marketplace.pricing.pipeline import PriceAdjustment

    seen = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def price_adjustments(self, lines, context):
            results = yield
            seen.append(len(results))
            return results

    class Coupon:
        @hookimpl(tryfirst=True)
        def price_adjustments(self, lines, context):
            return {line.key: [PriceAdjustment("coupon", "Coupon", amount_off=Decimal("3"), kind="coupon")]
                    for line in lines}

    plugin(Wrapper(), "wrapper")
    plugin(Coupon(), "coupon")
    price = member_gql.data('{ product(vendorSlug: "gb-parts", slug: "gb-pads") { variants { price { final { amount } } } } }')
    assert price["product"]["variants"][0]["price"]["final"] == {"amount": "97.00"}
    assert seen and seen[0] >= 1


# -- money moved twice: a gateway that fails on its second refund ----------------------------------------------
class FlakyRefunds:
    """A gateway plugin whose second refund call fails (the money of the first has gone)."""

    def __init__(self):
        self.calls = 0

    from marketplace.plugins import hookimpl

    @hookimpl
    def payment_gateways(self):
        from plugins.dev_gateway.gateway import DevGateway

        from marketplace.plugins.payments import GatewayError

        owner = self

        class Flaky(DevGateway):
            name = "flaky"

            def refund(self, payment, amount, reason="", idempotency_key=None):
                owner.calls += 1
                if owner.calls == 2:
                    raise GatewayError("The bank is closed.", field="gateway")
                return super().refund(payment, amount, reason, idempotency_key)

        return [Flaky()]


@pytest.mark.django_db(transaction=True)
def test_a_failed_second_refund_keeps_the_first_refunded_and_booked(client, member, staff, plugin, make_vendor,
                                                                     make_product):
    from marketplace.checkout.models import ShippingMethod
    from marketplace.plugins.payments import GatewayEventData, deliver_event

    plugin(FlakyRefunds(), "flaky-gateway")
    a, b = make_vendor("flaky-a"), make_vendor("flaky-b")
    lines = []
    for vendor, slug, price in ((a, "fa-pads", "100.00"), (b, "fb-oil", "50.00")):
        variant = make_product(vendor, slug, price=price).variants.get()
        ShippingMethod.objects.create(vendor=vendor, name_zh="快递", price=Decimal("10.00"))
        lines.append({"variantId": gid("ProductVariant", variant.pk), "quantity": 1})
    api = GraphQLClient(client)
    api.login(member.email)
    token = api.mutate(CREATE, {"lines": lines})["checkout"]["token"]
    api.mutate(ADDRESS, {"t": token})
    for vendor in (a, b):
        api.mutate(SHIP, {"t": token, "v": gid("Vendor", vendor.pk),
                          "m": gid("ShippingMethod", vendor.shipping_methods.get().pk)})
    placed = api.mutate(COMPLETE, {"t": token, "g": "flaky"})
    payment = Payment.objects.get()
    deliver_event("flaky", GatewayEventData(event_id="evt-flaky-1", type="payment_intent.succeeded",
                                            reference=payment.reference, status="captured", amount=payment.amount,
                                            currency="CNY"))
    assert Order.objects.get().status == "paid"
    staff_api = GraphQLClient(client)
    staff_api.login(staff.email)
    result = staff_api.mutate(REFUND, {"o": placed["order"]["id"]})
    assert result["errors"] == [{"field": "gateway", "code": "INVALID", "message": "The bank is closed."}]
    first, second = Refund.objects.order_by("pk")
    assert (first.status, first.amount) == ("succeeded", Decimal("110.00"))
    assert (second.status, second.failure_reason) == ("failed", "The bank is closed.")
    parts = {vo.vendor_id: vo for vo in VendorOrder.objects.all()}
    assert parts[a.pk].refunded == Decimal("110.00") and parts[a.pk].status == "refunded"
    assert parts[b.pk].refunded == 0 and parts[b.pk].status == "paid"
    payment.refresh_from_db()
    assert payment.refunded_amount == Decimal("110.00")  # what the gateway really returned
    assert Order.objects.get().refunded_total == Decimal("110.00")
    assert ledger.is_balanced()
    # The clearing account holds exactly the cash still kept: captured 170.00 - refunded 110.00.
    assert ledger.account_total("customer_payments") == Decimal("-60.00")
    assert ledger.balance(a.pk) == 0
    # Retrying refunds what is left, once.
    assert staff_api.mutate(REFUND, {"o": placed["order"]["id"]})["errors"] == []
    assert ledger.account_total("customer_payments") == 0 and ledger.is_balanced()


# -- the API is declared; the plugins use only it ----------------------------------------------------------------
def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_plugins_import_only_the_public_plugin_api():
    offenders = []
    for folder in (ROOT / "plugins", ROOT / "tests" / "thirdparty"):
        for path in folder.rglob("*.py"):
            if "tests" in path.relative_to(folder).parts or path.name == "conftest.py":
                continue  # a plugin's own tests may reach the engine's test infrastructure
            for module in _imports(path):
                if module.startswith("marketplace") and not module.startswith("marketplace.plugins") \
                        and module != "marketplace":
                    offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


def test_every_mutation_that_takes_an_id_declares_whose_object_it_is():
    from graphql import get_named_type

    from marketplace.api.schema import schema
    from marketplace.core.permissions import Policy
    from marketplace.plugins.testing import mutation_classes

    classes = mutation_classes()
    undeclared, checked = [], 0
    for name, field in schema.graphql_schema.mutation_type.fields.items():
        if not any(get_named_type(arg.type).name == "ID" for arg in field.args.values()):
            continue
        checked += 1
        policy = classes[name].permission
        if not (isinstance(policy, Policy) and policy.declares_ownership):
            undeclared.append(f"{name}: {policy!r}")
    assert checked > 20 and undeclared == []


def test_there_are_no_import_cycles_and_core_knows_no_app_above_it():
    import importlib.util

    spec = importlib.util.spec_from_file_location("cycles", ROOT / "scripts" / "cycles.py")
    cycles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cycles)
    groups = cycles.find(str(ROOT / "marketplace"), str(ROOT / "plugins"), str(ROOT / "search"))
    assert groups == []
    above = ("accounts", "vendors", "catalog", "pricing", "checkout", "orders", "payments", "plugins", "api",
             "webhooks")
    for path in (ROOT / "marketplace" / "core").glob("*.py"):
        for module in _imports(path):
            assert not any(module.startswith(f"marketplace.{app}") for app in above), (path.name, module)


def test_events_are_typed_and_registered_once(db):
    from dataclasses import dataclass

    from guestbook.events import GuestbookSigned

    from marketplace.core.events import Event, emit, registry
    from marketplace.orders.events import OrderPaid

    assert registry()["guestbook_signed"] is GuestbookSigned and registry()["order_paid"] is OrderPaid

    @dataclass(frozen=True, kw_only=True)
    class Stray(Event):
        name = "stray"

    with pytest.raises(TypeError, match="register its class first"):
        emit(Stray())
    paid = OrderPaid(order_id=1, number="MP1", amount=Decimal("1.50"), vendor_totals={3: Decimal("1.50")})
    assert paid.payload == {"vendor_id": None, "order_id": 1, "number": "MP1", "amount": "1.50",
                            "vendor_totals": {"3": "1.50"}}


def test_an_incompatible_plugin_is_refused_at_start_up():
    from django.core.exceptions import ImproperlyConfigured

    from marketplace.plugins.base import check_compatibility

    check_compatibility("fine", ">=1.0,<2")
    with pytest.raises(ImproperlyConfigured, match="supports engine versions >=2.0"):
        check_compatibility("future", ">=2.0")
    with pytest.raises(ImproperlyConfigured, match="invalid compatibility"):
        check_compatibility("garbled", "one point oh")
