"""The points and cashback ledger: accounts, entries, lots. Every function here runs
inside its caller's transaction with the account row locked (`locked_account`), except
the redemption claim, which is itself a conditional update.

Invariants (checked by `integrity.check` and the `vip_check_balances` command):

- an account's cached `points_available`, `points_pending`, `cashback_available` and
  `cashback_pending` equal the sums of its entries per asset and bucket;
- the remaining credit of its unexpired lots equals max(available, 0): a negative balance
  (a debt) has no lots, and new credit pays the debt before it fills a lot.

Entries are append-only and keyed: writing a key twice writes once (`entry` returns
False the second time and changes nothing).
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from marketplace.plugins import clock

from ..models import Asset, Bucket, VipAccount, VipEntry, VipLot, VipLotUse

ZERO = Decimal("0")


def _field(asset, bucket):
    return f"{asset}_{bucket}"


def account_for(vendor_id, user_id, lock=False) -> VipAccount:
    """The customer's account at the store (created on first use)."""
    qs = VipAccount.objects.select_for_update() if lock else VipAccount.objects
    account = qs.filter(vendor_id=vendor_id, user_id=user_id).first()
    if account is None:
        now = clock.now()
        try:
            with transaction.atomic():
                account = VipAccount.objects.create(vendor_id=vendor_id, user_id=user_id, created_at=now,
                                                    updated_at=now)
        except IntegrityError:
            pass
        account = qs.get(vendor_id=vendor_id, user_id=user_id)
    return account


def locked_account(account_id) -> VipAccount:
    return VipAccount.objects.select_for_update().get(pk=account_id)


def entry(account, asset, bucket, kind, amount, key, *, order_id=None, vendor_order_id=None, lot=None, memo="",
          cache=True) -> bool:
    """Append one entry and (with `cache`) move the cached balance by `amount`. Returns
    False, writing nothing, when `key` was written before."""
    amount = Decimal(amount)
    try:
        with transaction.atomic():
            VipEntry.objects.create(account=account, asset=asset, bucket=bucket, kind=kind, amount=amount, key=key,
                                    order_id=order_id, vendor_order_id=vendor_order_id, lot=lot, memo=memo[:200],
                                    created_at=clock.now())
    except IntegrityError:
        return False
    if cache and amount:
        name = _field(asset, bucket)
        VipAccount.objects.filter(pk=account.pk).update(**{name: F(name) + amount, "updated_at": clock.now()})
        setattr(account, name, getattr(account, name) + (int(amount) if asset == Asset.POINTS else amount))
    return True


def add_lot(account, asset, key, amount, available_at, expires_at) -> VipLot | None:
    if amount <= 0:
        return None
    lot, _created = VipLot.objects.get_or_create(
        key=key, defaults=dict(account=account, asset=asset, amount=amount, remaining=amount,
                               available_at=available_at, expires_at=expires_at))
    return lot


def credit(account, asset, amount, kind, key, *, lot_key, expires_at, order_id=None, vendor_order_id=None,
           memo="") -> bool:
    """Add `amount` to the available balance: a debt is paid first, what lifts the balance
    above zero goes into a new lot (`lot_key`, expiring at `expires_at`)."""
    if VipEntry.objects.filter(key=key).exists():  # the account is locked: nobody writes it meanwhile
        return False
    before = account.available(asset)
    into_lot = max(before + amount, ZERO) - max(before, ZERO)
    lot = add_lot(account, asset, lot_key, into_lot, clock.now(), expires_at)
    return entry(account, asset, Bucket.AVAILABLE, kind, amount, key, order_id=order_id,
                 vendor_order_id=vendor_order_id, lot=lot, memo=memo)


def take_from_lots(account, asset, amount, *, prefer_key=None, redemption=None) -> Decimal:
    """Consume `amount` from the account's live lots (not yet expired by the daily run),
    soonest expiry first
    (the lot `prefer_key` first, e.g. the credit a refund reverses); with `redemption`,
    record what came from which lot so a refund can give it back. Returns what the lots
    held of it (less than `amount` when the balance goes into debt)."""
    lots = list(VipLot.objects.select_for_update().filter(account=account, asset=asset, remaining__gt=0,
                                                          expired_at__isnull=True).order_by("expires_at", "pk"))
    if prefer_key is not None:
        lots.sort(key=lambda lot: lot.key != prefer_key)
    left = Decimal(amount)
    for lot in lots:
        if left <= 0:
            break
        use = min(lot.remaining, left)
        lot.remaining -= use
        lot.save(update_fields=["remaining"])
        if redemption is not None:
            VipLotUse.objects.create(lot=lot, redemption=redemption, amount=use)
        left -= use
    return Decimal(amount) - left


