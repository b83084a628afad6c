"""Free start times of a shop (reads only).

For each local date in range: the opening intervals (weekday rules, then dated
exceptions), converted to UTC with that date's zone rules, cut into `slot_minutes` starts.
A start is offered when a bay of the required type is free for the whole duration, it is
at least `min_notice_minutes` ahead, at most `max_advance_days` ahead, not before the
cart's parts can arrive (`earliest`), and the service ends by closing time (plus
`allow_overrun_minutes`). Busy = occupying bookings + unexpired holds of *other* owners +
bay blocks: the caller's own hold never hides a slot from the caller.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import BigIntegerField, F, Func

from marketplace.plugins.errors import ErrorCode, ValidationError

from . import calendar
from .models import OCCUPYING, RepairBay, RepairBayBlock, RepairBooking, RepairHold


@dataclass(frozen=True)
class Requirement:
    """What a booking needs: one bay type for `minutes` (services' labour and buffers,
    rounded up to whole slots)."""

    bay_type: str
    minutes: int
    labour_hours: object
    service_ids: tuple = ()


@dataclass(frozen=True)
class Owner:
    """Whose holds do not count as busy: a cart and/or a signed-in member."""

    checkout_token: str | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Slot:
    start: datetime  # UTC
    end: datetime
    day: date  # the shop's local date
    local_minute: int
    bay_ids: tuple  # free bays of the required type, preferred first


class ShopCalendar:
    """A shop's rules loaded once: zone, weekly intervals, dated exceptions."""

    def __init__(self, shop):
        self.shop = shop
        self.tz = calendar.zone(shop.timezone)
        self.weekly = {}
        for rule in shop.opening_rules.all():
            self.weekly.setdefault(rule.weekday, []).append((rule.opens, rule.closes))
        for intervals in self.weekly.values():
            intervals.sort()
        self.exceptions = {}
        for exception in shop.date_exceptions.all():
            self.exceptions[exception.date] = None if exception.closed else calendar.clean_intervals(
                exception.intervals)

    def local_date(self, instant) -> date:
        return instant.astimezone(self.tz).date()

    def intervals(self, day):
        return calendar.local_intervals(day, self.weekly, self.exceptions)


def requirement(services, quantities=None, slot_minutes=30) -> Requirement:
    """The bay type and duration of a set of `RepairService` rows (x their quantity).
    Raises ValidationError INVALID (field "services") when they need different bay types
    or the list is empty."""
    from decimal import Decimal

    services = list(services)
    if not services:
        raise ValidationError("Choose at least one service.", code=ErrorCode.REQUIRED, field="services")
    types = {s.bay_type for s in services}
    if len(types) > 1:
        raise ValidationError("These services need different kinds of bay; book them separately.",
                              field="services")
    quantities = quantities or {}
    hours = sum((s.labour_hours * quantities.get(s.pk, 1) for s in services), Decimal("0"))
    buffer = sum(s.buffer_minutes for s in services)
    return Requirement(types.pop(), calendar.duration_minutes(hours, buffer, slot_minutes), hours,
                       tuple(s.pk for s in services))


