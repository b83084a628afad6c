"""GraphQL for `suggest` (as-you-type completions) and `searchShops` (part of search.schema)."""
import graphene
from graphene import relay
from graphql_relay import to_global_id

from marketplace.catalog.selectors import is_listed
from marketplace.core.errors import ErrorCode, ValidationError
from marketplace.vendors.models import Vendor
from marketplace.vendors.schema import VendorType

from . import clock
from .backends import get_backend
from .query import ShopQuery, ShopSort
from .schema_common import PageInfoMixin, SearchUnsupported, _cursor, _page, _text, _unsupported, _value
from .text import MAX_QUERY_LENGTH, clean_query

MAX_SUGGESTIONS = 20
MAX_SERVICES = 20


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
                         first=None, after=None, sort_by=None):
    offset, limit = _page(first, after)
    shop_query = ShopQuery(parsed=_text(query), kind=_value(kind), open_now=open_now, offset=offset, limit=limit,
                           now=clock.now(), sort=_value(sort_by) or ShopSort.DEFAULT.value)
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
        if vendor is None or not is_listed(vendor):
            continue
        distance = round(hit.distance_km, 3) if hit.distance_km is not None else None
        edges.append(ShopSearchEdge(cursor=_cursor(offset + position), node=vendor, distance_km=distance))
    return ShopSearchResult(backend=backend.name, total_count=result.total, edges=edges,
                            shops=[e.node for e in edges],
                            page_info=PageInfoMixin.page_info(offset, len(result.hits), result.total),
                            unsupported=_unsupported(result.unsupported))
