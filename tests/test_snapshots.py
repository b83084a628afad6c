"""Rarely-changing data kept per process (marketplace.core.snapshots: the category tree,
the platform campaigns, the plugin configuration) is read once, not per request, and
never served stale: a write through the API shows in the very next response, a write
by another process (its bump of the shared generation) too, and a transaction that
rolls back leaves no trace in the process copy."""
import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from marketplace.catalog.cache import CATEGORIES
from marketplace.catalog.models import Category
from marketplace.core import snapshots
from tests.conftest import GraphQLClient, gid

pytestmark = pytest.mark.django_db

CATEGORIES_QUERY = "{ categories { nameZh slug children { slug } } }"
CATEGORY_CREATE = """mutation($i: CategoryInput!) { categoryCreate(input: $i) { category { slug } errors { code } } }"""
CAMPAIGN_CREATE = """mutation($i: CampaignInput!) { campaignCreate(input: $i) { campaign { id } errors { field code } } }"""
CAMPAIGN_DEACTIVATE = """mutation($id: ID!) { campaignDeactivate(id: $id) { errors { code } } }"""
LISTING = """{ products(first: 10) { edges { node { slug variants { price { final { amount }
  adjustments { source } } } } } } }"""


def _tables(ctx):
    return " ".join(q["sql"] for q in ctx.captured_queries)


def test_the_category_tree_is_read_once_and_follows_every_write(client, staff, taxonomy):
    shopper, admin = GraphQLClient(client), GraphQLClient(client)
    admin.login(staff.email)
    before = {c["slug"] for c in shopper.data(CATEGORIES_QUERY)["categories"]}
    with CaptureQueriesContext(connection) as ctx:
        again = {c["slug"] for c in shopper.data(CATEGORIES_QUERY)["categories"]}
    assert again == before
    assert "catalog_category" not in _tables(ctx)  # served from the process copy

    created = admin.mutate(CATEGORY_CREATE, {"i": {"nameZh": "雨刮", "slug": "wipers"}})
    assert created["errors"] == []
    assert "wipers" in {c["slug"] for c in shopper.data(CATEGORIES_QUERY)["categories"]}

    # Another process renames a category: its write bumps the shared generation.
    Category.objects.filter(slug="wipers").update(name_zh="雨刮器")  # no signal in this process...
    assert {c["nameZh"] for c in shopper.data(CATEGORIES_QUERY)["categories"]} >= {"雨刮"}
    cache.incr(snapshots.PREFIX + CATEGORIES.name)  # ...as the other process's bump arrives
    assert "雨刮器" in {c["nameZh"] for c in shopper.data(CATEGORIES_QUERY)["categories"]}


def test_a_copy_read_inside_a_transaction_is_not_kept(taxonomy):
    CATEGORIES.get()  # current copy
    with pytest.raises(RuntimeError), transaction.atomic():
        Category.objects.create(name_zh="临时", slug="rolled-back")
        assert "rolled-back" in {c.slug for c in CATEGORIES.get().values()}  # the writer sees its own write
        raise RuntimeError("roll back")
    assert "rolled-back" not in {c.slug for c in CATEGORIES.get().values()}


def test_a_flushed_cache_never_revives_an_old_copy(taxonomy):
    CATEGORIES.get()
    old = snapshots.generation(CATEGORIES.name)
    cache.clear()  # a flushed or restarted Redis: generations start again at random
    Category.objects.filter(pk=taxonomy.pads.pk).update(name_zh="改名")
    assert snapshots.generation(CATEGORIES.name) != old
    assert CATEGORIES.get()[taxonomy.pads.pk].name_zh == "改名"


def test_campaigns_are_cached_and_prices_follow_a_campaign_at_once(client, staff, make_vendor, make_product,
                                                                   taxonomy):
    vendor = make_vendor("snap-vendor")
    make_product(vendor, "snap-pads", price="200.00")
    shopper, admin = GraphQLClient(client), GraphQLClient(client)
    admin.login(staff.email)

    def prices():
        node = shopper.data(LISTING)["products"]["edges"][0]["node"]
        price = node["variants"][0]["price"]
        return price["final"]["amount"], [a["source"] for a in price["adjustments"]]

    assert prices() == ("200.00", [])
    with CaptureQueriesContext(connection) as ctx:
        assert prices() == ("200.00", [])
    assert "pricing_campaign" not in _tables(ctx)  # no campaign query per request

    created = admin.mutate(CAMPAIGN_CREATE, {"i": {"nameZh": "双11", "startsAt": "2000-01-01", "endsAt": "2099-12-31",
                                                   "discountPercent": "10",
                                                   "categoryIds": [gid("Category", taxonomy.pads.pk)]}})
    assert created["errors"] == []
    campaign_id = created["campaign"]["id"]
    assert prices() == ("180.00", [f"campaign:{_pk(campaign_id)}"])

    assert admin.mutate(CAMPAIGN_DEACTIVATE, {"id": campaign_id})["errors"] == []
    assert prices() == ("200.00", [])


def test_plugin_configuration_is_cached_and_a_switch_shows_at_once(client, staff):
    from marketplace.plugins.manager import configuration_rows, get_manager
    from marketplace.plugins.services import update_plugin

    name = next(iter(get_manager().plugins))
    configuration_rows()
    with CaptureQueriesContext(connection) as ctx:
        configuration_rows()
    assert "plugins_pluginconfiguration" not in _tables(ctx)
    update_plugin(name, active=False)
    assert get_manager().is_active(name) is False
    update_plugin(name, active=True)
    assert get_manager().is_active(name) is True


def _pk(global_id):
    from graphql_relay import from_global_id

    return from_global_id(global_id)[1]
