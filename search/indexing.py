"""Incremental indexing: domain events -> batched Celery tasks.

Core events reach `on_event` after their transaction commits (marketplace.core.events);
model signals cover what changes outside the services (admin edits of products and
variants, renamed brands and categories), also after commit.
Ids are collected per unit of work - one HTTP request, or one Celery task - and sent
as one task per batch when it ends (`transaction.on_commit`, so a batch flushed inside
an open transaction waits for it). Outside a request or task (management commands,
shells) each event is sent at once. Backends without an index ignore events.
"""
import logging
import threading

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from .backends import get_backend

logger = logging.getLogger("search.indexing")

PRODUCT_EVENTS = {"product_created", "product_updated", "product_deleted"}
# Every vendor change that may change what its products show, or whether they show.
VENDOR_EVENTS = {"vendor_approved", "vendor_reinstated", "vendor_suspended", "vendor_closed", "vendor_rejected",
                 "vendor_updated", "vendor_storefront_changed"}
TASK_BATCH = 500

_state = threading.local()


class Batch:
    def __init__(self):
        self.products = {}  # product id -> vendor id (or None)
        self.vendors = set()

    def __bool__(self):
        return bool(self.products or self.vendors)


def _indexing_backend():
    try:
        backend = get_backend()
    except ImproperlyConfigured:
        logger.exception("Search is misconfigured; the index will not follow this change")
        return None
    return backend if backend.keeps_index else None


def on_event(event):
    if event.name not in PRODUCT_EVENTS and event.name not in VENDOR_EVENTS:
        return
    if _indexing_backend() is None:
        return
    payload = event.payload or {}
    if event.name in PRODUCT_EVENTS:
        queue(products={int(payload["product_id"]): payload.get("vendor_id")})
    else:
        queue(vendors={int(payload["vendor_id"])})


def queue(products=None, vendors=()):
    """Add ids to the current unit of work's batch, or send them now outside one.
    `products` maps product ids to their vendor id (or None)."""
    batch = getattr(_state, "batch", None)
    immediate = batch is None
    if immediate:
        batch = Batch()
    batch.products.update(products or {})
    batch.vendors.update(vendors)
    if immediate:
        send(batch)


# -- model signals: changes made outside the services (admin edits, taxonomy renames) -------
def _after_commit(function):
    if _indexing_backend() is not None:
        transaction.on_commit(function)


def _product_saved(sender, instance, **kwargs):
    _after_commit(lambda: queue(products={instance.pk: instance.vendor_id}))


def _variant_changed(sender, instance, **kwargs):
    _after_commit(lambda: queue(products={instance.product_id: instance.vendor_id}))


def _taxonomy_saved(sender, instance, created=False, **kwargs):
    """A renamed or moved category, a renamed brand: their products' documents carry the
    names (category path, brand). Reindexed by a task (it may be many products)."""
    if created:
        return
    from . import tasks

    kind = "brand" if sender._meta.model_name == "brand" else "category"
    _after_commit(lambda: tasks.reindex_taxonomy.delay(kind, instance.pk))


def _brand_deleting(sender, instance, **kwargs):
    """Deleting a brand sets its products' brand to null without any event."""
    if _indexing_backend() is None:
        return
    from marketplace.catalog.models import Product

    products = dict(Product.objects.filter(brand_id=instance.pk).values_list("pk", "vendor_id"))
    if products:
        transaction.on_commit(lambda: queue(products=products))


def connect_model_signals():
    from django.db.models.signals import post_delete, post_save, pre_delete

    from marketplace.catalog.models import Brand, Category, Product, ProductVariant

    post_save.connect(_product_saved, sender=Product, dispatch_uid="search.product_saved")
    post_delete.connect(_product_saved, sender=Product, dispatch_uid="search.product_deleted")
    post_save.connect(_variant_changed, sender=ProductVariant, dispatch_uid="search.variant_saved")
    post_delete.connect(_variant_changed, sender=ProductVariant, dispatch_uid="search.variant_deleted")
    post_save.connect(_taxonomy_saved, sender=Brand, dispatch_uid="search.brand_saved")
    post_save.connect(_taxonomy_saved, sender=Category, dispatch_uid="search.category_saved")
    pre_delete.connect(_brand_deleting, sender=Brand, dispatch_uid="search.brand_deleting")


