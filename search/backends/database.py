"""The embedded backend: indexed SQL over the catalog, no search server.

It keeps one row of tokens per product (`ProductSearchRow`, search.backends.dbtext) in
step with the catalog through the same events that feed Elasticsearch - written when
the unit of work commits, not by a task - and matches text with the database's own
full-text index: PostgreSQL tsvector + GIN (ranked by `ts_rank` with field weights),
SQLite FTS5 (bm25). Latin typos are corrected against the indexed vocabulary
(pg_trgm on PostgreSQL); Chinese runs match as two-character windows, or as
characters of the names when the words lie apart ("博世刹车片"). Visibility, filters,
facets and sorting read the live catalog, so a stale row can only affect matching.

What it cannot do is listed in every result's `unsupported` notes, never pretended:
without FTS5 (a SQLite build lacking it) text is matched by scanning the rows; shop
distances and opening hours are computed in Python over the approved shops.
"""
import logging
import time

from django.db import connection
from django.db.models import (
    Case, CharField, Count, Exists, F, FloatField, IntegerField, OuterRef, Q, Value, When, Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Concat, RowNumber

from marketplace.catalog.models import Brand, Category, Product, ProductVariant
from marketplace.catalog.services import visible_products
from marketplace.vendors.models import Vendor, VendorStatus
from marketplace.vendors.opening import is_open

from .. import fields as product_fields
from ..documents import CategoryPaths, shop_extra_fields, shop_offers
from ..query import (
    FACETS, PRICE_BUCKETS, Capability, FacetValue, IndexOutcome, PriceBucket, ProductHit, ProductResult, ShopHit,
    ShopResult, Sort, Suggestion, Suggestions, Unsupported,
)
from ..text import clean_query, fold, haversine_km, highlight, tokens, words
from . import dbtext
from .base import SearchBackend

logger = logging.getLogger("search.database")
CHUNK = 500

SCAN_NOTES = (
    Unsupported(Capability.SCALE,
                "This SQLite build has no FTS5: text is matched by scanning every product's tokens. Fine for "
                "thousands of products; use PostgreSQL or the elasticsearch backend for a large catalog."),
    Unsupported(Capability.RELEVANCE_RANKING,
                "Without a full-text index matches are ranked coarsely: exact codes, then name matches, then the "
                "rest, each by sales."),
)
SHOP_NOTES = (
    Unsupported(Capability.SCALE,
                "Shop distances and opening hours are computed in Python over every approved shop matching the "
                "other conditions."),
)


class CategoryTree:
    def __init__(self):
        self.nodes = {c.pk: c for c in Category.objects.all()}

    def descendants(self, ids):
        wanted = {int(i) for i in ids}
        changed = True
        while changed:
            changed = False
            for node in self.nodes.values():
                if node.parent_id in wanted and node.pk not in wanted:
                    wanted.add(node.pk)
                    changed = True
        return wanted

    def ancestors(self, category_id):
        """The category and its ancestors."""
        out, node, seen = [], self.nodes.get(category_id), set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            out.append(node.pk)
            node = self.nodes.get(node.parent_id)
        return out

    def matching(self, term):
        """Categories whose own or an ancestor's name contains `term` (and their subtrees)."""
        term = term.casefold()
        named = {pk for pk, c in self.nodes.items()
                 if term in (c.name_zh or "").casefold() or term in (c.name_en or "").casefold()}
        return self.descendants(named) if named else set()


def _variants():
    return ProductVariant.objects.filter(product_id=OuterRef("pk"), is_active=True)


class TextMatch:
    """A parsed query applied to a Product queryset on this database: the filter, a rank
    (higher is better; None without a full-text index) and the code condition."""

    def __init__(self, parsed):
        self.parsed = parsed
        self.engine = dbtext.engine()
        typos = dbtext.typo_candidates([w for is_cjk, w in words(parsed.rest) if not is_cjk]) if parsed.rest else {}
        self.typos = typos
        self.plan = dbtext.match_plan(parsed, typos)
        self.code = parsed.code.lower() if parsed.code else ""

    def apply(self, qs):
        if self.plan is None:
            return qs.none()
        if self.engine == "postgresql":
            from django.contrib.postgres.search import SearchQuery, SearchRank

            match = SearchQuery(dbtext.to_tsquery(self.plan), search_type="raw", config="simple")
            ranked = dbtext.rank_terms(self.plan)
            rank_query = dbtext.to_tsquery(dbtext.Any(ranked)) if ranked else dbtext.to_tsquery(self.plan)
            qs = qs.filter(search_row__vector=match).annotate(
                search_rank=SearchRank(F("search_row__vector"),
                                       SearchQuery(rank_query, search_type="raw", config="simple"),
                                       weights=dbtext.RANK_WEIGHTS, normalization=Value(1)))
        elif self.engine == "fts5":
            # bm25() only works in the FTS query itself: the scores of this search go into a
            # temporary table of this connection, which the catalog query joins.
            with connection.cursor() as cursor:
                cursor.execute("CREATE TEMP TABLE IF NOT EXISTS search_scores (id INTEGER PRIMARY KEY, score REAL)")
                cursor.execute("DELETE FROM search_scores")
                cursor.execute("INSERT INTO search_scores (id, score) SELECT rowid, -bm25(search_product_fts, "
                               "%s, %s, %s, %s) FROM search_product_fts WHERE search_product_fts MATCH %s",
                               [*dbtext.BM25_WEIGHTS, dbtext.to_fts5(self.plan)])
            qs = qs.extra(tables=["search_scores"], where=["search_scores.id = catalog_product.id"]).annotate(
                search_rank=RawSQL("search_scores.score", [], output_field=FloatField()))
        else:
            qs = qs.filter(dbtext.to_like(self.plan))
        return qs

    def code_condition(self):
        return Q(search_row__codes__contains=f" {self.code} ") if self.code else None

    def name_condition(self):
        condition = Q()
        for term in self.parsed.alternatives:
            condition |= Q(name_zh__icontains=term) | Q(name_en__icontains=term)
        return condition

    def ordering(self):
        """Relevance: an exact code first, then the rank (or, without an index, a name
        match), then sales."""
        whens = []
        if self.code:
            whens.append(When(self.code_condition(), then=Value(2)))
        if self.engine == "like":
            whens.append(When(self.name_condition(), then=Value(1)))
        tier = Case(*whens, default=Value(0), output_field=IntegerField()) if whens else None
        order = [F("search_tier").desc()] if whens else []
        if self.engine != "like":
            order.append(F("search_rank").desc())
        return tier, order


class DatabaseBackend(SearchBackend):
    name = "database"
    keeps_index = True
    # The indexing pipeline writes this backend's rows when the unit of work commits
    # (search.indexing), not through a Celery task.
    synchronous = True

    # -- indexing -----------------------------------------------------------------------
    def _write(self, ids, paths=None):
        products = list(Product.objects.filter(pk__in=ids).select_related("brand").order_by("pk"))
        paths = paths or CategoryPaths()
        skus = {}
        for product_id, sku in ProductVariant.objects.filter(product_id__in=ids, is_active=True).values_list(
                "product_id", "sku"):
            skus.setdefault(product_id, []).append(sku)
        codes = dbtext.normalised_codes(skus, product_fields.code_values(products))
        rows, vocabulary = dbtext.build_rows(products, paths, codes)
        dbtext.write_rows(rows, vocabulary)
        return len(rows), {p.pk for p in products}

    def index_products(self, ids, refresh=False):
        from ..models import ProductSearchRow

        ids = sorted({int(i) for i in ids})
        outcome = IndexOutcome()
        paths = CategoryPaths() if ids else None
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            written, found = self._write(chunk, paths)
            outcome.indexed += written
            gone = set(chunk) - found
            if gone:
                outcome.deleted += ProductSearchRow.objects.filter(product_id__in=gone).delete()[0]
        return outcome

    def remove_products(self, ids, refresh=False):
        from ..models import ProductSearchRow

        deleted = ProductSearchRow.objects.filter(product_id__in=[int(i) for i in ids]).delete()[0]
        return IndexOutcome(deleted=deleted)

    def index_shops(self, vendor_ids, refresh=False):
        return IndexOutcome()  # shops are read live

    def reindex_vendor(self, vendor_id, refresh=False):
        # Rows hold text only; visibility (the vendor's status) is read live at query time.
        return IndexOutcome()

    def rebuild(self, progress=None, chunk_size=1000, kinds=("products", "shops"), force=False):
        """Rewrite every product's row (upserts: searches keep working meanwhile) and the
        vocabulary. Shops need nothing (read live)."""
        from ..models import ProductSearchRow, SearchTerm

        out = {}
        if "products" in kinds:
            started = time.perf_counter()
            ids = list(Product.objects.order_by("pk").values_list("pk", flat=True))
            SearchTerm.objects.all().delete()
            paths = CategoryPaths()
            done = 0
            if progress:
                progress("products", 0, len(ids), 0.0)
            for start in range(0, len(ids), chunk_size):
                written, _ = self._write(ids[start:start + chunk_size], paths)
                done += written
                if progress:
                    progress("products", done, len(ids), time.perf_counter() - started)
            ProductSearchRow.objects.exclude(product_id__in=Product.objects.values("pk")).delete()
            elapsed = time.perf_counter() - started
            out["products"] = {"index": ProductSearchRow._meta.db_table, "documents": done, "seconds": elapsed,
                               "replaced": [], "per_second": done / elapsed if elapsed else 0.0}
        if "shops" in kinds:
            out["shops"] = {"index": "vendors (read live)", "documents": 0, "seconds": 0.0, "replaced": [],
                            "per_second": 0.0}
        return out

    def status(self):
        from django.db.models import Max

        from ..models import IndexingFailure, ProductSearchRow

        visible = visible_products()
        indexed = visible.filter(search_row__isnull=False)
        newest_db = visible.aggregate(n=Max("updated_at"))["n"]
        newest_row = ProductSearchRow.objects.aggregate(n=Max("updated_at"))["n"]
        lag = max(0.0, (newest_db - newest_row).total_seconds()) if newest_db and newest_row else None
        engine = dbtext.engine()
        shops = Vendor.objects.filter(status=VendorStatus.APPROVED).count()
        return {
            "backend": self.name, "engine": engine,
            "products": {"alias": ProductSearchRow._meta.db_table,
                         "indices": [{"postgresql": "tsvector + GIN", "fts5": "FTS5 search_product_fts",
                                      "like": "no full-text index (scans)"}[engine]],
                         "rebuilding": [], "database": visible.count(), "index": indexed.count(),
                         "lag_seconds": lag, "missing_fields": [],
                         "failures": IndexingFailure.objects.filter(kind="product").count()},
            "shops": {"alias": "vendors_vendor", "indices": ["read live"], "rebuilding": [], "database": shops,
                      "index": shops, "lag_seconds": 0.0, "missing_fields": [], "failures": 0},
        }

    def notes(self):
        return list(SCAN_NOTES) if dbtext.engine() == "like" else []

    # -- products -------------------------------------------------------------------------
    def _facet_conditions(self, filters, tree):
        conditions = {}
        if filters.category_ids:
            conditions["category"] = Q(category_id__in=tree.descendants(filters.category_ids))
        if filters.brand_ids:
            conditions["brand"] = Q(brand_id__in=filters.brand_ids)
        if filters.vendor_kind:
            conditions["vendor_kind"] = Q(vendor__kind=filters.vendor_kind)
        if filters.in_stock is not None:
            conditions["in_stock"] = Q(in_stock=filters.in_stock)
        price = Q()
        if filters.price_min is not None:
            price &= Q(min_price__gte=filters.price_min)
        if filters.price_max is not None:
            price &= Q(min_price__lte=filters.price_max)
        if price:
            conditions["price"] = price
        return conditions

    def _ordering(self, sort, text):
        if sort == Sort.PRICE_ASC:
            return None, [F("min_price").asc(nulls_last=True), F("pk").asc()]
        if sort == Sort.PRICE_DESC:
            return None, [F("min_price").desc(nulls_last=True), F("pk").asc()]
        if sort == Sort.NEWEST:
            return None, [F("created_at").desc(), F("pk").desc()]
        if sort == Sort.RELEVANCE and text is not None:
            tier, order = text.ordering()
            return tier, order + [F("sales_count").desc(), F("pk").asc()]
        return None, [F("sales_count").desc(), F("pk").asc()]

    def search_products(self, query):
        tree = CategoryTree()
        filters = query.filters
        base = visible_products()
        text = None
        if not query.parsed.empty:
            text = TextMatch(query.parsed)
            base = text.apply(base)
        if filters.vendor_ids:
            base = base.filter(vendor_id__in=filters.vendor_ids)
        requests = filters.plugin_requests()
        if requests:
            base = product_fields.apply_db_filters(base, requests)
        conditions = self._facet_conditions(filters, tree)
        results = base.filter(*conditions.values())
        tier, order = self._ordering(query.sort, text)
        if tier is not None:
            results = results.annotate(search_tier=tier)
        collapse = not query.all_offers
        if collapse:
            family = Coalesce(F("search_row__family"), Concat(Value("p"), Cast("pk", CharField())))
            results = results.annotate(search_family=family)
            total = results.aggregate(n=Count("search_family", distinct=True))["n"]
            window = {"partition_by": [F("search_family")], "order_by": order}
            page = results.annotate(family_rank=Window(RowNumber(), **window))
            if query.offer_counts:
                page = page.annotate(family_offers=Window(Count("pk"), partition_by=[F("search_family")]))
            page = page.filter(family_rank=1)
        else:
            total = results.count()
            page = results
        columns = ["pk"] + (["family_offers"] if collapse and query.offer_counts else [])
        rows = list(page.order_by(*order).values_list(*columns)[query.offset:query.offset + query.limit])
        hits = [ProductHit(id=row[0], offers=row[1] if len(row) > 1 else None) for row in rows]
        if query.offer_counts and not collapse:
            for hit in hits:
                hit.offers = 1
        if query.highlight and hits and text is not None:
            self._highlight(hits, query.parsed, text)
        facets, price_ranges = {}, []
        if query.facets:
            facets = self._facets(base, conditions, tree)
            price_ranges = self._price_ranges(base.filter(*[c for k, c in conditions.items() if k != "price"]))
        return ProductResult(hits=hits, total=total, facets=facets, price_ranges=price_ranges,
                             unsupported=self.notes())

    def _highlight(self, hits, parsed, text):
        terms = [parsed.text, *tokens(parsed.rest)] + [t for group in parsed.groups for t in group]
        terms += [t for found in text.typos.values() for t in found]
        rows = {pk: (zh, en) for pk, zh, en in Product.objects.filter(pk__in=[h.id for h in hits]).values_list(
            "pk", "name_zh", "name_en")}
        for hit in hits:
            zh, en = rows.get(hit.id, ("", ""))
            for field, value in (("name_zh", zh), ("name_en", en)):
                marked = highlight(value, terms)
                if marked:
                    hit.highlights[field] = [marked]

    def _facets(self, base, conditions, tree):
        def narrowed(dimension):
            return base.filter(*[c for k, c in conditions.items() if k != dimension]).order_by()

        facets = {}
        per_category = {}
        for row in narrowed("category").values("category_id").annotate(n=Count("pk")):
            for category_id in tree.ancestors(row["category_id"]):
                per_category[category_id] = per_category.get(category_id, 0) + row["n"]
        facets["category"] = [FacetValue(k, n) for k, n in per_category.items()]
        facets["brand"] = [FacetValue(r["brand_id"], r["n"]) for r in
                           narrowed("brand").exclude(brand_id=None).values("brand_id").annotate(n=Count("pk"))]
        facets["vendor_kind"] = [FacetValue(r["vendor__kind"], r["n"]) for r in
                                 narrowed("vendor_kind").values("vendor__kind").annotate(n=Count("pk"))]
        facets["in_stock"] = [FacetValue(bool(r["in_stock"]), r["n"]) for r in
                              narrowed("in_stock").values("in_stock").annotate(n=Count("pk"))]
        for name in FACETS:
            facets[name] = sorted((v for v in facets[name] if v.count), key=lambda v: (-v.count, v.key))
        return facets

    def _price_ranges(self, qs):
        aggregates = {}
        for index, (low, high) in enumerate(PRICE_BUCKETS):
            condition = Q(min_price__gte=low)
            if high is not None:
                condition &= Q(min_price__lt=high)
            aggregates[f"b{index}"] = Count("pk", filter=condition)
        counts = qs.order_by().aggregate(**aggregates)
        return [PriceBucket(low, high, counts[f"b{index}"]) for index, (low, high) in enumerate(PRICE_BUCKETS)]

    # -- suggestions ------------------------------------------------------------------------
    def suggest(self, prefix, limit=5):
        """Products whose names, category or product type start with the prefix (a word
        of it for Latin text; Chinese anywhere in those fields, through the index), best
        sellers first, one per name; brands of visible products; approved shops."""
        prefix = clean_query(prefix)
        result = Suggestions(unsupported=self.notes())  # prefixes on both backends, no typo tolerance
        if not prefix:
            return result
        folded = fold(prefix)
        parts = words(prefix)
        if parts:
            candidates = visible_products()
            last_cjk, last = parts[-1]
            plan_parts = [dbtext.Term(w) if not c else dbtext.All([dbtext.Term(w[i:i + 2]) for i in range(len(w) - 1)])
                          if len(w) > 1 else dbtext.Term(w, strong=True) for c, w in parts[:-1]]
            if last_cjk:
                plan_parts.append(dbtext.All([dbtext.Term(last[i:i + 2], strong=True) for i in range(len(last) - 1)])
                                  if len(last) > 1 else dbtext.Term(last, strong=True))
            else:
                plan_parts.append(dbtext.Term(last, prefix=True, strong=True))
            plan = dbtext.All(plan_parts)
            engine = dbtext.engine()
            if engine == "postgresql":
                from django.contrib.postgres.search import SearchQuery

                candidates = candidates.filter(search_row__vector=SearchQuery(
                    dbtext.to_tsquery(plan), search_type="raw", config="simple"))
            elif engine == "fts5":
                candidates = candidates.extra(
                    tables=["search_product_fts"],
                    where=["search_product_fts.rowid = catalog_product.id", "search_product_fts MATCH %s"],
                    params=[dbtext.to_fts5(plan)])
            else:
                candidates = candidates.filter(dbtext.to_like(plan))
            seen = set()
            for pk, zh, en in candidates.order_by("-sales_count", "pk").values_list(
                    "pk", "name_zh", "name_en")[:limit * 8]:
                text = en if (folded.isascii() and en) else zh
                if text.casefold() not in seen and len(result.products) < limit:
                    seen.add(text.casefold())
                    result.products.append(Suggestion("product", pk, text))
        has_products = Exists(visible_products().filter(brand_id=OuterRef("pk")))
        brands = Brand.objects.filter(Q(name_zh__istartswith=prefix) | Q(name_en__istartswith=prefix)).filter(
            has_products).annotate(n=Count("products")).order_by("-n", "slug")[:limit]
        for brand in brands:
            text = brand.name_zh if brand.name_zh.casefold().startswith(folded) else brand.name_en
            result.brands.append(Suggestion("brand", brand.pk, text))
        starts = Q(name_zh__istartswith=prefix) | Q(name_en__istartswith=prefix) | Q(name_en__icontains=" " + prefix)
        for vendor in Vendor.objects.filter(status=VendorStatus.APPROVED).filter(starts).order_by("pk")[:limit]:
            text = vendor.name_zh if vendor.name_zh.casefold().startswith(folded) else vendor.name_en
            result.shops.append(Suggestion("shop", vendor.pk, text))
        return result

    # -- shops ----------------------------------------------------------------------------------
    @staticmethod
    def _shop_texts(vendors):
        """{vendor_id: folded text}: names, descriptions, address and what the shop does
        (its kind's words, plugin services, the categories it sells in)."""
        offers = shop_offers(vendors)
        out = {}
        for vendor in vendors:
            parts = [vendor.name_zh, vendor.name_en, vendor.description_zh, vendor.description_en, vendor.province,
                     vendor.city, vendor.district, vendor.street, *offers.get(vendor.pk, [])]
            out[vendor.pk] = " ".join(fold(p) for p in parts if p)
        return out

    def search_shops(self, query):
        qs = Vendor.objects.filter(status=VendorStatus.APPROVED)
        if query.kind:
            qs = qs.filter(kind=query.kind)
        vendors = list(qs.order_by("pk"))
        parsed = query.parsed
        names = None
        if parsed is not None and not parsed.empty:
            # Every plain word, and one term of every synonym group, in the shop's text.
            units = [[word] for word in tokens(fold(parsed.rest))] if parsed.rest else []
            units += [[fold(term) for term in group] for group in parsed.groups]
            texts = self._shop_texts(vendors)
            vendors = [v for v in vendors if all(any(term in texts[v.pk] for term in unit) for unit in units)]
            names = {t.casefold() for t in parsed.alternatives}
        if query.services:
            extra = shop_extra_fields(vendors)
            wanted = {s.strip().casefold() for s in query.services if s.strip()}
            vendors = [v for v in vendors
                       if wanted <= {s.strip().casefold() for s in extra.get(v.pk, {}).get("services", [])}]
        if query.open_now is not None:
            vendors = [v for v in vendors if is_open(v.opening_hours, query.now) == query.open_now]
        hits = []
        for vendor in vendors:
            distance = None
            if query.lat is not None and vendor.latitude is not None and vendor.longitude is not None:
                distance = haversine_km(query.lat, query.lon, float(vendor.latitude), float(vendor.longitude))
            if query.radius_km is not None and query.lat is not None and (distance is None
                                                                         or distance > query.radius_km):
                continue
            hit = ShopHit(id=vendor.pk, distance_km=distance)
            if names is not None:
                hit.score = 2.0 if any(n in (vendor.name_zh or "").casefold() or n in (vendor.name_en or "").casefold()
                                       for n in names) else 1.0
            hits.append(hit)
        if query.lat is not None:
            hits.sort(key=lambda h: (h.distance_km is None, h.distance_km or 0.0, h.id))
        elif names is not None:
            hits.sort(key=lambda h: (-h.score, h.id))
        total = len(hits)
        return ShopResult(hits=hits[query.offset:query.offset + query.limit], total=total,
                          unsupported=list(SHOP_NOTES))
