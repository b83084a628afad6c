"""Stripe amounts are in the currency's minor unit."""
from decimal import Decimal

# Stripe's zero-decimal currencies. ISK is two-decimal in the API (amounts in multiples of
# 100), so it is not here; CNY is two-decimal: 168.00 CNY is 16800.
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf",
                "xof", "xpf"}


def to_minor(amount, currency):
    factor = 1 if currency.lower() in ZERO_DECIMAL else 100
    return int((Decimal(amount) * factor).to_integral_value())


def from_minor(value, currency):
    factor = 1 if currency.lower() in ZERO_DECIMAL else 100
    return (Decimal(value) / factor).quantize(Decimal("1") if factor == 1 else Decimal("0.01"))
