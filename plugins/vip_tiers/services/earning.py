"""Earning points and cashback: pending when a sub-order is paid, available once it is
completed and the return window has passed, expired at the end of the 12th month.

- `on_order_paid(order)` (inside the engine's payment transaction): for each store
  sub-order of a signed-in customer where the store's programme is on, the earning base
  is its catalog goods as paid in money (each line's total after every price and
  order-level discount, less what tenders paid of it; shipping excluded). Points =
  floor(base x the store's rate x the tier's multiplier); cashback by the store's rule.
  Both are written pending and booked in the engine ledger as vendor-funded credit
  (vendor_payable -c, customer_credit_liability +c; spec 6.5).
- `mark_completed(vendor_order_id, at)` (on `vendor_order_completed`): starts the
  return window.
- `mature_due()` (daily, and after completion events): pending -> available, into a lot
  expiring at the end of the `expiry_months`-th month (Asia/Shanghai); a debt is paid first.
- `expire_due()` (daily 00:10): what is left in expired lots leaves the balance, and the
  vendor gets its value back in the ledger.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from marketplace.plugins import clock, emit, is_active

from .. import rules
from ..models import Asset, Bucket, EntryKind, VipLot, VipOrder, VipProgram
from . import balances
from .booking import book
from .programs import PLUGIN, entitled, platform_settings

logger = logging.getLogger("plugins.vip_tiers")
ZERO = Decimal("0.00")


def earning_base(order, vendor_order_id) -> Decimal:
    """Catalog goods of the sub-order as paid in money (shipping and tenders excluded)."""
    total = sum((line.total - line.tendered for line in order.lines
                 if line.vendor_order_id == vendor_order_id and line.kind == "product"), ZERO)
    return max(total, ZERO)


def on_order_paid(order):
    """The `on_order_paid` hook: record what each store sub-order earns (pending)."""
    from ..events import CashbackEarned, PointsEarned

    if order.user_id is None:
        return
    settings = platform_settings()
    vendor_orders = [vo for vo in order.vendor_orders if vo.vendor_id is not None]
    if not vendor_orders:
        return
    programs = VipProgram.objects.in_bulk([vo.vendor_id for vo in vendor_orders], field_name="vendor_id")
    for vo in vendor_orders:
        program = programs.get(vo.vendor_id)
        if program is None or not program.enabled or not is_active(PLUGIN, vo.vendor_id):
            continue
        account = balances.account_for(vo.vendor_id, order.user_id, lock=True)
        if VipOrder.objects.filter(vendor_order_id=vo.vendor_order_id).exists():
            continue  # recorded before (a redelivered payment)
        credit = entitled(vo.vendor_id, "points_cashback")
        base = earning_base(order, vo.vendor_order_id)
        tier = account.tier
        multiplier = tier.points_multiplier if tier is not None else Decimal("1.00")
        points = rules.earned_points(base, program.earn_points_per_cny, multiplier) \
            if credit and program.points_enabled else 0
        cashback = rules.earned_cashback(base, program.cashback_percent, program.cashback_fixed,
                                         program.cashback_threshold, program.cashback_cap) \
            if credit and program.cashback_enabled else ZERO
        value = rules.points_value(points, settings.points_per_cny)
        VipOrder.objects.create(account=account, order_id=order.order_id, vendor_order_id=vo.vendor_order_id,
                                paid_at=order.paid_at or clock.now(), base=base,
                                tier_name=tier.name_zh if tier is not None else "", multiplier=multiplier,
                                points_earned=points, points_value=value, cashback_earned=cashback)
        refs = dict(order_id=order.order_id, vendor_order_id=vo.vendor_order_id)
        memo = f"Order {order.number}"
        if points:
            balances.entry(account, Asset.POINTS, Bucket.PENDING, EntryKind.EARN_PENDING, points,
                           f"earn:points:{vo.vendor_order_id}", memo=memo, **refs)
            book("vip_points_granted", vo.vendor_id, value, key=f"vip:grant:points:{vo.vendor_order_id}",
                 memo=memo, **refs)
            emit(PointsEarned(vendor_id=vo.vendor_id, user_id=order.user_id, order_id=order.order_id,
                              vendor_order_id=vo.vendor_order_id, points=points, status="pending"))
        if cashback:
            balances.entry(account, Asset.CASHBACK, Bucket.PENDING, EntryKind.EARN_PENDING, cashback,
                           f"earn:cashback:{vo.vendor_order_id}", memo=memo, **refs)
            book("vip_cashback_granted", vo.vendor_id, cashback, key=f"vip:grant:cashback:{vo.vendor_order_id}",
                 memo=memo, **refs)
            emit(CashbackEarned(vendor_id=vo.vendor_id, user_id=order.user_id, order_id=order.order_id,
                                vendor_order_id=vo.vendor_order_id, amount=cashback, status="pending"))


@transaction.atomic
def mark_completed(vendor_order_id, at=None) -> bool:
    """The sub-order was completed at `at`: its earnings mature after the return window.
    Returns False when nothing was earned on it (or it was marked before)."""
    at = at or clock.now()
    window = timedelta(days=platform_settings().return_window_days)
    return VipOrder.objects.filter(vendor_order_id=vendor_order_id, completed_at__isnull=True).update(
        completed_at=at, matures_at=at + window) == 1


def mature(vip_order_id) -> bool:
    """Move one sub-order's remaining pending earnings to available (idempotent)."""
    from ..events import CashbackEarned, PointsEarned

    settings = platform_settings()
    with transaction.atomic():
        account_id = VipOrder.objects.filter(pk=vip_order_id).values_list("account_id", flat=True).first()
        if account_id is None:
            return False
        account = balances.locked_account(account_id)
        vip_order = VipOrder.objects.select_for_update().get(pk=vip_order_id)
        if vip_order.status != VipOrder.Status.PENDING:
            return False
        now = clock.now()
        expires = rules.month_end_expiry(now, settings.expiry_months, _zone())
        refs = dict(order_id=vip_order.order_id, vendor_order_id=vip_order.vendor_order_id)
        vo = vip_order.vendor_order_id
        points = vip_order.points_earned - vip_order.points_reversed
        cashback = vip_order.cashback_earned - vip_order.cashback_reversed
        for asset, amount in ((Asset.POINTS, Decimal(points)), (Asset.CASHBACK, cashback)):
            if amount <= 0:
                continue
            balances.entry(account, asset, Bucket.PENDING, EntryKind.MATURE, -amount, f"mature:{asset}:{vo}:out",
                           **refs)
            balances.credit(account, asset, amount, EntryKind.EARN_AVAILABLE, f"mature:{asset}:{vo}",
                            lot_key=f"earn:{asset}:{vo}", expires_at=expires, **refs)
        vip_order.status = VipOrder.Status.MATURED
        vip_order.matured_at = now
        vip_order.save(update_fields=["status", "matured_at"])
        vendor_id = account.vendor_id
        if points > 0:
            emit(PointsEarned(vendor_id=vendor_id, user_id=account.user_id, order_id=vip_order.order_id,
                              vendor_order_id=vo, points=points, status="available"))
        if cashback > 0:
            emit(CashbackEarned(vendor_id=vendor_id, user_id=account.user_id, order_id=vip_order.order_id,
                                vendor_order_id=vo, amount=cashback, status="available"))
    return True


