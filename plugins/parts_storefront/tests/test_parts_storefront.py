"""The parts_storefront plugin through the GraphQL API: vehicle registry, fitment, part
numbers, my garage, listing filters, storefront pages, activation and query counts."""
import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_relay import to_global_id

from marketplace.catalog import services as catalog
from tests.conftest import GraphQLClient

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not apps.is_installed("plugins.parts_storefront"),
                       reason="parts_storefront is not installed (MARKETPLACE_BUILTIN_PLUGINS)"),
]

ERRORS = "errors { field code message }"
MAKE_CREATE = "mutation($i: VehicleMakeInput!) { vehicleMakeCreate(input: $i) { make { id slug } %s } }" % ERRORS
MODEL_CREATE = ("mutation($m: ID!, $i: VehicleModelInput!) { vehicleModelCreate(makeId: $m, input: $i) "
                "{ model { id slug make { slug } } %s } }" % ERRORS)
VEHICLE_CREATE = ("mutation($m: ID!, $i: VehicleInput!) { vehicleCreate(modelId: $m, input: $i) "
                  "{ vehicle { id yearFrom yearTo engine fuel body } %s } }" % ERRORS)
FITMENT_SET = ("mutation($v: ID!, $ids: [ID!]!) { fitmentSet(variantId: $v, vehicleIds: $ids) "
               "{ variant { sku fitments { engine yearFrom model { slug make { slug } } } } %s } }" % ERRORS)
NUMBERS_SET = ("mutation($v: ID!, $n: [PartNumberInput!]!) { partNumbersSet(variantId: $v, numbers: $n) "
               "{ variant { partNumbers { number normalized kind } } %s } }" % ERRORS)
PAGE_UPDATE = ("mutation($v: ID!, $i: StorefrontPageInput!) { storefrontPageUpdate(vendorId: $v, input: $i) "
               "{ storefrontPage { bannerUrl headlineZh featuredProducts { slug } } %s } }" % ERRORS)
PAGE = ("query($s: String!) { storefrontPage(vendorSlug: $s) "
        "{ bannerUrl headlineZh headlineEn vendor { slug } featuredProducts { slug } } }")
GARAGE_ADD = ("mutation($v: ID!, $y: Int!, $n: String, $d: Boolean) { garageVehicleAdd(vehicleId: $v, year: $y, "
              "nickname: $n, setDefault: $d) { garageVehicle { id year nickname isDefault } "
              "garage { nickname isDefault } %s } }" % ERRORS)
GARAGE_REMOVE = "mutation($id: ID!) { garageVehicleRemove(id: $id) { garage { nickname isDefault } %s } }" % ERRORS
GARAGE_DEFAULT = ("mutation($id: ID!) { garageVehicleSetDefault(id: $id) { garage { nickname isDefault } %s } }"
                  % ERRORS)
MY_GARAGE = "{ myGarage { nickname year isDefault vehicle { engine model { nameEn make { nameEn } } } } }"
PRODUCTS = "query($f: ProductFilterInput) { products(filter: $f) { totalCount edges { node { slug } } } }"
LOOKUP = ("query($n: String!) { partNumberLookup(number: $n) { product { slug } variant { sku } "
          "partNumber { number normalized kind } } }")
PLUGIN_UPDATE = """
mutation($input: PluginUpdateInput!, $vendorId: ID) {
  pluginUpdate(name: "parts_storefront", vendorId: $vendorId, input: $input) { plugin { active } errors { code } }
}"""


def codes(result):
    return [e["extensions"]["code"] for e in result.get("errors", [])]


def slugs(data):
    return [edge["node"]["slug"] for edge in data["products"]["edges"]]


def gid(kind, obj):
    return to_global_id(kind, obj.pk)


