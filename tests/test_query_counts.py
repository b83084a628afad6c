"""No N+1 in any connection: every connection of the schema (found by walking it, nested
ones included) is queried with every field its node reaches (three levels down), at two
page sizes, and must run the same number of SQL queries at both."""
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, Undefined, get_named_type

from marketplace.api.schema import schema
from tests.conftest import GraphQLClient, gid

pytestmark = pytest.mark.django_db

SMALL, LARGE = 2, 6
NODE_DEPTH = 3


def _connections(graphql_schema):
    """(type name, field name) of every connection field in the schema."""
    found = []
    for type_name, graphql_type in graphql_schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            named = get_named_type(field.type)
            if isinstance(named, GraphQLObjectType) and "edges" in named.fields and "pageInfo" in named.fields:
                found.append((type_name, field_name))
    return sorted(found)


def _required_args(field):
    return [name for name, arg in field.args.items()
            if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined]


class Builder:
    """Selections of every field reachable from a type, `depth` levels down. Fields with
    required arguments are filled from `arguments` ({arg name: literal}) or left out."""

    def __init__(self, arguments, size):
        self.arguments = arguments
        self.size = size
        self.connections = set()

    def args(self, field, connection=False):
        parts = [f"{name}: {self.arguments[name]}" for name in _required_args(field)]
        if connection:
            parts.append(f"first: {self.size}")
        return f"({', '.join(parts)})" if parts else ""

    def fillable(self, field):
        return all(name in self.arguments for name in _required_args(field))

    def connection(self, parent, name, field, depth):
        self.connections.add((parent, name))
        node = get_named_type(field.type).fields["edges"].type
        node_type = get_named_type(get_named_type(node).fields["node"].type)
        inner = self.selection(node_type, depth)
        return (f"{name}{self.args(field, connection=True)} {{ totalCount pageInfo {{ hasNextPage endCursor }} "
                f"edges {{ cursor node {{ {inner} }} }} }}")

    def selection(self, graphql_type, depth):
        parts = []
        for name, field in graphql_type.fields.items():
            if not self.fillable(field):
                continue
            named = get_named_type(field.type)
            if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
                parts.append(name + self.args(field))
            elif isinstance(named, GraphQLObjectType) and depth > 0:
                if "edges" in named.fields and "pageInfo" in named.fields:
                    parts.append(self.connection(graphql_type.name, name, field, depth - 1))
                else:
                    inner = self.selection(named, depth - 1)
                    if inner:
                        parts.append(f"{name}{self.args(field)} {{ {inner} }}")
        return " ".join(parts)


@pytest.fixture
def marketplace_data(client, make_vendor, make_product, make_user, staff, taxonomy, settings):
    """Seven of everything a connection lists, bought and paid by the staff user."""
    from marketplace.checkout.models import ShippingMethod
    from marketplace.orders import services as orders
    from marketplace.orders.models import Order
    from marketplace.payments.models import Payment
    from marketplace.webhooks.models import WebhookDelivery, WebhookSubscription

    settings.ACCOUNTS_REQUIRE_EMAIL_CONFIRMATION = False
    vendors = [make_vendor(f"shop-{i}", name_zh=f"店{i}") for i in range(LARGE + 1)]
    main = vendors[0]
    ShippingMethod.objects.create(vendor=main, name_zh="顺丰", price=Decimal("10.00"))
    # Distinct names: search shows one result per product family (same brand and name).
    products = [make_product(main, f"part-{i}", name_zh=f"配件{i}号", price=f"{100 + i}.00", stock=50,
                             skus=[f"part-{i}-a", f"part-{i}-b"])
                for i in range(LARGE + 1)]
    for i in range(LARGE + 1):
        make_user(f"user{i}@example.com")
    buyer = GraphQLClient(client)
    buyer.login(staff.email)
    method = gid("ShippingMethod", ShippingMethod.objects.get(vendor=main).pk)
    address = {"fullName": "张三", "phone": "13800000000", "province": "北京市", "city": "北京市",
               "district": "朝阳区", "street": "建国路1号", "postalCode": "100000"}
    for product in products:
        variant = product.variants.first()
        token = buyer.mutate(
            "mutation($l: [CheckoutLineInput!]) { checkoutCreate(lines: $l) { checkout { token } errors { code } } }",
            {"l": [{"variantId": gid("ProductVariant", variant.pk), "quantity": 1}]})["checkout"]["token"]
        assert buyer.mutate("mutation($t: UUID!, $a: CheckoutAddressInput!) { checkoutShippingAddressUpdate("
                            "token: $t, address: $a) { errors { code } } }", {"t": token, "a": address})["errors"] == []
        assert buyer.mutate("mutation($t: UUID!, $v: ID!, $m: ID!) { checkoutShippingMethodUpdate(token: $t, "
                            "vendorId: $v, shippingMethodId: $m) { errors { code } } }",
                            {"t": token, "v": gid("Vendor", main.pk), "m": method})["errors"] == []
        placed = buyer.mutate("mutation($t: UUID!) { checkoutComplete(token: $t) { order { number } "
                              "errors { code message } } }", {"t": token})
        assert placed["errors"] == [], placed["errors"]
        order = Order.objects.get(number=placed["order"]["number"])
        Payment.objects.create(order=order, gateway="stripe", reference=f"pi_{order.pk}", amount=order.total,
                               currency=order.currency, status="succeeded", captured_amount=order.total)
        orders.mark_paid(order.pk, order.total)
    for i in range(LARGE + 1):
        hook = WebhookSubscription.objects.create(name=f"hook {i}", target_url=f"https://example.com/{i}",
                                                  events=["order_paid"])
        for j in range(LARGE + 1):
            WebhookDelivery.objects.create(subscription=hook, event_id=f"00000000-0000-0000-0000-{i:06d}{j:06d}",
                                           event_name="order_paid", payload={})
    from marketplace.pricing import services as pricing

    from django.apps import apps

    if apps.is_installed("plugins.vendor_plans"):  # vendorSubscriptions lists their plans
        from plugins.vendor_plans import plans, subscriptions

        plans.seed()
        for i, vendor in enumerate(vendors):
            subscriptions.adopt(vendor.pk, "storefront_yearly", f"cus_counts_{i}", f"sub_counts_{i}")
    for i in range(LARGE + 1):
        pricing.create_campaign(data={"name_zh": f"活动{i}", "starts_at": f"2031-0{1 + i % 9}-01",
                                      "ends_at": f"2031-0{1 + i % 9}-02", "discount_percent": Decimal("5"),
                                      "vendor_ids": [vendors[i].pk]}, allow_overlap=True)
    # Plugins list rows of their own in connections: each first-party plugin may give a
    # plugins/<name>/tests/connection_data.py with create(count, users, vendors).
    import importlib
    import pkgutil

    import plugins as first_party
    from marketplace.accounts.models import User

    users = list(User.objects.order_by("pk"))
    for module in pkgutil.iter_modules(first_party.__path__):
        try:
            data = importlib.import_module(f"plugins.{module.name}.tests.connection_data")
        except ModuleNotFoundError:
            continue
        data.create(LARGE + 1, users, vendors)
    # The search backend's rows (database backend: written when a unit of work commits,
    # which a test's transaction never does) so that searchProducts has pages to walk.
    from search.backends import get_backend

    get_backend().rebuild()
    # Statistics for what this transaction wrote: after the suite's earlier tests the tables'
    # statistics say "empty" (flushed), and PostgreSQL then plans the wide select_related
    # joins as nested loops without index conditions, which ran for minutes. ANALYZE counts
    # the rows this transaction inserted, as production's statistics count real rows.
    from django.db import connection as db

    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {"vendorId": f'"{gid("Vendor", main.pk)}"'}, buyer


