"""Celery tasks that keep the search index in step with the database.

A document the index refuses is retried with exponential backoff
(SEARCH_INDEX_RETRY_BASE_SECONDS x 2^attempt, SEARCH_INDEX_MAX_RETRIES times); while it
fails it is recorded as an `IndexingFailure` (shown by `manage.py search_index
status`), and after the last retry the task logs an error and raises `IndexingFailed`.
Nothing is dropped silently. The `retry_failures` beat task retries what is left.
"""
import logging

from celery import shared_task
from django.conf import settings
from django.db.models import F
from elasticsearch import ConnectionError as ESConnectionError, TransportError

from .backends import get_backend
from .models import IndexingFailure, IndexKind

logger = logging.getLogger("search.tasks")


class IndexingFailed(Exception):
    """Documents the index still refused after every retry. (Built from its message
    alone, so that Celery's result backend can rebuild it.)"""

    def __init__(self, message, failed=None):
        super().__init__(message)
        self.failed = dict(failed or {})

    @classmethod
    def of(cls, kind, failed):
        sample = "; ".join(f"{pk}: {reason}" for pk, reason in list(failed.items())[:5])
        return cls(f"{len(failed)} {kind} document(s) could not be indexed: {sample}", failed)


def backoff(retries):
    return min(settings.SEARCH_INDEX_RETRY_BASE_SECONDS * (2 ** retries), 600.0)


def record_failures(kind, failed, succeeded=()):
    """Keep the failure rows in step: add/update `failed`, clear `succeeded`."""
    if succeeded:
        IndexingFailure.objects.filter(kind=kind, object_id__in=list(succeeded)).delete()
    for pk, reason in failed.items():
        updated = IndexingFailure.objects.filter(kind=kind, object_id=pk).update(
            error=str(reason)[:4000], attempts=F("attempts") + 1)
        if not updated:
            IndexingFailure.objects.get_or_create(kind=kind, object_id=pk, defaults={"error": str(reason)[:4000]})


def _run(task, kind, ids, work):
    backend = get_backend()
    if not backend.keeps_index:
        return {"backend": backend.name, "skipped": len(ids)}
    retries = task.request.retries or 0
    try:
        outcome = work(backend, ids)
    except (ESConnectionError, TransportError) as exc:
        # The whole batch: the search service is unreachable or refused the request.
        record_failures(kind, {pk: f"{type(exc).__name__}: {exc}" for pk in ids})
        if retries < settings.SEARCH_INDEX_MAX_RETRIES and not task.request.is_eager:
            logger.warning("Search unavailable for %s %s (attempt %d): %s", kind, ids[:20], retries + 1, exc)
            raise task.retry(exc=exc, countdown=backoff(retries))
        logger.error("Gave up indexing %s %s after %d attempts: %s", kind, ids[:20], retries + 1, exc)
        raise IndexingFailed.of(kind, {pk: str(exc) for pk in ids}) from exc
    failed = dict(outcome.failed)
    record_failures(kind, failed, succeeded=set(ids) - set(failed))
    if failed:
        # Eager mode (no broker, development): no retry in the caller's thread; the failure
        # stays recorded for `search_index retry-failures`.
        if retries < settings.SEARCH_INDEX_MAX_RETRIES and not task.request.is_eager:
            logger.warning("Index refused %d %s document(s) (attempt %d), retrying in %.1fs: %s", len(failed), kind,
                           retries + 1, backoff(retries), failed)
            raise task.retry(args=[sorted(failed)], countdown=backoff(retries))
        logger.error("Gave up indexing %d %s document(s) after %d attempts: %s", len(failed), kind, retries + 1,
                     failed)
        raise IndexingFailed.of(kind, failed)
    return {"backend": backend.name, "indexed": outcome.indexed, "deleted": outcome.deleted}


@shared_task(bind=True, name="search.tasks.index_products", acks_late=True, max_retries=None)
def index_products(self, product_ids):
    """(Re-)index products: visible ones written, the others removed."""
    ids = sorted({int(pk) for pk in product_ids})
    return _run(self, IndexKind.PRODUCT, ids, lambda backend, batch: backend.index_products(batch))


