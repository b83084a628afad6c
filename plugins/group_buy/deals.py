"""Deals: created by a vendor, reviewed by platform staff, live between their dates.

    DRAFT -submit-> REVIEW -approve-> SCHEDULED -starts_at-> LIVE -ends_at-> ENDED
                           `-reject-> DRAFT          LIVE <-> SOLD_OUT (no cap left for a new group)
    any state but ENDED/CANCELLED -cancel-> CANCELLED (forming groups dissolved and refunded)

Every transition is a conditional update on the expected state. Services own their
transactions and raise `ValidationError` with the field at fault (snake_case; the API
camel-cases it), `NotFound`, or `ENTITLEMENT_REQUIRED` / `PLUGIN_DISABLED` for a vendor
whose plan or switch does not allow group deals.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import F

from marketplace.plugins import ErrorCode, MarketplaceError, NotFound, ValidationError, emit, get_settings, is_active
from marketplace.plugins import clock

from .events import DealStatusChanged
from .models import OPEN_DEAL, Deal, DealKind, DealStatus

PLUGIN = "group_buy"
ENTITLEMENT = "group_buy"
EDITABLE = ("deal_price", "group_size", "window_hours", "starts_at", "ends_at", "max_units", "max_per_member",
            "per_user_limit", "new_customers_only", "voucher_valid_days", "title_zh", "title_en", "kind")
MAX_PER_MEMBER = 99


def platform_settings():
    return get_settings(PLUGIN)


def require_vendor(vendor_id, field="vendor_id"):
    """The vendor's plan must include group deals and the vendor must not have switched
    the plugin off. Raises ENTITLEMENT_REQUIRED / PLUGIN_DISABLED."""
    from marketplace.plugins.entitlements import require

    require(vendor_id, ENTITLEMENT, field=field)
    if not is_active(PLUGIN, vendor_id):
        raise ValidationError("Group deals are switched off for this vendor.", code=ErrorCode.PLUGIN_DISABLED,
                              field=field)


def _money(value, field):
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError("Not an amount.", field=field) from None
    if not amount.is_finite() or amount <= 0 or amount > Decimal("9999999999"):
        raise ValidationError("Give a positive amount.", field=field)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError("At most two decimal places.", field=field)
    return amount.quantize(Decimal("0.01"))


def floor_problem(deal):
    """A ValidationError naming the least allowed deal price when `deal.deal_price` is below
    the platform floor of the variant's list price and no floor-exempt campaign covers the
    product when the deal starts (or now, if later); else None."""
    from marketplace.plugins.pricing import floor_exempt, floor_price

    floor = floor_price(deal.list_price)
    if deal.deal_price >= floor:
        return None
    at = max(deal.starts_at, clock.now())
    if floor_exempt(deal.product.category_id, deal.vendor_id, at=at):
        return None
    percent = floor_price(Decimal("100")).normalize()
    return ValidationError(f"Below the {percent:f} % floor: at least {floor}.", code=ErrorCode.INVALID,
                           field="deal_price")


def _check(deal, full):
    """Field errors of a deal's values. `full` (submission, approval) adds the rules that
    need every value: dates, floor, cap."""
    from marketplace.plugins.catalog import variant_info

    errors = []
    settings = platform_settings()
    variant = variant_info(deal.variant_id)
    if variant is None or variant.vendor_id != deal.vendor_id:
        raise NotFound("This vendor has no such variant.", field="variant_id")
    if deal.kind not in DealKind.values:
        errors.append(MarketplaceError("kind is GOODS or SERVICE_VOUCHER.", field="kind"))
    elif deal.kind == DealKind.SERVICE_VOUCHER and variant.product.requires_shipping:
        errors.append(MarketplaceError("A voucher deal sells a service (a product type that does not ship).",
                                       field="variant_id"))
    least = 1 if deal.kind == DealKind.SERVICE_VOUCHER else 2
    if not least <= deal.group_size <= settings.max_group_size:
        errors.append(MarketplaceError(f"A group has {least} to {settings.max_group_size} members.",
                                       field="group_size"))
    if not 1 <= deal.window_hours <= 168:
        errors.append(MarketplaceError("The window is 1 to 168 hours.", field="window_hours"))
    if not 1 <= deal.max_per_member <= MAX_PER_MEMBER:
        errors.append(MarketplaceError(f"1 to {MAX_PER_MEMBER} units per member.", field="max_per_member"))
    if deal.per_user_limit < 1:
        errors.append(MarketplaceError("At least 1.", field="per_user_limit"))
    if deal.voucher_valid_days is not None and not 1 <= deal.voucher_valid_days <= 730:
        errors.append(MarketplaceError("1 to 730 days.", field="voucher_valid_days"))
    if deal.deal_price >= deal.list_price:
        errors.append(MarketplaceError(f"A deal price is below the list price ({deal.list_price}).",
                                       field="deal_price"))
    if deal.ends_at <= deal.starts_at:
        errors.append(MarketplaceError("The deal must end after it starts.", field="ends_at"))
    if full:
        if not variant.is_active or not variant.product.visible:
            errors.append(MarketplaceError("The product is not on sale: publish it first.", field="variant_id"))
        if deal.starts_at < deal.ends_at <= clock.now():
            errors.append(MarketplaceError("The deal would already be over.", field="ends_at"))
        if deal.max_units < deal.group_capacity:
            errors.append(MarketplaceError(f"The cap must hold at least one group ({deal.group_capacity} units).",
                                           field="max_units"))
        problem = floor_problem(deal)
        if problem is not None:
            errors.append(problem)
    if errors:
        raise ValidationError(errors=errors)


def _assign(deal, values):
    for name, value in values.items():
        if name not in EDITABLE or value is None:
            continue
        if name == "deal_price":
            value = _money(value, "deal_price")
        elif name in ("title_zh", "title_en"):
            value = str(value).strip()[:120]
        elif name in ("group_size", "window_hours", "max_units", "max_per_member", "per_user_limit",
                      "voucher_valid_days"):
            if not isinstance(value, int) or value < 0 or value > 1_000_000:
                raise ValidationError("Give a whole number.", field=name)
        setattr(deal, name, value)


@transaction.atomic
def create_deal(*, vendor_id: int, variant_id: int, deal_price, group_size: int, starts_at, ends_at,
                max_units: int, kind: str = DealKind.GOODS, window_hours: int | None = None,
                max_per_member: int = 1, per_user_limit: int = 1, new_customers_only: bool = False,
                voucher_valid_days: int | None = None, title_zh: str = "", title_en: str = "") -> Deal:
    """A DRAFT deal of the vendor's variant (CNY, `deal_price` a Decimal with 2 places,
    `window_hours` defaulting to the vendor's `default_window_hours`). Raises
    ENTITLEMENT_REQUIRED / PLUGIN_DISABLED, NotFound (variant_id), ValidationError."""
    from marketplace.plugins.catalog import variant_info

    require_vendor(vendor_id)
    variant = variant_info(variant_id)
    if variant is None or variant.vendor_id != vendor_id:
        raise NotFound("This vendor has no such variant.", field="variant_id")
    deal = Deal(vendor_id=vendor_id, variant_id=variant_id, product_id=variant.product_id,
                list_price=variant.list_price, currency=variant.currency, starts_at=starts_at, ends_at=ends_at,
                window_hours=get_settings(PLUGIN, vendor_id).default_window_hours,
                title_zh=variant.product.name_zh, title_en=variant.product.name_en)
    _assign(deal, dict(deal_price=deal_price, group_size=group_size, max_units=max_units, kind=kind,
                       window_hours=window_hours,
                       max_per_member=max_per_member, per_user_limit=per_user_limit,
                       new_customers_only=new_customers_only, voucher_valid_days=voucher_valid_days,
                       title_zh=title_zh or None, title_en=title_en or None))
    _check(deal, full=False)
    deal.save()
    return deal


def _locked(deal_id, vendor_id=None):
    qs = Deal.objects.select_for_update().select_related("product")
    if vendor_id is not None:
        qs = qs.filter(vendor_id=vendor_id)
    deal = qs.filter(pk=deal_id).first()
    if deal is None:
        raise NotFound("Deal not found.", field="id")
    return deal


@transaction.atomic
def update_deal(*, deal_id: int, **changes) -> Deal:
    """Change a DRAFT deal (any of EDITABLE). Raises INVALID_STATE once submitted."""
    deal = _locked(deal_id)
    require_vendor(deal.vendor_id)
    if deal.status != DealStatus.DRAFT:
        raise ValidationError("Only a draft can be changed: cancel it and create a new one.",
                              code=ErrorCode.INVALID_STATE)
    _assign(deal, changes)
    _check(deal, full=False)
    deal.save()
    return deal


def _move(deal, to, **fields):
    """The conditional update of a deal's state: True when this call made the change."""
    changed = Deal.objects.filter(pk=deal.pk, status=deal.status).update(status=to, updated_at=clock.now(), **fields)
    if not changed:
        return False
    was_open = deal.status in OPEN_DEAL
    deal.status = to
    for name, value in fields.items():
        setattr(deal, name, value)
    emit(DealStatusChanged(deal_id=deal.pk, product_id=deal.product_id, status=to, vendor_id=deal.vendor_id))
    if was_open != (to in OPEN_DEAL):
        from marketplace.plugins.catalog import touch_product

        touch_product(deal.product_id)  # the search badge appears or goes
    return True


