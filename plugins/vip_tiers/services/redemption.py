"""Paying with points and cashback: an order TENDER per store.

1. The buyer asks (`set_request`, the `vipRedeem` mutation): up to N points and/or X CNY
   of cashback at store S, stored on the cart (`metadata.vip_tiers.redeem`). Refused with
   a field error: more than the balance (LIMIT_EXCEEDED), a store with nothing in this
   cart ("another store's points", INVALID), a debt (INVALID_STATE), NaN or a negative
   amount (INVALID).
2. `offers` (the `checkout_adjustments` hook) turns the request into tenders limited to
   S's lines: at most the balance, and together at most `max_redeem_percent` (50 %) of
   S's goods; the core caps them further so that no line falls below its floor, and
   reports what applied (a request of 10 000 points on one 150.00 item with a 105.00
   floor applies 45.00 = 4 500 points; nothing is refused).
3. `check` (`checkout_validate`) refuses completion when the balance no longer covers
   the request (another cart spent it meanwhile).
4. `reserve` (`checkout_reserve`, inside completion) claims exactly what APPLIED with one
   conditional update per account and asset (`balances.claim`): 20 concurrent
   completions can never take a balance below zero; a claim that fails refuses that
   completion with LIMIT_EXCEEDED and nothing is written. The points are taken from lots
   first-in first-out and the redemption remembers which.
5. `release` (`on_order_released`): an unpaid order cancelled or expired gives
   everything back. Refunds give back their share (`refunds.py`).
"""
from __future__ import annotations

from decimal import Decimal

from marketplace.plugins import clock, is_active
from marketplace.plugins.errors import ErrorCode, MarketplaceError, ValidationError

from .. import rules
from ..models import Asset, EntryKind, VipAccount, VipProgram, VipRedemption
from . import balances, inputs
from .programs import PLUGIN, entitled, platform_settings

ZERO = Decimal("0.00")
SOURCES = {Asset.POINTS: "vip_points", Asset.CASHBACK: "vip_cashback"}
LABELS = {Asset.POINTS: "积分抵扣 Points", Asset.CASHBACK: "返现抵扣 Cashback"}


def source(asset, vendor_id) -> str:
    return f"{SOURCES[asset]}:{vendor_id}"


def parse_source(value):
    """(asset, vendor_id) of one of this plugin's tender sources, else None."""
    prefix, _, vendor = str(value or "").partition(":")
    for asset, name in SOURCES.items():
        if prefix == name and vendor.isdigit():
            return asset, int(vendor)
    return None


def requests_of(metadata) -> dict[int, dict]:
    """{vendor_id: {"points": int, "cashback": Decimal}} asked for on a cart."""
    found = {}
    for vendor, asked in ((metadata or {}).get(PLUGIN, {}) or {}).get("redeem", {}).items():
        try:
            found[int(vendor)] = {"points": int(asked.get("points") or 0),
                                  "cashback": Decimal(str(asked.get("cashback") or "0"))}
        except (TypeError, ValueError, ArithmeticError, AttributeError):
            continue
    return found


def can_redeem(vendor_id, program) -> bool:
    return (program is not None and program.enabled and is_active(PLUGIN, vendor_id)
            and entitled(vendor_id, "points_cashback"))


