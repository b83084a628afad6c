"""Product search of the database backend on PostgreSQL: one statement per search.

The rows that match the text and the filters that are not facets are computed once (a
materialised CTE over the narrow `search_productsearchrow`, joined to the text's GIN
match only when there is text). From them, in the same statement: the top of the
ordered results (the page; collapsed, enough rows to find the page's families), the
number of results (families, or offers with `all_offers`), and the multi-select facets
and price ranges with GROUPING SETS - the dimensions sharing the same filters in one
pass, a dimension with a filter of its own counted without it. A plugin's filter
(`db_filter` over Product) becomes a semi-join on the product ids.

Where a few families fill the top of the order (the cheapest offers of one product),
the page is read again with DISTINCT ON (family): each family's best offer, in order.

The counts and facets of a search (browse or text) are cached - like Elasticsearch's
request cache - until the rows change (a generation number in the cache, bumped by every
write of rows); the page itself is always read afresh.
"""
import hashlib
import json

from django.core.cache import cache
from django.db import connection, transaction

from ..query import FACETS, PRICE_BUCKETS, Sort
from . import dbtext

FACET_COLUMNS = {"category": "category_id", "brand": "brand_id", "vendor_kind": "vendor_kind", "in_stock": "in_stock",
                 "price": "bucket"}
RANK_WEIGHTS = "{" + ",".join(str(w) for w in dbtext.RANK_WEIGHTS) + "}"
# The price range of a row (PRICE_BUCKETS, by index; NULL without a price): a grouping column.
BUCKET = "CASE " + " ".join(
    f"WHEN r.price >= {low}" + (f" AND r.price < {high}" if high is not None else "") + f" THEN {index}"
    for index, (low, high) in enumerate(PRICE_BUCKETS)) + " END AS bucket"


COUNTS_CACHE_SECONDS = 600
GENERATION_KEY = "search:database:generation"


def generation():
    """A number that changes whenever the database backend's rows change."""
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, 1, None)
        value = cache.get(GENERATION_KEY) or 1
    return value


