"""Refunds reverse exactly, inside the transaction that records the refund
(`on_refund_recorded`):

- what the sub-order's points and cashback PAID comes back to the customer: the refund's
  `tenders` share for our sources, and on the refund that empties the sub-order
  (`is_final`) exactly what is left; into the lots it came from, with their expiry (an
  expired lot's share comes back usable for `returned_expired_days`);
- what the sub-order EARNED is reversed: round_half_even(earned x share) per refund, the
  final refund reversing exactly what remains, so 100 + 100 + 159.90 on 359.90 reverses
  100 + 100 + 159 = 359 points. Still pending: the pending balance shrinks. Already
  available: the available balance shrinks, the earning's own lot first, and may go below
  zero (a debt that new earnings pay first; redeeming is blocked meanwhile);
- the engine ledger gets the mirror of the grant (vendor_payable +c,
  customer_credit_liability -c), pro rata with the same rule.

A full refund of an order that redeemed points and earned points therefore leaves the
balance exactly where it was before the order (no one-point drift).
"""
from __future__ import annotations

from decimal import Decimal

from marketplace.plugins import emit

from .. import rules
from ..models import Asset, Bucket, EntryKind, VipOrder, VipRedemption
from . import balances
from .booking import book
from .programs import platform_settings
from .redemption import source

ONE, CENT = Decimal("1"), Decimal("0.01")


def _suffix(refund, cumulative):
    return f"r{refund.refund_id}" if refund.refund_id is not None else f"at{cumulative}"


def on_refund_recorded(refund):
    """The `on_refund_recorded` hook (a `RefundInfo`)."""
    vip_order = VipOrder.objects.filter(vendor_order_id=refund.vendor_order_id).first()
    redemptions = list(VipRedemption.objects.filter(vendor_order_id=refund.vendor_order_id).order_by("pk"))
    if vip_order is None and not redemptions:
        return
    account_id = vip_order.account_id if vip_order is not None else redemptions[0].account_id
    account = balances.locked_account(account_id)
    settings = platform_settings()
    for redemption in redemptions:
        _give_back(account, redemption, refund, settings)
    if vip_order is not None:
        _reverse(account, VipOrder.objects.select_for_update().get(pk=vip_order.pk), refund, settings)


def _give_back(account, redemption, refund, settings):
    redemption = VipRedemption.objects.select_for_update().get(pk=redemption.pk)
    left_value = redemption.value - redemption.returned_value
    if left_value <= 0:
        return
    if refund.is_final:
        value, amount = left_value, redemption.amount - redemption.returned
    else:
        value = min(Decimal(str(refund.tenders.get(source(redemption.asset, account.vendor_id), "0"))), left_value)
        if value <= 0:
            return
        amount = (Decimal(rules.points_for_value(value, settings.points_per_cny))
                  if redemption.asset == Asset.POINTS else value)
        amount = min(amount, redemption.amount - redemption.returned)
    key = f"return:{redemption.asset}:{refund.vendor_order_id}:{_suffix(refund, redemption.returned_value + value)}"
    if balances.give_back(account, redemption, amount, EntryKind.REDEEM_RETURN, key,
                          grace_days=settings.returned_expired_days, order_id=refund.order_id,
                          memo="Returned by a refund"):
        redemption.returned += amount
        redemption.returned_value += value
        redemption.save(update_fields=["returned", "returned_value"])


def _reverse(account, vip_order, refund, settings):
    from ..events import CashbackReversed, PointsReversed

    vo = vip_order.vendor_order_id
    cumulative = vip_order.refunded + refund.amount
    suffix = _suffix(refund, cumulative)
    share = Decimal(refund.share)
    pending = vip_order.status == VipOrder.Status.PENDING
    refs = dict(order_id=vip_order.order_id, vendor_order_id=vo)
    points = int(rules.reversal(vip_order.points_earned, vip_order.points_reversed, share, refund.is_final, ONE))
    cashback = rules.reversal(vip_order.cashback_earned, vip_order.cashback_reversed, share, refund.is_final, CENT)
    for asset, amount in ((Asset.POINTS, Decimal(points)), (Asset.CASHBACK, cashback)):
        if amount <= 0:
            continue
        key = f"reverse:{asset}:{vo}:{suffix}"
        if pending:
            written = balances.entry(account, asset, Bucket.PENDING, EntryKind.REVERSE, -amount, key, **refs,
                                     memo="Refund")
        else:
            written = balances.debit(account, asset, amount, EntryKind.REVERSE, key, prefer_key=f"earn:{asset}:{vo}",
                                     memo="Refund", **refs)
        if not written:
            continue
        if asset == Asset.POINTS:
            left_value = vip_order.points_value - vip_order.points_value_reversed
            value = left_value if refund.is_final or points >= vip_order.points_earned - vip_order.points_reversed \
                else min((vip_order.points_value * Decimal(points) / Decimal(vip_order.points_earned))
                         .quantize(CENT, rounding="ROUND_HALF_EVEN"), left_value)
            vip_order.points_reversed += points
            vip_order.points_value_reversed += value
            emit(PointsReversed(vendor_id=account.vendor_id, user_id=account.user_id, order_id=vip_order.order_id,
                                vendor_order_id=vo, points=points, balance=account.points_available))
        else:
            value = amount
            vip_order.cashback_reversed += amount
            emit(CashbackReversed(vendor_id=account.vendor_id, user_id=account.user_id, order_id=vip_order.order_id,
                                  vendor_order_id=vo, amount=amount, balance=account.cashback_available))
        book(f"vip_{asset}_reversed", account.vendor_id, value, key=f"vip:{key}", to_customer=False,
             memo="Refund", **refs)
    vip_order.refunded = cumulative
    if refund.is_final and pending:
        vip_order.status = VipOrder.Status.CANCELLED
    vip_order.save(update_fields=["points_reversed", "points_value_reversed", "cashback_reversed", "refunded",
                                  "status"])
