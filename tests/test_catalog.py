"""Catalog through GraphQL: isolation between vendors, listings, prices, CSV import."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace.catalog.models import Product, ProductVariant, Stock
from tests.conftest import GraphQLClient, gid

pytestmark = pytest.mark.django_db


def client_for(client, user):
    api = GraphQLClient(client)
    api.login(user.email)
    return api


@pytest.fixture
def two_vendors(client, make_vendor, make_product, taxonomy):
    a = make_vendor("vendor-a")
    b = make_vendor("vendor-b")
    product_a = make_product(a, "a-pads", "A 刹车片", price="200.00")
    return a, b, product_a, client_for(client, b.owner)


def test_every_catalog_mutation_refuses_another_vendors_staff(two_vendors, taxonomy):
    vendor_a, vendor_b, product, intruder = two_vendors
    variant = product.variants.first()
    warehouse_a = vendor_a.warehouses.first()
    p, v, va = gid("Product", product.pk), gid("ProductVariant", variant.pk), gid("Vendor", vendor_a.pk)
    attempts = {
        "productCreate": ('mutation($v: ID!) { productCreate(vendorId: $v, input: {nameZh: "x", slug: "x", '
                          'category: "%s", productType: "%s"}) { errors { code } } }'
                          % (gid("Category", taxonomy.pads.pk), gid("ProductType", taxonomy.part.pk)), {"v": va}),
        "productUpdate": ('mutation($id: ID!) { productUpdate(id: $id, input: {nameZh: "hacked"}) { errors { code } } }', {"id": p}),
        "productDelete": ('mutation($id: ID!) { productDelete(id: $id) { errors { code } } }', {"id": p}),
        "productSetAttributes": ('mutation($id: ID!) { productSetAttributes(id: $id, values: {}) { errors { code } } }', {"id": p}),
        "productVariantCreate": ('mutation($id: ID!) { productVariantCreate(productId: $id, input: {sku: "z", listPrice: "1"}) { errors { code } } }', {"id": p}),
        "productVariantUpdate": ('mutation($id: ID!) { productVariantUpdate(id: $id, input: {listPrice: "1.00"}) { errors { code } } }', {"id": v}),
        "productVariantDelete": ('mutation($id: ID!) { productVariantDelete(id: $id) { errors { code } } }', {"id": v}),
        "stockSet": ('mutation($id: ID!, $w: ID!) { stockSet(variantId: $id, warehouseId: $w, quantity: 0) { errors { code } } }',
                     {"id": v, "w": gid("Warehouse", warehouse_a.pk)}),
        "productImportCsv": ('mutation($v: ID!) { productImportCsv(vendorId: $v, csv: "product_slug,sku,list_price\\nx,y,1") { errors { code } } }', {"v": va}),
        "vendorUpdate": ('mutation($v: ID!) { vendorUpdate(id: $v, input: {nameZh: "hacked"}) { errors { code } } }', {"v": va}),
        "warehouseCreate": ('mutation($v: ID!) { warehouseCreate(vendorId: $v, input: {name: "w2"}) { errors { code } } }', {"v": va}),
        "warehouseUpdate": ('mutation($w: ID!) { warehouseUpdate(id: $w, input: {name: "w2"}) { errors { code } } }', {"w": gid("Warehouse", warehouse_a.pk)}),
        "vendorStaffInvite": ('mutation($v: ID!) { vendorStaffInvite(vendorId: $v, email: "x@example.com", role: STAFF) { errors { code } } }', {"v": va}),
    }
    for name, (query, variables) in attempts.items():
        payload = intruder.mutate(query, variables)
        assert payload["errors"] == [{"code": "PERMISSION_DENIED"}], name
    product.refresh_from_db()
    variant.refresh_from_db()
    assert product.name_zh == "A 刹车片" and variant.list_price == Decimal("200.00")
    assert Stock.objects.get(variant=variant).quantity == 10
    # Their own staff-only data is invisible too.
    hidden = intruder.data('query($id: ID!) { node(id: $id) { ... on ProductVariant { costPrice stocks { quantity } } } }', {"id": v})
    assert hidden["node"] == {"costPrice": None, "stocks": None}


def test_platform_taxonomy_is_staff_only(member_gql, staff_gql):
    create = 'mutation { categoryCreate(input: {nameZh: "轮胎", slug: "tyres"}) { category { slug } errors { field code } } }'
    assert member_gql.mutate(create)["errors"] == [{"field": None, "code": "PERMISSION_DENIED"}]
    assert staff_gql.mutate(create) == {"category": {"slug": "tyres"}, "errors": []}
    assert staff_gql.mutate(create)["errors"] == [{"field": "slug", "code": "UNIQUE"}]
    brand = 'mutation { brandCreate(input: {nameZh: "米其林", nameEn: "Michelin", slug: "michelin"}) { brand { slug } errors { code } } }'
    assert member_gql.mutate(brand)["errors"][0]["code"] == "PERMISSION_DENIED"
    assert staff_gql.mutate(brand)["brand"] == {"slug": "michelin"}


def test_product_and_variant_validation(client, make_vendor, taxonomy):
    vendor = make_vendor("val")
    owner = client_for(client, vendor.owner)
    bad = owner.mutate('mutation($v: ID!) { productCreate(vendorId: $v, input: {slug: "Not OK", images: ["ftp://x"]}) { errors { field code } } }',
                       {"v": gid("Vendor", vendor.pk)})
    assert {(e["field"], e["code"]) for e in bad["errors"]} == {
        ("category", "REQUIRED"), ("productType", "REQUIRED"), ("nameZh", "REQUIRED"), ("slug", "INVALID"), ("images", "INVALID")}
    ok = owner.mutate('mutation($v: ID!, $c: ID!, $t: ID!) { productCreate(vendorId: $v, input: {nameZh: "机油", slug: "oil-1", category: $c, productType: $t}) { product { id } errors { code } } }',
                      {"v": gid("Vendor", vendor.pk), "c": gid("Category", taxonomy.oil.pk), "t": gid("ProductType", taxonomy.oil_type.pk)})
    product_id = ok["product"]["id"]
    create = 'mutation($p: ID!, $i: VariantInput!) { productVariantCreate(productId: $p, input: $i) { variant { sku } errors { field code } } }'
    cases = [
        ({"sku": "", "listPrice": "10"}, [("sku", "REQUIRED")]),
        ({"sku": "S1", "listPrice": "-1"}, [("listPrice", "INVALID")]),
        ({"sku": "S1", "listPrice": "abc"}, [("listPrice", "INVALID")]),
        ({"sku": "S1", "listPrice": "1.999"}, [("listPrice", "INVALID")]),
        ({"sku": "S1", "listPrice": "NaN"}, [("listPrice", "INVALID")]),
        ({"sku": "S1", "listPrice": "10.00", "salePrice": "12.00"}, [("salePrice", "INVALID")]),
        ({"sku": "S1"}, [("listPrice", "REQUIRED")]),
    ]
    for data, expected in cases:
        assert [(e["field"], e["code"]) for e in owner.mutate(create, {"p": product_id, "i": data})["errors"]] == expected, data
    assert owner.mutate(create, {"p": product_id, "i": {"sku": "S1", "listPrice": "59.90"}})["errors"] == []
    assert owner.mutate(create, {"p": product_id, "i": {"sku": "S1", "listPrice": "1"}})["errors"] == [{"field": "sku", "code": "UNIQUE"}]
    attrs = 'mutation($p: ID!, $v: GenericScalar!) { productSetAttributes(id: $p, values: $v) { product { attributes { attribute { slug } value } } errors { field code message } } }'
    bad_attrs = owner.mutate(attrs, {"p": product_id, "v": {"viscosity": "10W-60", "volume": "lots", "colour": "red"}})
    assert len(bad_attrs["errors"]) == 3
    good = owner.mutate(attrs, {"p": product_id, "v": {"viscosity": "5W-30", "volume": 4}})
    assert good["product"]["attributes"] == [{"attribute": {"slug": "viscosity"}, "value": "5W-30"},
                                             {"attribute": {"slug": "volume"}, "value": "4"}]
    # Stock cannot be set below what orders hold, nor in another vendor's warehouse.
    variant = ProductVariant.objects.get(sku="S1")
    Stock.objects.create(variant=variant, warehouse=vendor.warehouses.first(), quantity=5, reserved=3)
    stock = 'mutation($v: ID!, $w: ID!, $q: Int!) { stockSet(variantId: $v, warehouseId: $w, quantity: $q) { errors { field code } } }'
    args = {"v": gid("ProductVariant", variant.pk), "w": gid("Warehouse", vendor.warehouses.first().pk)}
    assert owner.mutate(stock, {**args, "q": 2})["errors"] == [{"field": "quantity", "code": "INVALID_STATE"}]
    assert owner.mutate(stock, {**args, "q": -1})["errors"] == [{"field": "quantity", "code": "INVALID"}]


LIST = """query($f: ProductFilterInput, $s: ProductSortInput, $n: Int, $after: String) {
  products(filter: $f, sortBy: $s, first: $n, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { slug minPrice inStock } } } }"""


def slugs(result):
    return [e["node"]["slug"] for e in result["products"]["edges"]]


def test_listing_filters_sorting_and_pages(gql, make_vendor, make_product, taxonomy):
    a = make_vendor("a", kind="parts_vendor")
    b = make_vendor("b", kind="repair_shop")
    make_product(a, "pads-cheap", price="80.00", category=taxonomy.pads)
    make_product(a, "pads-sale", price="300.00", sale_price="150.00", category=taxonomy.pads)
    make_product(b, "oil-5w30", price="320.00", category=taxonomy.oil, brand=taxonomy.mobil, stock=0)
    make_product(b, "draft", price="10.00", status="draft")
    assert gql.data(LIST)["products"]["totalCount"] == 3
    brakes = gql.data(LIST, {"f": {"categories": [gid("Category", taxonomy.brakes.pk)]}})  # includes subcategories
    assert sorted(slugs(brakes)) == ["pads-cheap", "pads-sale"]
    assert slugs(gql.data(LIST, {"f": {"brands": [gid("Brand", taxonomy.mobil.pk)]}})) == ["oil-5w30"]
    assert slugs(gql.data(LIST, {"f": {"vendorKind": "REPAIR_SHOP"}})) == ["oil-5w30"]
    assert sorted(slugs(gql.data(LIST, {"f": {"vendors": [gid("Vendor", a.pk)]}}))) == ["pads-cheap", "pads-sale"]
    assert slugs(gql.data(LIST, {"f": {"inStock": False}})) == ["oil-5w30"]
    assert slugs(gql.data(LIST, {"f": {"price": {"min": "100", "max": "200"}}})) == ["pads-sale"]
    assert slugs(gql.data(LIST, {"s": {"field": "PRICE", "direction": "ASC"}})) == ["pads-cheap", "pads-sale", "oil-5w30"]
    assert slugs(gql.data(LIST, {"s": {"field": "PRICE", "direction": "DESC"}})) == ["oil-5w30", "pads-sale", "pads-cheap"]
    first = gql.data(LIST, {"s": {"field": "PRICE"}, "n": 2})["products"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = gql.data(LIST, {"s": {"field": "PRICE"}, "n": 2, "after": first["pageInfo"]["endCursor"]})
    assert slugs(second) == ["oil-5w30"]
    bad = gql.execute(LIST, {"f": {"brands": ["nope"]}})
    assert bad["errors"][0]["extensions"] == {"code": "INVALID", "field": "brands"}


DETAIL = """query($v: String!, $s: String!) { product(vendorSlug: $v, slug: $s) {
  nameZh vendor { slug } category { slug parent { slug } } brand { slug } productType { slug }
  variants { sku available inStock price { list { amount currency } final { amount } discount { amount }
             adjustments { source label amount { amount } } floorApplied floorExempt } } } }"""


def test_detail_explains_prices_with_campaign_and_floor(gql, make_vendor, make_product, taxonomy):
    from marketplace.pricing.models import Campaign

    vendor = make_vendor("detail")
    make_product(vendor, "pads", price="200.00", sale_price="180.00")
    product = gql.data(DETAIL, {"v": "detail", "s": "pads"})["product"]
    assert product["category"] == {"slug": "brake-pads", "parent": {"slug": "brakes"}}
    price = product["variants"][0]["price"]
    assert price["list"] == {"amount": "200.00", "currency": "CNY"}
    assert price["final"] == {"amount": "180.00"} and price["discount"] == {"amount": "20.00"}
    assert price["adjustments"] == [{"source": "vendor", "label": "Vendor sale price", "amount": {"amount": "-20.00"}}]

    now = timezone.now()
    campaign = Campaign.objects.create(name_zh="双11", name_en="Double 11", starts_at=now - timedelta(hours=1),
                                       ends_at=now + timedelta(days=1), discount_percent=Decimal("30"))
    campaign.categories.add(taxonomy.brakes, taxonomy.pads)
    price = gql.data(DETAIL, {"v": "detail", "s": "pads"})["product"]["variants"][0]["price"]
    # 180 * 0.7 = 126 < 140 (70% of 200): the floor lifts it.
    assert price["final"] == {"amount": "140.00"} and price["floorApplied"] is True
    assert [a["source"] for a in price["adjustments"]] == ["vendor", f"campaign:{campaign.pk}", "platform"]
    campaign.exempt_from_floor = True
    campaign.save()
    price = gql.data(DETAIL, {"v": "detail", "s": "pads"})["product"]["variants"][0]["price"]
    assert price["final"] == {"amount": "126.00"} and price["floorExempt"] is True and not price["floorApplied"]


def test_hook_price_adjustments(gql, make_vendor, make_product, plugin):
    from marketplace.plugins import hookimpl
    from marketplace.pricing.pipeline import PriceAdjustment

    class HalfPrice:
        @hookimpl
        def price_adjustments(self, lines, context):
            return {line.variant_id: [PriceAdjustment("guestbook", "Guestbook half price", percent_off=Decimal("50"))]
                    for line in lines}

    vendor = make_vendor("plugged")
    make_product(vendor, "pads", price="100.00")
    plugin(HalfPrice(), "half-price")
    price = gql.data(DETAIL, {"v": "plugged", "s": "pads"})["product"]["variants"][0]["price"]
    assert [a["source"] for a in price["adjustments"]] == ["guestbook", "platform"]
    assert price["final"] == {"amount": "70.00"}


LISTING_QUERY = """{ products(first: 50) { totalCount edges { node {
  id nameZh nameEn minPrice vendor { nameZh slug isOpenNow } category { nameZh } brand { nameEn } productType { slug }
  attributes { value }
  variants { sku available inStock price { list { amount currency } final { amount }
             adjustments { source label amount { amount } } floorApplied } } } } } }"""


def test_listing_runs_a_constant_number_of_queries(gql, make_vendor, make_product, taxonomy):
    vendors = [make_vendor(f"v{i}") for i in range(3)]

    def count():
        from marketplace.catalog.cache import bump

        bump()  # the count is cached until the catalog changes: count it afresh each time
        with CaptureQueriesContext(connection) as ctx:
            data = gql.data(LISTING_QUERY)
        return len(ctx.captured_queries), data["products"]["totalCount"]

    for i in range(3):
        make_product(vendors[i % 3], f"p{i}", skus=[f"p{i}-a", f"p{i}-b"])
    cold, total = count()  # the first request also reads the category tree, campaigns, plugin configuration
    assert cold <= 12, cold
    small, total = count()  # later ones find them in the process (marketplace.core.snapshots)
    assert total == 3
    for i in range(3, 40):
        make_product(vendors[i % 3], f"p{i}", brand=taxonomy.mobil if i % 2 else taxonomy.bosch,
                     skus=[f"p{i}-a", f"p{i}-b"])
    big, total = count()
    assert total == 40
    print(f"listing queries: {small} (3 products) vs {big} (40 products)")
    assert small == big <= 12, (small, big)


CSV = """product_slug,name_zh,name_en,category,brand,product_type,status,sku,variant_name,list_price,sale_price,weight_grams,warehouse,quantity
corolla-pads,卡罗拉刹车片,Corolla pads,brake-pads,bosch,part,published,CP-1,前,268.00,,800,,5
corolla-pads,卡罗拉刹车片,Corolla pads,brake-pads,bosch,part,published,CP-2,后,198.00,180.00,700,,3
bad-product,坏商品,Bad,brake-pads,bosch,part,published,BP-1,,100.00,,100,,1
bad-product,坏商品,Bad,brake-pads,bosch,part,published,BP-2,,-5,,100,,1
unknown-cat,未知,Unknown,no-such-category,bosch,part,published,UC-1,,10,,,,
"""


def test_csv_import_reports_rows_and_never_half_writes(client, make_vendor, taxonomy):
    vendor = make_vendor("csv-shop")
    owner = client_for(client, vendor.owner)
    mutation = """mutation($v: ID!, $csv: String!) { productImportCsv(vendorId: $v, csv: $csv) {
                   created updated rowErrors { row field code message } errors { field code } } }"""
    result = owner.mutate(mutation, {"v": gid("Vendor", vendor.pk), "csv": CSV})
    assert result["created"] == 1 and result["updated"] == 0
    assert [(e["row"], e["field"], e["code"]) for e in result["rowErrors"]] == [
        (5, "listPrice", "INVALID"), (6, "category", "NOT_FOUND")]
    assert list(Product.objects.filter(vendor=vendor).values_list("slug", flat=True)) == ["corolla-pads"]
    assert not ProductVariant.objects.filter(sku="BP-1").exists()  # its product failed as a whole
    product = Product.objects.get(slug="corolla-pads")
    assert product.min_price == Decimal("180.00") and product.in_stock
    again = owner.mutate(mutation, {"v": gid("Vendor", vendor.pk), "csv": CSV})
    assert again["created"] == 0 and again["updated"] == 1
    assert ProductVariant.objects.filter(product=product).count() == 2
    missing = owner.mutate(mutation, {"v": gid("Vendor", vendor.pk), "csv": "name_zh\nx\n"})
    assert missing["errors"][0]["code"] == "INVALID"


def test_an_error_in_a_non_null_field_inside_a_batched_list_is_a_field_error_not_a_500(gql, make_vendor, make_product,
                                                                                        plugin):
    """A plugin refusing (MarketplaceError) while prices are computed in a batch: the
    non-null `price` fails, null propagates to the nearest nullable parent, and the
    client gets a coded error with HTTP 200."""
    from marketplace.core.errors import MarketplaceError
    from marketplace.plugins import hookimpl

    class Refusing:
        @hookimpl
        def price_adjustments(self, lines, context):
            raise MarketplaceError("Prices are being recalculated.", code="INVALID_STATE")

    vendor = make_vendor("refusing")
    for i in range(3):
        make_product(vendor, f"p{i}")
    plugin(Refusing(), "refusing-pricing")
    result = gql.execute("{ products(first: 5) { totalCount edges { node { slug variants { price { final { amount } } } } } } }")
    assert {e["extensions"]["code"] for e in result["errors"]} == {"INVALID_STATE"}
    edges = result["data"]["products"]["edges"]
    assert result["data"]["products"]["totalCount"] == 3 and len(edges) == 3
    assert all(edge["node"] is None for edge in edges)  # nulled up to the nearest nullable parent only
