"""The demo data (`populatedb`) and the synthetic generator (`generate_products`)."""
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from fixtures import catalog_demo, demo
from marketplace.accounts.models import User
from marketplace.catalog.models import (
    Attribute, Brand, Category, Product, ProductAttributeValue, ProductStatus, ProductType, ProductVariant, Stock,
)
from marketplace.catalog.services import refresh_summaries, visible_products
from marketplace.vendors.models import StaffRole, Vendor, VendorKind, VendorStaff, VendorStatus, Warehouse

MODELS = (User, Vendor, VendorStaff, Warehouse, Category, Brand, Attribute, ProductType, Product, ProductVariant,
          Stock, ProductAttributeValue)


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


def summaries(products):
    rows = products.values_list("pk", "min_price", "in_stock")
    return {pk: (min_price, in_stock) for pk, min_price, in_stock in rows}


def assert_summaries_match_the_services(products):
    """min_price/in_stock as stored equal what catalog.services.refresh_summaries computes."""
    stored = summaries(products)
    refresh_summaries(list(stored))
    assert summaries(products) == stored


@pytest.mark.django_db
def test_populatedb_builds_a_beijing_marketplace_once(gql):
    out = StringIO()
    call_command("populatedb", stdout=out)
    assert "Demo marketplace ready" in out.getvalue()
    first = counts()
    call_command("populatedb", stdout=StringIO())
    assert counts() == first  # idempotent: nothing new the second time

    slugs = [v["slug"] for v in catalog_demo.VENDORS]
    vendors = Vendor.objects.filter(slug__in=slugs)
    assert vendors.count() == len(slugs) >= 12
    assert set(vendors.values_list("kind", flat=True)) == set(VendorKind.values)
    statuses = list(vendors.values_list("status", flat=True))
    assert statuses.count(VendorStatus.APPLIED) == 1 and statuses.count(VendorStatus.SUSPENDED) == 1
    assert statuses.count(VendorStatus.APPROVED) == len(slugs) - 2
    assert len(set(vendors.values_list("district", flat=True))) >= 8
    for vendor in vendors:
        assert Decimal("39.7") < vendor.latitude < Decimal("40.2")
        assert Decimal("116.1") < vendor.longitude < Decimal("116.7")
        assert vendor.name_zh and vendor.name_en and vendor.phone and vendor.opening_hours
        assert vendor.warehouses.exists()
        owner = VendorStaff.objects.get(vendor=vendor, role=StaffRole.OWNER).user
        assert owner.email == f"owner.{vendor.slug}@demo.marketplace"
    assert VendorStaff.objects.filter(vendor__in=vendors).exclude(role=StaffRole.OWNER).count() >= 2
    assert User.objects.get(email="owner.beiyuan-toyota@demo.marketplace").check_password(demo.DEMO_PASSWORD)
    assert User.objects.get(email="admin@demo.marketplace").is_staff

    assert Category.objects.get(slug="engine-oil").parent.slug == "maintenance"
    assert Brand.objects.filter(slug__in=["bosch", "mobil", "michelin", "brembo", "ngk"]).count() == 5
    assert Attribute.objects.get(slug="viscosity").choices == ["0W-20", "5W-30", "5W-40"]

    products = Product.objects.filter(vendor__in=vendors)
    listed = visible_products().filter(vendor__in=vendors)
    assert listed.count() >= 300
    assert products.filter(status=ProductStatus.DRAFT).exists()
    assert products.filter(status=ProductStatus.PUBLISHED, vendor__status=VendorStatus.SUSPENDED).exists()  # hidden
    for product in listed.prefetch_related("variants__stocks__warehouse"):
        variants = list(product.variants.all())
        assert 1 <= len(variants) <= 3, product.slug
        assert product.name_zh and product.name_en and product.description_zh and product.description_en
        for variant in variants:
            assert variant.list_price > 0 and (variant.sale_price is None or variant.sale_price < variant.list_price)
            if variant.track_inventory:  # a service voucher (group_buy's demo) sells without stock
                assert [s.warehouse.vendor_id for s in variant.stocks.all()] == [product.vendor_id]
    assert listed.filter(in_stock=False).exists() and listed.filter(in_stock=True).exists()
    assert ProductVariant.objects.filter(product__in=listed, sale_price__isnull=False).exists()
    assert any(v in p.description_zh for p in listed for v in ("卡罗拉", "朗逸", "思域", "秦", "帝豪", "轩逸"))
    assert_summaries_match_the_services(products)

    # what a shopper sees through the API
    data = gql.data("""{ products(first: 3, filter: {vendorKind: DEALER, inStock: true}) { totalCount
        edges { node { nameZh vendor { slug kind } variants { sku price { list { amount currency } } } } } } }""")
    assert data["products"]["totalCount"] > 0
    assert {e["node"]["vendor"]["kind"] for e in data["products"]["edges"]} == {"DEALER"}


@pytest.mark.unit
def test_the_demo_catalog_is_deterministic():
    first = [catalog_demo.assortment(v) for v in catalog_demo.VENDORS]
    second = [catalog_demo.assortment(v) for v in catalog_demo.VENDORS]
    assert first == second
    spec = catalog_demo.VENDORS[0]
    assert demo._offer(spec, first[0][0], 0) == demo._offer(spec, first[0][0], 0)
    for items in first:
        assert len({item["slug"] for item in items}) == len(items)  # slugs unique per vendor


@pytest.mark.django_db
def test_generate_products_creates_n_and_resumes():
    def run(count):
        out = StringIO()
        call_command("generate_products", str(count), "--vendors", "4", "--batch", "120", "--seed", "99",
                     stdout=out, stderr=StringIO())
        return out.getvalue()

    generated = Product.objects.filter(slug__startswith="gen-99-")
    assert run(150).startswith("150 products created")  # as if the first run was interrupted
    assert run(300).startswith("150 products created (150 already there)")
    assert generated.count() == 300
    assert set(generated.values_list("status", flat=True)) == {ProductStatus.PUBLISHED}
    assert visible_products().filter(slug__startswith="gen-99-").count() == 300
    assert ProductVariant.objects.filter(product__in=generated).count() == 600
    assert Stock.objects.filter(variant__product__in=generated).count() == 600
    vendors = Vendor.objects.filter(products__in=generated).distinct()
    assert vendors.count() == 4 and set(vendors.values_list("kind", flat=True)) == set(VendorKind.values)
    assert generated.values("category").distinct().count() >= 8
    assert generated.values("brand").distinct().count() >= 10
    assert generated.filter(in_stock=False).exists()
    assert_summaries_match_the_services(generated)

    before = counts()
    assert run(300).startswith("0 products created (300 already there)")
    assert counts() == before

    # holes (e.g. products deleted by hand) are filled with the same content again
    lost = Product.objects.get(slug="gen-99-7")
    name, prices = lost.name_zh, sorted(lost.variants.values_list("list_price", flat=True))
    lost.delete()
    assert run(300).startswith("1 product created (299 already there)")
    again = Product.objects.get(slug="gen-99-7")
    assert (again.name_zh, sorted(again.variants.values_list("list_price", flat=True))) == (name, prices)