@transaction.atomic
def submit_deal(deal_id: int) -> Deal:
    """DRAFT -> REVIEW after every rule holds (the price at or above the floor unless a
    floor-exempt campaign covers it: INVALID on deal_price naming the least price)."""
    deal = _locked(deal_id)
    require_vendor(deal.vendor_id)
    if deal.status != DealStatus.DRAFT:
        raise ValidationError(f"A {deal.status} deal cannot be submitted.", code=ErrorCode.INVALID_STATE)
    from marketplace.plugins.catalog import variant_info

    deal.list_price = variant_info(deal.variant_id).list_price  # the price of today, not of the draft's day
    _check(deal, full=True)
    Deal.objects.filter(pk=deal.pk).update(list_price=deal.list_price)
    _move(deal, DealStatus.REVIEW, submitted_at=clock.now(), review_note="")
    return deal


@transaction.atomic
def approve_deal(deal_id: int, staff_user_id: int | None = None) -> Deal:
    """REVIEW -> SCHEDULED (LIVE at once when it has started). The rules are checked again
    (a campaign may have ended since). Platform staff only (the API checks)."""
    deal = _locked(deal_id)
    if deal.status != DealStatus.REVIEW:
        raise ValidationError(f"A {deal.status} deal cannot be approved.", code=ErrorCode.INVALID_STATE)
    require_vendor(deal.vendor_id)
    _check(deal, full=True)
    now = clock.now()
    to = DealStatus.LIVE if deal.starts_at <= now else DealStatus.SCHEDULED
    _move(deal, to, approved_at=now, approved_by_id=staff_user_id)
    return deal


