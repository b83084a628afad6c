"""The commission ledger: double entry, every booking sums to zero.

Sign convention: money received is negative on `customer_payments`; what is owed or earned
is positive (`vendor_payable`, `platform_revenue`, ...). A vendor's balance is the sum of
its `vendor_payable` entries.

Bookings the core makes, per sub-order:

- sale (on payment), for a vendor's sub-order of total T (goods S after every discount,
  plus shipping), with platform-funded discounts P and commission c = rate x (S + P) (the
  base is after vendor-funded, before platform-funded discounts, so a platform promotion
  never lowers the platform's commission silently):
  customer_payments -T, vendor_payable +(T - c), platform_revenue +c;
  and when P > 0: platform_promotions -P, vendor_payable +P (the vendor is made whole).
  For the platform's own sub-order (vendor None): customer_payments -T, <revenue account> +T.
- tender (on payment, when tenders paid t of the sub-order): customer_credit_liability -t,
  customer_payments +t, so `customer_payments` nets to the cash actually captured.
- refund of an amount A of the sub-order: the mirror of the sale and tender bookings pro
  rata (rounded half-up to 0.01), except that the refund which brings the sub-order to
  fully refunded reverses exactly what is left, so a sub-order's entries always return to
  zero (no cent of drift across partial refunds).

Plugins book on their own accounts through `book()` (e.g. points granted: vendor_payable
-c, customer_credit_liability +c), with an idempotency `key` when a retry could repeat it.
"""
from __future__ import annotations

import re
import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from marketplace.core.money import quantize

from .models import LedgerAccount, LedgerEntry, LedgerKey

ZERO = Decimal("0.00")
ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
C = LedgerAccount


def book(kind, entries, *, vendor_id=None, order_id=None, vendor_order_id=None, memo="", currency="CNY", key=None):
    """Write one booking: `entries` = [(account, amount)] summing to zero (Decimals, 2
    places). With `key`, a second booking under the same key books nothing and returns the
    first booking's id. Returns the booking id (UUID). Raises ValueError for an unbalanced
    booking or a bad account name."""
    entries = [(account, quantize(amount)) for account, amount in entries if quantize(amount) != 0]
    if sum((amount for _, amount in entries), ZERO) != 0:
        raise ValueError(f"Unbalanced {kind} booking: {entries}")
    for account, _amount in entries:
        if not ACCOUNT_NAME.match(str(account)):
            raise ValueError(f"Bad ledger account name {account!r}")
    booking = uuid.uuid4()
    with transaction.atomic():
        if key is not None:
            try:
                with transaction.atomic():
                    LedgerKey.objects.create(key=key, booking=booking)
            except IntegrityError:
                return LedgerKey.objects.get(key=key).booking
        LedgerEntry.objects.bulk_create([
            LedgerEntry(booking=booking, kind=kind, account=str(account), vendor_id=vendor_id, order_id=order_id,
                        vendor_order_id=vendor_order_id, amount=amount, currency=currency, memo=memo[:200])
            for account, amount in entries
        ])
    return booking


def _book_for(kind, vendor_order, entries, memo):
    return book(kind, entries, vendor_id=vendor_order.vendor_id, order_id=vendor_order.order_id,
                vendor_order_id=vendor_order.pk, memo=memo, currency=vendor_order.order.currency)


def commission_for(vendor_order):
    """The platform's commission on a vendor's sub-order (0 for the platform's own)."""
    if vendor_order.vendor_id is None:
        return ZERO
    return quantize((vendor_order.subtotal + vendor_order.platform_funded) * vendor_order.commission_rate)


def sale_entries(vendor_order):
    total = vendor_order.total
    if vendor_order.vendor_id is None:
        return [(C.CUSTOMER_PAYMENTS, -total), (vendor_order.revenue_account or C.PLATFORM_REVENUE, total)]
    commission = commission_for(vendor_order)
    entries = [(C.CUSTOMER_PAYMENTS, -total), (C.VENDOR_PAYABLE, total - commission), (C.PLATFORM_REVENUE, commission)]
    if vendor_order.platform_funded:
        entries += [(C.PLATFORM_PROMOTIONS, -vendor_order.platform_funded), (C.VENDOR_PAYABLE, vendor_order.platform_funded)]
    return entries


def tender_entries(vendor_order):
    if not vendor_order.tendered:
        return []
    return [(C.CUSTOMER_CREDIT, -vendor_order.tendered), (C.CUSTOMER_PAYMENTS, vendor_order.tendered)]


def book_sale(vendor_order):
    memo = f"Order {vendor_order.order.number}"
    booking = _book_for("sale", vendor_order, sale_entries(vendor_order), memo)
    if vendor_order.tendered:
        _book_for("tender", vendor_order, tender_entries(vendor_order), memo + " (tenders)")
    return booking


def _net(vendor_order, kinds):
    """{account: sum} of this sub-order's entries of the given kinds."""
    rows = (LedgerEntry.objects.filter(vendor_order=vendor_order, kind__in=kinds)
            .values("account").annotate(s=Sum("amount")))
    return {row["account"]: quantize(row["s"]) for row in rows}  # SQLite sums decimals as floats


def book_refund(vendor_order, amount, tendered=ZERO, final=False):
    """Book the reversal of `amount` refunded on a sub-order, of which `tendered` went back
    to tenders and the rest was returned in cash. `final` (the sub-order is now fully
    refunded) reverses exactly what remains of its sale and tender bookings. Otherwise the
    clearing accounts move by exactly the cash and tenders returned, commission and
    platform-funded discounts are reversed pro rata, and the seller's account takes the
    rounding."""
    memo = f"Refund on order {vendor_order.order.number}"
    if final:
        remaining = _net(vendor_order, ["sale", "tender", "refund"])
        entries = [(account, -value) for account, value in remaining.items() if value]
        return _book_for("refund", vendor_order, entries, memo) if entries else None
    amount, tendered = quantize(amount), quantize(tendered)
    share = (amount / vendor_order.total) if vendor_order.total else Decimal("0")
    entries = [(C.CUSTOMER_PAYMENTS, amount - tendered), (C.CUSTOMER_CREDIT, tendered)]
    if vendor_order.vendor_id is None:
        entries.append((vendor_order.revenue_account or C.PLATFORM_REVENUE, -amount))
    else:
        commission = -quantize(commission_for(vendor_order) * share)
        promotions = quantize(vendor_order.platform_funded * share)
        entries += [(C.PLATFORM_REVENUE, commission), (C.PLATFORM_PROMOTIONS, promotions)]
        entries.append((C.VENDOR_PAYABLE, -sum((value for _, value in entries), ZERO)))
    return _book_for("refund", vendor_order, entries, memo)


def _merge(entries):
    merged = {}
    for account, value in entries:
        merged[account] = merged.get(account, ZERO) + value
    return merged


def balance(vendor_id, account=LedgerAccount.VENDOR_PAYABLE):
    return quantize(LedgerEntry.objects.filter(vendor_id=vendor_id, account=account)
                    .aggregate(s=Sum("amount"))["s"] or ZERO)


def account_total(account, **filters):
    """The sum of an account over all entries matching `filters` (e.g. vendor_order_id=)."""
    return quantize(LedgerEntry.objects.filter(account=account, **filters).aggregate(s=Sum("amount"))["s"] or ZERO)


def is_balanced():
    """Whether every entry ever booked sums to exactly zero (sums are rounded to 0.01: SQLite
    adds decimals as floats)."""
    return quantize(LedgerEntry.objects.aggregate(s=Sum("amount"))["s"] or ZERO) == 0
