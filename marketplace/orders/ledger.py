"""The commission ledger: double entry, every booking sums to zero.

On payment, per vendor order: the customer's payment (clearing account, negative) is
split into the vendor's earning and the platform's commission. A refund books the
reversal in proportion. A vendor's balance is the sum of its `vendor_payable` entries.
"""
import uuid
from decimal import Decimal

from django.db.models import Sum

from marketplace.core.money import quantize

from .models import LedgerAccount, LedgerEntry


def _book(kind, vendor_order, lines, memo):
    booking = uuid.uuid4()
    assert sum(amount for _, amount in lines) == 0, "unbalanced booking"
    LedgerEntry.objects.bulk_create([
        LedgerEntry(booking=booking, kind=kind, account=account, vendor_id=vendor_order.vendor_id,
                    order_id=vendor_order.order_id, vendor_order=vendor_order, amount=amount,
                    currency=vendor_order.order.currency, memo=memo)
        for account, amount in lines
    ])
    return booking


def commission_for(vendor_order):
    return quantize(vendor_order.subtotal * vendor_order.commission_rate)


def book_sale(vendor_order):
    commission = commission_for(vendor_order)
    return _book("sale", vendor_order, [
        (LedgerAccount.CUSTOMER_PAYMENTS, -vendor_order.total),
        (LedgerAccount.VENDOR_PAYABLE, vendor_order.total - commission),
        (LedgerAccount.PLATFORM_REVENUE, commission),
    ], f"Order {vendor_order.order.number}")


def book_refund(vendor_order, amount):
    commission = commission_for(vendor_order)
    reversal = quantize(amount * commission / vendor_order.total) if vendor_order.total else Decimal("0")
    return _book("refund", vendor_order, [
        (LedgerAccount.CUSTOMER_PAYMENTS, amount),
        (LedgerAccount.VENDOR_PAYABLE, -(amount - reversal)),
        (LedgerAccount.PLATFORM_REVENUE, -reversal),
    ], f"Refund on order {vendor_order.order.number}")


def balance(vendor_id, account=LedgerAccount.VENDOR_PAYABLE):
    return LedgerEntry.objects.filter(vendor_id=vendor_id, account=account).aggregate(s=Sum("amount"))["s"] or Decimal("0.00")


def is_balanced():
    return (LedgerEntry.objects.aggregate(s=Sum("amount"))["s"] or Decimal("0")) == 0
