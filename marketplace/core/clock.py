"""The engine's clock: every time-dependent rule (order expiry, campaigns, member terms,
booking slots, group windows, trials) asks `now()` instead of the system clock, so tests
move time instead of waiting.

    from marketplace.core import clock
    clock.now()                      # an aware UTC datetime
    with clock.frozen(datetime(2026, 11, 11, tzinfo=timezone.utc)):
        ...                          # now() answers that instant (+ any travel)
    clock.travel(timedelta(hours=25))  # move a frozen or running clock forward

The override is process-wide (a Celery worker thread in the same test process sees it);
production never sets it. `frozen()` and `offset()` restore the previous clock on exit.
"""
from __future__ import annotations

import contextlib
import threading
from datetime import datetime, timedelta, timezone as dt_timezone

_lock = threading.Lock()
_frozen: datetime | None = None  # a fixed instant, or None for the system clock
_offset = timedelta(0)  # added to whichever clock is in use


def _system_now() -> datetime:
    return datetime.now(dt_timezone.utc)


def now() -> datetime:
    """The current time (aware, UTC), as the engine sees it."""
    base = _frozen if _frozen is not None else _system_now()
    return base + _offset


def today(tz=None):
    """The current local date in `tz` (a zoneinfo key or tzinfo; default: the business zone)."""
    return localtime(now(), tz).date()


def business_zone():
    from zoneinfo import ZoneInfo

    from django.conf import settings

    return ZoneInfo(settings.TIME_ZONE)


def localtime(value: datetime, tz=None) -> datetime:
    """`value` in `tz` (a zoneinfo key, a tzinfo, or None for the business zone)."""
    from zoneinfo import ZoneInfo

    if tz is None:
        tz = business_zone()
    elif isinstance(tz, str):
        tz = ZoneInfo(tz)
    return value.astimezone(tz)


def set_frozen(instant: datetime | None) -> None:
    """Fix the clock at `instant` (aware) or return to the system clock (None)."""
    global _frozen
    if instant is not None and instant.tzinfo is None:
        raise ValueError("Freeze the clock at an aware datetime")
    with _lock:
        _frozen = instant


def travel(delta: timedelta) -> datetime:
    """Move the clock forward (or back, with a negative delta). Returns the new now()."""
    global _offset
    with _lock:
        _offset += delta
    return now()


def reset() -> None:
    """Back to the system clock with no offset."""
    global _frozen, _offset
    with _lock:
        _frozen, _offset = None, timedelta(0)


@contextlib.contextmanager
def frozen(instant: datetime):
    """Within the block, now() answers `instant` (moved by any `travel`)."""
    global _frozen, _offset
    with _lock:
        saved = (_frozen, _offset)
    set_frozen(instant)
    with _lock:
        _offset = timedelta(0)
    try:
        yield
    finally:
        with _lock:
            _frozen, _offset = saved


@contextlib.contextmanager
def offset(delta: timedelta):
    """Within the block, the clock runs `delta` ahead of where it was."""
    global _offset
    with _lock:
        saved = _offset
        _offset = saved + delta
    try:
        yield
    finally:
        with _lock:
            _offset = saved
