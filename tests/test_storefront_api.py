"""What the storefront and the vendor dashboard (storefront/, issue 19) needed from the API:
`myCheckout` (a member's cart on any device), `VendorOrder.orderId` and
`VendorOrder.refunds` (a vendor refunds and shows refunds of its own sub-orders), and
`paymentGateways` (which gateways a buyer can pay with, with their public config)."""
import pytest

from tests.conftest import GraphQLClient, gid
from tests.test_checkout import COMPLETE, fill_cart, shop  # noqa: F401  (fixture)

MY_CART = "{ myCheckout { token quantity lines { sku quantity } } }"


@pytest.mark.django_db
def test_my_checkout_is_the_members_open_cart(gql, member_gql, shop):  # noqa: F811
    assert gql.data(MY_CART) == {"myCheckout": None}  # anonymous: no cart to find
    assert member_gql.data(MY_CART) == {"myCheckout": None}  # signed in, no cart yet
    token = fill_cart(member_gql, shop, pads_qty=2, oil_qty=1)
    mine = member_gql.data(MY_CART)["myCheckout"]
    assert mine["token"] == token and mine["quantity"] == 3
    assert sorted((line["sku"], line["quantity"]) for line in mine["lines"]) == [("oil-1", 1), ("pads-1", 2)]
    # Another member never sees it; once completed, it is no longer the open cart.
    other = GraphQLClient(gql.client)
    from marketplace.plugins.testing import make_user

    make_user("other@example.com")
    other.login("other@example.com")
    assert other.data(MY_CART) == {"myCheckout": None}
    placed = member_gql.mutate(COMPLETE, {"t": token, "g": "dev"})
    assert placed["errors"] == []
    assert member_gql.data(MY_CART) == {"myCheckout": None}


VENDOR_ORDERS = """query($v: ID!) { vendorOrders(vendorId: $v, first: 20) { edges { node {
  orderId orderNumber refunded { amount } refunds { amount { amount } status reason } lines { sku } } } } }"""


@pytest.mark.django_db
def test_a_vendor_refunds_its_sub_order_by_the_order_id_it_can_read(client, member_gql, shop, django_assert_max_num_queries):  # noqa: F811
    a = shop[0]
    placed = member_gql.mutate(COMPLETE, {"t": fill_cart(member_gql, shop), "g": "dev"})
    secret = placed["payment"]["clientSecret"]
    assert member_gql.mutate('mutation($s: String!) { devPaymentConfirm(clientSecret: $s) { status errors { code } } }',
                             {"s": secret})["status"]
    owner = GraphQLClient(client)
    owner.login(a.owner.email)
    node = owner.data(VENDOR_ORDERS, {"v": gid("Vendor", a.pk)})["vendorOrders"]["edges"][0]["node"]
    assert node["orderId"] == placed["order"]["id"] and node["refunds"] == []
    # The vendor reads the order's ID, never the order itself.
    assert owner.data('query($id: ID!) { node(id: $id) { id } }', {"id": node["orderId"]}) == {"node": None}
    done = owner.mutate("""mutation($o: ID!, $vo: ID!) { orderRefund(orderId: $o, vendorOrderId: $vo, amount: "50.00",
        reason: "划痕") { vendorOrder { refunded { amount } refunds { amount { amount } status reason } } errors { code } } }""",
                        {"o": node["orderId"], "vo": next(v["id"] for v in placed["order"]["vendorOrders"]
                                                          if v["vendor"]["slug"] == "parts-a")})
    assert done["errors"] == []
    assert done["vendorOrder"] == {"refunded": {"amount": "50.00"},
                                   "refunds": [{"amount": {"amount": "50.00"}, "status": "SUCCEEDED", "reason": "划痕"}]}
    # Lines and refunds are fetched once for the page, not once per sub-order.
    for n in range(3):
        member_gql.mutate(COMPLETE, {"t": fill_cart(member_gql, shop, pads_qty=1, oil_qty=1), "g": "dev"})
    with django_assert_max_num_queries(12):
        edges = owner.data(VENDOR_ORDERS, {"v": gid("Vendor", a.pk)})["vendorOrders"]["edges"]
    assert len(edges) == 4 and [len(e["node"]["refunds"]) for e in edges] == [0, 0, 0, 1]


GATEWAYS = "{ paymentGateways { name capabilities clientConfig } }"


@pytest.mark.django_db
def test_payment_gateways_lists_what_a_buyer_can_pay_with(gql, settings):
    settings.STRIPE_API_KEY = None
    settings.STRIPE_PUBLISHABLE_KEY = None
    names = [g["name"] for g in gql.data(GATEWAYS)["paymentGateways"]]
    assert names == ["dev"]  # Stripe is installed but not configured: not offered
    settings.STRIPE_API_KEY = "sk_test_123"
    assert [g["name"] for g in gql.data(GATEWAYS)["paymentGateways"]] == ["dev"]  # no publishable key yet
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_abc"
    found = {g["name"]: g for g in gql.data(GATEWAYS)["paymentGateways"]}
    assert found["stripe"]["clientConfig"] == {"publishableKey": "pk_test_abc"}
    assert "refunds" in found["stripe"]["capabilities"] and found["dev"]["clientConfig"] == {}
    assert "sk_test_123" not in str(found)


@pytest.mark.django_db
def test_the_buyer_reads_the_checkout_token_to_pay_later_others_do_not(client, member_gql, shop):  # noqa: F811
    a = shop[0]
    token = fill_cart(member_gql, shop)
    placed = member_gql.mutate(COMPLETE, {"t": token, "g": None})  # placed, not paid yet
    number = placed["order"]["number"]
    mine = member_gql.data('query($n: String!) { order(number: $n) { status checkoutToken } }', {"n": number})["order"]
    assert mine == {"status": "UNPAID", "checkoutToken": token}
    # Paying later (another device, a declined card) needs that token: it works.
    paying = member_gql.mutate('mutation($n: String!, $t: UUID!) { orderPaymentCreate(orderNumber: $n, checkoutToken: $t, '
                               'gateway: "dev") { payment { clientSecret } errors { code } } }', {"n": number, "t": token})
    assert paying["errors"] == [] and paying["payment"]["clientSecret"]
    # A vendor sees its sub-order, never the order or its token.
    owner = GraphQLClient(client)
    owner.login(a.owner.email)
    assert owner.data('query($n: String!) { order(number: $n) { checkoutToken } }', {"n": number}) == {"order": None}