# -- building blocks ---------------------------------------------------------------------------
@pytest.fixture
def registry(staff_gql):
    """Toyota Corolla (two generations) and VW Lavida, created through the API."""

    def make(slug, zh, en):
        payload = staff_gql.mutate(MAKE_CREATE, {"i": {"slug": slug, "nameZh": zh, "nameEn": en}})
        assert payload["errors"] == []
        return payload["make"]["id"]

    def model(make_id, slug, zh, en):
        payload = staff_gql.mutate(MODEL_CREATE, {"m": make_id, "i": {"slug": slug, "nameZh": zh, "nameEn": en}})
        assert payload["errors"] == []
        return payload["model"]["id"]

    def vehicle(model_id, year_from, year_to, engine, fuel="PETROL"):
        payload = staff_gql.mutate(VEHICLE_CREATE, {"m": model_id, "i": {
            "yearFrom": year_from, "yearTo": year_to, "engine": engine, "fuel": fuel, "body": "SEDAN"}})
        assert payload["errors"] == []
        return payload["vehicle"]["id"]

    toyota = make("toyota", "丰田", "Toyota")
    vw = make("volkswagen", "大众", "Volkswagen")
    corolla = model(toyota, "corolla", "卡罗拉", "Corolla")
    lavida = model(vw, "lavida", "朗逸", "Lavida")
    return {
        "toyota": toyota, "vw": vw, "corolla": corolla, "lavida_model": lavida,
        "corolla_old": vehicle(corolla, 2014, 2018, "1.6L 1ZR-FE"),
        "corolla_new": vehicle(corolla, 2019, 2024, "1.2T 9NR-FTS"),
        "corolla_hybrid": vehicle(corolla, 2019, 2024, "1.8L hybrid 8ZR-FXE", fuel="HYBRID"),
        "lavida": vehicle(lavida, 2018, 2023, "1.5L EA211"),
    }


class Shop:
    """A parts vendor (conftest's make_vendor) whose owner is signed in through its own client."""

    def __init__(self, client, vendor, make_product):
        self.vendor, self.owner, self._make_product = vendor, vendor.owner, make_product
        self.api = GraphQLClient(client)
        self.api.login(self.owner.email)
        self.id = gid("Vendor", vendor)

    def product(self, slug, name="商品", status="published"):
        """A product with one variant (SKU "<slug>-1"): (product, variant)."""
        product = self._make_product(self.vendor, slug, name_zh=name, status=status)
        return product, product.variants.get()


@pytest.fixture
def shop(client, make_vendor, make_product):
    return Shop(client, make_vendor("alpha"), make_product)


@pytest.fixture
def other_shop(client, make_vendor, make_product):
    return Shop(client, make_vendor("beta"), make_product)


# -- registry ----------------------------------------------------------------------------------
def test_registry_is_public_to_read_and_platform_staff_to_write(registry, staff_gql, member_gql, gql):
    makes = gql.data("{ vehicleMakes { id nameZh nameEn slug } }")["vehicleMakes"]
    assert [m["slug"] for m in makes] == ["toyota", "volkswagen"]
    models = gql.data("query($m: ID!) { vehicleModels(make: $m) { slug nameZh make { slug } } }",
                      {"m": registry["toyota"]})["vehicleModels"]
    assert models == [{"slug": "corolla", "nameZh": "卡罗拉", "make": {"slug": "toyota"}}]
    vehicles = "query($m: ID!, $y: Int) { vehicles(model: $m, year: $y) { id engine yearFrom yearTo fuel } }"
    assert len(gql.data(vehicles, {"m": registry["corolla"]})["vehicles"]) == 3
    assert gql.data(vehicles, {"m": registry["corolla"], "y": 2016})["vehicles"] == [
        {"id": registry["corolla_old"], "engine": "1.6L 1ZR-FE", "yearFrom": 2014, "yearTo": 2018, "fuel": "PETROL"}]
    assert {v["engine"] for v in gql.data(vehicles, {"m": registry["corolla"], "y": 2019})["vehicles"]} == {
        "1.2T 9NR-FTS", "1.8L hybrid 8ZR-FXE"}

    # Refusals: a member may not write; duplicates and reversed ranges are refused.
    denied = member_gql.mutate(MAKE_CREATE, {"i": {"slug": "honda", "nameZh": "本田"}})
    assert denied["errors"][0]["code"] == "PERMISSION_DENIED"
    assert staff_gql.mutate(MAKE_CREATE, {"i": {"slug": "toyota", "nameZh": "丰田"}})["errors"][0] == {
        "field": "slug", "code": "UNIQUE", "message": "This slug is taken."}
    assert staff_gql.mutate(MODEL_CREATE, {"m": registry["toyota"], "i": {"slug": "Bad Slug", "nameZh": "x"}})[
        "errors"][0]["field"] == "slug"
    reversed_range = staff_gql.mutate(VEHICLE_CREATE, {"m": registry["corolla"], "i": {
        "yearFrom": 2020, "yearTo": 2018, "engine": "2.0L"}})
    assert [(e["field"], e["code"]) for e in reversed_range["errors"]] == [("yearTo", "INVALID")]
    assert staff_gql.mutate(VEHICLE_CREATE, {"m": registry["corolla"], "i": {
        "yearFrom": 2014, "yearTo": 2018, "engine": "1.6L 1ZR-FE"}})["errors"][0]["code"] == "UNIQUE"
    assert staff_gql.mutate(VEHICLE_CREATE, {"m": registry["toyota"], "i": {
        "yearFrom": 2014, "yearTo": 2018, "engine": "x"}})["errors"][0]["field"] == "modelId"


