"""What the product listing reads (issue 18): long texts and JSON only when the query asks
for them, joins only for what is selected, and a cached count keyed by the listing's
arguments (no SQL compiled for the key), with correct counts for every filter."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.catalog.schema import ProductNode
from tests.conftest import gid

pytestmark = pytest.mark.django_db


def _page_sql(gql, query, variables=None):
    with CaptureQueriesContext(connection) as ctx:
        data = gql.data(query, variables)
    (page,) = [q["sql"] for q in ctx.captured_queries
               if q["sql"].startswith('SELECT "catalog_product"."id"') and "LIMIT" in q["sql"]]
    return data, page


def test_long_texts_are_read_only_when_asked_for(gql, make_vendor, make_product, taxonomy):
    vendor = make_vendor("reads-v")
    product = make_product(vendor, "reads-p")
    product.description_zh, product.images = "很长的描述", ["https://img.example/p.jpg"]
    product.save()

    data, sql = _page_sql(gql, "{ products(first: 5) { edges { node { nameZh vendor { slug } } } } }")
    assert data["products"]["edges"][0]["node"]["vendor"]["slug"] == "reads-v"
    for column in ("description_zh", "description_en", "images", '"vendors_vendor"."description_zh"',
                   '"vendors_vendor"."opening_hours"', "catalog_brand", "catalog_producttype"):
        assert column not in sql, column

    data, sql = _page_sql(gql, "{ products(first: 5) { edges { node { descriptionZh images "
                               "brand { slug } vendor { isOpenNow } } } } }")
    node = data["products"]["edges"][0]["node"]
    assert node["descriptionZh"] == "很长的描述" and node["images"] == ["https://img.example/p.jpg"]
    assert '"catalog_product"."description_zh"' in sql and '"catalog_product"."images"' in sql
    assert '"vendors_vendor"."opening_hours"' in sql and "catalog_brand" in sql

    # Through a fragment, and a field the listing does not know (all columns then).
    data, sql = _page_sql(gql, "query { products(first: 5) { edges { node { ...P } } } } "
                               "fragment P on Product { descriptionEn }")
    assert '"catalog_product"."description_en"' in sql and '"catalog_product"."description_zh"' not in sql


def test_the_count_key_needs_no_sql_and_counts_stay_right(gql, make_vendor, make_product, taxonomy, monkeypatch):
    vendor = make_vendor("count-v")
    for i in range(3):
        make_product(vendor, f"count-{i}", brand=taxonomy.bosch if i else taxonomy.mobil)
    query = "query($f: ProductFilterInput) { products(first: 1, filter: $f) { totalCount } }"

    from django.db.models.sql.query import Query

    compiled = []
    original = Query.sql_with_params
    monkeypatch.setattr(Query, "sql_with_params", lambda self: compiled.append(1) or original(self))
    assert gql.data(query)["products"]["totalCount"] == 3
    assert gql.data(query, {"f": {"brands": [gid("Brand", taxonomy.bosch.pk)]}})["products"]["totalCount"] == 2
    assert gql.data(query, {"f": {"brands": [gid("Brand", taxonomy.mobil.pk)]}})["products"]["totalCount"] == 1
    assert compiled == []  # keys from the arguments (the statements themselves compile elsewhere)
    make_product(vendor, "count-3", brand=taxonomy.mobil)
    assert gql.data(query, {"f": {"brands": [gid("Brand", taxonomy.mobil.pk)]}})["products"]["totalCount"] == 2


def test_a_queryset_narrowed_after_marking_is_keyed_by_its_sql():
    from marketplace.catalog.schema import _mark_count_key
    from marketplace.catalog.selectors import visible_products

    marked = _mark_count_key(visible_products(), {})
    narrowed = marked.filter(slug="x")
    assert ProductNode.count_cache_key(marked) != ProductNode.count_cache_key(narrowed)
    assert ProductNode.count_cache_key(marked) == ProductNode.count_cache_key(_mark_count_key(visible_products(), {}))
