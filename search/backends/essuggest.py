"""Suggestions and shop search of the Elasticsearch backend (a mixin of ElasticsearchBackend,
through ElasticsearchQueries).

Suggestions are one `_msearch` round trip: the completion suggester on product names,
categories and product types (weight = sales + 1), the brands of visible products, the
shops' completion, and - for Latin prefixes - a later word of an English name; categories
and product types named by the prefix add their best sellers ("刹车" -> brake pads).
"""
import logging
import re

from django.conf import settings
from elasticsearch import ApiError, ConnectionError as ESConnectionError, NotFoundError
from elasticsearch.dsl import Q, Search

from marketplace.core.errors import ErrorCode, MarketplaceError
from marketplace.vendors.models import VendorStatus

from ..documents import taxonomy_matching
from ..mappings import BRAND_KEY_SEPARATOR, PRODUCTS, SHOPS
from ..query import NEXT_FREE_SLOT_FIELD, ShopHit, ShopResult, ShopSort, Suggestion, Suggestions
from ..text import clean_query, week_minute

logger = logging.getLogger("search.elasticsearch")


class SearchUnavailable(MarketplaceError):
    code = ErrorCode.INTERNAL_ERROR

    def __init__(self):
        super().__init__("Search is temporarily unavailable; try again shortly.")


def _full_name(option):
    """A completion matched one input (a name, the category or the product type; for
    shops also the name from a later word on): answer with the whole name in the
    language that matched."""
    source = option.get("_source", {})
    matched = option["text"]
    name_en = source.get("name_en") or ""
    if name_en and (matched.isascii() or matched.casefold() in name_en.casefold()):
        return name_en
    return source.get("name_zh") or option["text"]


def _regex_literal(text):
    """`text` as a literal in Lucene regular-expression syntax."""
    return "".join(c if c.isalnum() else "\\" + c for c in text)


