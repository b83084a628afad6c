"""Search quality on the demo marketplace, on both backends, as a member would try it
through GraphQL: the faults issue 17 found (regressions), suggestions that know the
product type, the same product from many vendors collapsed, and the labelled relevance
set of bench/search_quality.py with a floor per query class."""
import importlib.util
import itertools
import uuid
from pathlib import Path

import pytest

from tests.conftest import unavailable

pytestmark = pytest.mark.django_db

RUN = uuid.uuid4().hex[:8]
_numbers = itertools.count()
WANGJING = {"lat": 39.9965, "lon": 116.4701}

SEARCH = """query($q: String, $n: Int, $all: Boolean) {
  searchProducts(query: $q, first: $n, allOffers: $all) {
    backend totalCount unsupported { capability }
    edges { offerCount node { id slug nameZh nameEn brand { slug } productType { slug } vendor { slug } } } } }"""
SUGGEST = """query($p: String!) { suggest(prefix: $p, limit: 5) {
  products { text id } brands { text id } shops { text } unsupported { capability } } }"""
SHOPS = """query($q: String, $near: GeoPointInput) { searchShops(query: $q, near: $near, first: 20) {
  backend totalCount edges { node { slug kind } } unsupported { capability } } }"""


def _bench():
    path = Path(__file__).resolve().parent.parent / "bench" / "search_quality.py"
    spec = importlib.util.spec_from_file_location("bench_search_quality", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["database", "elasticsearch"])
def demo(request, settings):
    """The demo marketplace with the shipped synonyms, indexed by one backend."""
    from fixtures import demo as demo_data
    from search.backends import get_backend
    from search.glossary import load_glossary
    from search.models import SynonymSet

    settings.SEARCH_BACKEND = request.param
    if request.param == "elasticsearch":
        if not settings.ELASTICSEARCH_URL:
            unavailable("ELASTICSEARCH_URL not set (developer run without services)",
                        "ELASTICSEARCH_URL is not set under CI: the elasticsearch backend must be tested")
        settings.SEARCH_INDEX_PREFIX = f"test-{RUN}-q{next(_numbers)}-"
    SynonymSet.objects.all().delete()
    load_glossary()
    demo_data.load()  # indexes the demo with this backend
    backend = get_backend()
    yield backend
    if backend.name == "elasticsearch":
        for index in backend.all_indices():
            backend.client.indices.delete(index=index, ignore_unavailable=True)


def products(gql, text, n=10, all_offers=False):
    return gql.data(SEARCH, {"q": text, "n": n, "all": all_offers})["searchProducts"]


def test_the_faults_issue_17_found_are_fixed(gql, demo):
    """Tried as a member would, on the demo data (both backends)."""
    # 1. "汽修" finds repair shops (the example in docs/search.md), through the shipped
    #    synonyms (汽修 = 维修 = repair) and what shops do; nearest first.
    shops = gql.data(SHOPS, {"q": "汽修", "near": WANGJING})["searchShops"]
    kinds = {edge["node"]["kind"] for edge in shops["edges"]}
    slugs = [edge["node"]["slug"] for edge in shops["edges"]]
    assert {"lugu-auto-repair", "wangjing-quick-service", "tongzhou-brake-centre"} <= set(slugs)
    assert kinds <= {"REPAIR_SHOP", "DEALER"} and slugs[0] == "wangjing-quick-service"
    assert gql.data(SHOPS, {"q": "维修"})["searchShops"]["totalCount"] == shops["totalCount"]
    # 2. Typing "刹车" suggests brake pads (their names start with the brand), best sellers first.
    suggested = gql.data(SUGGEST, {"p": "刹车"})["suggest"]["products"]
    assert any("刹车片" in s["text"] for s in suggested), suggested
    # 3. "制动片" finds brake pads without staff adding anything: the glossary ships.
    found = products(gql, "制动片")
    assert found["totalCount"] > 10
    assert all(edge["node"]["productType"]["slug"] == "brake-pads" for edge in found["edges"])
    # 4. Misspelt brands find them; no backend says it cannot.
    for typed, brand in (("bosh", "bosch"), ("michelen tyre", "michelin")):
        result = products(gql, typed)
        assert result["edges"] and all(edge["node"]["brand"]["slug"] == brand for edge in result["edges"]), typed
        assert result["unsupported"] == []
    #    ...and the first results for "Bosch" are different products, not one product's offers.
    top = products(gql, "Bosch", n=5)["edges"]
    names = [edge["node"]["nameZh"] for edge in top]
    assert len(set(names)) == len(names), names
    assert all(edge["node"]["brand"]["slug"] == "bosch" for edge in top)


def test_suggestions_know_the_product_type_and_the_brand(gql, demo):
    brake = gql.data(SUGGEST, {"p": "刹车"})["suggest"]
    texts = [s["text"] for s in brake["products"]]
    assert len(texts) == 5 and len(set(texts)) == 5  # one per name
    assert sum("刹车片" in t or "刹车盘" in t or "刹车油" in t for t in texts) >= 4, texts
    bo = gql.data(SUGGEST, {"p": "bo"})["suggest"]
    assert bo["brands"][0]["text"] == "Bosch"
    assert all(s["text"].casefold().startswith("bosch") for s in bo["products"])
    assert gql.data(SUGGEST, {"p": "brake p"})["suggest"]["products"], "a later word of an English name"
    assert brake["unsupported"] == []


def test_the_same_product_from_many_vendors_appears_once(gql, demo):
    """"博世 DOT4" is sold by several vendors: one result with its offer count; allOffers
    lists every vendor's offer."""
    collapsed = products(gql, "博世 DOT4 刹车油", n=20)
    fluid = [e for e in collapsed["edges"] if "DOT4" in e["node"]["nameZh"] and "博世" in e["node"]["nameZh"]]
    assert len(fluid) == 1 and fluid[0]["offerCount"] >= 2
    offers = products(gql, "博世 DOT4 刹车油", n=20, all_offers=True)
    every = [e for e in offers["edges"] if "DOT4" in e["node"]["nameZh"] and "博世" in e["node"]["nameZh"]]
    assert len(every) == fluid[0]["offerCount"]
    assert len({e["node"]["vendor"]["slug"] for e in every}) == len(every)
    assert all(e["offerCount"] == 1 for e in offers["edges"])
    assert offers["totalCount"] > collapsed["totalCount"]


# Floors per query class (nDCG@10 on the labelled set; measured 0.93-1.0 on both backends,
# see docs/search.md): a change that makes a class worse fails here.
FLOORS = {"part-zh": 0.95, "part-en": 0.95, "brand": 0.95, "car": 0.95, "number": 0.95, "typo": 0.88,
          "synonym": 0.93, "mixed": 0.9, "shops": 0.9}
SUCCESS_AT_1 = 0.95


def test_relevance_floor_per_query_class(gql, demo):
    bench = _bench()
    assert len(bench.QUERIES) >= 60
    summary = bench.by_class(bench.evaluate(gql.data))
    print("\n" + "\n".join(f"{demo.name} {cls}: nDCG@10 {ndcg:.3f} success@1 {s1:.3f} ({n} queries)"
                           for cls, (n, ndcg, s1) in sorted(summary.items())))
    for cls, floor in FLOORS.items():
        assert summary[cls][1] >= floor, (demo.name, cls, summary[cls])
    assert summary["all"][2] >= SUCCESS_AT_1, summary["all"]
    if demo.name == "elasticsearch":
        assert summary["all"][1] >= bench.TARGET_NDCG