class Epoch(Func):
    """A timestamp as integer epoch seconds, computed by the database (loading thousands
    of integers costs far less than parsing thousands of timestamps)."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(EXTRACT(EPOCH FROM %(expressions)s) AS BIGINT)",
                           **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(strftime('%%s', %(expressions)s) AS INTEGER)",
                           **extra)


def _intervals(queryset):
    return queryset.annotate(_s=Epoch(F("start")), _e=Epoch(F("end"))).values_list("bay_id", "_s", "_e")


def load_busy(shop, bay_type, start, end, now, owner: Owner | None = None, exclude_booking_ids=(), bay_ids=None):
    """{bay_id: BusyBay} for the shop's active bays of `bay_type` (or only `bay_ids`)
    between `start` and `end` (four queries)."""
    bays = RepairBay.objects.filter(shop=shop, is_active=True, bay_type=bay_type).order_by("pk")
    if bay_ids is not None:
        bays = bays.filter(pk__in=list(bay_ids))
    bays = list(bays)
    busy = {bay.pk: calendar.BusyBay(bay.pk, bay.bay_type) for bay in bays}
    if not bays:
        return busy
    # Only what overlaps [start, end) can make a start in it busy.
    bookings = _intervals(RepairBooking.objects.filter(bay_id__in=busy, status__in=OCCUPYING, start__lt=end,
                                                       end__gt=start).exclude(pk__in=list(exclude_booking_ids)))
    for bay_id, b_start, b_end in bookings:
        busy[bay_id].add(b_start, b_end)
    holds = RepairHold.objects.filter(bay_id__in=busy, expires_at__gt=now, start__lt=end, end__gt=start)
    if owner is not None and owner.checkout_token:
        holds = holds.exclude(checkout_token=owner.checkout_token)
    if owner is not None and owner.user_id:
        holds = holds.exclude(user_id=owner.user_id)
    for bay_id, h_start, h_end in _intervals(holds):
        busy[bay_id].add(h_start, h_end)
    for bay_id, b_start, b_end in _intervals(RepairBayBlock.objects.filter(bay_id__in=busy, start__lt=end,
                                                                            end__gt=start)):
        busy[bay_id].add(b_start, b_end)
    return busy


def claim_bay(shop, bay_type, candidates, start, end, now, owner=None, exclude_booking_ids=(), field="start"):
    """Inside the caller's transaction: lock the candidate bays one at a time, in
    primary-key order (so concurrent claims never deadlock), re-check each under its lock
    and return the first still free for [start, end). SLOT_TAKEN (naming `field`) when
    none is. Only the bay actually taken (and the busy ones tried before it) stay locked,
    so bookings of different bays of a shop proceed in parallel."""
    for bay_id in sorted(candidates):
        if not RepairBay.objects.select_for_update().filter(pk=bay_id, is_active=True).exists():
            continue
        busy = load_busy(shop, bay_type, start, end, now, owner, exclude_booking_ids, bay_ids=[bay_id])
        if bay_id in busy and busy[bay_id].free(start, end):
            return bay_id
    raise ValidationError("That time was just taken; choose another.", code=ErrorCode.SLOT_TAKEN, field=field)


def _bounds(shop, now, earliest):
    lower = now + timedelta(minutes=shop.min_notice_minutes)
    if earliest is not None and earliest > lower:
        lower = earliest
    upper = now + timedelta(days=shop.max_advance_days)
    return lower, upper


def free_slots(shop_calendar: ShopCalendar, need: Requirement, first: date, last: date, now: datetime,
               earliest: datetime | None = None, owner: Owner | None = None, limit: int | None = None,
               busy=None) -> list[Slot]:
    """Every offered start between the local dates `first` and `last` (inclusive), in time
    order; `limit` stops after that many."""
    shop = shop_calendar.shop
    tz = shop_calendar.tz
    lower, upper = _bounds(shop, now, earliest)
    first = max(first, shop_calendar.local_date(min(lower, upper)))
    last = min(last, shop_calendar.local_date(upper))
    if last < first:
        return []
    length = timedelta(minutes=need.minutes)
    seconds = need.minutes * 60
    overrun = timedelta(minutes=shop.allow_overrun_minutes)
    if busy is None:
        busy = load_busy(shop, need.bay_type, calendar.to_utc(first, 0, tz),
                         calendar.to_utc(last, calendar.DAY, tz) + length + overrun, now, owner)
    bays = list(busy.values())
    found = []
    day = first
    while day <= last:
        for opens, closes in shop_calendar.intervals(day):
            closing = calendar.to_utc(day, closes, tz) + overrun
            for minute, start in calendar.starts(day, opens, closes, shop.slot_minutes, tz):
                end = start + length
                if start < lower or start > upper or end > closing:
                    continue
                at = calendar.epoch(start)
                free = tuple(b.bay_id for b in bays if b.free(at, at + seconds))
                if free:
                    found.append(Slot(start, end, day, minute, free))
                    if limit is not None and len(found) >= limit:
                        return found
        day += timedelta(days=1)
    return found


def check_start(shop_calendar: ShopCalendar, need: Requirement, start: datetime, now: datetime,
                earliest: datetime | None = None, owner: Owner | None = None, exclude_booking_ids=(),
                field="start") -> Slot:
    """The offered slot at exactly `start` (aware), or ValidationError naming `field`:
    INVALID (in the past, too soon, beyond the horizon, before the parts arrive, outside
    opening hours or not a slot start, runs past closing), SLOT_TAKEN (no bay free)."""
    shop = shop_calendar.shop
    tz = shop_calendar.tz
    if start <= now:
        raise ValidationError("That time is in the past.", field=field)
    lower, upper = _bounds(shop, now, earliest)
    if start < now + timedelta(minutes=shop.min_notice_minutes):
        raise ValidationError(f"Book at least {shop.min_notice_minutes} minutes ahead.", field=field)
    if earliest is not None and start < earliest:
        local = earliest.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        raise ValidationError(f"The parts cannot reach the shop before {local}; choose a later time.", field=field)
    if start > upper:
        raise ValidationError(f"Book at most {shop.max_advance_days} days ahead.", field=field)
    day = shop_calendar.local_date(start)
    length = timedelta(minutes=need.minutes)
    overrun = timedelta(minutes=shop.allow_overrun_minutes)
    for opens, closes in shop_calendar.intervals(day):
        for minute, candidate in calendar.starts(day, opens, closes, shop.slot_minutes, tz):
            if candidate != start:
                continue
            if start + length > calendar.to_utc(day, closes, tz) + overrun:
                raise ValidationError(f"The work ({need.minutes} minutes) would run past closing time "
                                      f"({calendar.format_minute(closes)}).", field=field)
            busy = load_busy(shop, need.bay_type, start, start + length, now, owner, exclude_booking_ids)
            free = tuple(b.bay_id for b in busy.values() if b.free(start, start + length))
            if not free:
                raise ValidationError("That time was just taken; choose another.", code=ErrorCode.SLOT_TAKEN,
                                      field=field)
            return Slot(start, start + length, day, minute, free)
    raise ValidationError("The shop does not take bookings at that time (outside opening hours, or not a slot "
                          "start).", field=field)
