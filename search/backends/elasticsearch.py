"""The Elasticsearch backend (production, and every CI run), through `elasticsearch.dsl`.

Index lifecycle: each kind ("products", "shops") lives in versioned indices
`<prefix><kind>-v<timestamp>` behind the alias `<prefix><kind>`. A rebuild fills a new
index (also reachable as `<prefix><kind>-rebuilding`, so incremental updates reach it
while it fills), then moves the alias in one atomic `_aliases` call and deletes the old
index. Writes go to aliases with `require_alias` (never auto-creating an index) and
carry an external version - the time the database was read - so an update read
earlier never overwrites one read later, whatever order the writes arrive in.

This module is the writing half (indices, documents, rebuild, status, the check of the
cluster's analysis); reading is in esquery.
"""
import logging
import math
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from django.conf import settings
from django.db.models import Max
from django.utils import timezone as dj_timezone
from elasticsearch import ApiError, Elasticsearch, NotFoundError
from elasticsearch.helpers import scan, streaming_bulk
from elasticsearch.serializer import OrjsonSerializer

from marketplace.catalog.models import Product
from marketplace.catalog.selectors import listed_vendors, visible_products

from ..documents import (
    CategoryPaths, build_index, is_visible, plugin_fields, product_documents, shop_documents, version_now,
)
from ..mappings import PRODUCTS, REQUIRED_ANALYSIS, SHOPS
from ..query import MAX_WINDOW, IndexOutcome
from .base import SearchBackend
from .esquery import ElasticsearchQueries, SearchUnavailable

logger = logging.getLogger("search.elasticsearch")

WRITE_CHUNK = 500
# A rebuilt index is force-merged into segments of at most this size before it goes live
# (Lucene's TieredMergePolicy leaves segments above 5 GB out of later merges).
MAX_MERGED_SEGMENT = 5 * 2**30
MERGE_TIMEOUT = 3600  # seconds: a large index merges for minutes


class RebuildError(Exception):
    pass


class MissingAnalysis(RebuildError):
    """The cluster lacks analysis components the mappings name (e.g. analysis-smartcn)."""


def _reason(info):
    error = info.get("error")
    if isinstance(error, dict):
        caused = error.get("caused_by", {}).get("reason")
        return f"{error.get('type')}: {error.get('reason')}" + (f" ({caused})" if caused else "")
    return str(error or info.get("status"))


def _count(outcome, ok, item):
    """Add one bulk item's result to `outcome`: refused items go to `failed`."""
    operation, info = next(iter(item.items()))
    status = info.get("status", 0)
    pk = int(info.get("_id") or 0)
    if ok or status == 409:  # 409: a newer read was already written - nothing is lost
        if operation == "delete":
            outcome.deleted += 1
        else:
            outcome.indexed += 1
    elif operation == "delete" and status == 404:
        outcome.deleted += 1
    else:
        outcome.failed[pk] = _reason(info)