@transaction.atomic
def reject_deal(deal_id: int, note: str) -> Deal:
    """REVIEW -> DRAFT with the reviewer's note (REQUIRED)."""
    note = (note or "").strip()
    if not note:
        raise ValidationError("Say why, for the vendor.", code=ErrorCode.REQUIRED, field="review_note")
    deal = _locked(deal_id)
    if deal.status != DealStatus.REVIEW:
        raise ValidationError(f"A {deal.status} deal cannot be rejected.", code=ErrorCode.INVALID_STATE)
    _move(deal, DealStatus.DRAFT, review_note=note[:300])
    return deal


@transaction.atomic
def cancel_deal(deal_id: int, reason: str) -> Deal:
    """Any deal not yet ended -> CANCELLED (the deal only: `settlement.cancel_deal` also
    dissolves its forming groups, as the API does). Raises INVALID_STATE for an ended or
    cancelled deal."""
    deal = _locked(deal_id)
    if deal.status in (DealStatus.ENDED, DealStatus.CANCELLED):
        raise ValidationError(f"A {deal.status} deal cannot be cancelled.", code=ErrorCode.INVALID_STATE)
    _move(deal, DealStatus.CANCELLED, cancelled_at=clock.now(), cancel_reason=(reason or "")[:300])
    return deal


