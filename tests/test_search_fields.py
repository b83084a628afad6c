"""One declaration per searchable plugin field (`register_product_fields` returning
`ProductField`s): the engine wires it into ProductFilterInput and SearchFilterInput, the
listing, both search backends and the document - parts_storefront's fitment and part
numbers prove it through GraphQL; a stub proves the refusals. No plugin callable ever
receives a backend name."""
import inspect
import itertools
import uuid
from types import SimpleNamespace

import pytest
from elasticsearch.dsl import Keyword, Q

from marketplace.plugins import hookspecs
from marketplace.plugins.fields import ProductField
from marketplace.plugins.hookspecs import hookimpl
from tests.conftest import gid, unavailable

pytestmark = pytest.mark.django_db

RUN = uuid.uuid4().hex[:8]
_numbers = itertools.count()

SEARCH = """query($q: String, $f: SearchFilterInput) { searchProducts(query: $q, filter: $f) {
  totalCount edges { node { slug } } } }"""
LISTING = "query($f: ProductFilterInput) { products(filter: $f) { totalCount edges { node { slug } } } }"
PLUGIN_UPDATE = """mutation($name: String!, $input: PluginUpdateInput!) {
  pluginUpdate(name: $name, input: $input) { errors { code } } }"""


@pytest.fixture(params=["database", "elasticsearch"])
def backend(request, settings):
    from search.backends import get_backend

    settings.SEARCH_BACKEND = request.param
    if request.param == "elasticsearch":
        if not settings.ELASTICSEARCH_URL:
            unavailable("ELASTICSEARCH_URL not set (developer run without services)",
                        "ELASTICSEARCH_URL is not set under CI: the elasticsearch backend must be tested")
        settings.SEARCH_INDEX_PREFIX = f"test-{RUN}-f{next(_numbers)}-"
    found = get_backend()
    yield found
    if found.name == "elasticsearch":
        for index in found.all_indices():
            found.client.indices.delete(index=index, ignore_unavailable=True)


def slugs(result):
    return sorted(edge["node"]["slug"] for edge in result["edges"])


def test_the_six_search_hooks_became_one_declaration():
    specs = {name for name in dir(hookspecs) if not name.startswith("_")}
    assert "register_product_fields" in specs
    for gone in ("filter_products", "search_mapping_fields", "search_product_fields", "search_product_filters",
                 "search_code_match"):
        assert gone not in specs, gone
    assert inspect.signature(hookspecs.register_product_fields).parameters == {}
    assert "ProductFilterInput" not in __import__("marketplace.api.schema", fromlist=["x"]).EXTENSIBLE_TYPES
    # parts_storefront declares its two fields once; its callables take the inputs, never a backend.
    from search.fields import declared_fields

    declared = {field.name: (plugin, field) for plugin, field in declared_fields()}
    assert set(declared) >= {"fits_vehicle_ids", "part_numbers"}
    assert declared["part_numbers"][0] == "parts_storefront" and declared["part_numbers"][1].code_match
    for _, field in declared.values():
        for function in (field.db_filter, field.es_filter, field.clean):
            if function is not None:
                assert "backend" not in inspect.signature(function).parameters


def test_declared_inputs_are_on_both_filter_types(gql):
    for type_name in ("ProductFilterInput", "SearchFilterInput"):
        fields = gql.data("query($t: String!) { __type(name: $t) { inputFields { name } } }",
                          {"t": type_name})["__type"]["inputFields"]
        assert {"fitsVehicle", "fitsYear", "partNumber"} <= {f["name"] for f in fields}, type_name


@pytest.fixture
def fitted(make_vendor, make_product):
    from plugins.parts_storefront.models import Fitment, PartNumber, Vehicle, VehicleMake, VehicleModel

    vendor = make_vendor("fit-parts")
    corolla_pads = make_product(vendor, "corolla-pads", "卡罗拉刹车片", name_en="Corolla brake pads")
    civic_pads = make_product(vendor, "civic-pads", "思域刹车片", name_en="Civic brake pads")
    toyota = VehicleMake.objects.create(name_zh="丰田", name_en="Toyota", slug="toyota")
    model = VehicleModel.objects.create(make=toyota, name_zh="卡罗拉", name_en="Corolla", slug="corolla")
    corolla = Vehicle.objects.create(model=model, year_from=2014, year_to=2018, engine="1.6L 1ZR")
    Fitment.objects.create(variant=corolla_pads.variants.first(), vehicle=corolla)
    PartNumber.objects.create(variant=corolla_pads.variants.first(), number="04465-02220")
    return SimpleNamespace(corolla=gid("Vehicle", corolla.pk), pads=corolla_pads, civic=civic_pads)