def _document(root_field, arguments, size):
    builder = Builder(arguments, size)
    query_type = schema.graphql_schema.query_type
    field = query_type.fields[root_field]
    named = get_named_type(field.type)
    if "edges" in named.fields:
        body = builder.connection("Query", root_field, field, NODE_DEPTH)
    else:
        body = f"{root_field}{builder.args(field)} {{ {builder.selection(named, NODE_DEPTH)} }}"
    return "{ " + body + " }", builder.connections


def _roots_reaching_connections():
    """Root fields that are connections, or objects with a connection inside."""
    query_type = schema.graphql_schema.query_type
    roots = []
    for name, field in query_type.fields.items():
        named = get_named_type(field.type)
        if not isinstance(named, GraphQLObjectType):
            continue
        if "edges" in named.fields or any("edges" in getattr(get_named_type(f.type), "fields", {})
                                          for f in named.fields.values()):
            roots.append(name)
    return sorted(roots)


def test_every_connection_runs_a_constant_number_of_queries(marketplace_data, settings):
    arguments, api = marketplace_data
    settings.GRAPHQL_MAX_TOKENS = 100_000  # the documents select everything, three levels down
    # These documents are huge on purpose; on a loaded machine one can pass the abuse guard's
    # 10 s budget, which is not what this test measures (tests/test_api_edge.py tests it).
    settings.GRAPHQL_REQUEST_BUDGET_SECONDS = 300
    covered = set()
    report, failures = [], []
    for root in _roots_reaching_connections():
        if not set(_required_args(schema.graphql_schema.query_type.fields[root])) <= set(arguments):
            continue  # needs an ID the walk cannot know (e.g. vipSegment(id)); its list roots cover the same types
        counts = []
        api.execute(_document(root, arguments, SMALL)[0])  # warm the caches (e.g. cached listing counts)
        for size in (SMALL, LARGE):
            document, connections = _document(root, arguments, size)
            covered |= connections
            with CaptureQueriesContext(connection) as ctx:
                result = api.execute(document)
            assert "errors" not in result, (root, result["errors"][:3])
            counts.append(len(ctx.captured_queries))
            edges = result["data"][root]
            if isinstance(edges, dict) and "edges" in edges:
                assert len(edges["edges"]) == size, (root, size, len(edges["edges"]))
        report.append(f"{root}: {counts[0]} queries at first={SMALL}, {counts[1]} at first={LARGE}")
        if counts[0] != counts[1]:
            failures.append(f"{root} is N+1: {counts}\n  " + "\n  ".join(
                q["sql"][:150] for q in ctx.captured_queries))
    print("\n".join(report))
    assert not failures, "\n".join(failures)
    assert covered == set(_connections(schema.graphql_schema)), (
        "connections not exercised: " + str(set(_connections(schema.graphql_schema)) - covered))


def test_issue_example_staff_order_listing(marketplace_data):
    """Issue 15.21: orders { payments vendorOrders { lines } } cost 8 queries at 2, 38 at 12."""
    _arguments, api = marketplace_data
    query = ("query($n: Int) { orders(first: $n) { edges { node { payments { status } "
             "vendorOrders { lines { sku } } } } } }")
    counts = []
    for size in (2, LARGE + 1):
        with CaptureQueriesContext(connection) as ctx:
            data = api.data(query, {"n": size})
        assert len(data["orders"]["edges"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
