"""GraphQL: `searchProducts`, `suggest`, `searchShops`, and staff-managed synonyms.

This module holds product search and the roots; `suggest` and `searchShops` are in
schema_shops, synonyms in schema_synonyms, shared pieces in schema_common.

Thin: resolvers turn arguments into search.query objects, ask the configured backend,
and load the core types (Product, Vendor) in one query by id, keeping the backend's
order and only what is visible now.
"""
from decimal import Decimal

import graphene
from graphene import relay
from graphql_relay import to_global_id
from graphql_sync_dataloaders import SyncFuture

from marketplace.api.types import decode_ids
from marketplace.catalog.dataloaders import BrandByIdLoader
from marketplace.catalog.models import Brand
from marketplace.catalog.schema import BrandNode, CategoryNode, PriceRangeInput, ProductNode
from marketplace.catalog.selectors import category_tree
from marketplace.catalog.services import visible_products
from marketplace.core import permissions
from marketplace.core.errors import ValidationError
from marketplace.vendors.dataloaders import VendorByIdLoader
from marketplace.vendors.models import VendorKind
from marketplace.vendors.schema import VendorKindEnum, VendorType

from . import fields as product_fields
from .backends import get_backend
from .models import SynonymSet
from .query import ProductFilters, ProductQuery, ShopSort, Sort
from .schema_common import PageInfoMixin, SearchUnsupported, _cursor, _page, _text, _unsupported, _value
from .schema_shops import GeoPointInput, SearchSuggestions, ShopSearchResult, resolve_search_shops, resolve_suggest
from .schema_synonyms import SearchSynonymSetDelete, SearchSynonymSetSave, SynonymSetNode

ProductSearchSort = graphene.Enum("ProductSearchSort", [(s.name, s.value) for s in Sort],
                                  description="RELEVANCE (without a query: best sellers first), PRICE_ASC, "
                                              "PRICE_DESC, NEWEST, SALES.")
ShopSearchSort = graphene.Enum("ShopSearchSort", [(s.name, s.value) for s in ShopSort],
                               description="DEFAULT: nearest first with `near`, else best match, else oldest. "
                                           "NEXT_FREE_SLOT: earliest free booking slot first (shops that take "
                                           "bookings), ties by distance; shops without a free slot last.")
SearchFacetName = graphene.Enum("SearchFacetName", [("CATEGORY", "category"), ("BRAND", "brand"),
                                                    ("VENDOR_KIND", "vendor_kind"), ("IN_STOCK", "in_stock")])


def _english(info):
    return (getattr(info.context, "LANGUAGE_CODE", "") or "").startswith("en")


# -- product search -----------------------------------------------------------------------
class SearchFilterInput(graphene.InputObjectType):
    """Product search filters. Filters that plugins add to `ProductFilterInput` (e.g.
    `fitsVehicle`) are accepted here too."""

    categories = graphene.List(graphene.NonNull(graphene.ID), description="Includes subcategories.")
    brands = graphene.List(graphene.NonNull(graphene.ID))
    vendors = graphene.List(graphene.NonNull(graphene.ID))
    vendor_kind = VendorKindEnum()
    price = PriceRangeInput(description="On the lowest vendor price (CNY).")
    in_stock = graphene.Boolean()


CORE_FILTERS = set(SearchFilterInput._meta.fields)
# Plugins' filter inputs: one `ProductField` declaration each (`register_product_fields`),
# the same inputs as on `ProductFilterInput`.
product_fields.mount_filter_inputs(SearchFilterInput)


def product_filters(info, filter, backend):
    data = {k: v for k, v in dict(filter or {}).items() if v is not None}
    filters = ProductFilters(raw=data)
    if data.get("categories"):
        filters.category_ids = decode_ids(data["categories"], CategoryNode, "categories")
    if data.get("brands"):
        filters.brand_ids = decode_ids(data["brands"], BrandNode, "brands")
    if data.get("vendors"):
        filters.vendor_ids = decode_ids(data["vendors"], VendorType, "vendors")
    if data.get("vendor_kind") is not None:
        filters.vendor_kind = _value(data["vendor_kind"])
    price = data.get("price") or {}
    for bound, attr in (("min", "price_min"), ("max", "price_max")):
        if price.get(bound) is not None:
            value = Decimal(str(price[bound]))
            if not value.is_finite() or value < 0:
                raise ValidationError("Give a non-negative amount.", field="price")
            setattr(filters, attr, value)
    if data.get("in_stock") is not None:
        filters.in_stock = bool(data["in_stock"])
    # Plugin fields: PLUGIN_DISABLED while their plugin is off, their own ValidationError.
    filters.requested = product_fields.requested(data)
    return filters


