"""Pure rules of the programme: which tier a spend reaches, what a sub-order earns, how a
refund reverses it, when credit expires, and how a redemption is capped. No database.

Money is Decimal CNY with 2 places; points are whole numbers (kept in Decimals or ints).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ONE = Decimal("1")


@dataclass(frozen=True)
class TierRule:
    tier_id: int
    rank: int
    threshold: Decimal
    percent_off: Decimal = ZERO
    points_multiplier: Decimal = ONE


def tier_for(spend: Decimal, tiers) -> TierRule | None:
    """The highest tier whose threshold `spend` reaches (tiers in any order), or None."""
    reached = [t for t in tiers if Decimal(spend) >= t.threshold]
    return max(reached, key=lambda t: t.rank) if reached else None


def earned_points(base: Decimal, per_cny: Decimal, multiplier: Decimal) -> int:
    """floor(base x rate x tier multiplier), never negative: 359.90 at 1/CNY -> 359."""
    value = (Decimal(base) * Decimal(per_cny) * Decimal(multiplier)).to_integral_value(rounding=ROUND_FLOOR)
    return max(int(value), 0)


def earned_cashback(base: Decimal, percent: Decimal, fixed: Decimal, threshold: Decimal,
                    cap: Decimal | None) -> Decimal:
    """Cashback for a sub-order's earning base: `percent` of it (rounded down to the cent)
    plus `fixed` when the base reaches `threshold`, at most `cap`. Never negative."""
    base = Decimal(base)
    amount = (base * Decimal(percent) / Decimal(100)).quantize(CENT, rounding=ROUND_DOWN)
    if fixed and base >= Decimal(threshold) and base > 0:
        amount += Decimal(fixed)
    if cap is not None:
        amount = min(amount, Decimal(cap))
    return max(amount, ZERO).quantize(CENT)


def reversal(earned: Decimal, reversed_so_far: Decimal, share: Decimal, final: bool, unit: Decimal) -> Decimal:
    """What a refund of `share` (a fraction of the sub-order total) reverses of `earned`:
    round_half_even(earned x share) to `unit` (1 for points, 0.01 for cashback), never
    more than what is left; the refund that empties the sub-order (`final`) reverses
    exactly what remains, so a sequence of refunds reverses exactly what was earned."""
    left = Decimal(earned) - Decimal(reversed_so_far)
    if left <= 0:
        return Decimal(0).quantize(unit)
    if final:
        return left.quantize(unit)
    amount = (Decimal(earned) * Decimal(share)).quantize(unit, rounding=ROUND_HALF_EVEN)
    return max(min(amount, left), Decimal(0)).quantize(unit)


def month_end_expiry(available_at: datetime, months: int, zone: str = "Asia/Shanghai") -> datetime:
    """Credit that became available at `available_at` expires at the end of the
    `months`-th month after that month, local time: available 2026-03-15 with 12 months
    -> expires at 2027-04-01 00:00 Asia/Shanghai (the first instant after 2027-03-31).
    Returns an aware datetime in the same zone."""
    tz = ZoneInfo(zone)
    local = available_at.astimezone(tz)
    index = local.year * 12 + (local.month - 1) + months + 1
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=tz)


def redeem_cap(goods: Decimal, max_percent: Decimal) -> Decimal:
    """The most a store's points and cashback may pay of its goods subtotal."""
    return (Decimal(goods) * Decimal(max_percent) / Decimal(100)).quantize(CENT, rounding=ROUND_DOWN)


def points_value(points, per_cny: int) -> Decimal:
    """CNY that `points` pay (rounded down to the cent)."""
    return (Decimal(points) / Decimal(per_cny)).quantize(CENT, rounding=ROUND_DOWN)


def points_for_value(value: Decimal, per_cny: int) -> int:
    """Whole points that pay exactly `value` CNY (per_cny is a multiple of 100)."""
    return int((Decimal(value) * Decimal(per_cny)).to_integral_value(rounding=ROUND_HALF_EVEN))


def grace_ends(below_since: datetime | None, grace_days: int) -> datetime | None:
    return below_since + timedelta(days=grace_days) if below_since is not None else None


def priced(enabled: bool, eligible: bool, below_since: datetime | None, grace_days: int, now: datetime) -> bool:
    """Whether tier prices apply: the programme is on and the store has enough products,
    or fell below less than `grace_days` ago."""
    if not enabled:
        return False
    if eligible:
        return True
    ends = grace_ends(below_since, grace_days)
    return ends is not None and now < ends


def program_status(enabled: bool, eligible: bool, below_since, grace_days: int, now, active: bool = True) -> str:
    """DISABLED (the store has not switched it on), ENABLED, GRACE (below the product
    minimum, tier prices still on) or SUSPENDED (below it past the grace period, or the
    plugin is off for the store: tier prices stop, accounts are kept)."""
    if not enabled:
        return "DISABLED"
    if not active:
        return "SUSPENDED"
    if eligible:
        return "ENABLED"
    return "GRACE" if priced(enabled, eligible, below_since, grace_days, now) else "SUSPENDED"
