"""Plugins add fields to the shop document (guestbook: whether a store runs a guestbook
corner) through search_shop_mapping_fields and search_shop_fields."""
import pytest

from tests.test_search_indexing import RUN, _numbers, es  # noqa: F401  (the Elasticsearch fixture)


@pytest.mark.django_db
def test_hook_search_shop_mapping_fields(es, make_vendor):  # noqa: F811
    vendor = make_vendor("corner-shop", name_zh="留言角汽配")
    es.rebuild()
    index = es.alias("shops")
    mapping = es.client.indices.get_mapping(index=index)
    (properties,) = [m["mappings"]["properties"] for m in mapping.body.values()]
    assert properties["guestbook_corner"]["type"] == "boolean"
    document = es.client.get(index=index, id=vendor.pk)["_source"]
    assert document["guestbook_corner"] is True