def test_one_declaration_filters_listings_and_both_backends(gql, staff_gql, backend, fitted):
    backend.rebuild()
    for document, name in ((LISTING, "products"), (SEARCH, "searchProducts")):
        def found(**f):
            return slugs(gql.data(document, {"f": f})[name])

        assert found(fitsVehicle=fitted.corolla) == ["corolla-pads"], name
        assert found(fitsVehicle=fitted.corolla, fitsYear=2016) == ["corolla-pads"], name
        assert found(fitsVehicle=fitted.corolla, fitsYear=2020) == [], name
        assert found(partNumber="04465 02220") == ["corolla-pads"], name
        assert found(partNumber="0446502220", fitsVehicle=fitted.corolla) == ["corolla-pads"], name
        bad = gql.execute(document, {"f": {"fitsYear": 2016}})
        assert bad["errors"][0]["extensions"] == {"code": "INVALID", "field": "fitsYear"}, name
        empty = gql.execute(document, {"f": {"partNumber": " - "}})
        assert empty["errors"][0]["extensions"] == {"code": "REQUIRED", "field": "partNumber"}, name
    # The code field: the part number typed any way ranks its product first, in search.
    assert gql.data(SEARCH, {"q": "04465-02220"})["searchProducts"]["edges"][0]["node"]["slug"] == "corolla-pads"
    # Switched off: its inputs refuse, everywhere; on again, no reindex needed.
    assert staff_gql.mutate(PLUGIN_UPDATE, {"name": "parts_storefront", "input": {"active": False}}) == {"errors": []}
    for document in (LISTING, SEARCH):
        off = gql.execute(document, {"f": {"fitsVehicle": fitted.corolla}})
        assert off["errors"][0]["extensions"] == {"code": "PLUGIN_DISABLED", "field": "fitsVehicle"}
    assert staff_gql.mutate(PLUGIN_UPDATE, {"name": "parts_storefront", "input": {"active": True}}) == {"errors": []}
    assert slugs(gql.data(SEARCH, {"f": {"fitsVehicle": fitted.corolla}})["searchProducts"]) == ["corolla-pads"]


class HalfDeclared:
    """A plugin field with a database filter only, and one whose filter fails."""

    @hookimpl
    def register_product_fields(self):
        return [
            ProductField(name="stub_grade", es_mapping=Keyword(), values=lambda products: {},
                         graphql_input={"stub_grade": None}, db_filter=lambda qs, f: qs),
            ProductField(name="stub_broken", es_mapping=Keyword(), values=lambda products: {},
                         graphql_input={"stub_broken": None}, db_filter=self.fail, es_filter=self.fail),
        ]

    @staticmethod
    def fail(*args):
        raise RuntimeError("plugin bug")


@pytest.fixture
def half_declared():
    from marketplace.plugins.testing import register_plugin

    name = f"search_half_{uuid.uuid4().hex[:6]}"
    with register_plugin(HalfDeclared(), name):
        yield name


def test_refusals_are_coded_never_silent(backend, half_declared):
    from marketplace.core.errors import MarketplaceError
    from search.query import ProductFilters, ProductQuery
    from search.text import parse_query

    def search(**raw):
        return backend.search_products(ProductQuery(parsed=parse_query(""), filters=ProductFilters(raw=raw)))

    if backend.name == "elasticsearch":
        backend.rebuild()
        with pytest.raises(MarketplaceError) as refused:
            search(stub_grade="A")
        assert (refused.value.code.value, refused.value.field) == ("INVALID", "stub_grade")
    else:
        assert search(stub_grade="A").total == 0  # the database filter applies
    with pytest.raises(MarketplaceError) as failed:
        search(stub_broken="x")
    assert failed.value.code.value == "INTERNAL_ERROR" and half_declared in failed.value.message


def test_declarations_are_checked():
    with pytest.raises(ValueError, match="snake_case"):
        ProductField(name="Fits-Vehicle", es_mapping=Keyword(), values=lambda p: {})
    with pytest.raises(ValueError, match="no db_filter"):
        ProductField(name="grade", es_mapping=Keyword(), values=lambda p: {}, graphql_input={"grade": None},
                     es_filter=lambda f: Q("term", grade=f["grade"]))
