"""The calendar and money rules of membership terms. Pure functions (no database), so
they are unit-tested directly:

- `term_end(start, months, tz)`: the same local date `months` later at 23:59:59 local
  time (29 Feb -> 28 Feb when the target month is shorter);
- `whole_months_between(start, end, tz)`: whole calendar months from one local date to
  another (what is left of a term, for a pro-rata refund);
- `refund_amount(price_paid, already_refunded, benefits_used, unused_months, term_months)`:
  everything paid back when no benefit was used, else pro rata of the unused whole months
  minus the benefits consumed, never below 0.
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _zone(tz):
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_end(start: datetime, months: int, tz) -> datetime:
    """When a term starting at `start` (aware) ends: 23:59:59 local time on the same local
    date `months` later. Returned aware, in UTC."""
    zone = _zone(tz)
    local = start.astimezone(zone)
    last_day = add_months(local.date(), months)
    end = datetime.combine(last_day, time(23, 59, 59), tzinfo=zone)
    return end.astimezone(ZoneInfo("UTC"))


def renewal_start(paid_at: datetime, latest_end: datetime | None) -> datetime:
    """A renewal paid while a period runs (or is scheduled) starts at the latest end;
    otherwise at payment time. Never earlier: a term is only ever extended."""
    if latest_end is not None and latest_end > paid_at:
        return latest_end
    return paid_at


def whole_months_between(start: datetime, end: datetime, tz) -> int:
    """Whole calendar months from `start` to `end` counted on local dates (0 when `end`
    is not after `start`)."""
    zone = _zone(tz)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    if last <= first:
        return 0
    months = (last.year - first.year) * 12 + (last.month - first.month)
    while months > 0 and add_months(first, months) > last:
        months -= 1
    return months


def days_left(now: datetime, end: datetime, tz) -> int:
    """Local calendar days from today to the end's date (0 on the last day)."""
    zone = _zone(tz)
    return (end.astimezone(zone).date() - now.astimezone(zone).date()).days


def quantize(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def refund_amount(price_paid, already_refunded, benefits_used, unused_months, term_months) -> Decimal:
    """What a staff refund pays back (Decimal, 2 places, >= 0, <= what is left)."""
    price_paid, already_refunded = quantize(price_paid), quantize(already_refunded)
    benefits_used = quantize(benefits_used)
    left = max(price_paid - already_refunded, ZERO)
    if benefits_used <= 0:
        return left
    unused = max(min(int(unused_months), int(term_months)), 0)
    pro_rata = quantize(price_paid * unused / Decimal(term_months))
    return min(max(pro_rata - benefits_used, ZERO), left)


def month_bounds(year: int, month: int, tz) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar month as aware datetimes."""
    zone = _zone(tz)
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime.combine(add_months(date(year, month, 1), 1), time(0), tzinfo=zone)
    return start, end


__all__ = ["add_months", "term_end", "renewal_start", "whole_months_between", "days_left",
           "refund_amount", "month_bounds", "quantize"]