def send(batch):
    """Enqueue the tasks for a batch once the current transaction (if any) commits; a
    synchronous backend (the database backend) writes its rows then, in this process."""
    if not batch:
        return
    vendors = set(batch.vendors)
    backend = _indexing_backend()
    if backend is not None and getattr(backend, "synchronous", False):
        products = sorted(batch.products)
        transaction.on_commit(lambda: _write_now(backend, products, vendors))
        return
    products = sorted(pk for pk, vendor_id in batch.products.items() if vendor_id not in vendors)
    transaction.on_commit(lambda: _enqueue(products, vendors))


def _write_now(backend, products, vendors):
    """Write a synchronous backend's rows. A failure is recorded (the `retry_failures`
    beat task or `search_index retry-failures` picks it up), never raised into the
    request that already committed."""
    from . import tasks
    from .models import IndexKind

    try:
        outcome = backend.index_products(products)
        for vendor_id in sorted(vendors):
            outcome.merge(backend.reindex_vendor(vendor_id))
    except Exception as exc:
        logger.exception("Search rows not updated for products %s", products[:20])
        tasks.record_failures(IndexKind.PRODUCT, {pk: f"{type(exc).__name__}: {exc}" for pk in products})
        return
    if outcome.failed:
        tasks.record_failures(IndexKind.PRODUCT, outcome.failed)


def _enqueue(products, vendors):
    """Queue the tasks. If the broker refuses, the ids are recorded as indexing
    failures (the `retry_failures` beat task picks them up): never dropped silently."""
    from . import tasks
    from .models import IndexKind

    jobs = [(tasks.reindex_vendor, vendor_id, IndexKind.SHOP, [vendor_id]) for vendor_id in sorted(vendors)]
    jobs += [(tasks.index_products, products[i:i + TASK_BATCH], IndexKind.PRODUCT, products[i:i + TASK_BATCH])
             for i in range(0, len(products), TASK_BATCH)]
    for task, argument, kind, ids in jobs:
        try:
            task.delay(argument)
        except tasks.IndexingFailed:
            # Eager mode: the task ran here, retried, recorded its failures and gave up.
            logger.error("Search indexing gave up on %s %s (recorded as indexing failures)", kind, ids)
        except Exception as exc:
            logger.exception("Could not queue %s for %s %s", task.name, kind, ids)
            tasks.record_failures(kind, {pk: f"could not queue {task.name}: {exc}" for pk in ids})


# -- units of work ------------------------------------------------------------------------
def begin(reset=False):
    """Start collecting (nested units - an eager task inside a request - share the
    outer batch). `reset` starts a new top-level unit (a new request in this thread)."""
    if reset and getattr(_state, "batch", None) is not None:
        leftover, _state.batch, _state.depth = _state.batch, None, 0
        send(leftover)
    if getattr(_state, "batch", None) is None:
        _state.batch = Batch()
        _state.depth = 1
    else:
        _state.depth += 1


def end():
    depth = getattr(_state, "depth", 0) - 1
    if depth > 0:
        _state.depth = depth
        return
    batch, _state.batch, _state.depth = getattr(_state, "batch", None), None, 0
    if batch is not None:
        send(batch)


class collecting:
    """`with collecting(): ...` batches the index updates of a block (e.g. a
    management command importing many products) into one task."""

    def __enter__(self):
        begin()
        return self

    def __exit__(self, *exc):
        end()


def _request_started(**kwargs):
    begin(reset=True)


def _request_finished(**kwargs):
    end()


def _task_prerun(**kwargs):
    begin()


def _task_postrun(**kwargs):
    end()


def connect_batching_signals():
    from celery.signals import task_postrun, task_prerun
    from django.core.signals import request_finished, request_started

    request_started.connect(_request_started, dispatch_uid="search.indexing.request_started")
    request_finished.connect(_request_finished, dispatch_uid="search.indexing.request_finished")
    task_prerun.connect(_task_prerun, dispatch_uid="search.indexing.task_prerun", weak=False)
    task_postrun.connect(_task_postrun, dispatch_uid="search.indexing.task_postrun", weak=False)
