"""Money: Decimal amounts with a currency. Never float. Round half-up to 0.01 at the edges."""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

CENT = Decimal("0.01")


def to_decimal(value):
    if isinstance(value, float):
        raise TypeError("Money must not be a float; pass a str or Decimal")
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"Not an amount: {value!r}") from None


def quantize(amount):
    return to_decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str = ""

    def __post_init__(self):
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if not self.currency:
            object.__setattr__(self, "currency", settings.DEFAULT_CURRENCY)

    def rounded(self):
        return Money(quantize(self.amount), self.currency)

    def _check(self, other):
        if other.currency != self.currency:
            raise ValueError(f"Currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other):
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other):
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor):
        return Money(self.amount * to_decimal(factor), self.currency)

    def __lt__(self, other):
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other):
        self._check(other)
        return self.amount <= other.amount
