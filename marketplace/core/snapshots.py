"""Process-local snapshots of small tables that change rarely (the category tree, the
platform campaigns, the plugin configuration), invalidated on write across processes.

Each snapshot name has a *generation* in the shared cache (Redis in production, so every
worker process sees it). A write bumps the generation (`bump(name)`: at once, for the
writer's own later reads, and again after commit, for readers that rebuilt meanwhile from
the data before the commit). A reader compares the generation with the one its process
copy was built at and rebuilds on a difference:

    CATEGORIES = Snapshot("categories", lambda: list(Category.objects.order_by("pk")))
    CATEGORIES.get()       # the rows; one query per change, not per request

Costs: reading the generations is one cache round trip for all names together, done once
per request or task (memoized between `open_scope()` and `close_scope()`, which the
plugin framework's `configuration_scope` calls for each request and task; outside any
scope every `get()` asks the cache). A generation that is missing (a fresh or
flushed cache) starts at a random number, so a copy built before the flush is never
taken for current.

Consistency: a copy read inside a transaction that wrote to its tables (bumped its name)
is used for that read only, never stored: it may hold uncommitted writes. A copy read in a
transaction that did not write them is committed data, and kept. The values are shared by every thread of the process: treat
them as read-only.
"""
from __future__ import annotations

import contextvars
import random
import threading

from django.core.cache import cache
from django.db import connection, transaction

PREFIX = "snapshot:"
_registry: dict[str, "Snapshot"] = {}
_names: set[str] = set()  # every generation name read together (snapshots and plain counters)
_lock = threading.Lock()


def register_generation(name):
    """Declare a generation counter read with the others (e.g. the catalog version that
    listing counts are keyed by). Idempotent."""
    _names.add(name)


def _key(name):
    return f"{PREFIX}{name}"


_scope = contextvars.ContextVar("snapshot_generations", default=None)


def open_scope():
    """Memoize the generations until `close_scope(token)` (one request or task)."""
    return _scope.set({})


def close_scope(token):
    _scope.reset(token)


def invalidate():
    """Forget the memoized generations of the current scope (read them again)."""
    memo = _scope.get()
    if memo is not None:
        memo.clear()


def _memo():
    memo = _scope.get()
    return memo if memo is not None else {}  # outside a scope: a throw-away dict


def generations():
    """{name: generation} of every registered name: one cache round trip per request."""
    memo = _memo()
    if memo and _names <= memo.keys():
        return memo
    names = sorted(_names)
    found = cache.get_many([_key(n) for n in names])
    result = {}
    for name in names:
        value = found.get(_key(name))
        if value is None:
            cache.add(_key(name), random.randrange(1, 1 << 40), timeout=None)
            value = cache.get(_key(name))
        result[name] = value
    memo.update(result)
    return result


def generation(name):
    register_generation(name)
    return generations()[name]


def bump(name):
    """Invalidate `name` everywhere: now, and again after the current transaction commits."""
    register_generation(name)

    def _bump():
        try:
            cache.incr(_key(name))
        except ValueError:  # missing: a fresh random generation is just as new
            cache.add(_key(name), random.randrange(1, 1 << 40), timeout=None)
        _memo().pop(name, None)

    _bump()
    written = _written_in_transaction()
    if written is not None:
        written.add(name)
        transaction.on_commit(_clear_written)
    transaction.on_commit(_bump)


def _own_outermost():
    """The outermost atomic block of the caller's own, or None (the test framework's
    wrapping transaction does not count: tests behave as production)."""
    for block in connection.atomic_blocks:
        if not getattr(block, "_from_testcase", False):
            return block
    return None


def _written_in_transaction():
    """Names bumped inside the current transaction of the caller's own (a copy read there
    may hold its uncommitted writes), or None outside any. Cleared when it commits; after
    a rollback the names stay marked until the next commit (keeping a copy less, never a
    wrong one)."""
    outer = _own_outermost()
    if outer is None:
        return None
    marked = getattr(connection, "_snapshot_written", None)
    if marked is None or marked[0] is not outer:
        marked = connection._snapshot_written = (outer, set())
    return marked[1]


def _clear_written():
    connection._snapshot_written = None


def in_own_transaction():
    return _own_outermost() is not None


class Snapshot:
    """A value built from the database (`build()`), kept per process until its
    generation moves. See the module docstring."""

    def __init__(self, name, build):
        self.name = name
        self.build = build
        self._held = None  # (generation, value)
        register_generation(name)
        _registry[name] = self

    def get(self):
        current = generations()[self.name]
        held = self._held
        if held is not None and held[0] == current:
            return held[1]
        value = self.build()
        written = _written_in_transaction()
        if written is None or self.name not in written:  # committed data only
            with _lock:
                self._held = (current, value)
        return value

    def bump(self):
        bump(self.name)

    def drop(self):
        """Forget the process copy (tests)."""
        self._held = None


def connect(snapshot, *models, m2m=()):
    """Bump `snapshot` whenever one of `models` is saved or deleted, or one of the `m2m`
    through tables changes (Django signals; queryset.update() sends none: bump by hand)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    def handler(**_kwargs):
        bump(snapshot.name)

    snapshot._handler = handler  # signals hold receivers weakly
    for model in models:
        post_save.connect(handler, sender=model, weak=False, dispatch_uid=f"snapshot-{snapshot.name}-save-{model.__name__}")
        post_delete.connect(handler, sender=model, weak=False,
                            dispatch_uid=f"snapshot-{snapshot.name}-delete-{model.__name__}")
    for through in m2m:
        m2m_changed.connect(handler, sender=through, weak=False,
                            dispatch_uid=f"snapshot-{snapshot.name}-m2m-{through.__name__}")