class ElasticsearchBackend(ElasticsearchQueries, SearchBackend):
    name = "elasticsearch"
    keeps_index = True

    def __init__(self, url, prefix):
        self.url = url
        self.prefix = prefix or ""
        # orjson: bulk indexing serialises every document, and the sending threads share the
        # interpreter with the thread building documents (six times faster than json here).
        self.client = Elasticsearch(url, request_timeout=30, max_retries=2, retry_on_timeout=True,
                                    serializer=OrjsonSerializer())
        self._analysis_checked = False

    # -- what the cluster must offer ----------------------------------------------------
    def analysis_problem(self):
        """None when the cluster offers every analysis component the mappings name
        (search.mappings.REQUIRED_ANALYSIS), else what is missing and how to fix it.
        One `_analyze` call per component."""
        missing = []
        for kind, names in REQUIRED_ANALYSIS.items():
            for name in names:
                body = {"text": "博世刹车片", kind: name} if kind == "analyzer" else {
                    "text": "博世刹车片", "tokenizer": name if kind == "tokenizer" else "standard",
                    **({"filter": [name]} if kind == "filter" else {})}
                try:
                    self.client.indices.analyze(body=body)
                except ApiError as exc:
                    if "failed to find" not in str(exc):
                        raise
                    missing.append(f"{kind} {name}")
        if not missing:
            return None
        smartcn = any("smartcn" in m for m in missing)
        return (f"The Elasticsearch cluster at {self.url} lacks analysis components the search mappings use: "
                f"{', '.join(missing)}. "
                + ("Install the official analysis-smartcn plugin on every node (`bin/elasticsearch-plugin install "
                   "analysis-smartcn`, then restart each node; on a hosted service, enable the plugin for the "
                   "deployment). " if smartcn else "")
                + "Locally, start the node built from search/node (`python3 scripts/localservices.py start "
                  "elasticsearch`); a node started from an older build must be restarted.")

    def require_analysis(self):
        """Raise MissingAnalysis (a clear message) before creating an index on a cluster
        that could not build its mapping. Checked once per process."""
        if self._analysis_checked:
            return
        problem = self.analysis_problem()
        if problem:
            raise MissingAnalysis(problem)
        self._analysis_checked = True

    # -- names ------------------------------------------------------------------------
    def alias(self, kind):
        return f"{self.prefix}{kind}"

    def building_alias(self, kind):
        return f"{self.prefix}{kind}-rebuilding"

    def new_index_name(self, kind):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")
        return f"{self.prefix}{kind}-v{stamp}"

    def indices_behind(self, alias):
        """Concrete index names an alias points to ([] when it does not exist)."""
        try:
            found = self.client.indices.get_alias(name=alias)
        except NotFoundError:
            return []
        return sorted(found.body if hasattr(found, "body") else found)

    def all_indices(self):
        """Every index of this prefix (tests delete them by exact name)."""
        try:
            found = self.client.indices.get(index=f"{self.prefix}*", expand_wildcards="open,closed")
        except NotFoundError:
            return []
        return sorted(found.body)

    def _bootstrap(self, kind):
        """First write before any rebuild: an empty index `<kind>-v0` behind the alias
        (a fixed name, so racing workers create it once)."""
        name = f"{self.prefix}{kind}-v0"
        self.require_analysis()
        try:
            build_index(kind, name).create(using=self.client)
        except ApiError as exc:
            if "resource_already_exists_exception" not in str(exc):
                raise
        self.client.indices.update_aliases(actions=[{"add": {"index": name, "alias": self.alias(kind)}}])
        logger.warning("Search index %s did not exist: created an empty one. Run `manage.py search_index rebuild`.",
                       self.alias(kind))

    def write_targets(self, kind):
        """Aliases to write to: the live one, plus the index being rebuilt, if any."""
        live, building = self.alias(kind), self.building_alias(kind)
        if not self.indices_behind(live):
            self._bootstrap(kind)
        targets = [live]
        if self.indices_behind(building):
            targets.append(building)
        return targets

    # -- writing ----------------------------------------------------------------------
    def _write(self, targets, documents, delete_ids, version, refresh=False, require_alias=True):
        """One bulk request per chunk: documents indexed and ids deleted in every
        target. Returns the outcome; refused items are in `failed`, never dropped."""
        outcome = IndexOutcome()
        sources = [{"_id": doc.id, "_source": doc.source} for doc in documents]

        def actions():
            for target in targets:
                for source in sources:
                    yield {**source, "_index": target, "version": version, "version_type": "external_gte"}
                for pk in delete_ids:
                    yield {"_op_type": "delete", "_index": target, "_id": pk, "version": version,
                           "version_type": "external_gte"}

        if not sources and not delete_ids:
            return outcome
        options = {"require_alias": True} if require_alias else {}
        for ok, item in streaming_bulk(self.client, actions(), chunk_size=WRITE_CHUNK, max_retries=3,
                                       initial_backoff=1, raise_on_error=False, raise_on_exception=False,
                                       refresh=True if refresh else False, **options):
            _count(outcome, ok, item)
        return outcome

    def _products(self, ids):
        return list(Product.objects.filter(pk__in=ids).select_related("vendor", "brand").order_by("pk"))

    def index_products(self, ids, refresh=False):
        ids = sorted({int(i) for i in ids})
        outcome = IndexOutcome()
        if not ids:
            return outcome
        targets = self.write_targets(PRODUCTS)
        paths = None
        for start in range(0, len(ids), WRITE_CHUNK):
            chunk = ids[start:start + WRITE_CHUNK]
            version = version_now()
            products = [p for p in self._products(chunk) if is_visible(p)]
            paths = paths or CategoryPaths()
            documents = product_documents(products, paths=paths, now=dj_timezone.now())
            gone = set(chunk) - {p.pk for p in products}
            outcome.merge(self._write(targets, documents, sorted(gone), version, refresh=refresh))
        return outcome

    def remove_products(self, ids, refresh=False):
        ids = sorted({int(i) for i in ids})
        if not ids:
            return IndexOutcome()
        return self._write(self.write_targets(PRODUCTS), [], ids, version_now(), refresh=refresh)

    def index_shops(self, vendor_ids, refresh=False):
        ids = sorted({int(i) for i in vendor_ids})
        if not ids:
            return IndexOutcome()
        version = version_now()
        vendors = list(listed_vendors().filter(pk__in=ids).order_by("pk"))
        gone = set(ids) - {v.pk for v in vendors}
        return self._write(self.write_targets(SHOPS), shop_documents(vendors, now=dj_timezone.now()), sorted(gone),
                           version, refresh=refresh)

    def _ids_in_index(self, kind, query):
        try:
            return {int(hit["_id"]) for hit in scan(self.client, index=self.alias(kind), query={"query": query},
                                                     _source=False, size=1000)}
        except NotFoundError:
            return set()

    def reindex_vendor(self, vendor_id, refresh=False):
        """The shop and every product of a vendor (e.g. suspended: all leave the index).
        Ids found in the index but no longer in the database are removed as well."""
        ids = set(Product.objects.filter(vendor_id=vendor_id).values_list("pk", flat=True))
        ids |= self._ids_in_index(PRODUCTS, {"term": {"vendor_id": str(vendor_id)}})
        outcome = self.index_products(ids, refresh=refresh)
        shop = self.index_shops([vendor_id], refresh=refresh)
        outcome.indexed += shop.indexed
        outcome.deleted += shop.deleted
        outcome.failed_shops.update(shop.failed)  # keyed by vendor id: kept apart from product ids
        return outcome

    # -- rebuild ----------------------------------------------------------------------
    def rebuild(self, progress=None, chunk_size=1000, kinds=(PRODUCTS, SHOPS), force=False):
        return {kind: self._rebuild(kind, progress, chunk_size, force) for kind in kinds}

    def _source_batches(self, kind, chunk_size):
        """(total, iterator of (version, documents)) read from the database in key order."""
        if kind == PRODUCTS:
            qs = visible_products().select_related("vendor", "brand").order_by("pk")
        else:
            qs = listed_vendors().order_by("pk")
        total = qs.count()

        def batches():
            paths = CategoryPaths() if kind == PRODUCTS else None
            last = 0
            while True:
                version = version_now()
                rows = list(qs.filter(pk__gt=last)[:chunk_size])
                if not rows:
                    return
                last = rows[-1].pk
                now = dj_timezone.now()
                if kind == PRODUCTS:
                    yield version, product_documents(rows, paths=paths, now=now)
                else:
                    yield version, shop_documents(rows, now=now)

        return total, batches()

    def _rebuild(self, kind, progress, chunk_size, force):
        live, building = self.alias(kind), self.building_alias(kind)
        unfinished = self.indices_behind(building)
        if unfinished:
            if not force:
                raise RebuildError(f"A rebuild of {live} is already running (or died): {', '.join(unfinished)}. "
                                   "Wait for it, or pass --force to discard it.")
            for name in unfinished:
                self.client.indices.delete(index=name)
        if self.client.indices.exists(index=live) and not self.indices_behind(live):
            raise RebuildError(f"{live} is a concrete index, not an alias: delete it first.")
        name = self.new_index_name(kind)
        self.require_analysis()
        build_index(kind, name, building=True).create(using=self.client)
        self.client.indices.update_aliases(actions=[{"add": {"index": name, "alias": building}}])
        started = time.perf_counter()
        try:
            total, batches = self._source_batches(kind, chunk_size)
            outcome = IndexOutcome()
            if progress:
                progress(kind, 0, total, 0.0)

            # Pipelined: this thread reads the database and builds documents (it owns the
            # database connection) while two threads send earlier chunks to Elasticsearch.
            done = 0
            pending = deque()

            def collect(future):
                nonlocal done
                chunk = future.result()
                outcome.merge(chunk)
                done += chunk.indexed + len(chunk.failed)
                if progress:
                    progress(kind, done, max(done, total), time.perf_counter() - started)

            with ThreadPoolExecutor(max_workers=2, thread_name_prefix="search-rebuild") as pool:
                for version, documents in batches:
                    pending.append(pool.submit(self._write, [name], documents, [], version, require_alias=False))
                    while len(pending) > 2:
                        collect(pending.popleft())
                while pending:
                    collect(pending.popleft())
            if outcome.failed:
                sample = "; ".join(f"{pk}: {reason}" for pk, reason in list(outcome.failed.items())[:5])
                raise RebuildError(f"{len(outcome.failed)} {kind} documents were refused ({sample}). "
                                   f"The live index was left untouched.")
            self.client.indices.refresh(index=name)
            indexed = time.perf_counter() - started
            merge_seconds = self._merge(name)
            self.client.indices.put_settings(index=name, settings={"index": {
                "refresh_interval": "1s", "number_of_replicas": settings.SEARCH_INDEX_REPLICAS,
                "translog.durability": "request"}})
            self.client.indices.refresh(index=name)
            old = self.indices_behind(live)
            actions = [{"remove": {"index": index, "alias": live}} for index in old]
            actions += [{"add": {"index": name, "alias": live}}, {"remove": {"index": name, "alias": building}}]
            self.client.indices.update_aliases(actions=actions)  # atomic: readers switch at once
        except BaseException:
            self.client.indices.delete(index=name, ignore_unavailable=True)
            raise
        for index in old:
            self.client.indices.delete(index=index, ignore_unavailable=True)
        elapsed = time.perf_counter() - started
        return {"index": name, "documents": done, "seconds": elapsed, "replaced": old,
                "indexing_seconds": indexed, "merge_seconds": merge_seconds,
                "per_second": done / indexed if indexed else 0.0}

    def _merge(self, name):
        """Force-merge a freshly filled index before it goes live (Elasticsearch's advice
        for bulk loads: "Tune for indexing speed" / "Force merge" in its reference): bulk
        indexing leaves tens of segments that the node would otherwise merge in the
        background while the first searches run on them, slower. Merged into segments of
        at most MAX_MERGED_SEGMENT bytes (1 segment below that size), so that each stays
        eligible for the ordinary merges of later updates. Returns the seconds taken."""
        started = time.perf_counter()
        stats = self.client.indices.stats(index=name, metric="store")
        size = stats["indices"][name]["primaries"]["store"]["size_in_bytes"]
        segments = max(1, math.ceil(size / MAX_MERGED_SEGMENT))
        self.client.options(request_timeout=MERGE_TIMEOUT).indices.forcemerge(
            index=name, max_num_segments=segments, wait_for_completion=True)
        return time.perf_counter() - started

    # -- status -----------------------------------------------------------------------
    def _newest(self, kind):
        try:
            response = self.client.search(index=self.alias(kind), size=0,
                                          aggs={"newest": {"max": {"field": "updated_at"}}})
        except NotFoundError:
            return None
        value = response["aggregations"]["newest"].get("value")
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc) if value else None

    def status(self):
        from ..models import IndexingFailure

        out = {"backend": self.name, "url": self.url}
        sources = {
            PRODUCTS: (visible_products(), visible_products().aggregate(n=Max("updated_at"))["n"]),
            SHOPS: (listed_vendors(), listed_vendors().aggregate(n=Max("updated_at"))["n"]),
        }
        for kind, (qs, db_newest) in sources.items():
            indices = self.indices_behind(self.alias(kind))
            entry = {"alias": self.alias(kind), "indices": indices,
                     "rebuilding": self.indices_behind(self.building_alias(kind)),
                     "database": qs.count(), "index": None, "lag_seconds": None, "missing_fields": []}
            if indices:
                self.client.indices.refresh(index=self.alias(kind))
                entry["index"] = self.client.count(index=self.alias(kind))["count"]
                index_newest = self._newest(kind)
                if db_newest and index_newest:
                    entry["lag_seconds"] = max(0.0, (db_newest - index_newest).total_seconds())
                elif db_newest:
                    entry["lag_seconds"] = None
                mapping = self.client.indices.get_mapping(index=indices[0])[indices[0]]["mappings"]
                declared = set(mapping.get("properties", {}))
                entry["missing_fields"] = sorted(set(plugin_fields(kind)) - declared)
            kind_name = "product" if kind == PRODUCTS else "shop"
            entry["failures"] = IndexingFailure.objects.filter(kind=kind_name).count()
            out[kind] = entry
        return out

__all__ = ["ElasticsearchBackend", "RebuildError", "SearchUnavailable", "MAX_WINDOW"]
