"""The deal badge and price in search results, on both backends (a real Elasticsearch
node and the database backend), and in listings without an extra query per product."""
import itertools
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .helpers import CANCEL, live_deal

RUN = uuid.uuid4().hex[:8]
_numbers = itertools.count()
SEARCH = """query($q: String) { searchProducts(query: $q, first: 10) { backend totalCount
  edges { node { slug groupDeal { label price { amount } groupSize endsAt deal { id status } } } } } }"""
LISTING = """{ products(first: 20) { edges { node { slug groupDeal { label price { amount } } } } } }"""


@pytest.fixture(params=["database", "elasticsearch"])
def backend(request, settings):
    from search.backends import get_backend
    from tests.conftest import unavailable

    settings.SEARCH_BACKEND = request.param
    if request.param == "elasticsearch":
        if not settings.ELASTICSEARCH_URL:
            unavailable("ELASTICSEARCH_URL not set (developer run without services)",
                        "ELASTICSEARCH_URL is not set under CI: the elasticsearch backend must be tested")
        settings.SEARCH_INDEX_PREFIX = f"test-gb-{RUN}-{next(_numbers)}-"
    found = get_backend()
    yield found
    if found.name == "elasticsearch":
        for index in found.all_indices():
            found.client.indices.delete(index=index, ignore_unavailable=True)


def _index(backend):
    backend.rebuild()  # the index, or the database backend's rows (written at commit, which a test never reaches)


@pytest.mark.django_db
def test_search_results_carry_the_deal_badge_and_price(backend, shop, owner, staff_api, members, make_product):
    rear_product = make_product(shop["vendor"], "gb-pads-rear", name_zh="后刹车片", price="180.00", stock=5)
    deal = live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    _index(backend)
    found = members[0].data(SEARCH, {"q": "刹车片"})["searchProducts"]
    assert found["backend"] == backend.name and found["totalCount"] == 2
    badges = {edge["node"]["slug"]: edge["node"]["groupDeal"] for edge in found["edges"]}
    assert badges["gb-pads-rear"] is None
    assert badges["gb-pads"]["label"] == "3人团 ¥150.00"
    assert badges["gb-pads"]["price"] == {"amount": "150.00"} and badges["gb-pads"]["groupSize"] == 3
    assert badges["gb-pads"]["deal"] == {"id": deal["id"], "status": "LIVE"}
    if backend.name == "elasticsearch":  # the document carries the badge too
        source = backend.client.get(index=backend.alias("products"), id=shop["product"].pk)["_source"]
        assert source["has_group_deal"] is True and source["group_deal_price"] == 150.0
        assert source["group_deal_ends_at"]
        rear = backend.client.get(index=backend.alias("products"), id=rear_product.pk)["_source"]
        assert rear["slug"] == "gb-pads-rear" and rear["has_group_deal"] is False
    owner.mutate(CANCEL, {"id": deal["id"], "r": "停售"})
    _index(backend)
    found = members[0].data(SEARCH, {"q": "刹车片"})["searchProducts"]
    assert all(edge["node"]["groupDeal"] is None for edge in found["edges"])
    if backend.name == "elasticsearch":
        source = backend.client.get(index=backend.alias("products"), id=shop["product"].pk)["_source"]
        assert source["has_group_deal"] is False


@pytest.mark.django_db
def test_listing_badges_cost_one_query_whatever_the_page(shop, owner, staff_api, members, make_product):
    def count():
        with CaptureQueriesContext(connection) as queries:
            members[0].data(LISTING)
        return len(queries)

    live_deal(owner, staff_api, shop["vendor"], shop["variant"])
    few = count()
    for index in range(6):
        product = make_product(shop["vendor"], f"gb-extra-{index}", price="200.00", stock=5)
        live_deal(owner, staff_api, shop["vendor"], product.variants.first())
    assert count() == few
    listed = {e["node"]["slug"]: e["node"]["groupDeal"] for e in members[0].data(LISTING)["products"]["edges"]}
    assert sum(1 for badge in listed.values() if badge) == 7
    assert listed["gb-pads"]["label"] == "3人团 ¥150.00"