# -- fitment and part numbers ------------------------------------------------------------------
def test_hook_graphql_type_fields(registry, shop):
    """parts_storefront adds `fitments` and `partNumbers` to ProductVariant; vendor staff set them."""
    _product, variant = shop.product("corolla-front-pads", "卡罗拉 前刹车片")
    variant_id = gid("ProductVariant", variant)
    payload = shop.api.mutate(FITMENT_SET, {"v": variant_id, "ids": [registry["corolla_new"], registry["lavida"]]})
    assert payload["errors"] == []
    assert sorted(f["model"]["slug"] for f in payload["variant"]["fitments"]) == ["corolla", "lavida"]
    # Replace-all: the Lavida goes, the old Corolla comes.
    payload = shop.api.mutate(FITMENT_SET, {"v": variant_id, "ids": [registry["corolla_old"], registry["corolla_new"]]})
    assert [(f["model"]["make"]["slug"], f["yearFrom"]) for f in payload["variant"]["fitments"]] == [
        ("toyota", 2014), ("toyota", 2019)]
    assert shop.api.mutate(FITMENT_SET, {"v": variant_id, "ids": [registry["corolla"]]})["errors"][0]["field"] == \
        "vehicleIds"

    payload = shop.api.mutate(NUMBERS_SET, {"v": variant_id, "n": [
        {"number": "04465-02220"}, {"number": "d2247", "kind": "MANUFACTURER"}]})
    assert payload["errors"] == []
    assert payload["variant"]["partNumbers"] == [
        {"number": "04465-02220", "normalized": "0446502220", "kind": "OE"},
        {"number": "d2247", "normalized": "D2247", "kind": "MANUFACTURER"}]
    refused = shop.api.mutate(NUMBERS_SET, {"v": variant_id, "n": [
        {"number": "04465-02220"}, {"number": "04465 02220"}, {"number": "-- / --"}]})
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [
        ("numbers.1.number", "UNIQUE"), ("numbers.2.number", "INVALID")]
    assert shop.api.mutate(NUMBERS_SET, {"v": variant_id, "n": []})["variant"]["partNumbers"] == []


def test_vendor_staff_cannot_touch_another_vendors_data(registry, shop, other_shop):
    other_product, other_variant = other_shop.product("beta-pads")
    mine, _ = shop.product("alpha-pads")
    variant_id = gid("ProductVariant", other_variant)
    for query, variables in ((FITMENT_SET, {"v": variant_id, "ids": [registry["lavida"]]}),
                             (NUMBERS_SET, {"v": variant_id, "n": [{"number": "04465-02220"}]}),
                             (PAGE_UPDATE, {"v": other_shop.id, "i": {"headlineZh": "被黑了"}})):
        assert shop.api.mutate(query, variables)["errors"][0]["code"] == "PERMISSION_DENIED"
    # Nor feature another vendor's product on its own page.
    payload = shop.api.mutate(PAGE_UPDATE, {"v": shop.id, "i": {"featuredProducts": [gid("Product", other_product)]}})
    assert payload["errors"][0] == {"field": "featuredProducts", "code": "NOT_FOUND",
                                    "message": "A product was not found in this store."}
    from plugins.parts_storefront.models import Fitment, PartNumber

    assert not Fitment.objects.exists() and not PartNumber.objects.exists()
    assert other_shop.api.data(PAGE, {"s": "beta"})["storefrontPage"] is None