@shared_task(bind=True, name="search.tasks.index_shops", acks_late=True, max_retries=None)
def index_shops(self, vendor_ids):
    ids = sorted({int(pk) for pk in vendor_ids})
    return _run(self, IndexKind.SHOP, ids, lambda backend, batch: backend.index_shops(batch))


@shared_task(bind=True, name="search.tasks.reindex_vendor", acks_late=True, max_retries=None)
def reindex_vendor(self, vendor_id):
    """A vendor changed: its shop document and all its products. Documents refused
    here continue in `index_products` / `index_shops`, which retry them."""
    backend = get_backend()
    if not backend.keeps_index:
        return {"backend": backend.name, "skipped": 1}
    retries = self.request.retries or 0
    try:
        outcome = backend.reindex_vendor(int(vendor_id))
    except (ESConnectionError, TransportError) as exc:
        record_failures(IndexKind.SHOP, {int(vendor_id): f"{type(exc).__name__}: {exc}"})
        if retries < settings.SEARCH_INDEX_MAX_RETRIES and not self.request.is_eager:
            raise self.retry(exc=exc, countdown=backoff(retries))
        raise IndexingFailed.of(IndexKind.SHOP, {int(vendor_id): str(exc)}) from exc
    record_failures(IndexKind.SHOP, {}, succeeded=[int(vendor_id)])
    if outcome.failed:
        record_failures(IndexKind.PRODUCT, outcome.failed)
        index_products.apply_async(args=[sorted(outcome.failed)], countdown=backoff(0))
    if outcome.failed_shops:
        record_failures(IndexKind.SHOP, outcome.failed_shops)
        index_shops.apply_async(args=[sorted(outcome.failed_shops)], countdown=backoff(0))
    return {"backend": backend.name, "indexed": outcome.indexed, "deleted": outcome.deleted,
            "retrying": len(outcome.failed) + len(outcome.failed_shops)}


@shared_task(bind=True, name="search.tasks.reindex_taxonomy", acks_late=True, max_retries=None)
def reindex_taxonomy(self, kind, pk):
    """A brand was renamed, or a category renamed or moved: its products (a category's
    subtree included) are queued for reindexing in batches."""
    from marketplace.catalog.models import Category, Product

    if not get_backend().keeps_index:
        return {"queued": 0}
    if kind == "brand":
        products = Product.objects.filter(brand_id=pk)
    else:
        tree = {c.pk: c.parent_id for c in Category.objects.only("pk", "parent_id")}
        wanted, changed = {int(pk)}, True
        while changed:
            changed = False
            for category_id, parent_id in tree.items():
                if parent_id in wanted and category_id not in wanted:
                    wanted.add(category_id)
                    changed = True
        products = Product.objects.filter(category_id__in=wanted)
    ids = list(products.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        index_products.delay(ids[start:start + 500])
    return {"queued": len(ids)}


@shared_task(name="search.tasks.retry_failures")
def retry_failures(limit=5000):
    """Beat task: queue again whatever is recorded as failed (refused documents, or
    batches that could not even be queued)."""
    if not get_backend().keeps_index:
        return {"queued": 0}
    products = list(IndexingFailure.objects.filter(kind=IndexKind.PRODUCT).values_list("object_id", flat=True)[:limit])
    vendors = list(IndexingFailure.objects.filter(kind=IndexKind.SHOP).values_list("object_id", flat=True)[:limit])
    for start in range(0, len(products), 500):
        index_products.delay(products[start:start + 500])
    for vendor_id in vendors:
        reindex_vendor.delay(vendor_id)
    return {"queued": len(products) + len(vendors)}


@shared_task(name="search.tasks.optimize")
def optimize():
    """Beat task (nightly): the backend reorganises what it keeps for reading (the
    database backend on PostgreSQL: its text tables in locality order)."""
    return get_backend().optimize()