def rows_changed():
    """Called after every write of rows: cached browse counts are forgotten."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.add(GENERATION_KEY, 2, None)


def counts_key(base, parts):
    digest = hashlib.sha1()
    for piece in [base, *parts]:
        digest.update(piece.text.encode())
        digest.update(repr(piece.params).encode())
    return f"search:database:counts:{generation()}:{digest.hexdigest()}"


class Sql:
    """A piece of SQL and its parameters, in order."""

    def __init__(self, text, params=()):
        self.text = text
        self.params = list(params)


def _and(parts):
    parts = [p for p in parts if p is not None]
    if not parts:
        return Sql("TRUE")
    return Sql(" AND ".join(f"({p.text})" for p in parts), [x for p in parts for x in p.params])


def facet_conditions(filters, tree):
    """{dimension: Sql} of the facet filters set (ProductFilters)."""
    out = {}
    if filters.category_ids:
        out["category"] = Sql("category_id = ANY(%s)", [sorted(tree.descendants(filters.category_ids))])
    if filters.brand_ids:
        out["brand"] = Sql("brand_id = ANY(%s)", [[int(i) for i in filters.brand_ids]])
    if filters.vendor_kind:
        out["vendor_kind"] = Sql("vendor_kind = %s", [filters.vendor_kind])
    if filters.in_stock is not None:
        out["in_stock"] = Sql("in_stock = %s", [bool(filters.in_stock)])
    price = []
    if filters.price_min is not None:
        price.append(Sql("price >= %s", [filters.price_min]))
    if filters.price_max is not None:
        price.append(Sql("price <= %s", [filters.price_max]))
    if price:
        out["price"] = _and(price)
    return out


def order_by(sort, has_text):
    if sort == Sort.PRICE_ASC:
        return "price ASC NULLS LAST, product_id ASC"
    if sort == Sort.PRICE_DESC:
        return "price DESC NULLS LAST, product_id ASC"
    if sort == Sort.NEWEST:
        return "created_at DESC, product_id DESC"
    if sort == Sort.RELEVANCE and has_text:
        return "tier DESC, rank DESC, sales_count DESC, product_id ASC"
    return "sales_count DESC, product_id ASC"


class PostgresSearch:
    """One search over the rows. `text` is a database.TextMatch or None;
    `plugin_ids` an (sql, params) selecting the product ids the plugins' filters keep."""

    def __init__(self, query, text, tree, plugin_ids=None):
        self.query = query
        self.text = text is not None
        self.collapse = not query.all_offers
        columns = ["r.product_id", "r.family", "r.category_id", "r.brand_id", "r.vendor_kind", "r.in_stock",
                   "r.price", "r.sales_count", "r.created_at", BUCKET]
        column_params, where = [], [Sql("r.visible")]
        source = "search_productsearchrow r"
        source_params = []
        if text is not None:
            # Every word in the names, brand, category, type and codes (ranked by the rank
            # vector of the same rows, read once) - or every word in the descriptions (rank 0).
            match = dbtext.to_tsquery(text.plan)
            source += (" JOIN (SELECT product_id FROM search_productsearchtext WHERE vector @@ to_tsquery('simple', %s)"
                       " UNION SELECT product_id FROM search_productsearchdescription"
                       " WHERE vector @@ to_tsquery('simple', %s)) m ON m.product_id = r.product_id")
            source_params += [match, match]
            if query.sort == Sort.RELEVANCE:  # ranked only when the order needs it
                ranked = dbtext.rank_terms(text.plan)
                source += " LEFT JOIN search_productsearchrank k ON k.product_id = r.product_id"
                columns.append(f"coalesce(ts_rank('{RANK_WEIGHTS}', k.rank_vector, to_tsquery('simple', %s)), 0) "
                               "AS rank")
                column_params.append(dbtext.to_tsquery(dbtext.Any(ranked) if ranked else text.plan))
            else:
                columns.append("0 AS rank")
            if text.code:
                columns.append("CASE WHEN r.codes LIKE %s THEN 2 ELSE 0 END AS tier")
                column_params.append(f"% {text.code} %")
            else:
                columns.append("0 AS tier")
        filters = query.filters
        if filters.vendor_ids:
            where.append(Sql("r.vendor_id = ANY(%s)", [[int(i) for i in filters.vendor_ids]]))
        if plugin_ids is not None:
            where.append(Sql(f"r.product_id IN ({plugin_ids[0]})", plugin_ids[1]))
        condition = _and(where)
        self.base = Sql(f"SELECT {', '.join(columns)} FROM {source} WHERE {condition.text}",
                        column_params + source_params + condition.params)
        self.conditions = facet_conditions(filters, tree)
        self.order = order_by(query.sort, text is not None)
        # The text match is computed once; without text every part reads the narrow rows
        # itself, planned with their statistics and indexes (the page: an index scan).
        self.materialized = "MATERIALIZED" if text is not None else "NOT MATERIALIZED"

    def _scope(self, skip=None):
        return _and([c for name, c in self.conditions.items() if name != skip])

    def _total(self, scope):
        if self.collapse:
            return Sql(f"(SELECT count(*) FROM (SELECT family FROM base WHERE {scope.text} GROUP BY family) d)",
                       scope.params)
        return Sql(f"(SELECT count(*) FROM base WHERE {scope.text})", scope.params)

    def run(self, window):
        """{"rows": [(id, family)] (the ordered top: `window` rows collapsed, the page's
        rows otherwise), "total", "counts": {dimension: {value: n}}, "prices": [n]}."""
        query = self.query
        everything = self._scope()
        limit = window if self.collapse else query.limit
        offset = 0 if self.collapse else query.offset
        parts = [Sql(f"(SELECT coalesce(json_agg(json_build_array(product_id, family)), '[]') FROM "
                     f"(SELECT product_id, family FROM base WHERE {everything.text} ORDER BY {self.order} "
                     f"LIMIT {int(limit)} OFFSET {int(offset)}) page)", everything.params)]
        passes = []
        if query.facets:
            dimensions = [*FACETS, "price"]
            own = [d for d in dimensions if d in self.conditions]
            shared = [d for d in dimensions if d not in self.conditions]
            passes = [(shared, None)] + [([d], d) for d in own]
        else:
            passes = [([], None)]  # the number of results only
        for names, skip in passes:
            scope = self._scope(skip)
            columns = [FACET_COLUMNS[n] for n in names]
            if skip is None:  # the pass with every filter also counts the results (families or rows)
                columns.append("family" if self.collapse else "product_id")
            sets = ", ".join(f"({c})" for c in columns)
            parts.append(Sql(
                f"(SELECT json_build_array(coalesce(json_agg(json_build_array(keys, grouped, n)) FILTER "
                f"(WHERE grouped <> {(1 << len(columns)) - 2} OR {skip is not None}), '[]'), "
                f"count(*) FILTER (WHERE grouped = {(1 << len(columns)) - 2} AND {skip is None})) FROM "
                f"(SELECT json_build_array({', '.join(columns)}) AS keys, GROUPING({', '.join(columns)}) AS grouped, "
                f"count(*) AS n FROM base WHERE {scope.text} GROUP BY GROUPING SETS ({sets})) g)", scope.params))
        # The counts and facets of a search repeat (category pages, popular words) until the
        # rows change: kept like Elasticsearch's request cache, the page is always read afresh.
        key = counts_key(self.base, parts[1:])
        counts = cache.get(key)
        statement = (f"WITH base AS {self.materialized} ({self.base.text}) "
                     f"SELECT {', '.join(p.text for p in (parts[:1] if counts is not None else parts))}")
        values = self._execute(statement, self.base.params + [
            x for p in (parts[:1] if counts is not None else parts) for x in p.params])
        if counts is not None:
            values += counts
        else:
            cache.set(key, values[1:], COUNTS_CACHE_SECONDS)
        result = {"rows": [tuple(r) for r in values[0]], "total": 0, "counts": {}}
        for (names, skip), (found, counted) in zip(passes, values[1:]):
            if skip is None:
                result["total"] = counted
            for keys, grouping, n in found:
                # GROUPING(a, b, ...) sets the bit of each column left out of the set
                width = len(keys)
                position = next(i for i in range(width) if not grouping & (1 << (width - 1 - i)))
                if position < len(names):
                    result["counts"].setdefault(names[position], {})[keys[position]] = n
        buckets = result["counts"].pop("price", {})
        result["prices"] = [buckets.get(index, 0) for index in range(len(PRICE_BUCKETS))]
        return result

    def _execute(self, statement, params):
        """Run the statement. With text the planner is told to read the matches through the
        GIN indexes: it estimates an OR of many words (synonyms, typo candidates) at a large
        share of the table and would scan every row's vector instead."""
        with transaction.atomic(), connection.cursor() as cursor:
            if self.text:
                cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(statement, params)
            values = cursor.fetchone()
            if self.text:  # SET LOCAL outlives a savepoint: an outer transaction goes on as before
                cursor.execute("SET LOCAL enable_seqscan = on")
        return [json.loads(v) if isinstance(v, str) else v for v in values]

    def best_offers(self):
        """[(id, family)] of the page: each family's best offer (DISTINCT ON), in order."""
        query, everything = self.query, self._scope()
        statement = (f"SELECT product_id, family FROM (SELECT DISTINCT ON (family) * FROM ({self.base.text}) base "
                     f"WHERE {everything.text} ORDER BY family, {self.order}) best ORDER BY {self.order} "
                     f"LIMIT {int(query.limit)} OFFSET {int(query.offset)}")
        with connection.cursor() as cursor:
            cursor.execute(statement, self.base.params + everything.params)
            return [tuple(r) for r in cursor.fetchall()]

    def offers(self, families):
        """{family: offers among the results} for these families."""
        everything = self._scope()
        statement = (f"SELECT family, count(*) FROM ({self.base.text}) base WHERE {everything.text} "
                     f"AND family = ANY(%s) GROUP BY family")
        with connection.cursor() as cursor:
            cursor.execute(statement, self.base.params + everything.params + [list(families)])
            return dict(cursor.fetchall())
