"""The double-entry ledger for plugins (see marketplace/orders/ledger.py for the core's
bookings and sign convention: money received negative on `customer_payments`, what is owed
or earned positive).

- `book(kind, entries, vendor_id=None, order_id=None, vendor_order_id=None, memo="",
  key=None)`: entries [(account, Decimal)] summing to zero; `key` makes it idempotent
  (e.g. "invoice:in_123"). Accounts are lower-case names; core ones are in `ACCOUNTS`.
- `balance(vendor_id, account)`, `account_total(account, **filters)`, `is_balanced()`.
"""
from marketplace.orders.ledger import account_total, balance, book, is_balanced
from marketplace.orders.models import LedgerAccount

ACCOUNTS = LedgerAccount

__all__ = ["book", "balance", "account_total", "is_balanced", "ACCOUNTS"]
