"""GraphQL: `searchProducts`, `suggest`, `searchShops`, and staff-managed synonyms.

Thin: resolvers turn arguments into search.query objects, ask the configured backend,
and load the core types (Product, Vendor) in one query by id, keeping the backend's
order and only what is visible now.
"""
import base64
from decimal import Decimal

import graphene
from django.conf import settings
from graphene import relay
from graphene_django import DjangoObjectType
from graphql_relay import to_global_id
from graphql_sync_dataloaders import SyncFuture

from marketplace.api.mutations import BaseMutation
from marketplace.api.pagination import check_page_size
from marketplace.api.types import decode_id
from marketplace.catalog.dataloaders import BrandByIdLoader
from marketplace.catalog.models import Brand
from marketplace.catalog.schema import BrandNode, CategoryNode, PriceRangeInput, ProductNode, _category_tree, _ids
from marketplace.catalog.services import visible_products
from marketplace.core import permissions
from marketplace.core.errors import ErrorCode, MarketplaceError, NotFound, ValidationError
from marketplace.vendors.dataloaders import VendorByIdLoader
from marketplace.vendors.models import Vendor, VendorKind, VendorStatus
from marketplace.vendors.schema import VendorKindEnum, VendorType

from . import clock, synonyms
from .backends import get_backend
from .models import SynonymSet
from .query import (
    MAX_WINDOW, Capability, ProductFilters, ProductQuery, ShopQuery, Sort,
)
from . import fields as product_fields
from .text import MAX_QUERY_LENGTH, clean_query, parse_query

ProductSearchSort = graphene.Enum("ProductSearchSort", [(s.name, s.value) for s in Sort],
                                  description="RELEVANCE (without a query: best sellers first), PRICE_ASC, "
                                              "PRICE_DESC, NEWEST, SALES.")
SearchCapability = graphene.Enum("SearchCapability", [(c.name, c.value) for c in Capability])
SearchFacetName = graphene.Enum("SearchFacetName", [("CATEGORY", "category"), ("BRAND", "brand"),
                                                    ("VENDOR_KIND", "vendor_kind"), ("IN_STOCK", "in_stock")])
MAX_SUGGESTIONS = 20
MAX_SERVICES = 20


def _value(enum_value):
    return getattr(enum_value, "value", enum_value)


def _english(info):
    return (getattr(info.context, "LANGUAGE_CODE", "") or "").startswith("en")


# -- common types -------------------------------------------------------------------------
class SearchUnsupported(graphene.ObjectType):
    """Something the backend cannot do for this query, said plainly."""

    capability = graphene.Field(SearchCapability, required=True)
    message = graphene.String(required=True)

    @staticmethod
    def resolve_capability(root, info):
        return root.capability.value


def _unsupported(notes):
    return list(notes)


def _cursor(offset):
    return base64.b64encode(f"search:{offset}".encode()).decode()


def _offset(after):
    if not after:
        return 0
    try:
        kind, _, value = base64.b64decode(after.encode(), validate=True).decode().partition(":")
        offset = int(value)
    except Exception:
        offset, kind = -1, None
    if kind != "search" or offset < 0:
        raise ValidationError("Not a cursor of this search.", field="after")
    return offset + 1


def _page(first, after):
    check_page_size({"first": first})
    limit = settings.GRAPHQL_DEFAULT_PAGE_SIZE if first is None else first
    offset = _offset(after)
    if offset + limit > MAX_WINDOW:
        raise MarketplaceError(f"Search pages reach the first {MAX_WINDOW} results only; narrow the search.",
                               code=ErrorCode.LIMIT_EXCEEDED, field="after")
    return offset, limit


def _text(query, synonyms_apply=True):
    text = clean_query(query)
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationError(f"At most {MAX_QUERY_LENGTH} characters.", field="query")
    return parse_query(text, synonyms.synonym_sets() if (text and synonyms_apply) else ())


class PageInfoMixin:
    @staticmethod
    def page_info(offset, count, total):
        return relay.PageInfo(
            has_previous_page=offset > 0, has_next_page=offset + count < total,
            start_cursor=_cursor(offset) if count else None, end_cursor=_cursor(offset + count - 1) if count else None)


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
        filters.category_ids = _ids(data["categories"], CategoryNode, "categories")
    if data.get("brands"):
        filters.brand_ids = _ids(data["brands"], BrandNode, "brands")
    if data.get("vendors"):
        filters.vendor_ids = _ids(data["vendors"], VendorType, "vendors")
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
            category = _category_tree(info).get(int(facet.key))
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


# -- suggestions --------------------------------------------------------------------------
class SearchSuggestion(graphene.ObjectType):
    text = graphene.String(required=True, description="The completed name.")
    id = graphene.ID(required=True, description="The Product, Brand or Vendor ID.")


class SearchSuggestions(graphene.ObjectType):
    products = graphene.List(graphene.NonNull(SearchSuggestion), required=True)
    brands = graphene.List(graphene.NonNull(SearchSuggestion), required=True)
    shops = graphene.List(graphene.NonNull(SearchSuggestion), required=True)
    unsupported = graphene.List(graphene.NonNull(SearchUnsupported), required=True)


TYPE_NAMES = {"product": "Product", "brand": "Brand", "shop": "Vendor"}