def _zone():
    from marketplace.plugins.clock import business_zone

    return business_zone().key


def mature_due(now=None) -> int:
    """Mature every sub-order whose return window has passed. Returns how many."""
    now = now or clock.now()
    done = 0
    for pk in VipOrder.objects.filter(status=VipOrder.Status.PENDING, matures_at__lte=now) \
            .values_list("pk", flat=True).order_by("matures_at", "pk"):
        done += mature(pk)
    return done


def catch_up_completions(limit=500) -> int:
    """Sub-orders completed while their `vendor_order_completed` event did not reach the
    plugin (it was off for the store then): read their status and start the window."""
    from marketplace.plugins.orders import order_info

    done = 0
    pending = VipOrder.objects.filter(status=VipOrder.Status.PENDING, completed_at__isnull=True,
                                      paid_at__lte=clock.now() - timedelta(days=1)).order_by("pk")[:limit]
    for vip_order in pending:
        info = order_info(vip_order.order_id) if vip_order.order_id else None
        if info is None:
            continue
        vo = next((v for v in info.vendor_orders if v.vendor_order_id == vip_order.vendor_order_id), None)
        if vo is not None and vo.status == "completed":
            done += mark_completed(vip_order.vendor_order_id, clock.now())
    return done


def expire_lot(lot_id) -> bool:
    """Expire what is left in one lot whose time has come (idempotent)."""
    from ..events import CashbackExpired, PointsExpired

    settings = platform_settings()
    with transaction.atomic():
        account_id = VipLot.objects.filter(pk=lot_id).values_list("account_id", flat=True).first()
        account = balances.locked_account(account_id)
        lot = VipLot.objects.select_for_update().get(pk=lot_id)
        now = clock.now()
        if lot.expired_at is not None or lot.expires_at > now:
            return False
        left = lot.remaining
        lot.remaining, lot.expired_at = Decimal("0"), now
        lot.save(update_fields=["remaining", "expired_at"])
        if left <= 0:
            return True
        balances.entry(account, lot.asset, Bucket.AVAILABLE, EntryKind.EXPIRE, -left, f"expire:{lot.pk}", lot=lot,
                       memo=f"Expired ({lot.key})")
        value = rules.points_value(left, settings.points_per_cny) if lot.asset == Asset.POINTS else left
        book(f"vip_{lot.asset}_expired", account.vendor_id, value, key=f"vip:expire:{lot.pk}", to_customer=False,
             memo=f"{lot.asset} expired")
        if lot.asset == Asset.POINTS:
            emit(PointsExpired(vendor_id=account.vendor_id, user_id=account.user_id, points=int(left)))
        else:
            emit(CashbackExpired(vendor_id=account.vendor_id, user_id=account.user_id, amount=left))
    return True


def expire_due(now=None) -> int:
    now = now or clock.now()
    done = 0
    for pk in VipLot.objects.filter(expired_at__isnull=True, expires_at__lte=now).values_list("pk", flat=True) \
            .order_by("expires_at", "pk"):
        done += expire_lot(pk)
    return done
