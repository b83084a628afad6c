"""Domain events: typed classes, emitted inside a transaction, dispatched after it commits.

An event is a frozen dataclass subclassing `Event`, with a unique snake_case `name`, a
`description` and typed fields (its payload):

    @dataclass(frozen=True, kw_only=True)
    class OrderPaid(Event):
        name = "order_paid"
        description = "An order's payment was captured."
        order_id: int
        vendor_totals: dict[int, Decimal]

    emit(OrderPaid(order_id=order.pk, vendor_totals={...}))

Core apps register their classes with `register_event` in `AppConfig.ready()`; plugins
return theirs from the `register_events` hook. The registry is built once, at the first
use after start-up, and frozen. When the surrounding transaction commits, subscribers
registered with `subscribe` (core apps such as search and webhooks) and then active
plugins (the `handle_event` hook) receive the event; a rolled-back transaction emits
nothing.
"""
from __future__ import annotations

import dataclasses
import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.db import transaction

from . import clock

logger = logging.getLogger("marketplace.events")


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every domain event. `vendor_id` is the event's scope (plugins switched off
    for that vendor do not receive it) and part of its payload."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    vendor_id: int | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=clock.now)

    @property
    def payload(self) -> dict[str, Any]:
        """The event's own fields as JSON-ready values (Decimal and dates as strings)."""
        return {f.name: _json(getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.name not in ("id", "occurred_at")}

    def as_dict(self) -> dict[str, Any]:
        """The envelope webhooks deliver."""
        return {"id": self.id, "name": self.name, "occurred_at": self.occurred_at.isoformat(),
                "vendor_id": self.vendor_id, "payload": self.payload}


def _json(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class PluginUpdated(Event):
    name = "plugin_updated"
    description = "Platform staff changed a plugin's activation or settings (payload: plugin, active)."
    plugin: str
    active: bool


_core: dict[str, type[Event]] = {}
_registry: dict[str, type[Event]] | None = None
_sources = []  # callables returning [(owner, [Event classes])]: the plugins app adds one


def add_source(source):
    """Register a source of more event classes, read once when the registry is built
    (the plugins app adds the plugins' `register_events` hook this way)."""
    global _registry
    if source not in _sources:
        _sources.append(source)
        _registry = None


def register_event(event_class: type[Event]) -> type[Event]:
    """Register a core event class (call from AppConfig.ready()). Usable as a decorator."""
    _check(event_class)
    existing = _core.get(event_class.name)
    if existing is not None and existing is not event_class:
        raise RuntimeError(f"Two event classes are named {event_class.name!r}")
    _core[event_class.name] = event_class
    return event_class


def _check(event_class):
    if not (isinstance(event_class, type) and issubclass(event_class, Event)) or not event_class.name:
        raise TypeError(f"{event_class!r} is not an Event subclass with a name")


def registry() -> dict[str, type[Event]]:
    """Every event class by name: the core's and those plugins register. Built once."""
    global _registry
    if _registry is None:
        found = dict(_core)
        for source in _sources:
            for owner, classes in source():
                for event_class in classes or ():
                    _check(event_class)
                    if found.get(event_class.name, event_class) is not event_class:
                        raise RuntimeError(f"{owner!r} registers the event name {event_class.name!r} twice")
                    found[event_class.name] = event_class
        _registry = found
    return _registry


def event_types() -> dict[str, str]:
    """{name: description} of every known event."""
    return {name: cls.description for name, cls in registry().items()}


# Core apps (search indexing, webhooks) subscribe here; the plugins app subscribes the
# `handle_event` hook (plugins active in the event's scope receive it there).
_subscribers: list[tuple[Any, tuple[type[Event], ...]]] = []


def subscribe(function, *event_classes: type[Event]):
    """Register `function(event)` to receive events after commit: every event, or only
    instances of `event_classes`. For core apps, called from AppConfig.ready(). Failures
    are logged and contained."""
    entry = (function, tuple(event_classes))
    if entry not in _subscribers:
        _subscribers.append(entry)
    return function


def emit(event: Event, using=None) -> Event:
    """Schedule `event` for dispatch after the current transaction commits (immediately
    when no transaction is open). Raises TypeError for an unregistered event class."""
    if not isinstance(event, Event) or registry().get(event.name) is not type(event):
        raise TypeError(f"Unknown event {event!r}: register its class first")

    def dispatch_after_commit():
        try:
            dispatch(event)
        except Exception:  # never let an event break the request that committed it
            logger.exception("Dispatching %s %s failed", event.name, event.id)

    transaction.on_commit(dispatch_after_commit, using=using)
    return event


def dispatch(event: Event):
    for subscriber, classes in list(_subscribers):
        if classes and not isinstance(event, classes):
            continue
        try:
            subscriber(event)
        except Exception:
            logger.exception("Event subscriber %r failed on %s", subscriber, event.name)


register_event(PluginUpdated)
