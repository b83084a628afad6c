"""Completing a checkout into an unpaid order, atomically.

One transaction: the cart is locked and re-validated (every line still for sale, every
choice it holds still valid: shipping method active, address present when something
ships), re-priced (a member price that lapsed meanwhile disappears), compared with the
total the client last saw, then the order is written, plugins claim capacity in the
`checkout_reserve` hook (slots, seats, code uses, points), and the stock is reserved with
conditional updates as the last statements, so the hot stock rows stay locked only for
those. Anything that fails rolls everything back: no order, no claim, no reservation.
An order with nothing due (tenders or a 100% discount cover it) is paid at once, without
a gateway.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F

from marketplace.core import clock
from marketplace.core.errors import ErrorCode, MarketplaceError, ValidationError
from marketplace.core.money import quantize
from marketplace.orders import services as orders
from marketplace.orders.drafts import OrderDraft, OrderLineDraft, SubOrderDraft
from marketplace.orders.selectors import order_info_of

from .info import DISCOUNT, TENDER
from .kinds import get_kind
from .models import PRODUCT_LINE
from .services import get_checkout
from .totals import compute_totals

ZERO = Decimal("0.00")


def _validate(checkout, user, lines, totals):
    from marketplace.catalog.services import visible_products
    from marketplace.vendors.models import VendorStatus

    errors = list(totals.problems)
    if not (checkout.email or (user and user.is_authenticated)):
        errors.append(MarketplaceError("An e-mail address is required.", code=ErrorCode.REQUIRED, field="email"))
    if totals.needs_address and not checkout.shipping_address:
        errors.append(MarketplaceError("A shipping address is required.", code=ErrorCode.REQUIRED,
                                       field="shipping_address"))
    variant_ids = [line.variant_id for line in lines if line.variant_id is not None]
    sellable = set(visible_products().filter(variants__in=variant_ids, variants__is_active=True)
                   .values_list("variants__id", flat=True)) if variant_ids else set()
    for part in totals.parts:
        for line in part.lines:
            if line.kind == PRODUCT_LINE and line.variant_id not in sellable:
                errors.append(MarketplaceError(f"{line.sku} is no longer for sale; remove it from the cart.",
                                               code=ErrorCode.NOT_FOUND, field=f"lines.{line.index}"))
            elif line.kind != PRODUCT_LINE:
                try:
                    kind = get_kind(line.kind, field=f"lines.{line.index}")
                    kind.validate(line, totals.context)
                except MarketplaceError as exc:
                    for error in exc.as_list():
                        error.field = error.field if (error.field or "").startswith("lines") else f"lines.{line.index}"
                        errors.append(error)
        vendor = part.vendor
        if vendor is not None and (vendor.status != VendorStatus.APPROVED or vendor.storefront_hidden):
            errors.append(MarketplaceError(f"{vendor.name_zh} is not selling now.", code=ErrorCode.INVALID_STATE,
                                           field="lines"))
        if part.requires_shipping and part.method is None:
            name = vendor.name_zh if vendor is not None else "the platform"
            if not part.methods:
                errors.append(MarketplaceError(f"{name} ships nothing yet: it has no shipping method. "
                                               "Remove its items or ask the vendor.",
                                               code=ErrorCode.INVALID_STATE, field="shipping_method"))
            else:
                errors.append(MarketplaceError(f"Choose a shipping method for {name}.", code=ErrorCode.REQUIRED,
                                               field="shipping_method"))
    return errors


def _check_expected(totals, expected_total):
    if expected_total is None:
        return
    try:
        expected = quantize(Decimal(str(expected_total)))
    except (InvalidOperation, ValueError):
        raise ValidationError("Not an amount.", field="expected_total") from None
    if totals.total is not None and expected != totals.total:
        raise ValidationError(f"The total changed to {totals.total} {totals.currency} since you saw {expected}: "
                              "review the cart and confirm again.", code=ErrorCode.PRICE_CHANGED,
                              field="expected_total")


def _stock_wanted(totals):
    wanted = {}
    for line in totals.lines:
        if line.kind == PRODUCT_LINE and line.track_inventory:
            quantity, sku = wanted.get(line.variant_id, (0, line.sku))
            wanted[line.variant_id] = (quantity + line.quantity, sku)
    return wanted


def _plan(wanted, lock):
    """Which stock rows cover which units, warehouse by warehouse in primary-key order:
    [(variant_id, stock_id, quantity, ...)]. With `lock`, the rows are locked first (pk
    order, so concurrent checkouts never deadlock). Raises OUT_OF_STOCK naming the SKU."""
    from marketplace.catalog.models import Stock

    if not wanted:
        return []
    stocks = Stock.objects.filter(variant_id__in=list(wanted), warehouse__is_active=True).order_by("pk")
    if lock:
        stocks = stocks.select_for_update()
    by_variant = {}
    for stock in stocks.only("pk", "variant_id", "quantity", "reserved"):
        by_variant.setdefault(stock.variant_id, []).append(stock)
    plan, errors = [], []
    for variant_id, (quantity, sku) in wanted.items():
        remaining = quantity
        for stock in by_variant.get(variant_id, []):
            take = min(remaining, stock.quantity - stock.reserved)
            if take > 0:
                plan.append((variant_id, stock.pk, take))
                remaining -= take
            if remaining == 0:
                break
        if remaining > 0:
            errors.append(MarketplaceError(f"{sku}: only {quantity - remaining} left in stock.",
                                           code=ErrorCode.OUT_OF_STOCK, field="lines"))
    if errors:
        raise ValidationError(errors=errors)
    return plan


def _apply(plan):
    """Reserve the planned units with conditional updates (never below zero available).
    Returns False when a row no longer has the units (the plan went stale)."""
    from marketplace.catalog.models import Stock

    for _variant_id, stock_id, take in sorted(plan, key=lambda item: item[1]):
        if Stock.objects.filter(pk=stock_id, quantity__gte=F("reserved") + take).update(
                reserved=F("reserved") + take) != 1:
            return False
    return True


def _draft(checkout, user, totals, plan):
    from marketplace.plugins.entitlements import entitlements_for

    allocations = {}
    for variant_id, stock_id, quantity in plan:
        allocations.setdefault(variant_id, []).append((stock_id, quantity))
    shares = {}
    for item in totals.adjustments:
        for line_id, amount in item.lines.items():
            shares.setdefault(line_id, []).append((item, amount))
    vendor_ids = [p.vendor_id for p in totals.parts if p.vendor_id is not None]
    rights = entitlements_for(vendor_ids) if vendor_ids else {}
    parts = []
    for part in totals.parts:
        lines = []
        for line in part.lines:
            given = shares.get(line.line_id, [])
            discount = quantize(sum((a for i, a in given if i.kind == DISCOUNT), ZERO))
            tendered = quantize(sum((a for i, a in given if i.kind == TENDER), ZERO))
            platform_funded = quantize(line.unit_price.platform_funded * line.quantity + sum(
                (a for i, a in given if i.kind == DISCOUNT and i.adjustment.funded_by == "platform"), ZERO))
            explanation = line.unit_price.as_json()
            explanation["order_adjustments"] = [
                {"source": i.source, "label": i.adjustment.label, "kind": i.kind, "amount": str(a),
                 "funded_by": i.adjustment.funded_by, "reference": i.adjustment.reference} for i, a in given]
            lines.append(OrderLineDraft(
                kind=line.kind, reference=line.reference, variant_id=line.variant_id, product_name=line.name,
                sku=line.sku, quantity=line.quantity, unit_list_price=line.unit_price.list_price,
                unit_price=line.unit_price.final_price, discount=discount, total=line.total - discount,
                tendered=tendered, platform_funded=platform_funded, requires_shipping=line.requires_shipping,
                explanation=explanation, metadata=dict(line.metadata), checkout_line_id=line.line_id,
                allocations=tuple(allocations.pop(line.variant_id, ())) if line.track_inventory else ()))
        if part.vendor is None:
            rate, account = ZERO, _revenue_account(part)
        else:
            rate = part.vendor.commission_rate if part.vendor.commission_rate is not None \
                else Decimal(str(rights[part.vendor_id]["commission_rate"]))
            account = ""
        parts.append(SubOrderDraft(vendor_id=part.vendor_id,
                                   shipping_method_name=part.method.name_zh if part.method else "",
                                   shipping=part.shipping or ZERO, lines=tuple(lines), commission_rate=rate,
                                   revenue_account=account, shipping_address=part.delivery_address,
                                   delivery_label=part.delivery_label))
    return OrderDraft(user_id=user.pk if user is not None and user.is_authenticated else None,
                      email=checkout.email or (user.email if user is not None and user.is_authenticated else ""),
                      currency=totals.currency,
                      shipping_address=checkout.shipping_address,
                      checkout_token=checkout.token, parts=tuple(parts), metadata=dict(checkout.metadata or {}))


def _revenue_account(part):
    from .kinds import line_kinds

    accounts = {line_kinds()[line.kind].revenue_account for line in part.lines if line.kind in line_kinds()}
    return accounts.pop() if len(accounts) == 1 else "platform_revenue"


def complete(checkout_token, user=None, expected_total=None):
    """Turn a checkout into an unpaid order (or a paid one when nothing is due) with one
    sub-order per seller, atomically with the stock reservation and the plugins' claims.
    `expected_total` (the total the client last saw) makes a changed price refuse with
    PRICE_CHANGED. Raises ValidationError (INVALID_STATE empty cart or vendor not selling,
    REQUIRED email/address/shipping method, NOT_FOUND line no longer for sale, OUT_OF_STOCK,
    PRICE_CHANGED, and whatever a plugin refuses with, e.g. SLOT_TAKEN), PluginFailed."""
    with transaction.atomic():
        order, _payment = _complete(checkout_token, user, expected_total)
    return order


def complete_with_payment(checkout_token, user=None, expected_total=None, gateway=None,
                          capture_method="automatic"):
    """`complete()`, and when something is due, the order's pending Payment for `gateway`
    written in the same transaction (one statement, no second transaction). The caller
    starts it at the gateway after the commit (`payments.services.start_payment`): no
    network call ever happens inside the transaction. Returns (order, payment or None).
    Check the gateway first (`payments.services.check_payment_options`): a bad choice
    raises here only after the order was refused for its own reasons."""
    from marketplace.payments.services import prepare_payment

    def pay(order):
        return prepare_payment(order, gateway, capture_method)

    with transaction.atomic():
        return _complete(checkout_token, user, expected_total, pay if gateway else None)


def _complete(checkout_token, user, expected_total, pay=None):
    from marketplace.catalog.services import refresh_summaries
    from marketplace.plugins.manager import get_manager

    checkout = get_checkout(checkout_token, user, lock=True)
    lines = list(checkout.lines.order_by("pk"))
    if not lines:
        raise ValidationError("The cart is empty.", code=ErrorCode.INVALID_STATE, field="lines")
    totals = compute_totals(checkout, user=user, lines=lines)
    errors = _validate(checkout, user, lines, totals)
    if errors:
        raise ValidationError(errors=errors)
    _check_expected(totals, expected_total)
    manager = get_manager()
    manager.call("checkout_validate", checkout=totals.checkout, lines=totals.lines, context=totals.context)
    wanted = _stock_wanted(totals)
    plan = _plan(wanted, lock=False)  # unlocked: the order is written first
    order = orders.create_order(_draft(checkout, user, totals, plan))
    manager.call("checkout_reserve", order=order_info_of(order), checkout=totals.checkout, lines=totals.lines,
                 adjustments=totals.adjustments, context=totals.context)
    checkout.completed_at = clock.now()
    checkout.save(update_fields=["completed_at", "updated_at"])
    payment = pay(order) if pay is not None and order.amount_due > 0 else None
    # Reserve as the last statements before commit: the hot stock rows stay locked only here.
    with transaction.atomic():
        applied = _apply(plan)
        if not applied:
            transaction.set_rollback(True)  # undo any partial reservation of the stale plan
    if not applied:  # another checkout took those units meanwhile: lock, re-plan, re-allocate
        plan = _plan(wanted, lock=True)
        orders.replace_allocations(order, plan)
        if not _apply(plan):
            raise ValidationError("Stock changed; try again.", code=ErrorCode.OUT_OF_STOCK, field="lines")
    if order.amount_due == 0:
        orders.mark_paid(order.pk, ZERO)
        order.refresh_from_db()
    product_ids = {line.product_id for line in totals.lines if line.product_id is not None}
    transaction.on_commit(lambda: refresh_summaries(product_ids))
    return order, payment
