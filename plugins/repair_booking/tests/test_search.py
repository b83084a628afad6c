"""Shop search: the repair shop's document carries its services, rate, opening hours and
next free slot; `searchShops` filters by service and sorts by next free slot, on both
backends (the database backend and the real Elasticsearch node)."""
import pytest

from tests.test_search_indexing import es  # noqa: F401  (the Elasticsearch fixture)

from .conftest import SHANGHAI, RepairShopSetup, local

pytestmark = pytest.mark.django_db

SEARCH = """query($s: [String!], $sort: ShopSearchSort) { searchShops(services: $s, sortBy: $sort) {
  backend totalCount shops { slug repairShop { labourRate { amount } } } } }"""


@pytest.fixture
def two_shops(make_vendor, taxonomy, clock_at):
    from plugins.repair_booking.services import setup

    busy = RepairShopSetup(make_vendor, taxonomy, slug="busy-shop")
    free = RepairShopSetup(make_vendor, taxonomy, slug="free-shop")
    setup.save_shop(free.vendor.pk, {"labour_rate": "100"})
    # busy-shop's bays are all taken until Wednesday noon
    for bay in (busy.bays[0], busy.alignment_bay):
        setup.block_bay(bay, local(SHANGHAI, 2026, 3, 2, 0, 0), local(SHANGHAI, 2026, 3, 4, 12, 0), "full")
    make_vendor("parts-only", name_zh="配件店")
    return busy, free


def _slugs(gql, **variables):
    return [shop["slug"] for shop in gql.data(SEARCH, variables)["searchShops"]["shops"]]


def test_database_backend_filters_by_service_and_sorts_by_next_free_slot(gql, two_shops, settings):
    settings.SEARCH_BACKEND = "database"
    assert _slugs(gql, s=["brake-pads"]) == ["busy-shop", "free-shop"]  # by id
    assert _slugs(gql, s=["brake-pads"], sort="NEXT_FREE_SLOT") == ["free-shop", "busy-shop"]
    assert _slugs(gql, s=["刹车片更换"]) == ["busy-shop", "free-shop"]  # the Chinese name works too
    everything = _slugs(gql, sort="NEXT_FREE_SLOT")
    assert everything[:2] == ["free-shop", "busy-shop"] and everything[-1] == "parts-only"  # no slot: last


def test_the_shop_document_carries_services_rate_hours_and_next_slot(two_shops):
    from marketplace.plugins.vendors import vendor_infos
    from plugins.repair_booking.search import shop_fields
    from marketplace.vendors.models import Vendor

    busy, free = two_shops
    fields = shop_fields(list(Vendor.objects.filter(pk__in=[busy.vendor.pk, free.vendor.pk])))
    document = fields[free.vendor.pk]
    assert "brake-pads" in document["services"] and document["labour_rate"] == 100.0
    assert document["opening_hours"][0] == "mon 09:00-18:00"
    assert document["next_free_slot"].startswith("2026-03-02T02:00")  # Monday 10:00 Beijing (2 h notice)
    assert fields[busy.vendor.pk]["next_free_slot"].startswith("2026-03-04T04:00")  # Wednesday 12:00
    offers = {o["code"]: o for o in document["repair_offers"]}
    assert offers["brake-pads"]["price"] == "80.00"
    assert vendor_infos([free.vendor.pk])


def test_elasticsearch_filters_by_service_and_sorts_by_next_free_slot(gql, two_shops, es):  # noqa: F811
    es.rebuild()
    assert gql.data(SEARCH, {"s": ["brake-pads"]})["searchShops"]["backend"] == "elasticsearch"
    assert _slugs(gql, s=["brake-pads"], sort="NEXT_FREE_SLOT") == ["free-shop", "busy-shop"]
    assert _slugs(gql, s=["brake-pads"]) == ["busy-shop", "free-shop"]
    everything = _slugs(gql, sort="NEXT_FREE_SLOT")
    assert everything[:2] == ["free-shop", "busy-shop"] and everything[-1] == "parts-only"
    mapping = es.client.indices.get_mapping(index=es.alias("shops"))
    (properties,) = [m["mappings"]["properties"] for m in mapping.body.values()]
    assert properties["next_free_slot"]["type"] == "date" and properties["labour_rate"]["type"] == "double"