def debit(account, asset, amount, kind, key, *, order_id=None, vendor_order_id=None, prefer_key=None, memo=""):
    """Take `amount` off the available balance (a reversal may take it below zero: a
    debt). Returns False when `key` was written before."""
    if not entry(account, asset, Bucket.AVAILABLE, kind, -Decimal(amount), key, order_id=order_id,
                 vendor_order_id=vendor_order_id, memo=memo):
        return False
    take_from_lots(account, asset, amount, prefer_key=prefer_key)
    return True


def claim(account_id, asset, amount) -> bool:
    """The redemption claim: lower the available balance by `amount` only if it covers it
    (one conditional UPDATE, so concurrent claims never take it below zero). The row
    stays locked until the caller's transaction ends."""
    name = _field(asset, Bucket.AVAILABLE)
    return VipAccount.objects.filter(pk=account_id, **{f"{name}__gte": amount}).update(
        **{name: F(name) - amount, "updated_at": clock.now()}) == 1


def give_back(account, redemption, amount, kind, key, *, grace_days, order_id=None, memo="") -> bool:
    """Return `amount` of a redemption to the available balance (a refund or a released
    order): into the lots it came from, with their expiry; what came from a lot that has
    expired meanwhile comes back in a new lot usable for `grace_days`. A debt is paid
    first. Returns False when `key` was written before."""
    asset = redemption.asset
    before = account.available(asset)
    if not entry(account, asset, Bucket.AVAILABLE, kind, amount, key, order_id=order_id,
                 vendor_order_id=redemption.vendor_order_id, memo=memo):
        return False
    restorable = max(before + amount, ZERO) - max(before, ZERO)
    left = Decimal(amount)
    now = clock.now()
    for use in VipLotUse.objects.select_for_update().select_related("lot").filter(redemption=redemption) \
            .order_by("-pk"):
        if left <= 0:
            break
        give = min(use.amount - use.returned, left)
        if give <= 0:
            continue
        use.returned += give
        use.save(update_fields=["returned"])
        left -= give
        put = min(give, restorable)
        restorable -= put
        if put <= 0:
            continue
        lot = VipLot.objects.select_for_update().get(pk=use.lot_id)
        if lot.expired_at is not None or lot.expires_at <= now:
            add_lot(account, asset, f"{key}:lot{use.pk}", put, now, now + timedelta(days=grace_days))
        else:
            lot.remaining += put
            lot.save(update_fields=["remaining"])
    if restorable > 0:  # returned beyond the recorded uses (should not happen): keep the invariant
        add_lot(account, asset, f"{key}:rest", restorable, now, now + timedelta(days=grace_days))
    return True


def adjust(vendor_id, user_id, asset, amount, reason, *, key):
    """A store's own correction or goodwill credit (e.g. points for a review): a positive
    `amount` is credited available (a debt is paid first) in a lot with the normal expiry
    and booked as vendor-funded credit; a negative one takes available credit back, never
    below zero (LIMIT_EXCEEDED). `key` makes it idempotent. Runs in its own transaction.
    Returns the account."""
    from marketplace.plugins.errors import ErrorCode, ValidationError

    from .. import rules
    from .booking import book
    from .programs import platform_settings

    settings = platform_settings()
    amount = Decimal(amount)
    with transaction.atomic():
        account = account_for(vendor_id, user_id, lock=True)
        value = rules.points_value(abs(amount), settings.points_per_cny) if asset == Asset.POINTS else abs(amount)
        memo = f"Adjusted: {reason}"[:200]
        if amount > 0:
            from marketplace.plugins.clock import business_zone

            expires = rules.month_end_expiry(clock.now(), settings.expiry_months, business_zone().key)
            if credit(account, asset, amount, "adjust", key, lot_key=key, expires_at=expires, memo=memo):
                book(f"vip_{asset}_granted", vendor_id, value, key=f"vip:{key}", memo=memo)
        elif amount < 0:
            if account.available(asset) < -amount:
                raise ValidationError(f"The customer has only {max(account.available(asset), ZERO)} available.",
                                      code=ErrorCode.LIMIT_EXCEEDED, field=str(asset))
            if debit(account, asset, -amount, "adjust", key, memo=memo):
                book(f"vip_{asset}_adjusted", vendor_id, value, key=f"vip:{key}", memo=memo, to_customer=False)
    account.refresh_from_db()
    return account
