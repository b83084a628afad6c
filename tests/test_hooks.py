"""Every hook is documented in docs/plugins.md and exercised by a `test_hook_<name>` test,
through the API, with an implementation in a plugin package (first-party plugins and the
third-party test plugins in tests/thirdparty) — Datasette's two meta-tests, plus the hooks
whose tests live nowhere else."""
import re
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.plugins import hookspecs
from marketplace.plugins.manager import get_manager
from tests.conftest import GraphQLClient, gid, signed_post

ROOT = Path(__file__).resolve().parent.parent
CORE_HOOKS = hookspecs.HOOK_NAMES


def _test_sources():
    return "\n".join(p.read_text() for folder in (ROOT / "tests", ROOT / "plugins") for p in folder.rglob("test_*.py"))


def test_the_hook_list_is_complete():
    declared = {name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "marketplace_policy")}
    assert set(CORE_HOOKS) == declared and len(CORE_HOOKS) >= 24  # six search hooks became register_product_fields


@pytest.mark.parametrize("hook", CORE_HOOKS)
def test_every_hook_is_documented(hook):
    docs = (ROOT / "docs" / "plugins.md").read_text()
    assert re.search(rf"^#+ `{hook}`", docs, re.M), f"docs/plugins.md has no section for {hook}"


@pytest.mark.parametrize("hook", CORE_HOOKS)
def test_every_hook_has_a_test(hook):
    assert re.search(rf"def test_hook_{hook}\b", _test_sources()), f"no test_hook_{hook}"


@pytest.mark.parametrize("hook", CORE_HOOKS)
def test_every_hook_has_an_implementation_in_a_plugin_package(hook):
    implementers = {impl.plugin_name for impl in getattr(get_manager().pm.hook, hook).get_hookimpls()}
    assert implementers & set(get_manager().plugins), f"no installed plugin implements {hook}"


def test_every_hook_declares_a_policy():
    for hook in CORE_HOOKS:
        spec = getattr(get_manager().pm.hook, hook).spec
        assert spec is not None and hasattr(spec.function, "marketplace_policy"), hook


# -- hooks tested here ---------------------------------------------------------------------------------
CONFIRM = """mutation($s: String!) { devPaymentConfirm(clientSecret: $s) { status errors { field code message } } }"""


@pytest.mark.django_db(transaction=True)
def test_hook_payment_gateways(client, member):
    """The development gateway plugin contributes "dev": a donation is charged through it,
    with no order (a standalone charge), and its capture reaches the owning plugin."""
    from guestbook.models import Donation

    from marketplace.payments.models import Payment

    api = GraphQLClient(client)
    api.login(member.email)
    started = api.mutate("""mutation { guestbookDonate(amount: "12.50", gateway: "dev") {
        clientSecret donationId errors { field code message } } }""")
    assert started["errors"] == []
    payment = Payment.objects.get()
    assert (payment.order_id, payment.purpose, payment.amount) == (None, f"guestbook:donation:{started['donationId']}",
                                                                   Decimal("12.50"))
    assert api.mutate(CONFIRM, {"s": started["clientSecret"]}) == {"status": "captured", "errors": []}
    assert Donation.objects.get().paid_at is not None
    unknown = api.mutate('mutation { guestbookDonate(amount: "5", gateway: "nope") { errors { field code } } }')
    assert unknown["errors"] == [{"field": "gateway", "code": "NOT_FOUND"}]


@pytest.mark.django_db(transaction=True)
def test_hook_on_payment_captured(client, member):
    from guestbook.models import Donation

    api = GraphQLClient(client)
    api.login(member.email)
    started = api.mutate('mutation { guestbookDonate(amount: "3.00", gateway: "dev") { clientSecret errors { code } } }')
    failed = api.mutate("""mutation($s: String!) { devPaymentConfirm(clientSecret: $s, outcome: FAIL) { status } }""",
                        {"s": started["clientSecret"]})
    assert failed["status"] == "failed" and Donation.objects.get().paid_at is None
    assert api.mutate(CONFIRM, {"s": started["clientSecret"]})["status"] == "captured"  # a retry succeeds
    assert Donation.objects.get().paid_at is not None


