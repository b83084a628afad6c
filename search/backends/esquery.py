"""Reading for the Elasticsearch backend: product search (suggestions and shop search are
in essuggest).

`ElasticsearchQueries` is the reading half of
`search.backends.elasticsearch.ElasticsearchBackend` (a mixin; the writing half keeps
the indices). Product search is one `_msearch` round trip: the page (scored, sorted,
collapsed on the product family, highlighted), then - when selected - the facets as
size-0 requests that Elasticsearch counts filter by filter and keeps in its request cache.
"""
import logging
import re

from elasticsearch import ApiError, ConnectionError as ESConnectionError, NotFoundError
from elasticsearch.dsl import Q

from .. import fields as product_fields
from ..mappings import PRODUCTS
from ..query import FACETS, PRICE_BUCKETS, FacetValue, PriceBucket, ProductHit, ProductResult, Sort
from ..text import merge_adjacent_tags
from .essuggest import ElasticsearchSuggestions, SearchUnavailable

logger = logging.getLogger("search.elasticsearch")

CODE_BOOST = 10_000  # an exact part number / SKU match outranks any text match
CODE_PREFIX_BOOST = 20
RECALL_FIELDS = ["name_zh", "name_en", "brand_name_zh", "brand_name_en", "category_names_zh", "category_names_en",
                 "product_type_zh", "product_type_en"]
LATIN_FIELDS = ["name_en", "brand_name_en", "category_names_en", "product_type_en"]
# Whole-word matches (smartcn words, stemmed English words) rank first.
WORD_FIELDS = ["name_zh.smart^4", "name_en.en^3"]
FAMILY_COUNT_PRECISION = 40_000  # cardinality is exact below this many families
FACET_SIZES = {"category": 500, "brand": 100, "vendor_kind": 10, "in_stock": 2}
FACET_FIELDS = {"category": "category_ids", "brand": "brand_id", "vendor_kind": "vendor_kind", "in_stock": "in_stock"}


