"""The embedded backend: indexed SQL in the application's database, no search server.

It keeps rows of its own (search.models: `ProductSearchRow` - the narrow facts filters,
facets, sorting and families read -, the text (on PostgreSQL `ProductSearchMatch`: those
facts again with the weighted vector that matches and ranks, and the descriptions'
vectors; on SQLite the token strings under FTS5), and the typo vocabulary) in step with
the catalog through the same events that feed Elasticsearch, written when the unit of
work commits (not by a task), and matches text with the database's own full-text index:
PostgreSQL tsvector + GIN (ranked by `ts_rank` with field weights; one statement per
search, search.backends.pgsearch), SQLite FTS5 (bm25). Latin typos are corrected
against the indexed vocabulary (pg_trgm on PostgreSQL); Chinese runs match as
two-character windows, or as characters of the names when the words lie apart ("博世刹车片"). The GraphQL layer loads the visible products of
a page from the catalog, so a stale row can never show a hidden product.

This module is the writing half (rows, rebuild, status); reading is in dbquery and
dbsuggest. What it cannot do is listed in every result's `unsupported` notes, never
pretended: without FTS5 (a SQLite build lacking it) text is matched by scanning the
rows; shop distances and opening hours are computed in Python over the approved shops.
"""
import time

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Value

from marketplace.catalog.models import Product, ProductStatus, ProductVariant
from marketplace.catalog.selectors import is_listed, listed_vendors, visible_products
from marketplace.vendors.models import Vendor

from .. import fields as product_fields
from ..documents import CategoryPaths
from ..query import IndexOutcome
from . import dbrows, dbtext, pgsearch
from .base import SearchBackend
from .dbquery import DatabaseQueries

CHUNK = 500


class DatabaseBackend(DatabaseQueries, SearchBackend):
    name = "database"
    keeps_index = True
    # The indexing pipeline writes this backend's rows when the unit of work commits
    # (search.indexing), not through a Celery task.
    synchronous = True

    # -- indexing -----------------------------------------------------------------------
    @staticmethod
    def _rows_changed():
        """Forget cached browse counts now, and again at commit (a reader may have cached the
        old rows meanwhile)."""
        pgsearch.rows_changed()
        transaction.on_commit(pgsearch.rows_changed)

    def _write(self, ids, paths=None):
        products = list(Product.objects.filter(pk__in=ids).select_related("vendor", "brand").order_by("pk"))
        paths = paths or CategoryPaths()
        skus = {}
        for product_id, sku in ProductVariant.objects.filter(product_id__in=ids, is_active=True).values_list(
                "product_id", "sku"):
            skus.setdefault(product_id, []).append(sku)
        codes = dbrows.normalised_codes(skus, product_fields.code_values(products))
        facts, texts, vocabulary = dbrows.build_rows(products, paths, codes)
        dbrows.write_rows(facts, texts, vocabulary)
        self._rows_changed()
        return len(facts), {p.pk for p in products}

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
            if gone:  # deleted products: their rows went with them (cascade); stray ones go now
                outcome.deleted += ProductSearchRow.objects.filter(product_id__in=gone).delete()[0]
        return outcome

    def remove_products(self, ids, refresh=False):
        from ..models import ProductSearchRow

        ids = [int(i) for i in ids]
        with transaction.atomic():
            deleted = ProductSearchRow.objects.filter(product_id__in=ids).update(visible=False)
            dbrows.sync_text_facts("product_id", ids)
        self._rows_changed()
        return IndexOutcome(deleted=deleted)

    def index_shops(self, vendor_ids, refresh=False):
        return IndexOutcome()  # shops are read live

    def reindex_vendor(self, vendor_id, refresh=False):
        """A vendor changed (approved, suspended, closed...): its products' visibility and
        kind, in one statement; their text does not depend on the vendor."""
        from ..models import ProductSearchRow

        vendor = Vendor.objects.filter(pk=vendor_id).only("status", "storefront_hidden", "kind").first()
        rows = ProductSearchRow.objects.filter(vendor_id=vendor_id)
        with transaction.atomic():
            if vendor is None:
                outcome = IndexOutcome(deleted=rows.update(visible=False))
            else:
                published = Exists(Product.objects.filter(pk=OuterRef("product_id"), status=ProductStatus.PUBLISHED))
                outcome = IndexOutcome(indexed=rows.update(
                    vendor_kind=vendor.kind, visible=published if is_listed(vendor) else Value(False)))
            dbrows.sync_text_facts("vendor_id", [vendor_id])
        self._rows_changed()
        return outcome

    def rebuild(self, progress=None, chunk_size=1000, kinds=("products", "shops"), force=False):
        """Rewrite every product's rows (upserts: searches keep working meanwhile) and the
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
            if connection.vendor == "postgresql":  # the text tables in locality order, fresh statistics
                self.optimize()
            elapsed = time.perf_counter() - started
            out["products"] = {"index": ProductSearchRow._meta.db_table, "documents": done, "seconds": elapsed,
                               "replaced": [], "per_second": done / elapsed if elapsed else 0.0}
        if "shops" in kinds:
            out["shops"] = {"index": "vendors (read live)", "documents": 0, "seconds": 0.0, "replaced": [],
                            "per_second": 0.0}
        return out

    def optimize(self):
        """PostgreSQL: rewrite the text tables in locality order and refresh the planner's
        statistics (dbrows.cluster_text_tables: searches wait for the second or two each
        table takes; a table another transaction holds is skipped). Run after a rebuild
        and nightly by the `search.tasks.optimize` beat task. {"seconds", "clustered":
        [table], "skipped": {table: reason}}; nothing to do on SQLite ({})."""
        if connection.vendor != "postgresql":
            return {}
        started = time.perf_counter()
        out = dbrows.cluster_text_tables()
        return {"seconds": time.perf_counter() - started, **out}

    def status(self):
        from django.db.models import Max

        from ..models import IndexingFailure, ProductSearchRow

        visible = visible_products()
        newest_db = visible.aggregate(n=Max("updated_at"))["n"]
        newest_row = ProductSearchRow.objects.aggregate(n=Max("updated_at"))["n"]
        lag = max(0.0, (newest_db - newest_row).total_seconds()) if newest_db and newest_row else None
        engine = dbtext.engine()
        shops = listed_vendors().count()
        return {
            "backend": self.name, "engine": engine,
            "products": {"alias": ProductSearchRow._meta.db_table,
                         "indices": [{"postgresql": "tsvector + GIN", "fts5": "FTS5 search_product_fts",
                                      "like": "no full-text index (scans)"}[engine]],
                         "rebuilding": [], "database": visible.count(),
                         "index": ProductSearchRow.objects.filter(visible=True).count(),
                         "lag_seconds": lag, "missing_fields": [],
                         "failures": IndexingFailure.objects.filter(kind="product").count()},
            "shops": {"alias": "vendors_vendor", "indices": ["read live"], "rebuilding": [], "database": shops,
                      "index": shops, "lag_seconds": 0.0, "missing_fields": [], "failures": 0},
        }

