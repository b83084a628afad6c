"""The database backend's rows: built from products (`build_rows`), written in one
transaction per batch (`write_rows`: the narrow `ProductSearchRow`, then on PostgreSQL
the two text tables that repeat its facts - `ProductSearchMatch` and
`ProductSearchDescription` - and on SQLite the token strings under FTS5), their facts
kept equal after updates of the rows alone (`sync_text_facts`), and the text tables kept
in locality order (`cluster_text_tables`). What the tokens are and how a query matches
them: search.backends.dbtext."""
from django.db import OperationalError, connection, transaction

from ..text import normalize_code, search_tokens, words


def _joined(values, characters=True):
    tokens = []
    for value in values:
        tokens.extend(search_tokens(value or "", characters=characters))
    return " " + " ".join(dict.fromkeys(tokens)) + " " if tokens else ""


def latin_words(*texts):
    return {w for text in texts for is_cjk, w in words(text or "") if not is_cjk and len(w) >= 3 and w.isalpha()}


def build_rows(products, paths, codes_by_product):
    """(ProductSearchRow objects, ProductSearchText objects, vocabulary words) for a
    batch of products (vendor and brand loaded)."""
    from marketplace.catalog.models import ProductStatus
    from marketplace.catalog.selectors import is_listed

    from ..documents import family_key
    from ..models import ProductSearchRow, ProductSearchText

    facts, texts, vocabulary = [], [], set()
    for product in products:
        path = paths.path(product.category_id)
        product_type = paths.product_type(product.product_type_id)
        brand = product.brand
        meta = [brand.name_zh, brand.name_en, brand.slug] if brand else []
        meta += [c.name_zh for c in path] + [c.name_en for c in path]
        if product_type is not None:
            meta += [product_type.name_zh, product_type.name_en]
        codes = sorted(codes_by_product.get(product.pk, ()))
        codes_text = (" " + " ".join(c.lower() for c in codes) + " ") if codes else ""
        vendor = product.vendor
        facts.append(ProductSearchRow(
            product_id=product.pk,
            visible=product.status == ProductStatus.PUBLISHED and is_listed(vendor),
            vendor_id=vendor.pk, vendor_kind=vendor.kind, category_id=product.category_id, brand_id=product.brand_id,
            in_stock=product.in_stock, price=product.min_price, sales_count=product.sales_count or 0,
            created_at=product.created_at, family=family_key(product.brand_id, product.name_zh), codes=codes_text))
        texts.append(ProductSearchText(
            row_id=product.pk, names=_joined([product.name_zh, product.name_en]), meta=_joined(meta),
            body=_joined([product.description_zh, product.description_en], characters=False), codes=codes_text))
        vocabulary |= latin_words(product.name_en, *meta)
    return facts, texts, vocabulary


# PostgreSQL keeps vectors only, in two tables a search reads through their GIN indexes,
# each with the facts of the rows repeated (the matches' filters, facets and order read
# where they are found): the match table - the weighted vector of names and codes (A) and
# brand/category/type (B) with positions, which matches and ranks - and the descriptions'
# vector without positions (smaller; nothing matches phrases).
MATCH_FACTS = ["visible", "vendor_id", "vendor_kind", "category_id", "brand_id", "in_stock", "price", "sales_count",
               "created_at", "family", "codes"]  # the fields of models.SearchFacts
FACT_FIELDS = [*MATCH_FACTS, "updated_at"]  # what an upsert of a ProductSearchRow writes
TEXT_UPSERT = f"""
INSERT INTO {{table}} (product_id, {', '.join(MATCH_FACTS)}, vector)
SELECT r.product_id, {', '.join('r.' + c for c in MATCH_FACTS)}, {{vector}}
FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[]) AS t(id, names, meta, codes, body)
JOIN search_productsearchrow r ON r.product_id = t.id
ON CONFLICT (product_id) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in MATCH_FACTS)}, vector = EXCLUDED.vector
"""
MATCH_UPSERT = TEXT_UPSERT.format(
    table="search_productsearchmatch",
    vector="setweight(to_tsvector('simple', t.names || ' ' || t.codes), 'A') || "
           "setweight(to_tsvector('simple', t.meta), 'B')")
DESCRIPTION_UPSERT = TEXT_UPSERT.format(table="search_productsearchdescription",
                                        vector="strip(to_tsvector('simple', t.body))")
