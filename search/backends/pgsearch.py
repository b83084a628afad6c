"""Product search of the database backend on PostgreSQL: one statement per search.

The rows that match the text and the filters that are not facets are computed once (a
materialised CTE). Without text they are the narrow `search_productsearchrow`; with text
they come from `search_productsearchmatch` - the same facts and the vector that matches
(GIN) and ranks (`ts_rank`) - plus, apart, the products whose descriptions alone match
(the descriptions' GIN index, then each product's match row by its key). From them, in
the same statement: the page (collapsed: each family's best offer, with the number of
offers of the family among the results), the number of results (families, or offers
with `all_offers`), and the multi-select facets and price ranges with GROUPING SETS -
the dimensions sharing the same filters in one pass, a dimension with a filter of its
own counted without it. A plugin's filter (`db_filter` over Product) becomes a
semi-join on the product ids.

A browse reads its page from the sort-order indexes of the rows (the top `window` rows);
where a few families fill that top (the cheapest offers of one product), the page is
read again with DISTINCT ON (family): each family's best offer, in order.

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


# A collapsed page is read from the ordered top of the results: WINDOW_FACTOR x the rows
# wanted, at least WINDOW_MIN (run()) - enough rows that the cheapest offers of a few
# products rarely fill it (a browse reads them in index order, a text search keeps them
# in a top-N sort).
WINDOW_FACTOR = 5
WINDOW_MIN = 1000
COUNTS_CACHE_SECONDS = 600
# Planner settings of every search statement: never JIT-compiled (an OR of many words is
# estimated expensive enough to be, and compiling takes 30-40 ms, more than the search);
# the matches of a broad word (30,000 rows of facts) sorted and hashed in memory.
SETTINGS = {"jit": "off", "work_mem": "16MB"}
# With text: the matches read through the GIN indexes (the planner estimates an OR of many
# words - synonyms, typo candidates - at a large share of the table and would scan every
# vector), the descriptions' matches anti-joined by hash (not merged in key order), and a
# broad word's matches read by parallel workers where the server has the cores
# (PostgreSQL's default costs keep parallel plans for far larger scans).
TEXT_SETTINGS = {"enable_seqscan": "off", "enable_mergejoin": "off", "parallel_setup_cost": "100",
                 "parallel_tuple_cost": "0.01"}
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


def counts_keys(matches, passes):
    """The cache key of each counting pass: a digest of the SQL it depends on (the
    matches' statements and the pass itself) with their parameters, under the rows'
    current generation (read once)."""
    def update(digest, piece):
        digest.update(piece.text.encode())
        digest.update(repr(piece.params).encode())

    common = hashlib.sha1()
    for piece in matches:
        update(common, piece)
    prefix = f"search:database:counts:{generation()}:"
    keys = []
    for piece in passes:
        digest = common.copy()
        update(digest, piece)
        keys.append(prefix + digest.hexdigest())
    return keys


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


def _select(columns, source, where):
    condition = _and(where)
    return Sql(f"SELECT {', '.join(c.text for c in columns)} FROM {source} WHERE {condition.text}",
               [x for c in columns for x in c.params] + condition.params)


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

    COLUMNS = ["product_id", "family", "category_id", "brand_id", "vendor_kind", "in_stock", "price", "sales_count",
               "created_at"]

    def __init__(self, query, text, tree, plugin_ids=None):
        self.query = query
        self.text = text is not None
        self.collapse = not query.all_offers
        columns = [Sql(", ".join(f"r.{c}" for c in self.COLUMNS) + ", " + BUCKET)]
        where = [Sql("r.visible")]
        filters = query.filters
        if filters.vendor_ids:
            where.append(Sql("r.vendor_id = ANY(%s)", [[int(i) for i in filters.vendor_ids]]))
        if plugin_ids is not None:
            where.append(Sql(f"r.product_id IN ({plugin_ids[0]})", plugin_ids[1]))
        if text is None:
            self.base = _select(columns, "search_productsearchrow r", where)
        else:
            # Every word in the names, brand, category, type and codes - the match rows,
            # ranked by the same vector - or every word in the descriptions: the description
            # rows of the products not matched already, facts read where found.
            match = Sql("r.vector @@ to_tsquery('simple', %s)", [dbtext.to_tsquery(text.plan)])
            rank = described = Sql("0::real AS rank")
            if query.sort == Sort.RELEVANCE:  # ranked only when the order needs it
                ranked = dbtext.rank_terms(text.plan)
                terms = dbtext.to_tsquery(dbtext.Any(ranked) if ranked else text.plan)
                rank = Sql(f"ts_rank('{RANK_WEIGHTS}', r.vector, to_tsquery('simple', %s)) AS rank", [terms])
                if dbtext.partial_matches(text.plan):
                    # A product found by its descriptions may hold some of the words in its
                    # names: ranked by its match vector like the others (read by its key).
                    described = Sql(f"coalesce((SELECT ts_rank('{RANK_WEIGHTS}', m.vector, to_tsquery('simple', %s)) "
                                    "FROM search_productsearchmatch m WHERE m.product_id = r.product_id), 0) AS rank",
                                    [terms])
            tier = Sql("0 AS tier")
            if text.code:
                tier = Sql("CASE WHEN r.codes LIKE %s THEN 2 ELSE 0 END AS tier", [f"% {text.code} %"])
            self.names = _select([*columns, rank, tier], "search_productsearchmatch r", [match, *where])
            self.descriptions = _select(
                [*columns, described, tier], "search_productsearchdescription r",
                [match, *where, Sql("NOT EXISTS (SELECT 1 FROM names n WHERE n.product_id = r.product_id)")])
            self.base = Sql("SELECT * FROM names UNION ALL SELECT * FROM descriptions")
        self.conditions = facet_conditions(filters, tree)
        self.order = order_by(query.sort, text is not None)
        # Every part reads `base`: with text, the two tables' matches materialised once each
        # (names, then the descriptions of products not among them); without text the narrow
        # rows, planned with their statistics and indexes (the page: an index scan).

    def _scope(self, skip=None):
        return _and([c for name, c in self.conditions.items() if name != skip])

    def run(self):
        """{"page": [(id, family)], "offers": {family: offers among the results} or None,
        "total", "counts": {dimension: {value: n}}, "prices": [n]}.

        The page is read from the ordered top of the results (a window of rows when collapsed,
        whose first row of each family is its best offer) - enough when families are mixed,
        as by relevance or sales. Where a few families fill that top (the cheapest offers of
        one product), the same statement reads each family's best offer with DISTINCT ON;
        PostgreSQL computes that part only then. `offers` is counted for the top's
        families when the query asks for offer counts (None when the page came from the
        DISTINCT ON part: see `offers`)."""
        query = self.query
        everything = self._scope()
        wanted = query.offset + query.limit
        window = max(wanted * WINDOW_FACTOR, WINDOW_MIN)
        limit, offset = (window, 0) if self.collapse else (query.limit, query.offset)
        top = Sql(f"SELECT * FROM base WHERE {everything.text} ORDER BY {self.order} LIMIT {int(limit)} "
                  f"OFFSET {int(offset)}", everything.params)
        page = [Sql(f"(SELECT coalesce(json_agg(json_build_array(product_id, family) ORDER BY {self.order}), '[]') "
                    f"FROM top)")]
        if self.collapse:
            page.append(Sql(
                f"CASE WHEN (SELECT count(*) FROM top) = {int(window)} AND (SELECT count(DISTINCT family) FROM top) "
                f"< {int(wanted)} THEN (SELECT coalesce(json_agg(json_build_array(product_id, family)), '[]') FROM "
                f"(SELECT product_id, family FROM (SELECT DISTINCT ON (family COLLATE \"C\") * FROM base WHERE "
                f"{everything.text} ORDER BY family COLLATE \"C\", {self.order}) best ORDER BY {self.order} "
                f"LIMIT {int(query.limit)} OFFSET {int(query.offset)}) p) END", everything.params))
            if query.offer_counts:
                page.append(Sql(
                    f"(SELECT coalesce(json_agg(json_build_array(family, n)), '[]') FROM (SELECT family, count(*) AS n "
                    f"FROM base WHERE {everything.text} AND family IN (SELECT family FROM top) GROUP BY family) f)",
                    everything.params))
        parts = [Sql(f"json_build_array({', '.join(p.text for p in page)})", [x for p in page for x in p.params])]
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
        # rows change: kept like Elasticsearch's request cache, each pass apart (a dimension
        # counted without its own filter is the same on every page that filters only it);
        # the page is always read afresh.
        matches = self._matches()
        keys = counts_keys(matches, parts[1:])
        cached = cache.get_many(keys)
        missing = [i for i, key in enumerate(keys) if key not in cached]
        ctes = [*matches, Sql(f"top AS MATERIALIZED ({top.text})", top.params)]
        selected = [parts[0], *(parts[1 + i] for i in missing)]
        statement = (f"WITH {', '.join(c.text for c in ctes)} SELECT {', '.join(p.text for p in selected)}")
        values = self._execute(statement, [x for c in ctes for x in c.params] + [
            x for p in selected for x in p.params])[0]
        values = [json.loads(v) if isinstance(v, str) else v for v in values]
        fresh = dict(zip(missing, values[1:]))
        if fresh:
            cache.set_many({keys[i]: found for i, found in fresh.items()}, COUNTS_CACHE_SECONDS)
        values = [values[0], *(fresh[i] if i in fresh else cached[keys[i]] for i in range(len(keys)))]
        ordered, best, counted = (values[0] + [None, None])[:3]
        offers = None
        if not self.collapse:
            rows = [tuple(r) for r in ordered]
            offers = {family: 1 for _, family in rows}
        elif best is not None:  # a few families filled the top: their best offers
            rows = [tuple(r) for r in best]
        else:  # the first row of each family in the top rows
            seen, rows = set(), []
            for pk, family in ordered:
                if family not in seen:
                    seen.add(family)
                    rows.append((pk, family))
            rows = rows[query.offset:wanted]
            if counted is not None:
                offers = {family: n for family, n in counted}
        result = {"page": rows, "offers": offers, "total": 0, "counts": {}}
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

    def _matches(self):
        """The common table expressions of the results: `base` (and, with text, the
        matches of each text table, read once through its GIN index)."""
        matches = []
        if self.text:
            matches = [Sql(f"names AS MATERIALIZED ({self.names.text})", self.names.params),
                       Sql(f"descriptions AS MATERIALIZED ({self.descriptions.text})", self.descriptions.params)]
        matches.append(Sql(f"base AS NOT MATERIALIZED ({self.base.text})", self.base.params))
        return matches

    def _execute(self, statement, params):
        """Run the statement with the settings of a search (SETTINGS; with text also
        TEXT_SETTINGS), set for its transaction only - and, inside a caller's transaction,
        put back afterwards (SET LOCAL outlives a savepoint)."""
        wanted = {**SETTINGS, **(TEXT_SETTINGS if self.text else {})}
        outer = connection.in_atomic_block

        def configure(cursor, values):
            cursor.execute("SELECT " + ", ".join("set_config(%s, %s, true)" for _ in values),
                           [x for pair in values.items() for x in pair])

        with transaction.atomic(), connection.cursor() as cursor:
            if outer:
                cursor.execute("SELECT " + ", ".join("current_setting(%s)" for _ in wanted), list(wanted))
                before = dict(zip(wanted, cursor.fetchone()))
            configure(cursor, wanted)
            cursor.execute(statement, params)
            rows = cursor.fetchall()
            if outer:
                configure(cursor, before)
        return rows

    def offers(self, families):
        """{family: offers among the results} for these families (a page that came from
        the DISTINCT ON part of `run`)."""
        everything = self._scope()
        matches = self._matches()
        statement = (f"WITH {', '.join(m.text for m in matches)} SELECT family, count(*) FROM base "
                     f"WHERE {everything.text} AND family = ANY(%s) GROUP BY family")
        return dict(self._execute(statement, [x for m in matches for x in m.params] + everything.params
                                  + [list(families)]))
