"""The search contract, run on both backends through GraphQL as a client would.

Every test runs twice: on the database backend (the embedded default) and on
Elasticsearch (a real node; under CI a missing ELASTICSEARCH_URL fails the run, it never
skips). Where the backends differ by design (typo tolerance, word segmentation), the
test says so and checks that the database backend reports it in `unsupported`.
"""
import itertools
import uuid
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from elasticsearch.dsl import Keyword, Long, Q
from graphene import Int

from marketplace.catalog.models import Product
from marketplace.plugins.hookspecs import hookimpl
from tests.conftest import gid, unavailable

pytestmark = pytest.mark.django_db

RUN = uuid.uuid4().hex[:8]
_numbers = itertools.count()
BEIJING = {"lat": 39.9042, "lon": 116.4074}
# Wednesday 25 November 2026, 10:00 in Beijing.
WEDNESDAY_10AM = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

SEARCH = """
query($q: String, $f: SearchFilterInput, $s: ProductSearchSort, $n: Int, $after: String) {
  searchProducts(query: $q, filter: $f, sortBy: $s, first: $n, after: $after) {
    backend totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { slug } highlights { field snippets } }
    facets { name values { value label count } }
    priceRanges { min max count }
    unsupported { capability message }
  }
}"""
SUGGEST = """query($p: String!, $n: Int) { suggest(prefix: $p, limit: $n) {
  products { text id } brands { text id } shops { text id } unsupported { capability } } }"""
SHOPS = """
query($q: String, $kind: VendorKind, $near: GeoPointInput, $r: Float, $open: Boolean, $services: [String!], $n: Int) {
  searchShops(query: $q, kind: $kind, near: $near, radiusKm: $r, openNow: $open, services: $services, first: $n) {
    backend totalCount edges { node { slug } distanceKm } unsupported { capability }
  }
}"""
SYNONYM_SET = """mutation($terms: [String!]!, $id: ID) { searchSynonymSet(terms: $terms, id: $id) {
  synonymSet { id terms } errors { field code message } } }"""
SYNONYM_DELETE = "mutation($id: ID!) { searchSynonymSetDelete(id: $id) { ok errors { code } } }"
SYNONYM_LIST = "{ searchSynonymSets { id terms } }"


# -- harness -------------------------------------------------------------------------------
class Harness:
    def __init__(self, backend):
        self.backend = backend
        self.name = backend.name

    def index(self):
        """Bring the index up to date with the database (nothing to do without an index)."""
        if self.backend.keeps_index:
            self.backend.rebuild()


@pytest.fixture(autouse=True)
def shipped_synonyms(db):
    """Every test starts from the synonym sets the engine ships (search/glossary.py: the
    default data a migration loads), whatever an earlier test left."""
    from search.glossary import load_glossary
    from search.models import SynonymSet

    SynonymSet.objects.all().delete()
    load_glossary()


@pytest.fixture(params=["database", "elasticsearch"])
def search_backend(request, settings):
    from search.backends import get_backend

    settings.SEARCH_BACKEND = request.param
    if request.param == "elasticsearch":
        if not settings.ELASTICSEARCH_URL:
            unavailable("ELASTICSEARCH_URL not set (developer run without services)",
                        "ELASTICSEARCH_URL is not set under CI: the elasticsearch backend must be tested")
        settings.SEARCH_INDEX_PREFIX = f"test-{RUN}-{next(_numbers)}-"
    backend = get_backend()
    yield Harness(backend)
    if backend.name == "elasticsearch":
        for index in backend.all_indices():  # exact names: wildcard deletes are refused
            backend.client.indices.delete(index=index, ignore_unavailable=True)


class StubPlugin:
    """A plugin declaring product fields (codes, a filter) and shop services, as the
    parts_storefront and repair_booking plugins do (registered for one test). Its
    callables never see a backend name."""

    def __init__(self):
        self.part_numbers = {}  # product id -> normalised numbers
        self.vehicles = {}  # product id -> vehicle ids
        self.services = {}  # vendor id -> services

    @hookimpl
    def register_product_fields(self):
        from marketplace.plugins.fields import ProductField

        return [
            ProductField(name="stub_part_numbers", es_mapping=Keyword(normalizer="code"), code_match=True,
                         values=lambda products: {p.pk: self.part_numbers.get(p.pk, []) for p in products}),
            ProductField(
                name="stub_vehicle_ids", es_mapping=Long(),
                values=lambda products: {p.pk: self.vehicles.get(p.pk, []) for p in products},
                graphql_input={"stub_vehicle": Int()},
                db_filter=lambda qs, f: qs.filter(
                    pk__in=[pk for pk, ids in self.vehicles.items() if int(f["stub_vehicle"]) in ids]),
                es_filter=lambda f: Q("term", stub_vehicle_ids=int(f["stub_vehicle"]))),
        ]

    @hookimpl
    def search_shop_fields(self, vendors):
        return {v.pk: {"services": self.services.get(v.pk, [])} for v in vendors}