def resolve_suggest(info, prefix, limit=5):
    if limit is None or limit < 1 or limit > MAX_SUGGESTIONS:
        raise ValidationError(f"Between 1 and {MAX_SUGGESTIONS}.", field="limit")
    prefix = clean_query(prefix)
    if len(prefix) > MAX_QUERY_LENGTH:
        raise ValidationError(f"At most {MAX_QUERY_LENGTH} characters.", field="prefix")
    backend = get_backend()
    result = backend.suggest(prefix, limit=limit)

    def convert(items):
        return [SearchSuggestion(text=s.text, id=to_global_id(TYPE_NAMES[s.kind], s.id)) for s in items[:limit]]

    return SearchSuggestions(products=convert(result.products), brands=convert(result.brands),
                             shops=convert(result.shops), unsupported=_unsupported(result.unsupported))


# -- shop search ----------------------------------------------------------------------------
class GeoPointInput(graphene.InputObjectType):
    lat = graphene.Float(required=True)
    lon = graphene.Float(required=True)


class ShopSearchEdge(graphene.ObjectType):
    cursor = graphene.String(required=True)
    node = graphene.Field(VendorType, required=True)
    distance_km = graphene.Float(description="From `near` (great-circle), when both are known.")


class ShopSearchResult(graphene.ObjectType):
    backend = graphene.String(required=True)
    total_count = graphene.Int(required=True)
    edges = graphene.List(graphene.NonNull(ShopSearchEdge), required=True)
    shops = graphene.List(graphene.NonNull(VendorType), required=True, description="The edges' nodes.")
    page_info = graphene.Field(relay.PageInfo, required=True)
    unsupported = graphene.List(graphene.NonNull(SearchUnsupported), required=True)


def resolve_search_shops(info, query=None, kind=None, near=None, radius_km=None, open_now=None, services=None,
                         first=None, after=None):
    offset, limit = _page(first, after)
    shop_query = ShopQuery(parsed=_text(query), kind=_value(kind), open_now=open_now, offset=offset, limit=limit,
                           now=clock.now())
    if near is not None:
        lat, lon = float(near["lat"]), float(near["lon"])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValidationError("Latitude -90..90 and longitude -180..180.", field="near")
        shop_query.lat, shop_query.lon = lat, lon
    if radius_km is not None:
        if near is None:
            raise ValidationError("radiusKm needs near.", code=ErrorCode.REQUIRED, field="near")
        if not (0 < radius_km <= 20_000):
            raise ValidationError("Give a radius between 0 and 20000 km.", field="radius_km")
        shop_query.radius_km = float(radius_km)
    services = [s.strip() for s in services or [] if s and s.strip()]
    if len(services) > MAX_SERVICES:
        raise ValidationError(f"At most {MAX_SERVICES} services.", code=ErrorCode.LIMIT_EXCEEDED, field="services")
    shop_query.services = services
    backend = get_backend()
    result = backend.search_shops(shop_query)
    ids = [hit.id for hit in result.hits]
    found = Vendor.objects.in_bulk(ids) if ids else {}
    edges = []
    for position, hit in enumerate(result.hits):
        vendor = found.get(hit.id)
        if vendor is None or vendor.status != VendorStatus.APPROVED:
            continue
        distance = round(hit.distance_km, 3) if hit.distance_km is not None else None
        edges.append(ShopSearchEdge(cursor=_cursor(offset + position), node=vendor, distance_km=distance))
    return ShopSearchResult(backend=backend.name, total_count=result.total, edges=edges,
                            shops=[e.node for e in edges],
                            page_info=PageInfoMixin.page_info(offset, len(result.hits), result.total),
                            unsupported=_unsupported(result.unsupported))


# -- synonyms (platform staff) --------------------------------------------------------------
class SynonymSetNode(DjangoObjectType):
    terms = graphene.List(graphene.NonNull(graphene.String), required=True)

    class Meta:
        model = SynonymSet
        name = "SearchSynonymSet"
        interfaces = (relay.Node,)
        fields = ("created_at", "updated_at")

    @classmethod
    def get_node(cls, info, id):
        if not permissions.is_platform_staff(permissions.current_user(info)):
            return None
        return SynonymSet.objects.filter(pk=id).first()

    @staticmethod
    def resolve_terms(root, info):
        return list(root.terms)


class SearchSynonymSetSave(BaseMutation):
    """Create a set of equivalent search terms (e.g. ["刹车片", "制动片", "brake pad"]), or
    replace the terms of an existing one (`id`). Takes effect on the next search."""

    permission = permissions.platform_staff
    synonym_set = graphene.Field(SynonymSetNode)

    class Arguments:
        terms = graphene.List(graphene.NonNull(graphene.String), required=True)
        id = graphene.ID(description="An existing set to replace.")

    @classmethod
    def perform(cls, info, terms, id=None):
        existing = None
        if id:
            existing = SynonymSet.objects.filter(pk=decode_id(id, SynonymSetNode)).first()
            if existing is None:
                raise NotFound("Synonym set not found.", field="id")
        user = permissions.current_user(info)
        return cls(synonym_set=synonyms.save_synonym_set(terms, existing, user=user))


class SearchSynonymSetDelete(BaseMutation):
    permission = permissions.platform_staff
    ok = graphene.Boolean()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, id):
        existing = SynonymSet.objects.filter(pk=decode_id(id, SynonymSetNode)).first()
        if existing is None:
            raise NotFound("Synonym set not found.", field="id")
        synonyms.delete_synonym_set(existing)
        return cls(ok=True)


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