def selected(info, *path):
    """Whether the client selected the field at `path` below this field (fragments
    included), e.g. selected(info, "edges", "offerCount")."""
    def names(selection_set):
        out = {}
        for node in selection_set.selections if selection_set else ():
            kind = node.kind
            if kind == "field":
                out.setdefault(node.name.value, []).append(node.selection_set)
            elif kind == "inline_fragment":
                for name, sets in names(node.selection_set).items():
                    out.setdefault(name, []).extend(sets)
            elif kind == "fragment_spread":
                fragment = info.fragments.get(node.name.value)
                if fragment is not None:
                    for name, sets in names(fragment.selection_set).items():
                        out.setdefault(name, []).extend(sets)
        return out

    level = [node.selection_set for node in info.field_nodes]
    for name in path:
        found = []
        for selection_set in level:
            found.extend(names(selection_set).get(name, []))
        if not found:
            return False
        level = found
    return True


class SearchFacetValue(graphene.ObjectType):
    value = graphene.String(required=True, description="A Category or Brand ID, a VendorKind value, "
                                                       "or \"true\"/\"false\" (inStock): feed it back as a filter.")
    label = graphene.String(required=True)
    count = graphene.Int(required=True)
    category = graphene.Field(CategoryNode)
    brand = graphene.Field(BrandNode)

    @staticmethod
    def resolve_category(root, info):
        return root.category

    @staticmethod
    def resolve_brand(root, info):
        return BrandByIdLoader.for_request(info).load(root.brand_id) if root.brand_id else None


class SearchFacet(graphene.ObjectType):
    name = graphene.Field(SearchFacetName, required=True)
    values = graphene.List(graphene.NonNull(SearchFacetValue), required=True,
                           description="Counts ignore this facet's own filter (multi-select); best first.")


class SearchPriceRange(graphene.ObjectType):
    min = graphene.Decimal(description="Inclusive.")
    max = graphene.Decimal(description="Exclusive; null = no upper bound.")
    count = graphene.Int(required=True)


class SearchHighlight(graphene.ObjectType):
    field = graphene.String(required=True, description="nameZh or nameEn.")
    snippets = graphene.List(graphene.NonNull(graphene.String), required=True,
                             description="The text with matches wrapped in <em>...</em>.")


class ProductSearchEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(ProductNode, required=True)
    highlights = graphene.List(graphene.NonNull(SearchHighlight), required=True)
    score = graphene.Float(description="Relevance score (backend-specific scale; null when sorted otherwise).")
    offer_count = graphene.Int(required=True, description=(
        "Offers of this product (the same product from other vendors) among the results; 1 with allOffers. "
        "Counted only when selected."))

    @staticmethod
    def resolve_offer_count(root, info):
        return root.offer_count or 1


class ProductSearchResult(graphene.ObjectType):
    backend = graphene.String(required=True, description="\"elasticsearch\" or \"database\".")
    total_count = graphene.Int(required=True, description=(
        "Results to page through: product families (the same product from many vendors counts once), or "
        "every offer with allOffers."))
    edges = graphene.List(graphene.NonNull(ProductSearchEdge), required=True)
    products = graphene.List(graphene.NonNull(ProductNode), required=True, description="The edges' nodes.")
    page_info = graphene.Field(relay.PageInfo, required=True)
    facets = graphene.List(graphene.NonNull(SearchFacet), required=True)
    price_ranges = graphene.List(graphene.NonNull(SearchPriceRange), required=True)
    unsupported = graphene.List(graphene.NonNull(SearchUnsupported), required=True,
                                description="What this backend could not do for the query (empty on Elasticsearch).")


def _facet_values(info, name, values, brands):
    english = _english(info)
    out = []
    for facet in values:
        item = SearchFacetValue(count=facet.count)
        item.category, item.brand_id = None, None
        if name == "category":
            category = category_tree(info.context).get(int(facet.key))
            if category is None:
                continue
            item.value = to_global_id("Category", facet.key)
            item.label = (category.name_en if english and category.name_en else category.name_zh)
            item.category = category
        elif name == "brand":
            brand = brands.get(int(facet.key))
            if brand is None:
                continue
            item.value = to_global_id("Brand", facet.key)
            item.label = (brand.name_en if english and brand.name_en else brand.name_zh) or brand.slug
            item.brand_id = brand.pk
        elif name == "vendor_kind":
            try:
                kind = VendorKind(facet.key)
            except ValueError:
                continue
            item.value = kind.name
            item.label = kind.label if english else {"parts_vendor": "配件商", "repair_shop": "维修店",
                                                     "dealer": "经销商"}.get(kind.value, kind.label)
        else:
            item.value = "true" if facet.key else "false"
            labels = ("In stock", "Out of stock") if english else ("有货", "缺货")
            item.label = labels[0] if facet.key else labels[1]
        out.append(item)
    return out


def _prime(loader, values):
    """Fill a request's dataloader with objects already loaded (graphql-sync-dataloaders
    has no `prime`; its cache maps keys to futures)."""
    cache = getattr(loader, "_cache", None)
    if cache is None:
        return
    for key, value in values.items():
        if key not in cache:
            future = SyncFuture()
            future.set_result(value)
            cache[key] = future