def advance(now=None) -> int:
    """Beat work: start scheduled deals whose time came, end open ones whose time passed
    (their forming groups' windows end with the deal: the sweep fails those not filled).
    Returns how many deals changed."""
    now = now or clock.now()
    changed = 0
    for deal in Deal.objects.filter(status=DealStatus.SCHEDULED, starts_at__lte=now, ends_at__gt=now):
        with transaction.atomic():
            changed += _move(deal, DealStatus.LIVE)
    for deal in Deal.objects.filter(status__in=OPEN_DEAL, ends_at__lte=now):
        with transaction.atomic():
            changed += _move(deal, DealStatus.ENDED)
    for deal in Deal.objects.filter(status=DealStatus.SCHEDULED, ends_at__lte=now):
        with transaction.atomic():
            changed += _move(deal, DealStatus.ENDED)
    return changed


# -- the cap ---------------------------------------------------------------------------------------
def reserve_capacity(deal, units):
    """Take `units` from the deal's cap for a new group (inside the caller's transaction).
    Raises SOLD_OUT when the cap cannot hold them, GROUP_CLOSED when the deal is not open.
    A deal whose cap cannot hold another group becomes SOLD_OUT."""
    now = clock.now()
    taken = Deal.objects.filter(pk=deal.pk, status=DealStatus.LIVE, starts_at__lte=now, ends_at__gt=now,
                                units_reserved__lte=F("max_units") - units).update(
        units_reserved=F("units_reserved") + units)
    if not taken:
        current = Deal.objects.filter(pk=deal.pk).values("status", "ends_at").first()
        if current["status"] == DealStatus.SOLD_OUT or (current["status"] == DealStatus.LIVE
                                                         and current["ends_at"] > now):
            raise ValidationError("This deal is sold out: no new groups.", code=ErrorCode.SOLD_OUT, field="deal_id")
        raise ValidationError("This deal is not open.", code=ErrorCode.GROUP_CLOSED, field="deal_id")
    _follow_cap(deal.pk)


def release_capacity(deal_id, units):
    """Give `units` back to the deal's cap (inside the caller's transaction); a SOLD_OUT
    deal that can hold a group again goes back to LIVE."""
    if units <= 0:
        return
    Deal.objects.filter(pk=deal_id).update(units_reserved=F("units_reserved") - units)
    _follow_cap(deal_id)


def _follow_cap(deal_id):
    deal = Deal.objects.select_related(None).get(pk=deal_id)
    room = deal.max_units - deal.units_reserved
    if deal.status == DealStatus.LIVE and room < deal.group_capacity:
        _move(deal, DealStatus.SOLD_OUT)
    elif deal.status == DealStatus.SOLD_OUT and room >= deal.group_capacity and deal.ends_at > clock.now():
        _move(deal, DealStatus.LIVE)


def is_open(deal, now=None):
    now = now or clock.now()
    return deal.status == DealStatus.LIVE and deal.starts_at <= now < deal.ends_at


def group_expiry(deal, opened_at):
    """A new group's deadline: its window, never past the deal's end."""
    return min(opened_at + timedelta(hours=deal.window_hours), deal.ends_at)