# The facts of the text tables follow their rows (visibility and vendor kind change alone).
FACTS_SYNC = f"""
UPDATE {{table}} m SET {', '.join(f'{c} = r.{c}' for c in MATCH_FACTS)}
FROM search_productsearchrow r WHERE r.product_id = m.product_id AND r.{{column}} = ANY(%s)
"""
# Rows of one category and brand side by side: most searched words name a kind of part
# (its category and type) or a brand, so their matches lie on few pages of the text
# tables - a broad word reads a fifth of the pages it would read in insertion order.
LOCALITY_INDEXES = {"search_productsearchmatch": "search_match_locality",
                    "search_productsearchdescription": "search_description_locality"}
TEXT_TABLES = tuple(LOCALITY_INDEXES)


def write_rows(facts, texts, vocabulary):
    """Upsert a batch - facts, then text (PostgreSQL: the match rows and the descriptions'
    vectors; SQLite: the token strings, which the FTS5 triggers follow) - and add the
    words."""
    from ..models import ProductSearchRow, ProductSearchText, SearchTerm

    with transaction.atomic():
        ProductSearchRow.objects.bulk_create(
            facts, batch_size=500, update_conflicts=True, unique_fields=["product"], update_fields=FACT_FIELDS)
        if connection.vendor == "postgresql":
            if texts:
                ids = [t.row_id for t in texts]
                columns = [ids, [t.names for t in texts], [t.meta for t in texts], [t.codes for t in texts],
                           [t.body for t in texts]]
                with connection.cursor() as cursor:
                    cursor.execute(MATCH_UPSERT, columns)
                    cursor.execute(DESCRIPTION_UPSERT, columns)
        else:
            ProductSearchText.objects.bulk_create(
                texts, batch_size=500, update_conflicts=True, unique_fields=["row"],
                update_fields=["names", "meta", "body", "codes"])
        SearchTerm.objects.bulk_create([SearchTerm(term=w[:64]) for w in sorted(vocabulary)], batch_size=1000,
                                       ignore_conflicts=True)


def sync_text_facts(column, values):
    """PostgreSQL: copy the facts of the rows whose `column` ("product_id" or "vendor_id")
    is one of `values` to their match and description rows - after an update of the rows
    alone (a product hidden, a vendor suspended or changing kind). Nothing to do
    elsewhere."""
    if connection.vendor != "postgresql" or not values:
        return
    if column not in ("product_id", "vendor_id"):
        raise ValueError(f"unknown column {column!r}")
    with connection.cursor() as cursor:
        for table in TEXT_TABLES:
            cursor.execute(FACTS_SYNC.format(table=table, column=column), [[int(v) for v in values]])


CLUSTER_LOCK_TIMEOUT = "3s"


def cluster_text_tables(lock_timeout=CLUSTER_LOCK_TIMEOUT):
    """PostgreSQL: rewrite the match and description tables in locality order (CLUSTER on
    (category_id, brand_id): an exclusive lock on each table while it is rewritten, about
    a second per 50,000 products), then ANALYZE the search tables. Updates keep their
    page while it has room (fillfactor 90), so the order decays slowly between runs.

    Each table is rewritten in a transaction of its own that waits at most `lock_timeout`
    for its lock: a table another transaction holds (a long report, a backup) is skipped
    until the next run rather than making every search queue behind the CLUSTER. Inside a
    caller's transaction nothing is rewritten (the exclusive locks would last until that
    transaction ends, and CLUSTER refuses a table with deferred checks pending): the
    statistics only. Returns {"clustered": [table], "skipped": {table: reason}}."""
    out = {"clustered": [], "skipped": {}}
    if connection.in_atomic_block:
        out["skipped"] = {table: "inside a transaction" for table in LOCALITY_INDEXES}
    else:
        for table, index in LOCALITY_INDEXES.items():
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
                    cursor.execute(f"CLUSTER {table} USING {index}")
                out["clustered"].append(table)
            except OperationalError as exc:
                if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                    raise
                out["skipped"][table] = f"locked by another transaction for {lock_timeout}"
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE search_productsearchrow, search_productsearchmatch, search_productsearchdescription, "
                       "search_searchterm")
    return out


def normalised_codes(skus_by_product, plugin_codes):
    """{product_id: {code}}: normalised SKUs and the plugins' code-field values."""
    out = {}
    for product_id, skus in skus_by_product.items():
        out.setdefault(product_id, set()).update(normalize_code(s) for s in skus)
    for product_id, values in plugin_codes.items():
        for value in values if isinstance(values, (list, tuple, set)) else [values]:
            out.setdefault(product_id, set()).add(normalize_code(str(value)))
    return {pk: {c for c in codes if c} for pk, codes in out.items()}


__all__ = ["build_rows", "write_rows", "sync_text_facts", "cluster_text_tables", "normalised_codes", "latin_words"]
