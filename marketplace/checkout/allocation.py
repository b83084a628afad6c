"""Allocating an order-level amount (a discount or a tender) to lines. Pure.

Each line gets a share in proportion to its weight (its total), in whole cents, the
largest remainders taking the leftover cents; no line takes more than its cap (what it can
still give up before reaching its floor). Shares of capped lines are redistributed over
the others until the amount is placed or every line is full.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

CENT = Decimal("0.01")


def _cents(amount: Decimal) -> int:
    return int((Decimal(amount) / CENT).to_integral_value(rounding="ROUND_FLOOR"))


def allocate(amount: Decimal, lines: list[tuple[object, Decimal, Decimal]]) -> dict[object, Decimal]:
    """Split `amount` over `lines` = [(key, weight, cap)] (Decimals, CNY). Returns
    {key: share} for the keys that got something; sum(shares) == min(amount, sum(caps))."""
    weights = {key: max(_cents(weight), 0) for key, weight, _cap in lines}
    room = {key: max(_cents(cap), 0) for key, _weight, cap in lines}
    given = {key: 0 for key in weights}
    remaining = min(max(_cents(amount), 0), sum(room.values()))
    while remaining > 0:
        open_keys = [k for k in weights if given[k] < room[k]]
        if not open_keys:
            break
        total_weight = sum(weights[k] for k in open_keys)
        raw = {k: Fraction(remaining * (weights[k] if total_weight else 1), total_weight or len(open_keys))
               for k in open_keys}
        placed = 0
        remainders = []
        for key in open_keys:
            whole = min(int(raw[key]), room[key] - given[key])
            given[key] += whole
            placed += whole
            if given[key] < room[key]:
                remainders.append((raw[key] - int(raw[key]), weights[key], key))
        leftover = remaining - placed
        for _fraction, _weight, key in sorted(remainders, key=lambda r: (r[0], r[1]), reverse=True):
            if leftover == 0:
                break
            if given[key] < room[key]:
                given[key] += 1
                leftover -= 1
        if leftover == remaining:  # nothing could be placed this round
            break
        remaining = leftover
    return {key: Decimal(cents) * CENT for key, cents in given.items() if cents}
