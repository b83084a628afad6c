"""Domain events: emitted inside a transaction, dispatched after it commits.

`emit("user_registered", {...})` schedules the event; when the surrounding
transaction commits, active plugins receive it through the `handle_event` hook and
subscribed webhooks get a signed delivery through Celery. A rolled-back transaction
emits nothing.
"""
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from django.db import transaction

logger = logging.getLogger("marketplace.events")

# Events the core emits. Apps add their own with `register_event_type`; plugins
# declare theirs through the `event_types` hook.
CORE_EVENT_TYPES = {
    "user_registered": "A member registered an account (payload: user_id, email).",
    "user_email_confirmed": "A member confirmed their e-mail address (payload: user_id, email).",
    "password_changed": "A user changed or reset their password (payload: user_id).",
    "plugin_updated": "Platform staff changed a plugin's activation or settings (payload: plugin, vendor_id, active).",
}


def register_event_type(name, description):
    CORE_EVENT_TYPES.setdefault(name, description)


# Core apps (search indexing, ...) subscribe here; plugins use the `handle_event` hook.
_subscribers = []


def subscribe(function):
    """Register `function(event)` to receive every domain event after commit. For core
    apps, called from AppConfig.ready(). Failures are logged and contained."""
    if function not in _subscribers:
        _subscribers.append(function)
    return function


def event_types():
    """All known event names: the core's and those plugins declare."""
    from marketplace.plugins.manager import get_manager

    types = dict(CORE_EVENT_TYPES)
    for declared in get_manager().call_all("event_types", include_inactive=True):
        types.update(declared)
    return types


@dataclass(frozen=True)
class Event:
    name: str
    payload: dict
    vendor_id: int | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def as_dict(self):
        return {
            "id": self.id,
            "name": self.name,
            "occurred_at": self.occurred_at.isoformat(),
            "vendor_id": self.vendor_id,
            "payload": self.payload,
        }


def emit(name, payload, vendor_id=None, using=None):
    """Schedule a domain event for dispatch after the current transaction commits
    (immediately when no transaction is open). Returns the Event."""
    if name not in event_types():
        raise ValueError(f"Unknown event type {name!r}; declare it first")
    event = Event(name=name, payload=payload, vendor_id=vendor_id)

    def dispatch_after_commit():
        try:
            dispatch(event)
        except Exception:  # never let an event break the request that committed it
            logger.exception("Dispatching %s %s failed", event.name, event.id)

    transaction.on_commit(dispatch_after_commit, using=using)
    return event


def dispatch(event):
    from marketplace.plugins.manager import get_manager
    from marketplace.webhooks.services import enqueue_deliveries

    for subscriber in list(_subscribers):
        try:
            subscriber(event)
        except Exception:
            logger.exception("Event subscriber %r failed on %s", subscriber, event.name)
    get_manager().call_all("handle_event", vendor_id=event.vendor_id, notify=True, event=event)
    try:
        enqueue_deliveries(event)
    except Exception:
        logger.exception("Could not enqueue webhook deliveries for %s %s", event.name, event.id)
