"""Checks for client input: every refusal is a `ValidationError` naming its field, with a
code (INVALID, REQUIRED). NaN and Infinity are refused like any other bad number."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marketplace.plugins.errors import ErrorCode, ValidationError

CENT = Decimal("0.01")


def decimal(value, field, *, low=Decimal("0"), high=Decimal("1000000"), places=2) -> Decimal:
    """A finite Decimal in [low, high] with at most `places` decimal places."""
    if isinstance(value, bool):
        raise ValidationError("Not a number.", field=field)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError("Not a number.", field=field) from None
    if not number.is_finite():
        raise ValidationError("Give a finite number (not NaN or Infinity).", field=field)
    if number < low or number > high:
        raise ValidationError(f"Give a number from {low} to {high}.", field=field)
    step = Decimal(1).scaleb(-places)
    if number != number.quantize(step):
        raise ValidationError(f"At most {places} decimal places.", field=field)
    return number.quantize(step)


def whole(value, field, *, low=0, high=10**9) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"Give a whole number from {low} to {high}.", field=field)
    return value


def text(value, field, limit, *, required=False) -> str:
    result = str(value or "").strip()
    if required and not result:
        raise ValidationError("Required.", code=ErrorCode.REQUIRED, field=field)
    if len(result) > limit:
        raise ValidationError(f"At most {limit} characters.", field=field)
    return result


def boolean(value, field) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("Give true or false.", field=field)
    return value
