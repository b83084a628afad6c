"""The ledger invariant, checked: for every account, each cached balance equals the sum of
its entries (per asset and bucket), and its live lots (not yet expired by the daily run)
hold exactly max(available, 0).
Run nightly (logged) and by `python manage.py vip_check_balances` (exit status 1 on any
mismatch). Three grouped queries, whatever the number of accounts.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from ..models import Asset, Bucket, VipAccount, VipEntry, VipLot

ZERO = Decimal("0")


@dataclass(frozen=True)
class Mismatch:
    account_id: int
    vendor_id: int
    user_id: int | None
    what: str  # e.g. "points_available", "points lots"
    cached: Decimal
    ledger: Decimal

    def __str__(self):
        return (f"account {self.account_id} (vendor {self.vendor_id}, user {self.user_id}): {self.what} is "
                f"{self.cached}, the ledger says {self.ledger}")


def check(vendor_id=None) -> tuple[int, list[Mismatch]]:
    """Returns (accounts checked, mismatches)."""
    accounts = VipAccount.objects.all()
    entries = VipEntry.objects.all()
    lots = VipLot.objects.filter(expired_at__isnull=True)
    if vendor_id is not None:
        accounts = accounts.filter(vendor_id=vendor_id)
        entries = entries.filter(account__vendor_id=vendor_id)
        lots = lots.filter(account__vendor_id=vendor_id)
    sums = {}
    for account_id, asset, bucket, total in entries.values_list("account_id", "asset", "bucket") \
            .annotate(s=Sum("amount")).values_list("account_id", "asset", "bucket", "s"):
        sums[(account_id, f"{asset}_{bucket}")] = Decimal(total or 0)
    held = {}
    for account_id, asset, total in lots.values_list("account_id", "asset").annotate(s=Sum("remaining")) \
            .values_list("account_id", "asset", "s"):
        held[(account_id, asset)] = Decimal(total or 0)
    mismatches = []
    checked = 0
    fields = [f"{a}_{b}" for a in (Asset.POINTS, Asset.CASHBACK) for b in (Bucket.AVAILABLE, Bucket.PENDING)]
    for row in accounts.values_list("pk", "vendor_id", "user_id", *fields):
        checked += 1
        pk, vendor, user = row[:3]
        cached = dict(zip(fields, row[3:]))
        for name in fields:
            ledger = sums.get((pk, name), ZERO)
            if Decimal(cached[name]) != ledger:
                mismatches.append(Mismatch(pk, vendor, user, name, Decimal(cached[name]), ledger))
        for asset in (Asset.POINTS, Asset.CASHBACK):
            expected = max(Decimal(cached[f"{asset}_{Bucket.AVAILABLE}"]), ZERO)
            in_lots = held.get((pk, asset), ZERO)
            if in_lots != expected:
                mismatches.append(Mismatch(pk, vendor, user, f"{asset} lots", in_lots, expected))
    return checked, mismatches


def accounts_in_debt(vendor_id=None):
    qs = VipAccount.objects.filter(Q(points_available__lt=0) | Q(cashback_available__lt=0))
    return qs.filter(vendor_id=vendor_id) if vendor_id is not None else qs