# -- lookups and listing filters ---------------------------------------------------------------
def test_part_number_lookup_and_filter_ignore_case_spaces_and_hyphens(shop, gql):
    _product, variant = shop.product("toyota-pads", "丰田 前刹车片")
    _draft, draft_variant = shop.product("draft-pads", status="draft")
    _other, other_variant = shop.product("oil-filter")
    for v, numbers in ((variant, ["04465-02220", "04152-YZZA6"]), (draft_variant, ["04465-02220"]),
                       (other_variant, ["90915-YZZE1"])):
        payload = shop.api.mutate(NUMBERS_SET, {"v": gid("ProductVariant", v), "n": [{"number": n} for n in numbers]})
        assert payload["errors"] == []

    for typed in ("04465 02220", "0446502220", "04465-02220", " 04465．02220 ", "04465/02220"):
        matches = gql.data(LOOKUP, {"n": typed})["partNumberLookup"]
        assert matches == [{"product": {"slug": "toyota-pads"}, "variant": {"sku": "toyota-pads-1"},
                            "partNumber": {"number": "04465-02220", "normalized": "0446502220", "kind": "OE"}}]
    assert [m["variant"]["sku"] for m in gql.data(LOOKUP, {"n": "04152 yzza6"})["partNumberLookup"]] == [
        "toyota-pads-1"]
    assert gql.data(LOOKUP, {"n": "12345"})["partNumberLookup"] == []
    assert codes(gql.execute(LOOKUP, {"n": " - "})) == ["REQUIRED"]

    assert slugs(gql.data(PRODUCTS, {"f": {"partNumber": "0446502220"}})) == ["toyota-pads"]
    assert slugs(gql.data(PRODUCTS, {"f": {"partNumber": "04152-yzza6"}})) == ["toyota-pads"]
    assert slugs(gql.data(PRODUCTS, {"f": {"partNumber": "nothing-like-it"}})) == []
    assert len(slugs(gql.data(PRODUCTS))) == 2  # no plugin filter: the core listing

    # An inactive variant no longer matches.
    catalog.save_variant(variant.product, {"is_active": False}, variant)
    assert gql.data(LOOKUP, {"n": "0446502220"})["partNumberLookup"] == []
    assert slugs(gql.data(PRODUCTS, {"f": {"partNumber": "0446502220"}})) == []


def test_fits_vehicle_filter(registry, shop, gql):
    """parts_storefront narrows listings with its `fitsVehicle` filter."""
    corolla, corolla_variant = shop.product("corolla-pads", "卡罗拉刹车片")
    lavida, lavida_variant = shop.product("lavida-pads", "朗逸刹车片")
    shop.product("universal-wiper", "通用雨刮")
    for v, ids in ((corolla_variant, [registry["corolla_new"], registry["corolla_hybrid"]]),
                   (lavida_variant, [registry["lavida"]])):
        assert shop.api.mutate(FITMENT_SET, {"v": gid("ProductVariant", v), "ids": ids})["errors"] == []

    assert slugs(gql.data(PRODUCTS, {"f": {"fitsVehicle": registry["corolla_new"]}})) == ["corolla-pads"]
    assert slugs(gql.data(PRODUCTS, {"f": {"fitsVehicle": registry["lavida"]}})) == ["lavida-pads"]
    assert slugs(gql.data(PRODUCTS, {"f": {"fitsVehicle": registry["corolla_old"]}})) == []
    assert slugs(gql.data(PRODUCTS, {"f": {"fitsVehicle": registry["corolla_new"], "fitsYear": 2021}})) == [
        "corolla-pads"]
    assert slugs(gql.data(PRODUCTS, {"f": {"fitsVehicle": registry["corolla_new"], "fitsYear": 2017}})) == []
    # Combined with core filters and the other plugin filter.
    assert slugs(gql.data(PRODUCTS, {"f": {"fitsVehicle": registry["lavida"], "search": "卡罗拉"}})) == []
    assert slugs(gql.data(PRODUCTS, {"f": {"fitsVehicle": registry["lavida"], "partNumber": "0446502220"}})) == []
    # Bad input is named.
    result = gql.execute(PRODUCTS, {"f": {"fitsVehicle": registry["corolla"]}})
    assert codes(result) == ["INVALID"] and result["errors"][0]["extensions"]["field"] == "fitsVehicle"
    assert codes(gql.execute(PRODUCTS, {"f": {"fitsYear": 2020}})) == ["INVALID"]


