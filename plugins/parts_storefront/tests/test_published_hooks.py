"""The read-only hooks parts_storefront publishes for other plugins (hookspecs.py):
garage, fitment and part numbers, called as another plugin calls them."""
import pytest

from marketplace.plugins import call_hook, has_hook

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(make_vendor, make_product, make_user):
    from marketplace.plugins.catalog import variant_info
    from plugins.parts_storefront import services

    make = services.create_make({"name_zh": "丰田", "name_en": "Toyota", "slug": "toyota"})
    model = services.create_model(make, {"name_zh": "卡罗拉", "name_en": "Corolla", "slug": "corolla"})
    corolla = services.create_vehicle(model, {"year_from": 2019, "year_to": 2023, "engine": "1.2T"})
    vendor = make_vendor("parts")
    pads, plain = (make_product(vendor, slug).variants.first() for slug in ("pads", "oil"))
    services.set_fitments(variant_info(pads.pk), [corolla.pk])
    services.set_part_numbers(variant_info(pads.pk), [{"number": "04465-02220", "kind": "oe"}])
    owner = make_user("owner@example.com")
    car = services.add_garage_vehicle(owner, corolla.pk, 2020, nickname="小白")
    return corolla, pads, plain, owner, car


def test_the_hooks_are_published():
    assert all(has_hook(name) for name in ("parts_garage_vehicle", "parts_fitment", "parts_numbers",
                                           "parts_normalize_number"))


def test_garage_vehicle_is_the_members_own(registry, make_user):
    corolla, _pads, _plain, owner, car = registry
    found = call_hook("parts_garage_vehicle", user_id=owner.pk, garage_vehicle_id=car.pk)
    assert found == {"garage_vehicle_id": car.pk, "vehicle_id": corolla.pk, "year": 2020,
                     "label": "丰田 卡罗拉 2020 1.2T", "nickname": "小白"}
    assert call_hook("parts_garage_vehicle", user_id=make_user("x@example.com").pk, garage_vehicle_id=car.pk) is None


def test_fitment_and_part_numbers(registry):
    corolla, pads, plain, _owner, _car = registry
    fits = call_hook("parts_fitment", variant_ids=[pads.pk, plain.pk], vehicle_id=corolla.pk, year=2020)
    assert fits == {pads.pk: True, plain.pk: None}
    assert call_hook("parts_fitment", variant_ids=[pads.pk], vehicle_id=corolla.pk, year=2015) == {pads.pk: False}
    assert call_hook("parts_numbers", variant_ids=[pads.pk, plain.pk]) == {pads.pk: ["0446502220"], plain.pk: []}
    assert call_hook("parts_normalize_number", number="０４４６５－０２２２０") == "0446502220"