def set_request(checkout, user, vendor_id, points=None, cashback=None, lines=None) -> dict:
    """Store what the buyer wants to redeem at the store on the cart (0 or None clears
    an asset). `lines` are the cart's `CheckoutLineInfo`s. Returns the stored request.
    Raises ValidationError (see the module docstring) and NOT_AUTHENTICATED."""
    from marketplace.plugins.checkout import set_checkout_metadata
    from marketplace.plugins.errors import PermissionDenied

    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionDenied("Sign in to use points or cashback.", code=ErrorCode.NOT_AUTHENTICATED)
    errors = []
    asked_points = 0 if points is None else points
    if points is not None:
        try:
            asked_points = inputs.whole(points, "points", high=10**9)
        except MarketplaceError as exc:
            errors.append(exc)
    asked_cashback = ZERO
    if cashback is not None:
        try:
            asked_cashback = inputs.decimal(cashback, "cashback", high=Decimal("1000000"))
        except MarketplaceError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors=errors)
    if not any(line.vendor_id == vendor_id and line.kind == "product" for line in lines or ()):
        raise ValidationError("This cart holds nothing from that store: its points and cashback pay only for its "
                              "own goods.", field="vendor_id")
    program = VipProgram.objects.filter(vendor_id=vendor_id).first()
    if (asked_points or asked_cashback) and not can_redeem(vendor_id, program):
        raise ValidationError("This store does not take points or cashback now.", code=ErrorCode.INVALID_STATE,
                              field="vendor_id")
    account = VipAccount.objects.filter(vendor_id=vendor_id, user_id=user.pk).first()
    points_balance = account.points_available if account else 0
    cashback_balance = account.cashback_available if account else ZERO
    for asset, asked, balance in ((Asset.POINTS, asked_points, points_balance),
                                  (Asset.CASHBACK, asked_cashback, cashback_balance)):
        field = str(asset)
        if not asked:
            continue
        if balance < 0:
            errors.append(MarketplaceError(f"Your {asset} at this store are in debt ({balance}) after a refund: "
                                           "new earnings pay it first.", code=ErrorCode.INVALID_STATE, field=field))
        elif asked > balance:
            unit = "points" if asset == Asset.POINTS else "CNY of cashback"
            errors.append(MarketplaceError(f"You have {balance} {unit} available at this store.",
                                           code=ErrorCode.LIMIT_EXCEEDED, field=field))
    if errors:
        raise ValidationError(errors=errors)
    stored = dict(((checkout.metadata or {}).get(PLUGIN) or {}).get("redeem") or {})
    if asked_points or asked_cashback:
        stored[str(vendor_id)] = {"points": asked_points, "cashback": str(asked_cashback)}
    else:
        stored.pop(str(vendor_id), None)
    set_checkout_metadata(checkout.token, PLUGIN, {"redeem": stored} if stored else None, user=user)
    return stored.get(str(vendor_id), {"points": 0, "cashback": "0.00"})


def _accounts(user_id, vendor_ids):
    return {a.vendor_id: a for a in VipAccount.objects.filter(user_id=user_id, vendor_id__in=list(vendor_ids))}


def offers(checkout, lines, context):
    """The `checkout_adjustments` hook: tenders for what the buyer asked to redeem."""
    from marketplace.plugins.checkout import TENDER, OrderAdjustment

    user = context.user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    asked = requests_of(checkout.metadata)
    goods = {}
    for line in lines:
        if line.kind == "product" and line.vendor_id in asked:
            goods[line.vendor_id] = goods.get(line.vendor_id, ZERO) + line.total
    if not goods:
        return None
    settings = platform_settings()
    accounts = _accounts(user.pk, goods)
    programs = VipProgram.objects.in_bulk(list(goods), field_name="vendor_id")
    result = []
    for vendor_id, store_goods in goods.items():
        account = accounts.get(vendor_id)
        if account is None or not can_redeem(vendor_id, programs.get(vendor_id)):
            continue
        room = rules.redeem_cap(store_goods, Decimal(str(settings.max_redeem_percent)))
        points = min(asked[vendor_id]["points"], max(account.points_available, 0))
        value = min(rules.points_value(points, settings.points_per_cny), room)
        if value > 0:
            result.append(OrderAdjustment(source=source(Asset.POINTS, vendor_id), label=LABELS[Asset.POINTS],
                                          amount=value, kind=TENDER, vendor_id=vendor_id,
                                          reference=f"account:{account.pk}"))
        cashback = min(asked[vendor_id]["cashback"], max(account.cashback_available, ZERO), room - value)
        if cashback > 0:
            result.append(OrderAdjustment(source=source(Asset.CASHBACK, vendor_id), label=LABELS[Asset.CASHBACK],
                                          amount=cashback, kind=TENDER, vendor_id=vendor_id,
                                          reference=f"account:{account.pk}"))
    return result or None


