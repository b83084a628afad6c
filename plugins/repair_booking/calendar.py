"""Pure calendar rules (no database): opening intervals of a local date, local wall-clock
times to UTC with the zone rules *of that date*, slot starts, durations, overlap.

Minutes are minutes after local midnight (0-1440; 1440 is the end of the day). A local
time that does not exist (the hour skipped when clocks go forward) is never offered; one
that exists twice (clocks go back) is offered once, at its first occurrence (fold 0).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc
DAY = 24 * 60


FIRST_YEAR, LAST_YEAR = 2000, 2100


def check_year(value, field):
    """Refuse dates and times outside 2000-2100 (INVALID naming `field`): nothing is
    booked there, and the far ends of the calendar overflow time-zone arithmetic."""
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        from marketplace.plugins.errors import ValidationError

        raise ValidationError(f"Give a date between {FIRST_YEAR} and {LAST_YEAR}.", field=field)
    return value


def zone(name) -> ZoneInfo:
    """The zone named `name`; ValueError for an unknown name."""
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"Unknown time zone {name!r}") from None


def parse_minute(text, end=False) -> int:
    """"HH:MM" -> minutes after midnight; "24:00" only as an end. ValueError otherwise."""
    try:
        hours, minutes = str(text).strip().split(":")
        value = int(hours) * 60 + int(minutes)
    except (ValueError, AttributeError):
        raise ValueError(f"Not a time of day: {text!r} (HH:MM)") from None
    if not 0 <= int(minutes) < 60 or not 0 <= value <= (DAY if end else DAY - 1):
        raise ValueError(f"Not a time of day: {text!r} (HH:MM)")
    return value


def format_minute(value) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


def clean_intervals(pairs) -> list[tuple[int, int]]:
    """[["09:00", "12:00"], ["13:00", "18:00"]] -> sorted minute pairs; ValueError when an
    interval is empty, reversed or overlaps another."""
    result = []
    for pair in pairs or ():
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError("Give each interval as [opens, closes].")
        opens, closes = parse_minute(pair[0]), parse_minute(pair[1], end=True)
        if closes <= opens:
            raise ValueError(f"{format_minute(opens)}-{format_minute(closes)}: closes before it opens.")
        result.append((opens, closes))
    result.sort()
    for (_, first_end), (second_start, _) in zip(result, result[1:]):
        if second_start < first_end:
            raise ValueError("Intervals overlap.")
    return result


def local_intervals(day: date, weekly: dict, exceptions: dict) -> list[tuple[int, int]]:
    """The opening intervals of a local date: a dated exception (None = closed, or its own
    intervals) wins over the weekday's rules (`weekly`: {0..6: [(opens, closes)]})."""
    if day in exceptions:
        return list(exceptions[day] or ())
    return list(weekly.get(day.weekday(), ()))


def exists(day: date, minute: int, tz: ZoneInfo) -> bool:
    """Whether the local wall-clock time exists that day (not skipped by a DST change)."""
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    back = local.astimezone(UTC).astimezone(tz)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def to_utc(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The instant of a local wall-clock time (first occurrence when it exists twice; a
    skipped time maps to the instant just after the gap, for interval ends)."""
    if minute >= DAY:
        return to_utc(day + timedelta(days=1), minute - DAY, tz)
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    return local.astimezone(UTC)


def local_instant(naive: datetime, tz: ZoneInfo) -> datetime | None:
    """A naive local datetime as an aware UTC instant, or None when it does not exist."""
    if not exists(naive.date(), naive.hour * 60 + naive.minute, tz):
        return None
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def duration_minutes(labour_hours, buffer_minutes, slot_minutes) -> int:
    """Calendar length: ceil((hours x 60 + buffer) / slot) slots. 0.8 h on 30-minute slots
    -> 60 minutes."""
    raw = float(labour_hours) * 60 + int(buffer_minutes)
    return max(1, math.ceil(round(raw, 6) / slot_minutes)) * slot_minutes


@dataclass(frozen=True)
class Window:
    """One opening interval of a date, as instants."""

    day: date
    opens: datetime
    closes: datetime


def windows(first: date, last: date, weekly: dict, exceptions: dict, tz: ZoneInfo) -> list[Window]:
    result = []
    day = first
    while day <= last:
        for opens, closes in local_intervals(day, weekly, exceptions):
            result.append(Window(day, to_utc(day, opens, tz), to_utc(day, closes, tz)))
        day += timedelta(days=1)
    return result


def starts(day: date, opens: int, closes: int, slot_minutes: int, tz: ZoneInfo):
    """Slot starts of one local interval, stepped in wall-clock time: [(minute, instant)],
    skipping times that do not exist; a repeated hour is offered once."""
    first, last = to_utc(day, opens, tz), to_utc(day, closes, tz)
    if exists(day, opens, tz) and last - first == timedelta(minutes=closes - opens):
        # no clock change inside the interval (every day but two a year): plain arithmetic
        for minute in range(opens, closes, slot_minutes):
            yield minute, first + timedelta(minutes=minute - opens)
        return
    minute = opens
    while minute < closes:
        if exists(day, minute, tz):
            yield minute, to_utc(day, minute, tz)
        minute += slot_minutes


def epoch(instant) -> int:
    """Seconds since 1970 (UTC) of an aware datetime (busy intervals are kept as ints:
    comparing them is cheap)."""
    return int(instant.timestamp())


@dataclass
class BusyBay:
    """A bay's busy intervals as epoch seconds, sorted, for quick "is [a, b) free?"
    checks (`free` takes epoch seconds or aware datetimes)."""

    bay_id: int
    bay_type: str
    starts: list = field(default_factory=list)
    ends: list = field(default_factory=list)
    longest: int = 0

    def add(self, start, end):
        if not isinstance(start, int):
            start, end = epoch(start), epoch(end)
        index = bisect.bisect_left(self.starts, start)
        self.starts.insert(index, start)
        self.ends.insert(index, end)
        self.longest = max(self.longest, end - start)

    def free(self, start, end) -> bool:
        # An interval overlapping [start, end) starts before `end`; the latest of those that
        # could still be running is found by scanning back while ends may reach `start`.
        if not isinstance(start, int):
            start, end = epoch(start), epoch(end)
        index = bisect.bisect_left(self.starts, end)
        while index > 0:
            index -= 1
            if self.ends[index] > start:
                return False
            if self.starts[index] < start - self.longest:
                break
        return True


def overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end