# -- my garage ---------------------------------------------------------------------------------
def test_my_garage(registry, member_gql, client, make_user, staff_gql):
    add = lambda vehicle, year, nickname, default=None: member_gql.mutate(  # noqa: E731
        GARAGE_ADD, {"v": registry[vehicle], "y": year, "n": nickname, "d": default})

    first = add("corolla_new", 2020, "家用车")
    assert first["errors"] == [] and first["garageVehicle"]["isDefault"] is True  # the first one is the default
    second = add("lavida", 2019, "老婆的车")
    assert second["garageVehicle"]["isDefault"] is False
    third = add("corolla_hybrid", 2023, "新车", True)
    assert third["garage"] == [{"nickname": "新车", "isDefault": True}, {"nickname": "家用车", "isDefault": False},
                               {"nickname": "老婆的车", "isDefault": False}]
    garage = member_gql.data(MY_GARAGE)["myGarage"]
    assert garage[0] == {"nickname": "新车", "year": 2023, "isDefault": True, "vehicle": {
        "engine": "1.8L hybrid 8ZR-FXE", "model": {"nameEn": "Corolla", "make": {"nameEn": "Toyota"}}}}

    outside = add("lavida", 2025, "未来车")
    assert outside["errors"] == [{"field": "year", "code": "INVALID", "message": "This vehicle was built 2018-2023."}]
    assert add("corolla", 2020, "x")["errors"][0]["field"] == "vehicleId"  # a model ID, not a vehicle's

    # Another member sees nothing of it and can change nothing.
    stranger = GraphQLClient(client)
    stranger.login(make_user("stranger@example.com").email)
    assert stranger.data(MY_GARAGE)["myGarage"] == []
    for mutation in (GARAGE_REMOVE, GARAGE_DEFAULT):
        assert stranger.mutate(mutation, {"id": second["garageVehicle"]["id"]})["errors"][0]["code"] == "NOT_FOUND"
    assert stranger.data("query($id: ID!) { node(id: $id) { id } }", {"id": second["garageVehicle"]["id"]}) == {
        "node": None}

    moved = member_gql.mutate(GARAGE_DEFAULT, {"id": second["garageVehicle"]["id"]})
    assert [g["nickname"] for g in moved["garage"] if g["isDefault"]] == ["老婆的车"]
    # Removing the default hands it to the most recently added vehicle.
    removed = member_gql.mutate(GARAGE_REMOVE, {"id": second["garageVehicle"]["id"]})
    assert removed["garage"] == [{"nickname": "新车", "isDefault": True},
                                 {"nickname": "家用车", "isDefault": False}]

    # The platform limits garages (plugin settings).
    assert staff_gql.mutate(PLUGIN_UPDATE, {"input": {"settings": {"max_garage_vehicles": 2}}})["errors"] == []
    assert add("lavida", 2019, "第三辆")["errors"][0]["code"] == "LIMIT_EXCEEDED"


def test_my_garage_needs_a_signed_in_member(gql, registry):
    assert codes(gql.execute(MY_GARAGE)) == ["NOT_AUTHENTICATED"]
    payload = gql.mutate(GARAGE_ADD, {"v": registry["lavida"], "y": 2019})
    assert payload["errors"][0]["code"] == "NOT_AUTHENTICATED"


