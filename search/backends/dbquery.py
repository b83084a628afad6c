"""Product search of the database backend.

`DatabaseQueries` is the reading half of `search.backends.database.DatabaseBackend`
(a mixin; the writing half keeps the rows; suggestions and shops are in dbsuggest). On
PostgreSQL a product search is one statement (search.backends.pgsearch); on SQLite
(FTS5, or a scan of the tokens without it) it runs through the ORM here: the match, then
the page, the counts and the facets.
"""
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Case, Count, F, FloatField, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL

from marketplace.catalog.models import Category, Product

from .. import fields as product_fields
from ..query import (
    FACETS, PRICE_BUCKETS, Capability, FacetValue, PriceBucket, ProductHit, ProductResult, Sort, Unsupported,
)
from ..text import highlight, tokens, words
from . import dbtext, pgsearch
from .dbsuggest import DatabaseSuggestions

SCAN_NOTES = (
    Unsupported(Capability.SCALE,
                "This SQLite build has no FTS5: text is matched by scanning every product's tokens. Fine for "
                "thousands of products; use PostgreSQL or the elasticsearch backend for a large catalog."),
    Unsupported(Capability.RELEVANCE_RANKING,
                "Without a full-text index matches are ranked coarsely: exact codes, then name matches, then the "
                "rest, each by sales."),
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


class TextMatch:
    """A parsed query applied to a ProductSearchRow queryset on this database: the match,
    a rank (higher is better; none without a full-text index) and the code condition."""

    def __init__(self, parsed):
        self.parsed = parsed
        self.engine = dbtext.engine()
        typos = dbtext.typo_candidates([w for is_cjk, w in words(parsed.rest) if not is_cjk]) if parsed.rest else {}
        self.typos = typos
        self.plan = dbtext.match_plan(parsed, typos)
        self.code = parsed.code.lower() if parsed.code else ""

    def apply(self, rows):
        """The rows that match (SQLite; PostgreSQL searches in one statement: pgsearch)."""
        if self.plan is None:
            return rows.none()
        if self.engine == "fts5":
            # bm25() only works in the FTS query itself: the scores of this search go into a
            # temporary table of this connection, which the rows join.
            with connection.cursor() as cursor:
                cursor.execute("CREATE TEMP TABLE IF NOT EXISTS search_scores (id INTEGER PRIMARY KEY, score REAL)")
                cursor.execute("DELETE FROM search_scores")
                cursor.execute("INSERT INTO search_scores (id, score) SELECT rowid, -bm25(search_product_fts, "
                               "%s, %s, %s, %s) FROM search_product_fts WHERE search_product_fts MATCH %s",
                               [*dbtext.BM25_WEIGHTS, dbtext.fts5_match(self.plan)])
            return rows.extra(tables=["search_scores"],
                              where=["search_scores.id = search_productsearchrow.product_id"]).annotate(
                match_rank=RawSQL("search_scores.score", [], output_field=FloatField()))
        return rows.filter(dbtext.to_like(self.plan, columns=dbtext.NAME_COLUMNS)
                           | dbtext.to_like(self.plan, columns=("body",)))

    def ordering(self):
        """(tier expression or None, order): an exact code first, then the rank (or,
        without an index, a name match), then sales."""
        whens = []
        if self.code:
            whens.append(When(codes__contains=f" {self.code} ", then=Value(2)))
        if self.engine == "like":
            names = Q()
            for is_cjk, word in words(self.parsed.text):
                names &= Q(search_text__names__contains=f" {word} ")
            whens.append(When(names, then=Value(1)))
        tier = Case(*whens, default=Value(0), output_field=IntegerField()) if whens else None
        order = [F("search_tier").desc()] if whens else []
        if self.engine != "like":
            order.append(F("match_rank").desc())
        return tier, order


FACET_COLUMNS = {"category": "category_id", "brand": "brand_id", "vendor_kind": "vendor_kind", "in_stock": "in_stock"}


class DatabaseQueries(DatabaseSuggestions):
    """Product search (and, inherited, suggestions and shop search) over the rows."""

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
            conditions["vendor_kind"] = Q(vendor_kind=filters.vendor_kind)
        if filters.in_stock is not None:
            conditions["in_stock"] = Q(in_stock=filters.in_stock)
        price = Q()
        if filters.price_min is not None:
            price &= Q(price__gte=filters.price_min)
        if filters.price_max is not None:
            price &= Q(price__lte=filters.price_max)
        if price:
            conditions["price"] = price
        return conditions

    def _ordering(self, sort, text):
        if sort == Sort.PRICE_ASC:
            return None, [F("price").asc(nulls_last=True), F("product_id").asc()]
        if sort == Sort.PRICE_DESC:
            return None, [F("price").desc(nulls_last=True), F("product_id").asc()]
        if sort == Sort.NEWEST:
            return None, [F("created_at").desc(), F("product_id").desc()]
        if sort == Sort.RELEVANCE and text is not None:
            tier, order = text.ordering()
            return tier, order + [F("sales_count").desc(), F("product_id").asc()]
        return None, [F("sales_count").desc(), F("product_id").asc()]

    def search_products(self, query):
        from ..models import ProductSearchRow

        tree = CategoryTree()
        filters = query.filters
        text = TextMatch(query.parsed) if not query.parsed.empty else None
        if text is not None and text.plan is None:
            return ProductResult(hits=[], total=0, unsupported=self.notes())
        if connection.vendor == "postgresql":
            return self._search_postgres(query, text, tree)
        base = ProductSearchRow.objects.filter(visible=True)
        if text is not None:
            base = text.apply(base)
        if filters.vendor_ids:
            base = base.filter(vendor_id__in=filters.vendor_ids)
        requests = filters.plugin_requests()
        if requests:  # plugins filter products; their rows follow
            base = base.filter(product_id__in=product_fields.apply_db_filters(Product.objects.all(), requests)
                               .values("pk"))
        conditions = self._facet_conditions(filters, tree)
        results = base.filter(*conditions.values())
        tier, order = self._ordering(query.sort, text)
        if tier is not None:
            results = results.annotate(search_tier=tier)
        collapse = not query.all_offers
        page = self._page(results, order, query.offset, query.limit, collapse)
        hits = [ProductHit(id=pk) for pk, _ in page]
        if query.offer_counts:
            counts = {}
            if collapse and page:
                counts = dict(results.filter(family__in=[family for _, family in page]).order_by()
                              .values("family").annotate(n=Count("product_id")).values_list("family", "n"))
            for hit, (_, family) in zip(hits, page):
                hit.offers = counts.get(family, 1) if collapse else 1
        if query.highlight and hits and text is not None:
            self._highlight(hits, query.parsed, text)
        facets, price_ranges, total = {}, [], None
        if query.facets:
            facets, price_ranges, total = self._facets(base, conditions, tree, collapse)
        if total is None:
            total = (results.order_by().aggregate(n=Count("family", distinct=True))["n"] if collapse
                     else results.count())
        return ProductResult(hits=hits, total=total, facets=facets, price_ranges=price_ranges,
                             unsupported=self.notes())

    def _search_postgres(self, query, text, tree):
        """One statement (search.backends.pgsearch)."""
        requests = query.filters.plugin_requests()
        plugin_ids = None
        if requests:
            try:
                plugin_ids = product_fields.apply_db_filters(Product.objects.all(), requests).values(
                    "pk").query.sql_with_params()
            except EmptyResultSet:  # a plugin filter that can match nothing
                return ProductResult(hits=[], total=0, facets={name: [] for name in FACETS} if query.facets else {},
                                     price_ranges=[PriceBucket(low, high, 0) for low, high in PRICE_BUCKETS]
                                     if query.facets else [], unsupported=self.notes())
        search = pgsearch.PostgresSearch(query, text, tree, plugin_ids)
        found = search.run()
        rows, offers = found["page"], found["offers"]
        hits = [ProductHit(id=pk) for pk, _ in rows]
        if query.offer_counts:
            if offers is None:
                offers = search.offers([family for _, family in rows]) if rows else {}
            for hit, (_, family) in zip(hits, rows):
                hit.offers = offers.get(family, 1)
        if query.highlight and hits and text is not None:
            self._highlight(hits, query.parsed, text)
        facets, price_ranges = {}, []
        if query.facets:
            counts = found["counts"]
            per_category = {}
            for key, n in counts.get("category", {}).items():
                for category_id in tree.ancestors(key):
                    per_category[category_id] = per_category.get(category_id, 0) + n
            facets = {"category": [FacetValue(k, n) for k, n in per_category.items()],
                      "brand": [FacetValue(k, n) for k, n in counts.get("brand", {}).items() if k is not None],
                      "vendor_kind": [FacetValue(k, n) for k, n in counts.get("vendor_kind", {}).items()],
                      "in_stock": [FacetValue(bool(k), n) for k, n in counts.get("in_stock", {}).items()]}
            for name in FACETS:
                facets[name] = sorted((v for v in facets[name] if v.count), key=lambda v: (-v.count, v.key))
            buckets = found["prices"] or [0] * len(PRICE_BUCKETS)
            price_ranges = [PriceBucket(low, high, n) for (low, high), n in zip(PRICE_BUCKETS, buckets)]
        return ProductResult(hits=hits, total=found["total"], facets=facets, price_ranges=price_ranges,
                             unsupported=self.notes())

    @staticmethod
    def _page(results, order, offset, limit, collapse):
        """[(product id, family)] of one page. Collapsed: the first row of each family in
        the sort order (its best offer). Read from the top of the ordered rows - enough
        when families are mixed, as by relevance or sales; where one family fills the top
        (cheapest offers of one product), it reads on. (PostgreSQL: pgsearch.)"""
        ordered = results.order_by(*order).values_list("product_id", "family")
        if not collapse:
            return list(ordered[offset:offset + limit])
        wanted = offset + limit
        window = max(wanted * 5, 200)
        while True:
            rows = list(ordered[:window])
            seen, page = set(), []
            for pk, family in rows:
                if family not in seen:
                    seen.add(family)
                    page.append((pk, family))
            if len(page) >= wanted or len(rows) < window:
                return page[offset:wanted]
            window *= 4

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

    def _facets(self, base, conditions, tree, collapse):
        """(facets, price ranges, total): multi-select facets (a dimension's counts
        ignore its own filter), one query per dimension and one for the prices and the
        total (SQLite; PostgreSQL counts in the search's statement: pgsearch)."""
        dimensions = [*FACETS, "price"]
        own = [d for d in dimensions if d in conditions]
        groups = [([d for d in dimensions if d not in conditions], None)] + [([d], d) for d in own]
        counts = {}
        total = None
        for names, skip in groups:
            if not names and skip is not None:
                continue
            rows = base.filter(*[c for k, c in conditions.items() if k != skip]).order_by()
            counted = self._count(rows, [n for n in names if n != "price"], "price" in names,
                                  with_total=skip is None, collapse=collapse)
            if skip is None:
                total = counted.pop("__total__", None)
            counts.update(counted)
        facets = {}
        per_category = {}
        for key, n in counts.get("category", {}).items():
            for category_id in tree.ancestors(key):
                per_category[category_id] = per_category.get(category_id, 0) + n
        facets["category"] = [FacetValue(k, n) for k, n in per_category.items()]
        facets["brand"] = [FacetValue(k, n) for k, n in counts.get("brand", {}).items() if k is not None]
        facets["vendor_kind"] = [FacetValue(k, n) for k, n in counts.get("vendor_kind", {}).items()]
        facets["in_stock"] = [FacetValue(bool(k), n) for k, n in counts.get("in_stock", {}).items()]
        for name in FACETS:
            facets[name] = sorted((v for v in facets[name] if v.count), key=lambda v: (-v.count, v.key))
        buckets = counts.get("price", [0] * len(PRICE_BUCKETS))
        price_ranges = [PriceBucket(low, high, n) for (low, high), n in zip(PRICE_BUCKETS, buckets)]
        return facets, price_ranges, total

    @staticmethod
    def _price_filters():
        out = []
        for low, high in PRICE_BUCKETS:
            condition = Q(price__gte=low)
            if high is not None:
                condition &= Q(price__lt=high)
            out.append(condition)
        return out

    def _count(self, rows, dimensions, prices, with_total, collapse):
        """{dimension: {value: count}}, "price": [bucket counts], "__total__": results."""
        out = {}
        for dimension in dimensions:
            column = FACET_COLUMNS[dimension]
            out[dimension] = dict(rows.values(column).annotate(n=Count("product_id")).values_list(column, "n"))
        if prices or with_total:
            aggregates = {f"b{i}": Count("product_id", filter=c) for i, c in enumerate(self._price_filters())}
            aggregates["n"] = Count("family", distinct=True) if collapse else Count("product_id")
            found = rows.aggregate(**aggregates)
            if prices:
                out["price"] = [found[f"b{i}"] for i in range(len(PRICE_BUCKETS))]
            if with_total:
                out["__total__"] = found["n"]
        return out
