"""Issue 15, items 14, 16 and 17 through the API: canonical identities, keyset cursors
over changing data, and one visibility rule per type whatever path reaches it."""
import pytest
from django.utils import timezone

from marketplace.accounts.identity import canonical_email
from tests.conftest import PASSWORD, GraphQLClient, gid

pytestmark = pytest.mark.django_db

LOGIN = """mutation($e: String!, $p: String!) { tokenCreate(email: $e, password: $p) {
  accessToken user { email } errors { field code } } }"""
REGISTER = """mutation($i: AccountRegisterInput!) { accountRegister(input: $i) { user { email } errors { field code } } }"""


def login(api, email, password):
    return api.mutate(LOGIN, {"e": email, "p": password})


# -- 14. canonical identities -----------------------------------------------------------------
def test_issue_dotless_i_does_not_escape_the_lockout(client, make_user, settings):
    """Issue 15.14: after 5 wrong passwords, `owner.jıngcheng-...` (U+0131), which the
    database's UPPER() treats as equal, kept guessing the real account's password."""
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    real = "owner.jingcheng-auto-parts@demo.marketplace"
    make_user(real)
    api = GraphQLClient(client)
    for _ in range(5):
        assert login(api, real, "wrong")["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert login(api, real, PASSWORD)["errors"][0]["code"] == "RATE_LIMITED"
    dotless = "owner.j\u0131ngcheng-auto-parts@demo.marketplace"
    # The variant is another identity: it never reaches the locked account, even with its password.
    result = login(api, dotless, PASSWORD)
    assert result["errors"][0]["code"] == "INVALID_CREDENTIALS" and result["accessToken"] is None
    # Every spelling with the same canonical form shares the lockout.
    for variant in ("OWNER.JINGCHENG-AUTO-PARTS@DEMO.MARKETPLACE", " Owner.Jingcheng-Auto-Parts@demo.marketplace ",
                    "owner.jingcheng-auto-parts@demo.marketplace".replace("a", "\uff41")):  # fullwidth a (NFKC)
        assert login(api, variant, PASSWORD)["errors"][0]["code"] == "RATE_LIMITED", variant


def test_canonical_form_for_lookup_and_uniqueness(client, make_user, settings):
    settings.ACCOUNTS_REQUIRE_EMAIL_CONFIRMATION = False
    api = GraphQLClient(client)
    created = api.mutate(REGISTER, {"i": {"email": "Strasse.Kunde@Example.COM", "password": PASSWORD}})
    assert created["errors"] == [] and created["user"]["email"] == "strasse.kunde@example.com"
    for same in ("STRASSE.KUNDE@EXAMPLE.COM", "strasse.kunde@ex\uff41mple.com"):
        again = api.mutate(REGISTER, {"i": {"email": same, "password": PASSWORD}})
        assert again["errors"] == [{"field": "email", "code": "UNIQUE"}], same
    signed_in = login(api, "  STRASSE.kunde@example.com", PASSWORD)
    assert signed_in["errors"] == [] and signed_in["user"]["email"] == "strasse.kunde@example.com"
    assert canonical_email("Stra\u00dfe@x.cn") == "strasse@x.cn"  # ß folds to ss
    assert canonical_email("\u212a@x.cn") == "k@x.cn"  # Kelvin sign (NFKC)


def test_rate_limit_keys_use_the_canonical_form(client, make_user, settings):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 3
    make_user("wang@example.com")
    api = GraphQLClient(client)
    for spelling in ("wang@example.com", "WANG@example.com", "Wang@Example.com"):
        assert login(api, spelling, "wrong")["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert login(api, "wang@EXAMPLE.com", PASSWORD)["errors"][0]["code"] == "RATE_LIMITED"


def test_existing_addresses_are_canonicalised_by_the_migration(make_user):
    from django.apps import apps as global_apps
    from importlib import import_module

    from marketplace.accounts.models import User

    user = make_user("plain@example.com")
    User.objects.filter(pk=user.pk).update(email="Mixed.CASE@Example.com")
    old = make_user("old@example.com")
    User.objects.filter(pk=old.pk).update(email="stra\u00dfe@example.com")  # lower-cased, not folded
    make_user("strasse@example.com")
    migration = import_module("marketplace.accounts.migrations.0002_canonical_emails")
    migration.forwards(global_apps, None)
    assert User.objects.get(pk=user.pk).email == "mixed.case@example.com"
    assert User.objects.get(pk=old.pk).email == "stra\u00dfe@example.com"  # its canonical form is taken: left alone


# -- 16. keyset cursors -----------------------------------------------------------------------
PAGE = """query($n: Int, $after: String, $before: String, $last: Int, $s: ProductSortInput) {
  products(first: $n, after: $after, before: $before, last: $last, sortBy: $s) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { slug } } } }"""


def slugs(data):
    return [e["node"]["slug"] for e in data["products"]["edges"]]


def test_issue_newest_first_pages_do_not_repeat_when_products_are_published(gql, make_vendor, make_product):
    """Issue 15.16: publishing 2 products between pages made page 2 repeat 2 items."""
    vendor = make_vendor("keyset-shop")
    for i in range(12):
        make_product(vendor, f"p{i:02d}")
    newest = {"field": "NEWEST", "direction": "DESC"}
    first = gql.data(PAGE, {"n": 5, "s": newest})
    assert slugs(first) == [f"p{i:02d}" for i in range(11, 6, -1)]
    make_product(vendor, "late-1")
    make_product(vendor, "late-2")
    second = gql.data(PAGE, {"n": 5, "s": newest, "after": first["products"]["pageInfo"]["endCursor"]})
    assert slugs(second) == [f"p{i:02d}" for i in range(6, 1, -1)]
    assert not set(slugs(first)) & set(slugs(second))
    third = gql.data(PAGE, {"n": 5, "s": newest, "after": second["products"]["pageInfo"]["endCursor"]})
    assert slugs(third) == ["p01", "p00"] and third["products"]["pageInfo"]["hasNextPage"] is False
    assert third["products"]["totalCount"] == 14


@pytest.mark.parametrize("sort", [None, {"field": "NAME", "direction": "ASC"}, {"field": "PRICE", "direction": "DESC"},
                                  {"field": "PRICE", "direction": "ASC"}, {"field": "SALES", "direction": "DESC"},
                                  {"field": "NEWEST", "direction": "ASC"}])
def test_every_ordering_pages_through_every_row_once(gql, make_vendor, make_product, sort):
    """Ties on the sort key (same price, same name, same sales) and NULL sort keys are
    broken by the id: walking forward and backward visits every row exactly once."""
    from marketplace.catalog.models import Product

    vendor = make_vendor("walk-shop")
    for i in range(11):
        make_product(vendor, f"w{i:02d}", name_zh="同名" if i % 3 else f"名{i}", price=f"{100 + i % 4}.00")
    Product.objects.filter(slug__in=["w03", "w07"]).update(min_price=None)  # NULL sort keys sort last
    everything = slugs(gql.data(PAGE, {"n": 100, "s": sort}))
    assert len(everything) == 11
    seen, after = [], None
    while True:
        page = gql.data(PAGE, {"n": 3, "s": sort, "after": after})["products"]
        seen += [e["node"]["slug"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == everything
    back, before = [], None
    while True:
        page = gql.data(PAGE, {"last": 4, "s": sort, "before": before})["products"]
        back = [e["node"]["slug"] for e in page["edges"]] + back
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert back == everything


def test_cursors_belong_to_their_ordering(gql, make_vendor, make_product):
    vendor = make_vendor("cursor-shop")
    for i in range(3):
        make_product(vendor, f"c{i}")
    cursor = gql.data(PAGE, {"n": 1})["products"]["pageInfo"]["endCursor"]
    result = gql.execute(PAGE, {"n": 1, "after": cursor, "s": {"field": "PRICE", "direction": "ASC"}})
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in result["errors"]] == [("INVALID", "after")]
    for garbage in ("YXJyYXljb25uZWN0aW9uOjE=", "%%%", "eyJrIjoieCJ9"):
        result = gql.execute(PAGE, {"n": 1, "after": garbage})
        assert [e["extensions"]["code"] for e in result["errors"]] == ["INVALID"], garbage


def test_deleting_the_cursor_row_does_not_lose_the_place(gql, make_vendor, make_product):
    vendor = make_vendor("delete-shop")
    products = [make_product(vendor, f"d{i}") for i in range(6)]
    first = gql.data(PAGE, {"n": 3})
    products[2].delete()  # the row the cursor points at
    second = gql.data(PAGE, {"n": 3, "after": first["products"]["pageInfo"]["endCursor"]})
    assert slugs(second) == ["d3", "d4", "d5"]


def test_nested_connections_page_per_parent(staff_gql):
    from marketplace.webhooks.models import WebhookDelivery, WebhookSubscription

    hooks = [WebhookSubscription.objects.create(name=f"h{i}", target_url=f"https://example.com/{i}") for i in range(3)]
    for index, hook in enumerate(hooks):
        for j in range(index + 2):
            WebhookDelivery.objects.create(subscription=hook, event_id=f"00000000-0000-0000-0000-{index:06d}{j:06d}",
                                           event_name=f"e{index}.{j}", payload={})
    query = """query($after: String) { webhooks(first: 5) { edges { node { name deliveries(first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { eventName } } } } } } }"""
    data = staff_gql.data(query)
    pages = {e["node"]["name"]: e["node"]["deliveries"] for e in data["webhooks"]["edges"]}
    assert [d["node"]["eventName"] for d in pages["h2"]["edges"]] == ["e2.3", "e2.2"]
    assert [pages[n]["totalCount"] for n in ("h0", "h1", "h2")] == [2, 3, 4]
    assert [pages[n]["pageInfo"]["hasNextPage"] for n in ("h0", "h1", "h2")] == [False, True, True]
    cursor = pages["h2"]["pageInfo"]["endCursor"]
    data = staff_gql.data(query, {"after": cursor})
    pages = {e["node"]["name"]: e["node"]["deliveries"] for e in data["webhooks"]["edges"]}
    assert [d["node"]["eventName"] for d in pages["h2"]["edges"]] == ["e2.1", "e2.0"]


# -- 17. one visibility rule per type ---------------------------------------------------------------
CART = """query($t: UUID!) { checkout(token: $t) { quantity vendors { lines { quantity
  variant { sku product { nameZh descriptionZh status } } } } } }"""


@pytest.fixture
def cart_with_a_product(client, make_vendor, make_product):
    vendor = make_vendor("visibility-shop")
    product = make_product(vendor, "pads", name_zh="刹车片")
    variant = product.variants.first()
    guest = GraphQLClient(client)
    token = guest.mutate("mutation($l: [CheckoutLineInput!]) { checkoutCreate(lines: $l) { checkout { token } "
                         "errors { code } } }",
                         {"l": [{"variantId": gid("ProductVariant", variant.pk), "quantity": 1}]})["checkout"]["token"]
    return vendor, product, variant, guest, token


def test_issue_draft_does_not_leak_through_a_cart_line(cart_with_a_product, client):
    """Issue 15.17: after the vendor set the product to draft and edited it, the anonymous
    cart holder read the new text through the line while node(id:) answered null."""
    vendor, product, variant, guest, token = cart_with_a_product
    seller = GraphQLClient(client)
    seller.login(vendor.owner.email)
    payload = seller.mutate("mutation($id: ID!, $i: ProductInput!) { productUpdate(id: $id, input: $i) "
                            "{ errors { code } } }", {"id": gid("Product", product.pk),
                                                      "i": {"status": "DRAFT", "nameZh": "秘密新品",
                                                            "descriptionZh": "未发布的说明"}})
    assert payload["errors"] == []
    cart = guest.data(CART, {"t": token}, token=None)
    line = cart["checkout"]["vendors"][0]["lines"][0]
    assert line["quantity"] == 1 and line["variant"] is None
    assert "秘密" not in str(cart) and "未发布" not in str(cart)
    node = guest.data('query($id: ID!) { node(id: $id) { ... on Product { nameZh } } }',
                      {"id": gid("Product", product.pk)})
    assert node["node"] is None
    # The vendor's own staff still see it, whichever path they take.
    own = seller.data('query($id: ID!) { node(id: $id) { ... on ProductVariant { product { nameZh status } } } }',
                      {"id": gid("ProductVariant", variant.pk)})
    assert own["node"]["product"] == {"nameZh": "秘密新品", "status": "DRAFT"}


def test_one_rule_for_products_and_variants_on_every_path(cart_with_a_product, client, staff):
    """The whole kind: every field of the schema that returns a Product or a ProductVariant
    applies the same rule (a suspended vendor, an inactive variant, a draft)."""
    from marketplace.api.schema import schema
    from marketplace.api.visibility import install_visibility  # noqa: F401 (the mechanism under test)
    from marketplace.catalog.models import ProductVariant
    from marketplace.vendors.models import Vendor

    vendor, product, variant, guest, token = cart_with_a_product
    fields = [(t, f) for t, gt in schema.graphql_schema.type_map.items() if not t.startswith("__")
              for f, field in (getattr(gt, "fields", None) or {}).items()
              if hasattr(field, "resolve") and getattr(gt, "interfaces", None) is not None
              and str(field.type).strip("[]!") in ("Product", "ProductVariant")]
    assert ("CheckoutLine", "variant") in fields and ("ProductVariant", "product") in fields
    for type_name, field_name in fields:
        field = schema.graphql_schema.type_map[type_name].fields[field_name]
        if (type_name, field_name) == ("Product", "variants"):
            continue  # a product's own variants follow that product's rule
        assert getattr(field.resolve, "__wrapped__", None) is not None, f"{type_name}.{field_name} is not gated"
        if not str(field.type).startswith("["):
            assert not str(field.type).endswith("!"), f"{type_name}.{field_name} must be nullable"

    def line_variant():
        return guest.data(CART, {"t": token}, token=None)["checkout"]["vendors"][0]["lines"][0]["variant"]

    assert line_variant()["product"]["nameZh"] == "刹车片"
    Vendor.objects.filter(pk=vendor.pk).update(status="suspended")
    assert line_variant() is None
    Vendor.objects.filter(pk=vendor.pk).update(status="approved")
    ProductVariant.objects.filter(pk=variant.pk).update(is_active=False)
    assert line_variant() is None
    staff_api = GraphQLClient(client)
    staff_api.login(staff.email)
    seen = staff_api.data('query($id: ID!) { node(id: $id) { ... on ProductVariant { sku } } }',
                          {"id": gid("ProductVariant", variant.pk)})
    assert seen["node"]["sku"] == variant.sku
    assert guest.data('query($id: ID!) { node(id: $id) { ... on ProductVariant { sku } } }',
                      {"id": gid("ProductVariant", variant.pk)}, token=None)["node"] is None
    assert timezone.now()
