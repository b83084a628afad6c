"""Vendor-funded credit in the engine's double-entry ledger (spec 6.5): points and cashback
granted move their value from what the store is owed (`vendor_payable`) to what
customers are owed (`customer_credit_liability`, kept per store); a reversal or an expiry
moves it back. Spending them at checkout is booked by the core (the tender booking).
"""
from __future__ import annotations

from decimal import Decimal

LIABILITY, PAYABLE = "customer_credit_liability", "vendor_payable"


def book(kind, vendor_id, value, *, order_id=None, vendor_order_id=None, key, memo="", to_customer=True):
    """Book vendor-funded credit in the engine ledger: granting `value` CNY moves it from
    what the vendor is owed to what customers are owed (`to_customer`), reversing or
    expiring moves it back."""
    from marketplace.plugins.ledger import book as ledger_book

    value = Decimal(value)
    if value <= 0:
        return None
    sign = 1 if to_customer else -1
    return ledger_book(kind, [(PAYABLE, -sign * value), (LIABILITY, sign * value)], vendor_id=vendor_id,
                       order_id=order_id, vendor_order_id=vendor_order_id, memo=memo, key=key)