# -- storefront pages --------------------------------------------------------------------------
def test_storefront_page(shop, gql, client, make_user):
    first, _ = shop.product("first-pads")
    second, _ = shop.product("second-pads")
    draft, _ = shop.product("draft-pads", status="draft")
    assert gql.data(PAGE, {"s": "alpha"})["storefrontPage"] is None  # nothing configured yet

    payload = shop.api.mutate(PAGE_UPDATE, {"v": shop.id, "i": {
        "bannerUrl": "https://img.example.com/alpha.jpg", "headlineZh": "原厂配件，按车找件",
        "featuredProducts": [gid("Product", p) for p in (second, draft, first)]}})
    assert payload["errors"] == []
    page = gql.data(PAGE, {"s": "alpha"})["storefrontPage"]
    assert page == {"bannerUrl": "https://img.example.com/alpha.jpg", "headlineZh": "原厂配件，按车找件",
                    "headlineEn": "", "vendor": {"slug": "alpha"},
                    "featuredProducts": [{"slug": "second-pads"}, {"slug": "first-pads"}]}  # the draft stays hidden

    # Only the given fields change; bad values are refused and change nothing.
    assert shop.api.mutate(PAGE_UPDATE, {"v": shop.id, "i": {"headlineEn": "Parts by car"}})["errors"] == []
    bad = shop.api.mutate(PAGE_UPDATE, {"v": shop.id, "i": {"bannerUrl": "javascript:alert(1)", "headlineZh": "新"}})
    assert bad["errors"][0]["field"] == "bannerUrl"
    page = gql.data(PAGE, {"s": "alpha"})["storefrontPage"]
    assert (page["headlineZh"], page["headlineEn"], len(page["featuredProducts"])) == (
        "原厂配件，按车找件", "Parts by car", 2)

    # Plain staff (not owner or manager) may not edit the page.
    from marketplace.vendors.models import VendorStaff

    clerk = make_user("clerk@alpha.example.com")
    VendorStaff.objects.create(vendor=shop.vendor, user=clerk, role="staff")
    clerk_api = GraphQLClient(client)
    clerk_api.login(clerk.email)
    assert clerk_api.mutate(PAGE_UPDATE, {"v": shop.id, "i": {"headlineZh": "x"}})["errors"][0]["code"] == \
        "PERMISSION_DENIED"

    # The vendor switches storefront pages off for itself.
    off = shop.api.mutate(PLUGIN_UPDATE, {"vendorId": shop.id, "input": {"active": False}})
    assert off["errors"] == [] and off["plugin"]["active"] is True  # the platform scope is unchanged
    assert gql.data(PAGE, {"s": "alpha"})["storefrontPage"] is None
    assert shop.api.mutate(PAGE_UPDATE, {"v": shop.id, "i": {"headlineZh": "x"}})["errors"][0]["code"] == \
        "PLUGIN_DISABLED"


# -- activation --------------------------------------------------------------------------------
def test_disabled_plugin_refuses_its_fields_and_filters(registry, shop, staff_gql, gql):
    _product, variant = shop.product("corolla-pads")
    shop.api.mutate(FITMENT_SET, {"v": gid("ProductVariant", variant), "ids": [registry["corolla_new"]]})
    off = staff_gql.mutate(PLUGIN_UPDATE, {"input": {"active": False}})
    assert off["errors"] == [] and off["plugin"]["active"] is False

    result = gql.execute(PRODUCTS, {"f": {"fitsVehicle": registry["corolla_new"]}})
    assert codes(result) == ["PLUGIN_DISABLED"]
    result = gql.execute("{ products { edges { node { slug variants { sku fitments { engine } } } } } }")
    assert "PLUGIN_DISABLED" in codes(result)
    assert codes(gql.execute("{ vehicleMakes { slug } }")) == ["PLUGIN_DISABLED"]
    result = shop.api.execute(FITMENT_SET, {"v": gid("ProductVariant", variant), "ids": []})
    assert codes(result) == ["PLUGIN_DISABLED"]
    # The core goes on working.
    assert slugs(gql.data(PRODUCTS)) == ["corolla-pads"]

    staff_gql.mutate(PLUGIN_UPDATE, {"input": {"active": True}})
    assert slugs(gql.data(PRODUCTS, {"f": {"fitsVehicle": registry["corolla_new"]}})) == ["corolla-pads"]