def check(checkout, lines, context):
    """The `checkout_validate` hook: the balances still cover what the cart asks for."""
    user = context.user
    asked = requests_of(checkout.metadata)
    if not asked or user is None or not getattr(user, "is_authenticated", False):
        return
    present = {line.vendor_id for line in lines if line.kind == "product"}
    accounts = _accounts(user.pk, [v for v in asked if v in present])
    errors = []
    for vendor_id, want in asked.items():
        if vendor_id not in present:
            continue
        account = accounts.get(vendor_id)
        for asset, amount in ((Asset.POINTS, Decimal(want["points"])), (Asset.CASHBACK, want["cashback"])):
            if amount <= 0:
                continue
            balance = account.available(asset) if account else ZERO
            if balance < amount:
                errors.append(MarketplaceError(
                    f"Your {asset} balance at this store is now {max(balance, ZERO)}: lower the amount to redeem "
                    "(vipRedeem) and confirm again.", code=ErrorCode.LIMIT_EXCEEDED, field=str(asset)))
    if errors:
        raise ValidationError(errors=errors)


def reserve(order, adjustments):
    """The `checkout_reserve` hook: claim what applied (see the module docstring)."""
    settings = platform_settings()
    claims = []
    for applied in adjustments:
        parsed = parse_source(applied.source)
        if parsed is None or applied.applied <= 0:
            continue
        asset, vendor_id = parsed
        amount = Decimal(rules.points_for_value(applied.applied, settings.points_per_cny)) \
            if asset == Asset.POINTS else applied.applied
        claims.append((vendor_id, asset, amount, applied.applied))
    if not claims:
        return
    if order.user_id is None:
        raise ValidationError("Sign in to use points or cashback.", code=ErrorCode.NOT_AUTHENTICATED)
    vendor_orders = {vo.vendor_id: vo.vendor_order_id for vo in order.vendor_orders}
    accounts = _accounts(order.user_id, {c[0] for c in claims})
    now = clock.now()
    for vendor_id, asset, amount, value in sorted(claims, key=lambda c: (accounts[c[0]].pk, c[1])):
        account = accounts[vendor_id]
        if not balances.claim(account.pk, asset, amount):
            raise ValidationError(f"Your {asset} balance at this store no longer covers {amount}: it was used in "
                                  "another order. Review the cart and confirm again.", code=ErrorCode.LIMIT_EXCEEDED,
                                  field=str(asset))
        account.refresh_from_db()
        vendor_order_id = vendor_orders[vendor_id]
        redemption = VipRedemption.objects.create(account=account, asset=asset, order_id=order.order_id,
                                                  vendor_order_id=vendor_order_id, amount=amount, value=value,
                                                  created_at=now)
        balances.entry(account, asset, "available", EntryKind.REDEEM, -amount, f"redeem:{asset}:{vendor_order_id}",
                       order_id=order.order_id, vendor_order_id=vendor_order_id, cache=False,
                       memo=f"Order {order.number}")
        balances.take_from_lots(account, asset, amount, redemption=redemption)


def release(order):
    """The `on_order_released` hook: an unpaid order was cancelled or expired."""
    grace = platform_settings().returned_expired_days
    for redemption in VipRedemption.objects.filter(order_id=order.order_id).order_by("pk"):
        account = balances.locked_account(redemption.account_id)
        redemption = VipRedemption.objects.select_for_update().get(pk=redemption.pk)
        left = redemption.amount - redemption.returned
        if left <= 0:
            continue
        if balances.give_back(account, redemption, left, EntryKind.REDEEM_RETURN,
                              f"release:{redemption.asset}:{redemption.vendor_order_id}", grace_days=grace,
                              order_id=order.order_id, memo=f"Order {order.number} cancelled"):
            redemption.returned += left
            redemption.returned_value = redemption.value
            redemption.save(update_fields=["returned", "returned_value"])