class ElasticsearchQueries(ElasticsearchSuggestions):
    """Product search, suggestions and shop search over the live aliases."""

    # -- product search -----------------------------------------------------------------
    def _plain(self, text):
        """Recall for plain text: the characters (Chinese) and words of the query present
        in the names, brand, category path and product type taken together; Latin words
        with typo tolerance; or the text in a description."""
        should = [
            Q("combined_fields", query=text, fields=RECALL_FIELDS, operator="or", minimum_should_match="3<80%"),
            Q("match_phrase", description_zh={"query": text}),
            Q("match", description_en={"query": text, "operator": "and"}),
        ]
        words = re.findall(r"\w+", text.casefold())
        if words and len(words) <= 10 and all(word.isascii() for word in words):
            # Typo tolerance, Latin text only: each word, fuzzily, in one of the fields.
            should.append(Q("bool", must=[
                Q("multi_match", query=word, fields=LATIN_FIELDS, fuzziness="AUTO", prefix_length=1,
                  max_expansions=20) for word in words]))
        return Q("bool", should=should, minimum_should_match=1)

    def _phrase(self, term):
        return Q("multi_match", query=term, type="phrase",
                 fields=[*RECALL_FIELDS, "description_zh", "description_en"])

    def _text_query(self, parsed):
        parts = []
        if parsed.rest:
            parts.append(self._plain(parsed.rest))
        for group in parsed.groups:  # query-time synonyms: any equivalent term matches
            parts.append(Q("bool", should=[self._phrase(term) for term in group], minimum_should_match=1))
        recall = [Q("bool", must=parts)]
        if parsed.code:
            code = parsed.code.lower()
            recall.append(Q("constant_score", filter=Q("term", codes=code), boost=CODE_BOOST))
            recall.append(Q("constant_score", filter=Q("prefix", codes=code), boost=CODE_PREFIX_BOOST))
            for name in product_fields.code_fields():  # plugin fields holding codes
                recall.append(Q("constant_score", filter=Q("term", **{name: parsed.code}), boost=CODE_BOOST))
        text = parsed.text
        boosts = []
        if parsed.rest or len(parsed.groups) != 1:  # (one synonym term alone: its group's boosts say it all)
            latin = any(c.isascii() and c.isalnum() for c in text)
            boosts += [
                Q("match_phrase", name_zh={"query": text, "boost": 10}),
                Q("match_phrase", brand_name_zh={"query": text, "boost": 3}),
                # A product *of* the named type ranks above one that only mentions it (a fitting
                # service named after the part).
                Q("match_phrase", category_names_zh={"query": text, "boost": 3}),
                Q("match_phrase", product_type_zh={"query": text, "boost": 10}),
                # Whole words (smartcn / stemmed): 前轮刹车片 ranks front brake pads above discs.
                Q("multi_match", query=text, fields=WORD_FIELDS, type="most_fields", boost=2),
            ]
            if latin:  # the English fields hold Latin words (Chinese-only text finds nothing there)
                boosts += [
                    Q("match_phrase", name_en={"query": text, "boost": 6}),
                    Q("match", name_en={"query": text, "operator": "and", "boost": 3}),
                    Q("match", brand_name_en={"query": text, "boost": 3}),
                    Q("match", category_names_en={"query": text, "operator": "and", "boost": 3}),
                    Q("match", product_type_en={"query": text, "operator": "and", "boost": 6}),
                ]
        for group in parsed.groups:  # a name or a product type saying an equivalent term
            for term in group:
                boosts.append(Q("multi_match", query=term, type="phrase", boost=8, tie_breaker=1.0,
                                fields=["name_zh", "name_en^0.6", "product_type_zh^1.25", "product_type_en^0.75",
                                        "category_names_zh^0.4", "category_names_en^0.4"]))
        return Q("bool", must=[Q("bool", should=recall, minimum_should_match=1)], should=boosts)

    def _facet_clauses(self, filters):
        clauses = {}
        if filters.category_ids:
            clauses["category"] = Q("terms", category_ids=[str(i) for i in filters.category_ids])
        if filters.brand_ids:
            clauses["brand"] = Q("terms", brand_id=[str(i) for i in filters.brand_ids])
        if filters.vendor_kind:
            clauses["vendor_kind"] = Q("term", vendor_kind=filters.vendor_kind)
        if filters.in_stock is not None:
            clauses["in_stock"] = Q("term", in_stock=filters.in_stock)
        price = {}
        if filters.price_min is not None:
            price["gte"] = float(filters.price_min)
        if filters.price_max is not None:
            price["lte"] = float(filters.price_max)
        if price:
            clauses["price"] = Q("range", price=price)
        return clauses

    def _sort(self, sort, has_text):
        if sort == Sort.PRICE_ASC:
            return [{"price": {"order": "asc", "missing": "_last"}}, {"product_id": "asc"}]
        if sort == Sort.PRICE_DESC:
            return [{"price": {"order": "desc", "missing": "_last"}}, {"product_id": "asc"}]
        if sort == Sort.NEWEST:
            return [{"created_at": "desc"}, {"product_id": "desc"}]
        if sort == Sort.RELEVANCE and has_text:
            return ["_score", {"sales_count": "desc"}, {"product_id": "asc"}]
        return [{"sales_count": "desc"}, {"product_id": "asc"}]

    def _facet_aggregation(self, name):
        if name == "price":
            ranges = [{"from": float(low), **({"to": float(high)} if high is not None else {})}
                      for low, high in PRICE_BUCKETS]
            return {"range": {"field": "price", "ranges": ranges}}
        if name == "in_stock":
            return {"filters": {"filters": {"true": {"term": {"in_stock": True}},
                                            "false": {"term": {"in_stock": False}}}}}
        return {"terms": {"field": FACET_FIELDS[name], "size": FACET_SIZES[name]}}

    def search_products(self, query):
        """One `_msearch` round trip: the page of hits (scored, sorted, highlighted), then
        the facets as separate size-0 requests. Facets are top-level aggregations (which
        Elasticsearch counts filter by filter, and keeps in its request cache until the
        index changes). A dimension with a filter of its own is counted without that
        filter (multi-select), in a request of its own."""
        parsed = query.parsed
        filters = query.filters
        # The index holds visible products only (others are deleted, never flagged), so no
        # visibility clause here; the GraphQL layer loads visible products only, too.
        base = []
        if filters.vendor_ids:
            base.append(Q("terms", vendor_id=[str(i) for i in filters.vendor_ids]))
        for clause in product_fields.es_clauses(filters.plugin_requests()):
            base.append(Q(clause) if isinstance(clause, dict) else clause)
        text = None if parsed.empty else self._text_query(parsed)
        facet_clauses = self._facet_clauses(filters)

        def query_body(skip=None, scored=True):
            clauses = base + [c for name, c in facet_clauses.items() if name != skip]
            if text is None:
                return (Q("bool", filter=clauses) if clauses else Q("match_all")).to_dict()
            if scored:
                return Q("bool", must=[text], filter=clauses).to_dict()
            return Q("bool", filter=[text, *clauses]).to_dict()  # counting only: no scores

        hits_body = {"query": query_body(), "sort": self._sort(query.sort, text is not None), "_source": False,
                     "from": query.offset, "size": query.limit, "track_total_hits": True}
        collapse = not query.all_offers
        if collapse:
            # One hit per product family (its best offer by this sort); the total counts families.
            hits_body["collapse"] = {"field": "family"}
            if query.offer_counts:
                hits_body["collapse"]["inner_hits"] = {"name": "offers", "size": 0}
            hits_body["aggs"] = {"families": {"cardinality": {"field": "family",
                                                              "precision_threshold": FAMILY_COUNT_PRECISION}}}
        if query.highlight and text is not None:
            # A query of its own for highlighting: the highlighter re-runs multi-term queries on
            # every hit, and two-edit fuzzy automata cost ~4 ms per hit for a long word - so one
            # edit at most here (a two-edit typo still finds, it is just not highlighted).
            # Typos only in the plain words; synonym terms are known words (no fuzzy automata,
            # which the highlighter re-runs on every hit).
            marks = [Q("match", name_zh={"query": parsed.text})]
            if parsed.rest:
                marks.append(Q("match", name_en={"query": parsed.rest, "fuzziness": "AUTO:4,100", "prefix_length": 1,
                                                 "max_expansions": 10}))
            terms = [term for group in parsed.groups for term in group]
            if terms:
                marks.append(Q("multi_match", query=" ".join(terms), fields=["name_zh", "name_en"]))
            hits_body["highlight"] = {"pre_tags": ["<em>"], "post_tags": ["</em>"], "number_of_fragments": 0,
                                      "fields": {"name_zh": {}, "name_en": {}},
                                      "highlight_query": Q("bool", should=marks).to_dict()}
        index = {"index": self.alias(PRODUCTS)}
        searches = [index, hits_body]
        groups = []  # (facet names, request position)
        if query.facets:
            shared = [name for name in (*FACETS, "price") if name not in facet_clauses]
            own = [name for name in (*FACETS, "price") if name in facet_clauses]
            for names, skip in ([(shared, None)] if shared else []) + [([name], name) for name in own]:
                groups.append(names)
                searches += [{**index, "request_cache": True}, {
                    "query": query_body(skip, scored=False), "size": 0, "track_total_hits": False,
                    "aggs": {name: self._facet_aggregation(name) for name in names}}]
        try:
            responses = self.client.msearch(searches=searches)["responses"]
        except NotFoundError:
            logger.error("Search index %s is missing: run `manage.py search_index rebuild`.", self.alias(PRODUCTS))
            return ProductResult(hits=[], total=0)
        except (ESConnectionError, ApiError) as exc:
            logger.exception("Product search failed: %s", exc)
            raise SearchUnavailable() from exc
        for response in responses:
            if "error" in response:
                error = response["error"]
                if isinstance(error, dict) and error.get("type") == "index_not_found_exception":
                    logger.error("Search index %s is missing: run `manage.py search_index rebuild`.",
                                 self.alias(PRODUCTS))
                    return ProductResult(hits=[], total=0)
                logger.error("Product search failed: %s", error)
                raise SearchUnavailable()
        found = responses[0]["hits"]
        hits = []
        for hit in found["hits"]:
            highlights = {field: [merge_adjacent_tags(s) for s in snippets]
                          for field, snippets in (hit.get("highlight") or {}).items()}
            offers = None
            if query.offer_counts:
                inner = (hit.get("inner_hits") or {}).get("offers")
                offers = inner["hits"]["total"]["value"] if inner else 1
            hits.append(ProductHit(id=int(hit["_id"]), score=hit.get("_score"), highlights=highlights, offers=offers))
        total = found["total"]["value"]
        if collapse:
            total = responses[0]["aggregations"]["families"]["value"]
        facets, price_ranges = {}, []
        aggregations = {}
        for names, response in zip(groups, responses[1:]):
            aggregations.update(response["aggregations"])
        for name in FACETS if query.facets else ():
            if name == "in_stock":
                buckets = aggregations[name]["buckets"]
                values = [FacetValue(True, buckets["true"]["doc_count"]),
                          FacetValue(False, buckets["false"]["doc_count"])]
            else:
                values = [FacetValue(int(b["key"]) if name in ("category", "brand") else b["key"], b["doc_count"])
                          for b in aggregations[name]["buckets"]]
            facets[name] = sorted((v for v in values if v.count), key=lambda v: (-v.count, v.key))
        if query.facets:
            for (low, high), bucket in zip(PRICE_BUCKETS, aggregations["price"]["buckets"]):
                price_ranges.append(PriceBucket(low, high, bucket["doc_count"]))
        return ProductResult(hits=hits, total=total, facets=facets, price_ranges=price_ranges)