class ElasticsearchSuggestions:
    """Suggestions and shop search over the live aliases."""

    # -- suggestions ----------------------------------------------------------------------
    def suggest(self, prefix, limit=5):
        prefix = clean_query(prefix)
        result = Suggestions()
        if not prefix:
            return result
        folded = prefix.casefold()
        product_body = {
            "size": 0, "track_total_hits": False, "_source": ["name_zh", "name_en"],
            # No skip_duplicates: the same name from many vendors is one input each; duplicates of
            # a whole name are dropped below, after ranking.
            "suggest": {"names": {"prefix": prefix, "completion": {"field": "suggest_name",
                                                                   "size": max(limit * 6, 30)}}},
            # Brands of visible products, most products first (see documents.brand_keys).
            "query": {"prefix": {"brand_keys": folded}},
            "aggs": {"brands": {"terms": {"field": "brand_keys", "include": _regex_literal(folded) + ".*",
                                          "size": limit * 2}}},
        }
        shop_body = {"size": 0, "track_total_hits": False, "_source": ["name_zh", "name_en"], "suggest": {
            "shops": {"prefix": prefix, "completion": {"field": "suggest", "size": limit, "skip_duplicates": True}}}}
        # A later word of an English name ("brake" -> "Bosch front brake pads").
        words_body = {"size": limit * 2, "track_total_hits": False, "_source": ["name_zh", "name_en"],
                      "query": {"match_phrase_prefix": {"name_en": {"query": prefix, "max_expansions": 50}}},
                      "sort": [{"sales_count": "desc"}, {"product_id": "asc"}]}
        searches = [{"index": self.alias(PRODUCTS)}, product_body, {"index": self.alias(SHOPS)}, shop_body]
        extra = []  # (kind, position in `searches`)
        if re.search(r"[a-z0-9]", folded) and folded.isascii():
            extra.append(("words", len(searches) // 2))
            searches += [{"index": self.alias(PRODUCTS)}, words_body]
        # Categories and product types named by the prefix: their best sellers ("刹车" -> brake pads).
        categories, types = taxonomy_matching(prefix)
        if categories or types:
            extra.append(("taxonomy", len(searches) // 2))
            searches += [{"index": self.alias(PRODUCTS)}, {
                "size": limit * 3, "track_total_hits": False, "_source": ["name_zh", "name_en"],
                "query": {"bool": {"should": [{"terms": {"category_ids": [str(i) for i in categories]}},
                                              {"terms": {"product_type_id": [str(i) for i in types]}}],
                                   "minimum_should_match": 1}},
                "sort": [{"sales_count": "desc"}, {"product_id": "asc"}]}]
        try:
            responses = self.client.msearch(searches=searches)["responses"]
        except (ESConnectionError, ApiError) as exc:
            logger.exception("Suggest failed: %s", exc)
            raise SearchUnavailable() from exc
        products, shops = responses[0], responses[1]
        if "error" not in products:
            # Best sellers first over both sources (completion weight = sales + 1), one per name.
            candidates = [(option["_score"] - 1, int(option["_id"]), _full_name(option))
                          for option in (products.get("suggest", {}).get("names") or [{}])[0].get("options", [])]
            english = folded.isascii()
            for kind, position in extra:
                response = responses[position]
                if "error" in response:
                    continue
                for hit in response["hits"]["hits"]:
                    source = hit["_source"]
                    text = (source.get("name_en") if kind == "words" or english else None) or source.get("name_zh")
                    candidates.append((hit["sort"][0], int(hit["_id"]), text or ""))
            names = set()
            for _, pk, text in sorted(candidates, key=lambda c: (-c[0], c[1])):
                if text and text.casefold() not in names and len(result.products) < limit:
                    names.add(text.casefold())
                    result.products.append(Suggestion("product", pk, text))
            seen = set()
            for bucket in products.get("aggregations", {}).get("brands", {}).get("buckets", []):
                _, brand_id, name = bucket["key"].split(BRAND_KEY_SEPARATOR, 2)
                if brand_id not in seen and len(result.brands) < limit:
                    seen.add(brand_id)
                    result.brands.append(Suggestion("brand", int(brand_id), name))
        if "error" not in shops:
            for option in (shops.get("suggest", {}).get("shops") or [{}])[0].get("options", []):
                result.shops.append(Suggestion("shop", int(option["_id"]), _full_name(option)))
        return result

    # -- shop search --------------------------------------------------------------------
    def search_shops(self, query):
        filters = [Q("term", status=VendorStatus.APPROVED.value)]
        if query.kind:
            filters.append(Q("term", kind=query.kind))
        for service in query.services:
            if service.strip():
                filters.append(Q("term", services=service.strip().lower()))
        must_not = []
        if query.open_now is not None:
            open_clause = Q("term", open_minutes=week_minute(query.now, settings.TIME_ZONE))
            (filters if query.open_now else must_not).append(open_clause)
        near = query.lat is not None and query.lon is not None
        if near and query.radius_km is not None:
            filters.append(Q("geo_distance", distance=f"{query.radius_km}km", distance_type="arc",
                             location={"lat": query.lat, "lon": query.lon}))
        parsed = query.parsed
        has_text = parsed is not None and not parsed.empty
        if has_text:
            parts = [self._plain_shop(parsed.rest)] if parsed.rest else []
            for group in parsed.groups:
                parts.append(Q("bool", should=[self._phrase_shop(t) for t in group], minimum_should_match=1))
            text = Q("bool", must=parts, should=[Q("match_phrase", name_zh={"query": parsed.text, "boost": 5}),
                                                 Q("match", name_en={"query": parsed.text, "operator": "and",
                                                                     "boost": 3})])
        else:
            text = Q("match_all")
        search = Search(using=self.client, index=self.alias(SHOPS)).query(
            Q("bool", must=[text], filter=filters, must_not=must_not))
        by_slot = query.sort == ShopSort.NEXT_FREE_SLOT.value
        slot_sort = [{NEXT_FREE_SLOT_FIELD: {"order": "asc", "missing": "_last", "unmapped_type": "date"}}] \
            if by_slot else []
        if near:
            search = search.sort(*slot_sort, {"_geo_distance": {"location": {"lat": query.lat, "lon": query.lon},
                                                                "order": "asc", "unit": "km", "distance_type": "arc",
                                                                "ignore_unmapped": True}},
                                 {"vendor_id": "asc"})
        elif has_text:
            search = search.sort(*slot_sort, "_score", {"vendor_id": "asc"})
        else:
            search = search.sort(*slot_sort, {"vendor_id": "asc"})
        search = search.source(False).extra(from_=query.offset, size=query.limit, track_total_hits=True)
        try:
            response = search.execute()
        except NotFoundError:
            logger.error("Search index %s is missing: run `manage.py search_index rebuild`.", self.alias(SHOPS))
            return ShopResult(hits=[], total=0)
        except (ESConnectionError, ApiError) as exc:
            logger.exception("Shop search failed: %s", exc)
            raise SearchUnavailable() from exc
        hits = []
        for hit in response.hits:
            distance = None
            if near:
                value = hit.meta.sort[len(slot_sort)]
                distance = float(value) if value is not None and value != float("inf") else None
                if distance is not None and distance > 1e9:
                    distance = None
            hits.append(ShopHit(id=int(hit.meta.id), distance_km=distance, score=hit.meta.score))
        return ShopResult(hits=hits, total=response.hits.total.value)

    def _plain_shop(self, text):
        return Q("bool", minimum_should_match=1, should=[
            Q("match", text_all={"query": text, "operator": "or", "minimum_should_match": "3<80%"}),
            Q("match", text_en={"query": text, "operator": "and", "fuzziness": "AUTO", "prefix_length": 1}),
            Q("match_phrase", description_zh={"query": text}),
            Q("match", description_en={"query": text, "operator": "and", "fuzziness": "AUTO", "prefix_length": 1}),
        ])

    def _phrase_shop(self, term):
        return Q("bool", minimum_should_match=1, should=[
            Q("match_phrase", text_all={"query": term}), Q("match_phrase", text_en={"query": term}),
            Q("match_phrase", description_zh={"query": term}), Q("match_phrase", description_en={"query": term}),
        ])