def resolve_search_products(info, query=None, filter=None, sort_by=None, first=None, after=None, all_offers=False):
    backend = get_backend()
    offset, limit = _page(first, after)
    parsed = _text(query)
    search = ProductQuery(parsed=parsed, filters=product_filters(info, filter, backend),
                          sort=Sort(_value(sort_by) or Sort.RELEVANCE.value), offset=offset, limit=limit,
                          context=info.context, all_offers=bool(all_offers),
                          # Facets and counts cost a query each: only what the client selected.
                          facets=selected(info, "facets") or selected(info, "priceRanges"),
                          offer_counts=selected(info, "edges", "offerCount"),
                          highlight=selected(info, "edges", "highlights"))
    result = backend.search_products(search)
    ids = [hit.id for hit in result.hits]
    found = {p.pk: p for p in visible_products().filter(pk__in=ids).select_related("vendor", "brand")} if ids else {}
    # The page's vendors and brands came with the products: Product.vendor / .brand need no query.
    _prime(VendorByIdLoader.for_request(info), {p.vendor_id: p.vendor for p in found.values()})
    _prime(BrandByIdLoader.for_request(info), {p.brand_id: p.brand for p in found.values() if p.brand_id})
    edges = []
    for position, hit in enumerate(result.hits):
        product = found.get(hit.id)
        if product is None:  # left the catalog since it was indexed
            continue
        highlights = [SearchHighlight(field="nameZh" if f == "name_zh" else "nameEn", snippets=s)
                      for f, s in sorted(hit.highlights.items()) if f in ("name_zh", "name_en")]
        edges.append(ProductSearchEdge(cursor=_cursor(offset + position), node=product, highlights=highlights,
                                       score=hit.score if search.sort == Sort.RELEVANCE else None,
                                       offer_count=hit.offers))
    brand_ids = [int(v.key) for v in result.facets.get("brand", [])]
    brands = Brand.objects.in_bulk(brand_ids) if brand_ids else {}
    _prime(BrandByIdLoader.for_request(info), brands)
    facets = [SearchFacet(name=name, values=_facet_values(info, name, values, brands))
              for name, values in result.facets.items()]
    return ProductSearchResult(
        backend=backend.name, total_count=result.total, edges=edges, products=[e.node for e in edges],
        page_info=PageInfoMixin.page_info(offset, len(result.hits), result.total), facets=facets,
        price_ranges=[SearchPriceRange(min=b.min, max=b.max, count=b.count) for b in result.price_ranges],
        unsupported=_unsupported(result.unsupported))


# -- roots ----------------------------------------------------------------------------------
class Query(graphene.ObjectType):
    search_products = graphene.Field(
        ProductSearchResult, required=True,
        query=graphene.String(description="Free text: Chinese or English names, brand, category, SKU, part/OE number."),
        filter=SearchFilterInput(), sort_by=ProductSearchSort(default_value=Sort.RELEVANCE.value),
        first=graphene.Int(), after=graphene.String(),
        all_offers=graphene.Boolean(default_value=False, description=(
            "false (default): the same product sold by many vendors appears once, as its best offer for this "
            "sort (see offerCount); true: every vendor's offer.")),
        description="Full-text product search with filters, facets and highlights (visible products only).")
    suggest = graphene.Field(SearchSuggestions, required=True, prefix=graphene.String(required=True),
                             limit=graphene.Int(default_value=5),
                             description="As-you-type completions: products, brands and shops.")
    search_shops = graphene.Field(
        ShopSearchResult, required=True, query=graphene.String(), kind=VendorKindEnum(), near=GeoPointInput(),
        radius_km=graphene.Float(description="With `near`: only shops within this distance."),
        open_now=graphene.Boolean(description="true: open now; false: closed now (Asia/Shanghai opening hours)."),
        services=graphene.List(graphene.NonNull(graphene.String), description="Shops offering all of these."),
        first=graphene.Int(), after=graphene.String(),
        sort_by=ShopSearchSort(default_value=ShopSort.DEFAULT.value,
                               description="NEXT_FREE_SLOT: the shop that can take a car soonest first."),
        description="Approved shops; nearest first when `near` is given.")
    search_synonym_sets = graphene.List(graphene.NonNull(SynonymSetNode), required=True,
                                        description="Query-time synonyms (platform staff only).")

    @staticmethod
    def resolve_search_products(root, info, **kwargs):
        return resolve_search_products(info, **kwargs)

    @staticmethod
    def resolve_suggest(root, info, prefix, limit=5):
        return resolve_suggest(info, prefix, limit)

    @staticmethod
    def resolve_search_shops(root, info, **kwargs):
        return resolve_search_shops(info, **kwargs)

    @staticmethod
    def resolve_search_synonym_sets(root, info):
        permissions.require_platform_staff(info)
        return SynonymSet.objects.order_by("pk")


class Mutation(graphene.ObjectType):
    search_synonym_set = SearchSynonymSetSave.Field()
    search_synonym_set_delete = SearchSynonymSetDelete.Field()