@pytest.mark.django_db(transaction=True)
def test_hook_on_order_paid(client, member, make_vendor, make_product):
    from guestbook.models import StickerClaim

    api = GraphQLClient(client)
    api.login(member.email)
    token = api.mutate("""mutation { checkoutCreate(lines: [{kind: "guestbook_sticker", reference: "classic",
        quantity: 1}]) { checkout { token } errors { field code message } } }""")["checkout"]["token"]
    placed = api.mutate("""mutation($t: UUID!) { checkoutComplete(token: $t, gateway: "dev") {
        order { number } payment { clientSecret } errors { field code message } } }""", {"t": token})
    assert placed["errors"] == []
    assert StickerClaim.objects.get().paid_at is None
    api.mutate(CONFIRM, {"s": placed["payment"]["clientSecret"]})
    assert StickerClaim.objects.get().paid_at is not None


@pytest.mark.django_db
def test_hook_graphql_types(member_gql, member):
    """A type reached by no field, only by `node(id:)`, registered through graphql_types."""
    from guestbook.models import StickerClaim

    from marketplace.orders.models import Order, OrderLine, VendorOrder

    order = Order.objects.create(number="MPGT1", user=member, email=member.email, subtotal=1, shipping_total=0,
                                 total=1, checkout_token="00000000-0000-0000-0000-00000000abcd")
    vendor_order = VendorOrder.objects.create(order=order, subtotal=1, shipping=0, total=1, commission_rate=0)
    line = OrderLine.objects.create(vendor_order=vendor_order, kind="guestbook_sticker", product_name="贴纸", sku="S",
                                    quantity=1, unit_list_price=1, unit_price=1, total=1)
    claim = StickerClaim.objects.create(order=order, line=line, quantity=1, message="你好")
    found = member_gql.data('query($id: ID!) { node(id: $id) { ... on GuestbookStickerClaim { quantity message } } }',
                            {"id": gid("GuestbookStickerClaim", claim.pk)})
    assert found == {"node": {"quantity": 1, "message": "你好"}}


@pytest.mark.django_db
def test_hook_register_entitlements(client, make_vendor, make_product, staff_gql):
    """A plugin that requires an entitlement is off for a vendor without it, and cannot be
    switched on there (ENTITLEMENT_REQUIRED)."""
    from marketplace.plugins import is_active

    vendor = make_vendor("no-corner")
    make_product(vendor, "corner-pads")
    assert is_active("guestbook", vendor.pk)
    staff_gql.mutate("""mutation($s: GenericScalar!) { pluginUpdate(name: "guestbook", input: {settings: $s}) {
        errors { code } } }""", {"s": {"no_guestbook_for": [vendor.pk]}})
    from marketplace.plugins.manager import invalidate_configuration

    invalidate_configuration()
    assert not is_active("guestbook", vendor.pk)
    owner = GraphQLClient(client)
    owner.login(vendor.owner.email)
    refused = owner.mutate("""mutation($v: ID!) { pluginUpdate(name: "guestbook", vendorId: $v, input: {active: true}) {
        errors { field code message } } }""", {"v": gid("Vendor", vendor.pk)})
    assert refused["errors"][0]["code"] == "ENTITLEMENT_REQUIRED" and refused["errors"][0]["field"] == "active"


@pytest.mark.django_db(transaction=True)
def test_hook_gateway_event(client, stripe_mock, staff_gql):
    """A signed gateway event the payments core does not own reaches the plugins, once; a
    type nobody handles is counted for staff."""
    from guestbook.models import Entry

    from marketplace.payments.models import GatewayEvent

    ping = {"id": "evt_ping_1", "object": "event", "type": "guestbook.ping", "created": 1700000000,
            "data": {"object": {"id": "x"}}}
    for _ in range(2):
        assert signed_post(client, ping).status_code == 200
    assert Entry.objects.filter(message="ping evt_ping_1").count() == 1
    mystery = {**ping, "id": "evt_mystery", "type": "mystery.happened"}
    assert signed_post(client, mystery).status_code == 200
    assert GatewayEvent.objects.get(event_id="evt_mystery").handled is False
    counts = staff_gql.data("{ unhandledGatewayEvents { type count } }")["unhandledGatewayEvents"]
    assert {"type": "mystery.happened", "count": 1} in counts