@pytest.fixture
def stub_plugin():
    from marketplace.plugins.testing import register_plugin

    stub = StubPlugin()
    with register_plugin(stub, f"search_stub_{uuid.uuid4().hex[:6]}"):
        yield stub


@pytest.fixture
def market(make_vendor, make_product, taxonomy, stub_plugin):
    """Four approved shops around Beijing and Tianjin, one suspended, six products."""
    from marketplace.catalog import services as catalog
    from marketplace.vendors import services as vendors

    every_day = {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    always = {day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    a = make_vendor("bj-parts", name_zh="京城汽配", name_en="Jingcheng Auto Parts",
                    latitude="39.904200", longitude="116.407400")
    b = make_vendor("cy-repair", kind="repair_shop", name_zh="朝阳汽修", name_en="Chaoyang Auto Repair",
                    latitude="39.921900", longitude="116.443600", opening_hours=every_day)
    c = make_vendor("hd-dealer", kind="dealer", name_zh="海淀4S店", name_en="Haidian Dealer",
                    latitude="39.959300", longitude="116.298000", opening_hours={"sat": [["09:00", "18:00"]]})
    d = make_vendor("tj-parts", name_zh="天津汽配", name_en="Tianjin Parts",
                    latitude="39.343400", longitude="117.361600", opening_hours=always)
    s = make_vendor("bad-parts", name_zh="刹车片黑店", name_en="Bad Parts", latitude="39.904300",
                    longitude="116.407500")
    brembo = catalog.save_brand({"name_zh": "布雷博", "name_en": "Brembo", "slug": "brembo"})

    def product(vendor, slug, zh, en, price, sales, **kwargs):
        made = make_product(vendor, slug, name_zh=zh, name_en=en, price=price, **kwargs)
        Product.objects.filter(pk=made.pk).update(sales_count=sales)
        made.refresh_from_db()
        return made

    m = SimpleNamespace(shops=SimpleNamespace(a=a, b=b, c=c, d=d, s=s), brembo=brembo)
    m.front = product(a, "bosch-front", "博世前刹车片", "Bosch front brake pads", "200.00", 50,
                      skus=["04465-02220"])
    m.compat = product(a, "compat-pads", "刹车片 兼容 04465-02220", "Brake pads compatible with 04465 02220",
                       "150.00", 80, brand=brembo)
    m.rear = product(b, "bosch-rear", "博世后制动片", "Bosch rear brake lining", "80.00", 20,
                     category=taxonomy.brakes, stock=5)
    m.oil = product(b, "mobil-oil", "美孚1号全合成机油 5W-30", "Mobil 1 synthetic engine oil 5W-30", "420.00", 100,
                    category=taxonomy.oil, brand=taxonomy.mobil, stock=0)
    m.battery = product(c, "bosch-battery", "博世汽车电瓶", "Bosch car battery", "1200.00", 5,
                        category=taxonomy.maintenance)
    m.draft = product(a, "draft-pads", "刹车片 草稿", "Draft brake pads", "10.00", 999, status="draft")
    m.hidden = product(s, "hidden-pads", "刹车片 停业", "Hidden brake pads", "10.00", 999)
    vendors.suspend(s.pk, "Counterfeit parts")
    Product.objects.filter(pk=m.front.pk).update(description_en="Ceramic pads for the front axle.")
    stub_plugin.part_numbers[m.rear.pk] = ["BP7788"]
    stub_plugin.vehicles = {m.front.pk: [7], m.rear.pk: [7, 8], m.compat.pk: [8]}
    stub_plugin.services = {b.pk: ["brake-repair", "oil-change"], c.pk: ["oil-change"]}
    return m


@pytest.fixture
def indexed(search_backend, market):
    search_backend.index()
    return market


def search(gql, **variables):
    return gql.data(SEARCH, variables)["searchProducts"]


def slugs(result):
    return [edge["node"]["slug"] for edge in result["edges"]]


def capabilities(result):
    return {note["capability"] for note in result["unsupported"]}


# -- text ------------------------------------------------------------------------------------
def test_chinese_text(gql, search_backend, indexed):
    result = search(gql, q="刹车片")
    assert result["backend"] == search_backend.name
    # The phrase in the name first; 制动片 through the shipped synonyms; drafts and
    # suspended vendors never show.
    assert set(slugs(result)[:2]) == {"bosch-front", "compat-pads"}
    assert slugs(result)[2:] == ["bosch-rear"]
    assert result["totalCount"] == 3
    by_slug = {e["node"]["slug"]: e["highlights"] for e in result["edges"]}
    assert {"field": "nameZh", "snippets": ["博世前<em>刹车片</em>"]} in by_slug["bosch-front"]
    # A brand plus a category word, separated by a space, on both backends.
    assert set(slugs(search(gql, q="美孚 机油"))) == {"mobil-oil"}
    assert result["unsupported"] == []


def test_english_text(gql, search_backend, indexed):
    result = search(gql, q="brake pads")  # = 刹车片 = 制动片 (shipped glossary)
    assert set(slugs(result)) == {"bosch-front", "compat-pads", "bosch-rear"}
    assert set(slugs(search(gql, q="BOSCH"))) == {"bosch-front", "bosch-rear", "bosch-battery"}
    assert slugs(search(gql, q="ceramic")) == ["bosch-front"]  # the description counts too
    by_slug = {e["node"]["slug"]: e["highlights"] for e in search(gql, q="battery")["edges"]}
    # "battery" = 电瓶 = "car battery" (shipped glossary): every equivalent is marked.
    marks = {h["field"]: h["snippets"][0] for h in by_slug["bosch-battery"]}
    assert "battery</em>" in marks["nameEn"] and marks["nameZh"] == "博世汽车<em>电瓶</em>"


def test_exact_part_number_ranks_first(gql, search_backend, indexed):
    # The SKU 04465-02220 as typed, without separators, and in lower case.
    for query in ("04465-02220", "0446502220", "04465 02220"):
        result = search(gql, q=query)
        assert slugs(result)[0] == "bosch-front", query
    # compat-pads mentions the number in its name, with more sales: still second.
    assert slugs(search(gql, q="04465-02220"))[:2] == ["bosch-front", "compat-pads"]
    # A plugin's part number (stub of parts_storefront) matches exactly, however typed.
    assert slugs(search(gql, q="bp-7788"))[0] == "bosch-rear"
    assert slugs(search(gql, q="BP 7788"))[0] == "bosch-rear"


def test_typo_tolerance_and_word_segmentation(gql, search_backend, indexed):
    """Both backends: a misspelt brand finds it (Elasticsearch: fuzzy queries; database:
    the indexed vocabulary), and Chinese without spaces finds brand and product word
    apart, the best match first."""
    result = search(gql, q="bosh")
    assert set(slugs(result)) == {"bosch-front", "bosch-rear", "bosch-battery"}
    assert result["unsupported"] == []
    assert slugs(search(gql, q="mobl"))[0] == "mobil-oil"
    assert slugs(search(gql, q="博世刹车片"))[0] == "bosch-front"
    assert slugs(search(gql, q="bosch brake pasd"))[0] == "bosch-front"


# -- filters, facets, sorting, pages -----------------------------------------------------------
def test_filters(gql, search_backend, indexed, taxonomy):
    m = indexed

    def found(**f):
        return set(slugs(search(gql, f=f)))

    # A parent category includes its subcategories.
    assert found(categories=[gid("Category", taxonomy.brakes.pk)]) == {"bosch-front", "compat-pads", "bosch-rear"}
    assert found(categories=[gid("Category", taxonomy.maintenance.pk)]) == {"mobil-oil", "bosch-battery"}
    assert found(brands=[gid("Brand", taxonomy.mobil.pk)]) == {"mobil-oil"}
    assert found(vendors=[gid("Vendor", m.shops.a.pk)]) == {"bosch-front", "compat-pads"}
    assert found(vendorKind="REPAIR_SHOP") == {"bosch-rear", "mobil-oil"}
    assert found(price={"min": "100", "max": "300"}) == {"bosch-front", "compat-pads"}
    assert found(inStock=False) == {"mobil-oil"}
    assert found(inStock=True, brands=[gid("Brand", taxonomy.bosch.pk)], price={"max": "500"}) == {
        "bosch-front", "bosch-rear"}
    # Text and filters together.
    assert set(slugs(search(gql, q="刹车片", f={"brands": [gid("Brand", m.brembo.pk)]}))) == {"compat-pads"}
    bad = gql.execute(SEARCH, {"f": {"brands": ["nope"]}})
    assert bad["errors"][0]["extensions"] == {"code": "INVALID", "field": "brands"}


def test_plugin_filter_through_the_backend(search_backend, indexed):
    """A plugin's filter (here a stub of parts_storefront's vehicle fitment), declared
    once: on Elasticsearch its `es_filter`, on the database its `db_filter`."""
    from search.query import ProductFilters, ProductQuery
    from search.text import parse_query

    def ids(vehicle, text=""):
        query = ProductQuery(parsed=parse_query(text), filters=ProductFilters(raw={"stub_vehicle": vehicle}))
        return {hit.id for hit in search_backend.backend.search_products(query).hits}

    m = indexed
    assert ids(7) == {m.front.pk, m.rear.pk}
    assert ids(8) == {m.rear.pk, m.compat.pk}
    assert ids(8, "博世") == {m.rear.pk}
    assert ids(9) == set()


def test_facets_count_each_dimension_without_its_own_filter(gql, search_backend, indexed, taxonomy):
    m = indexed
    result = search(gql, f={"brands": [gid("Brand", taxonomy.bosch.pk)]})
    assert result["totalCount"] == 3
    facets = {f["name"]: {v["value"]: v["count"] for v in f["values"]} for f in result["facets"]}
    # Brand counts ignore the brand filter (switch or add brands); the others apply it.
    assert facets["BRAND"] == {gid("Brand", taxonomy.bosch.pk): 3, gid("Brand", m.brembo.pk): 1,
                               gid("Brand", taxonomy.mobil.pk): 1}
    assert facets["CATEGORY"] == {gid("Category", taxonomy.brakes.pk): 2, gid("Category", taxonomy.pads.pk): 1,
                                  gid("Category", taxonomy.maintenance.pk): 1}
    assert facets["VENDOR_KIND"] == {"PARTS_VENDOR": 1, "REPAIR_SHOP": 1, "DEALER": 1}
    assert facets["IN_STOCK"] == {"true": 3}
    brand_values = next(f for f in result["facets"] if f["name"] == "BRAND")["values"]
    assert brand_values[0] == {"value": gid("Brand", taxonomy.bosch.pk), "label": "博世", "count": 3}
    assert [(r["min"], r["max"], r["count"]) for r in result["priceRanges"]] == [
        ("0", "100", 1), ("100", "300", 1), ("300", "1000", 0), ("1000", None, 1)]
    # Facets over a text query; the in-stock facet shows both values.
    text = search(gql, q="博世 bosch", f={"inStock": True})
    stock = next(f for f in search(gql, q="")["facets"] if f["name"] == "IN_STOCK")
    assert {v["value"]: v["count"] for v in stock["values"]} == {"true": 4, "false": 1}
    assert text["totalCount"] == 3


def test_each_search_counts_its_own_results(gql, search_backend, indexed, taxonomy):
    """Counts and facets are cached per search until the rows change (database backend):
    two words with the same filters, asked in turn, keep their own totals and facets. The
    planner settings of a search on PostgreSQL end with it, also inside a caller's
    transaction (this test's)."""
    from django.db import connection

    names = ["enable_seqscan", "enable_mergejoin", "jit", "work_mem", "parallel_setup_cost"]

    def planner():
        if connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join("current_setting(%s)" for _ in names), names)
            return cursor.fetchone()

    before = planner()
    for _ in range(2):  # the second round reads the cached counts
        bosch, mobil = search(gql, q="博世"), search(gql, q="美孚")
        assert (bosch["totalCount"], mobil["totalCount"]) == (3, 1)
        brands = {f["name"]: {v["value"]: v["count"] for v in f["values"]} for f in mobil["facets"]}["BRAND"]
        assert brands == {gid("Brand", taxonomy.mobil.pk): 1}
        assert search(gql, q="博世", f={"inStock": True})["totalCount"] == 3
    assert planner() == before


def test_words_in_the_name_rank_a_product_found_by_its_descriptions(gql, search_backend, indexed, make_product):
    """Both products hold "bosch zirconia" only in their descriptions; the one whose name
    holds one of the words ranks first, although the other sells more."""
    m = indexed
    named = make_product(m.shops.a, "zr-named", name_zh="博世小件", name_en="Bosch widget")
    plain = make_product(m.shops.d, "zr-plain", name_zh="通用小件", name_en="Generic widget")
    Product.objects.filter(pk=named.pk).update(description_en="Bosch zirconia compound", sales_count=1)
    Product.objects.filter(pk=plain.pk).update(description_en="Like the bosch zirconia compound", sales_count=100)
    search_backend.index()
    assert slugs(search(gql, q="bosch zirconia", s="RELEVANCE")) == ["zr-named", "zr-plain"]


OFFERS = """query($q: String, $s: ProductSearchSort, $n: Int) { searchProducts(query: $q, sortBy: $s, first: $n) {
  totalCount edges { offerCount node { slug } } } }"""


def test_one_family_filling_the_top_leaves_room_for_the_next(gql, search_backend, indexed, make_product,
                                                               monkeypatch):
    """Three vendors sell the cheapest product: sorted by price, the page shows its best
    offer (with 3 offers) and then the next product - although the top of the order is
    all one family (on PostgreSQL, a window of one row per wanted row makes that happen
    with four products: the page then comes from each family's best offer)."""
    from search.backends import pgsearch

    monkeypatch.setattr(pgsearch, "WINDOW_FACTOR", 1)
    monkeypatch.setattr(pgsearch, "WINDOW_MIN", 1)
    m = indexed
    for vendor, price in ((m.shops.d, "31.00"), (m.shops.a, "30.00"), (m.shops.b, "32.00")):
        make_product(vendor, f"disc-{vendor.slug}", name_zh="通用刹车盘", name_en="Universal brake disc", price=price)
    make_product(m.shops.c, "disc-premium", name_zh="高级刹车盘", name_en="Premium brake disc", price="90.00")
    search_backend.index()
    for variables in ({"q": "刹车盘", "s": "PRICE_ASC", "n": 2}, {"s": "PRICE_ASC", "n": 2}):
        result = gql.data(OFFERS, variables)["searchProducts"]
        edges = [(e["node"]["slug"], e["offerCount"]) for e in result["edges"]]
        following = "disc-premium" if "q" in variables else "bosch-rear"  # browse: the rear pads cost 80.00
        assert edges == [("disc-bj-parts", 3), (following, 1)], variables
    assert gql.data(OFFERS, {"q": "刹车盘", "s": "PRICE_ASC", "n": 5})["searchProducts"]["totalCount"] == 2


PAGE_ONLY = """query($q: String, $f: SearchFilterInput) { searchProducts(query: $q, filter: $f, first: 5) {
  totalCount edges { node { slug } } } }"""


@pytest.mark.parametrize("search_backend", ["elasticsearch"], indirect=True)
def test_elasticsearch_counts_facets_only_when_asked_and_in_one_round_trip(gql, search_backend, indexed, taxonomy,
                                                                         monkeypatch):
    """Issue 18 (D): a search is one `_msearch` request to the node; its facet requests
    are in it only when the client selects `facets` or `priceRanges`. (The node still
    answers every request; the transport is only watched.)"""
    transport = search_backend.backend.client.transport
    sent = []
    real = transport.perform_request

    def watched(method, target, *args, **kwargs):
        sent.append((target.split("?")[0], kwargs.get("body")))
        return real(method, target, *args, **kwargs)

    monkeypatch.setattr(transport, "perform_request", watched)
    brand = {"brands": [gid("Brand", taxonomy.bosch.pk)]}
    page = gql.data(PAGE_ONLY, {"q": "刹车片", "f": brand})["searchProducts"]
    assert page["totalCount"] >= 1
    ((target, body),) = sent  # one round trip
    assert target.endswith("/_msearch")
    requests = [line for line in body if "query" in line or "aggs" in line or "size" in line]
    assert len(requests) == 1 and not any("aggs" in r and set(r["aggs"]) - {"families"} for r in requests), body

    sent.clear()
    faceted = search(gql, q="刹车片", f=brand)
    assert {f["name"] for f in faceted["facets"]} >= {"BRAND", "CATEGORY"} and faceted["priceRanges"]
    ((target, body),) = sent  # still one round trip, now with the facet requests in it
    assert target.endswith("/_msearch")
    aggregated = {name for line in body for name in (line.get("aggs") or {}) if name != "families"}
    assert {"brand", "category", "price"} <= aggregated, body


def test_sorting(gql, search_backend, indexed):
    assert slugs(search(gql, s="PRICE_ASC")) == ["bosch-rear", "compat-pads", "bosch-front", "mobil-oil",
                                                 "bosch-battery"]
    assert slugs(search(gql, s="PRICE_DESC")) == ["bosch-battery", "mobil-oil", "bosch-front", "compat-pads",
                                                  "bosch-rear"]
    assert slugs(search(gql, s="SALES")) == ["mobil-oil", "compat-pads", "bosch-front", "bosch-rear",
                                             "bosch-battery"]
    assert slugs(search(gql, s="NEWEST")) == ["bosch-battery", "mobil-oil", "bosch-rear", "compat-pads",
                                              "bosch-front"]
    # Without a query, relevance means best sellers first.
    assert slugs(search(gql)) == slugs(search(gql, s="SALES"))
    assert slugs(search(gql, q="bosch", s="PRICE_ASC")) == ["bosch-rear", "bosch-front", "bosch-battery"]


def test_pagination(gql, search_backend, indexed, settings):
    first = search(gql, s="SALES", n=2)
    assert slugs(first) == ["mobil-oil", "compat-pads"]
    assert first["pageInfo"]["hasNextPage"] is True and first["totalCount"] == 5
    second = search(gql, s="SALES", n=2, after=first["pageInfo"]["endCursor"])
    assert slugs(second) == ["bosch-front", "bosch-rear"]
    assert second["pageInfo"]["hasPreviousPage"] is True
    third = search(gql, s="SALES", n=2, after=second["pageInfo"]["endCursor"])
    assert slugs(third) == ["bosch-battery"] and third["pageInfo"]["hasNextPage"] is False
    # Facets only.
    assert search(gql, n=0)["edges"] == []
    too_many = gql.execute(SEARCH, {"n": settings.GRAPHQL_MAX_PAGE_SIZE + 1}, status=400)
    assert too_many["errors"][0]["extensions"]["code"] == "PAGE_SIZE_EXCEEDED"
    bad_cursor = gql.execute(SEARCH, {"after": "bm9wZQ=="})
    assert bad_cursor["errors"][0]["extensions"] == {"code": "INVALID", "field": "after"}


# -- suggestions ------------------------------------------------------------------------------
def test_suggestions(gql, search_backend, indexed, taxonomy):
    m = indexed

    def suggest(prefix, limit=5):
        return gql.data(SUGGEST, {"p": prefix, "n": limit})["suggest"]

    zh = suggest("博世")
    assert [s["text"] for s in zh["products"]] == ["博世前刹车片", "博世后制动片", "博世汽车电瓶"]  # best sellers first
    assert zh["products"][0]["id"] == gid("Product", m.front.pk)
    assert zh["brands"] == [{"text": "博世", "id": gid("Brand", taxonomy.bosch.pk)}]
    assert zh["shops"] == []
    en = suggest("bos")
    assert [s["text"] for s in en["products"]] == ["Bosch front brake pads", "Bosch rear brake lining",
                                                   "Bosch car battery"]
    assert en["brands"] == [{"text": "Bosch", "id": gid("Brand", taxonomy.bosch.pk)}]
    # A later word of an English name completes too.
    assert [s["text"] for s in suggest("brake")["products"]] == [
        "Brake pads compatible with 04465 02220", "Bosch front brake pads", "Bosch rear brake lining"]
    assert [s["text"] for s in suggest("bos", limit=1)["products"]] == ["Bosch front brake pads"]
    shops = suggest("朝阳")
    assert shops["shops"] == [{"text": "朝阳汽修", "id": gid("Vendor", m.shops.b.pk)}]
    assert suggest("刹车片黑")["shops"] == []  # suspended
    assert zh["unsupported"] == []
    assert gql.execute(SUGGEST, {"p": "x", "n": 500})["errors"][0]["extensions"]["field"] == "limit"


# -- shops ------------------------------------------------------------------------------------
@pytest.fixture
def wednesday_morning(monkeypatch):
    from search import clock

    monkeypatch.setattr(clock, "now", lambda: WEDNESDAY_10AM)


def shops(gql, **variables):
    return gql.data(SHOPS, variables)["searchShops"]


def shop_slugs(result):
    return [edge["node"]["slug"] for edge in result["edges"]]


def test_shops_near_beijing_nearest_first(gql, search_backend, indexed):
    nearby = shops(gql, near=BEIJING, r=50)
    assert shop_slugs(nearby) == ["bj-parts", "cy-repair", "hd-dealer"]
    distances = [edge["distanceKm"] for edge in nearby["edges"]]
    assert distances[0] == pytest.approx(0.0, abs=0.01)
    assert distances[1] == pytest.approx(3.66, abs=0.05)
    assert distances[2] == pytest.approx(11.16, abs=0.1)
    everywhere = shops(gql, near=BEIJING)
    assert shop_slugs(everywhere) == ["bj-parts", "cy-repair", "hd-dealer", "tj-parts"]
    assert everywhere["edges"][3]["distanceKm"] == pytest.approx(102.8, abs=0.5)
    assert shop_slugs(shops(gql, near=BEIJING, kind="REPAIR_SHOP")) == ["cy-repair"]
    assert shop_slugs(shops(gql, q="汽修")) == ["cy-repair"]
    assert shop_slugs(shops(gql, q="chaoyang repair")) == ["cy-repair"]
    assert shops(gql)["totalCount"] == 4  # the suspended shop is not found
    bad = gql.execute(SHOPS, {"r": 5})
    assert bad["errors"][0]["extensions"] == {"code": "REQUIRED", "field": "near"}


def test_held_storefront_leaves_product_and_shop_search(gql, search_backend, indexed):
    """A vendor whose storefront a plugin holds (vendor plans: an unpaid plan) is hidden
    from product search, shop search and suggestions on both backends, and returns when
    the hold is lifted - through the same events that feed indexing."""
    from marketplace.plugins.vendors import hide_storefront, show_storefront

    shop = indexed.shops.a  # bj-parts: bosch-front and compat-pads
    before = set(slugs(search(gql, q="刹车片")))
    assert {"bosch-front", "compat-pads"} <= before
    hide_storefront(shop.pk, "search_test", "unpaid plan")
    search_backend.index()
    assert set(slugs(search(gql, q="刹车片"))) == before - {"bosch-front", "compat-pads"}
    assert "bj-parts" not in shop_slugs(shops(gql, near=BEIJING))
    assert shops(gql, q="京城汽配")["totalCount"] == 0
    assert gql.data(SUGGEST, {"p": "京城"})["suggest"]["shops"] == []
    show_storefront(shop.pk, "search_test")
    search_backend.index()
    assert set(slugs(search(gql, q="刹车片"))) == before
    assert shop_slugs(shops(gql, near=BEIJING))[0] == "bj-parts"
    assert [s["text"] for s in gql.data(SUGGEST, {"p": "京城"})["suggest"]["shops"]] == ["京城汽配"]


def test_hook_search_shop_fields(gql, search_backend, indexed, wednesday_morning):
    assert shop_slugs(shops(gql, near=BEIJING, open=True)) == ["cy-repair", "tj-parts"]
    assert shop_slugs(shops(gql, near=BEIJING, open=False)) == ["bj-parts", "hd-dealer"]
    assert shop_slugs(shops(gql, near=BEIJING, services=["oil-change"])) == ["cy-repair", "hd-dealer"]
    assert shop_slugs(shops(gql, near=BEIJING, services=["Brake-Repair", "oil-change"])) == ["cy-repair"]
    assert shop_slugs(shops(gql, services=["towing"])) == []
    assert shop_slugs(shops(gql, near=BEIJING, open=True, services=["oil-change"])) == ["cy-repair"]


# -- synonyms ---------------------------------------------------------------------------------
def test_staff_synonyms_take_effect_without_reindexing(gql, staff_gql, member_gql, search_backend, indexed):
    """The shipped glossary is staff's to edit: removing its brake-pad set and adding
    one back changes results at the next query, without reindexing."""
    sets = staff_gql.data(SYNONYM_LIST)["searchSynonymSets"]
    shipped = next(s for s in sets if "刹车片" in s["terms"])
    assert {"制动片", "brake pad"} <= set(shipped["terms"])
    assert set(slugs(search(gql, q="制动片"))) == {"bosch-front", "compat-pads", "bosch-rear"}
    denied = member_gql.mutate(SYNONYM_DELETE, {"id": shipped["id"]})
    assert denied["errors"][0]["code"] == "PERMISSION_DENIED"
    assert member_gql.execute(SYNONYM_LIST)["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert staff_gql.mutate(SYNONYM_DELETE, {"id": shipped["id"]}) == {"ok": True, "errors": []}
    # Without the set: 刹车片 and 制动片 are different words again.
    assert set(slugs(search(gql, q="刹车片"))) == {"bosch-front", "compat-pads"}
    assert slugs(search(gql, q="博世 制动片"))[0] == "bosch-rear"
    created = staff_gql.mutate(SYNONYM_SET, {"terms": ["刹车片", " 制动片 ", "Brake Pad", "刹车片"]})
    assert created["errors"] == []
    assert created["synonymSet"]["terms"] == ["刹车片", "制动片", "brake pad"]
    # No reindex: the rear lining (制动片) is found for 刹车片 at once, and the other way round.
    assert set(slugs(search(gql, q="刹车片"))) == {"bosch-front", "compat-pads", "bosch-rear"}
    assert set(slugs(search(gql, q="博世 制动片"))) == {"bosch-front", "bosch-rear"}
    assert set(slugs(search(gql, q="brake pad"))) >= {"bosch-rear", "bosch-front"}
    assert created["synonymSet"] in staff_gql.data(SYNONYM_LIST)["searchSynonymSets"]
    one = staff_gql.mutate(SYNONYM_SET, {"terms": ["刹车片"]})
    assert one["errors"] == [{"field": "terms", "code": "REQUIRED",
                              "message": "A synonym set needs at least two different terms."}]
    clash = staff_gql.mutate(SYNONYM_SET, {"terms": ["制动片", "闸皮"]})
    assert clash["errors"][0]["code"] == "UNIQUE"


# -- parts_storefront, when installed ---------------------------------------------------------
def test_hook_register_product_fields(gql, search_backend, make_vendor, make_product, taxonomy):
    """The parts_storefront plugin's `register_product_fields` through GraphQL: exact part numbers
    rank first (typed with other spacing/hyphens), `fitsVehicle` filters."""
    from plugins.parts_storefront.models import Fitment, PartNumber, Vehicle, VehicleMake, VehicleModel

    vendor = make_vendor("parts-co")
    pads = make_product(vendor, "corolla-pads", "卡罗拉刹车片", name_en="Corolla brake pads")
    make_product(vendor, "civic-pads", "思域刹车片 04465-02220", name_en="Civic brake pads")
    make_ = VehicleMake.objects.create(name_zh="丰田", name_en="Toyota", slug="toyota")
    model = VehicleModel.objects.create(make=make_, name_zh="卡罗拉", name_en="Corolla", slug="corolla")
    corolla = Vehicle.objects.create(model=model, year_from=2014, year_to=2018, engine="1.6L 1ZR")
    Fitment.objects.create(variant=pads.variants.first(), vehicle=corolla)
    PartNumber.objects.create(variant=pads.variants.first(), number="04465-02220")
    search_backend.index()
    assert slugs(search(gql, q="04465 02220"))[:2] == ["corolla-pads", "civic-pads"]
    assert slugs(search(gql, q="0446502220"))[0] == "corolla-pads"
    fits = search(gql, q="刹车片", f={"fitsVehicle": gid("Vehicle", corolla.pk)})
    assert slugs(fits) == ["corolla-pads"]


# -- cost ---------------------------------------------------------------------------------------
def test_sql_queries_do_not_grow_with_the_page(gql, search_backend, indexed):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    page = """query($n: Int) { searchProducts(first: $n) { totalCount
      edges { node { nameZh vendor { nameZh } brand { nameEn } category { nameZh parent { nameZh } } } }
      facets { values { label brand { slug } category { slug } } } priceRanges { count } } }"""

    def count(size):
        with CaptureQueriesContext(connection) as captured:
            gql.data(page, {"n": size})
        return len(captured)

    count(1)  # warm caches (synonyms, sessions)
    small, large = count(1), count(5)
    print(f"{search_backend.name}: {small} SQL queries for 1 product, {large} for 5")
    assert small == large, (small, large)
    if search_backend.name == "elasticsearch":
        # products (with vendor and brand), facet brands, the category tree, + auth/plugin config
        assert large <= 6, large


# -- tried as a new user, on the demo marketplace ---------------------------------------------
def test_demo_marketplace_as_a_new_user_would_try_it(gql, search_backend):
    """`make run`'s demo data: "刹车片 卡罗拉" finds Corolla brake pads first; a part
    number typed with other hyphens and case finds its part; shops near Tiananmen come
    back nearest first with distances."""
    from fixtures import demo
    from plugins.parts_storefront.models import PartNumber

    demo.load()
    search_backend.index()
    from marketplace.catalog.models import Product

    result = search(gql, q="刹车片 卡罗拉")
    first = Product.objects.filter(slug=result["edges"][0]["node"]["slug"]).first()
    assert "卡罗拉" in first.name_zh and "刹车片" in first.name_zh, first.name_zh

    number = PartNumber.objects.filter(kind="oe").order_by("pk").first()
    typed = number.number.replace("-", " ").lower() if "-" in number.number else f"{number.number[:3]}-{number.number[3:]}".lower()
    found = search(gql, q=typed)
    wanted = set(PartNumber.objects.filter(normalized=number.normalized).values_list("variant__product__slug", flat=True))
    assert found["edges"][0]["node"]["slug"] in wanted, (typed, found["edges"][0]["node"]["slug"])

    shops = gql.data("""{ searchShops(near: {lat: 39.9087, lon: 116.3975}, first: 5) {
        edges { distanceKm node { slug } } } }""")["searchShops"]["edges"]
    distances = [edge["distanceKm"] for edge in shops]
    assert len(shops) == 5 and distances == sorted(distances) and distances[0] < 30