# -- performance -------------------------------------------------------------------------------
LISTING = """
query($n: Int!) { products(first: $n) { edges { node { slug variants {
  sku fitments { engine model { nameZh make { nameZh } } } partNumbers { number }
} } } } }"""


def test_listing_with_fitment_runs_a_constant_number_of_queries(registry, shop, gql):
    from marketplace.catalog.models import ProductVariant
    from marketplace.plugins.catalog import variant_infos
    from plugins.parts_storefront import services
    from plugins.parts_storefront.models import Vehicle

    vehicles = list(Vehicle.objects.values_list("pk", flat=True))
    for i in range(30):
        product, variant = shop.product(f"pads-{i:02}")
        second = catalog.save_variant(product, {"sku": f"pads-{i:02}-b", "list_price": "120.00"})
        for v in variant_infos([variant.pk, second.pk]):
            services.set_fitments(v, vehicles[i % 3: i % 3 + 2])
            services.set_part_numbers(v, [{"number": f"04465-0{i:04}"}, {"number": f"X-{v.variant_id}"}])
    assert ProductVariant.objects.count() == 60

    counts = {}
    for n in (5, 30):
        with CaptureQueriesContext(connection) as queries:
            edges = gql.data(LISTING, {"n": n})["products"]["edges"]
        assert len(edges) == n
        assert all(len(e["node"]["variants"]) == 2 and len(e["node"]["variants"][0]["fitments"]) == 2
                   and e["node"]["variants"][0]["fitments"][0]["model"]["make"]["nameZh"] for e in edges)
        counts[n] = len(queries)
    assert counts[5] == counts[30], counts


# -- demo data ---------------------------------------------------------------------------------
def test_demo_load_is_idempotent_and_assigns_fitment_by_name(shop, gql):
    from plugins.parts_storefront import demo
    from plugins.parts_storefront.models import Fitment, PartNumber, StorefrontPage, Vehicle

    corolla, _ = shop.product("corolla-front-pads", "卡罗拉 前刹车片 Corolla front brake pads")
    shop.product("engine-oil-5w30", "全合成机油 5W-30")
    shop.product("lavida-oil-filter", "大众朗逸 EA211 机油滤清器")
    shop.product("mystery-part", "神秘零件")
    demo.load()
    state = (Vehicle.objects.count(), Fitment.objects.count(), PartNumber.objects.count(),
             StorefrontPage.objects.count())
    demo.load()
    assert (Vehicle.objects.count(), Fitment.objects.count(), PartNumber.objects.count(),
            StorefrontPage.objects.count()) == state
    assert state[0] >= 20 and state[3] == 1

    lookup = gql.data(LOOKUP, {"n": "04465 02220"})["partNumberLookup"]
    assert [m["product"]["slug"] for m in lookup] == ["corolla-front-pads"]
    assert [m["product"]["slug"] for m in gql.data(LOOKUP, {"n": "04e115561h"})["partNumberLookup"]] == [
        "lavida-oil-filter"]
    fits = gql.data("""{ products(first: 10) { edges { node { slug variants { fitments {
        model { slug } fuel } } } } } }""")["products"]["edges"]
    by_slug = {e["node"]["slug"]: e["node"]["variants"][0]["fitments"] for e in fits}
    assert {f["model"]["slug"] for f in by_slug["corolla-front-pads"]} == {"corolla"}
    assert {f["model"]["slug"] for f in by_slug["lavida-oil-filter"]} == {"lavida"}
    assert len(by_slug["engine-oil-5w30"]) > 10 and all(f["fuel"] != "ELECTRIC" for f in by_slug["engine-oil-5w30"])
    assert by_slug["mystery-part"] == []


def test_demo_load_without_a_catalog_registers_vehicles_only(db):
    from plugins.parts_storefront import demo
    from plugins.parts_storefront.models import Fitment, Vehicle

    demo.load()
    demo.load()
    assert Vehicle.objects.count() == len(demo.VEHICLES) and not Fitment.objects.exists()
