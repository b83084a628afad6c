"""Holds: a slot kept for a cart while its owner checks out (`hold_minutes`, default 5).

`cart_booking(token, user)` reads what a cart wants booked: the shop's service lines (one
shop, one bay type), its parts (for "deliver to installer") and when they can arrive.
`place_hold` checks the vehicle, fitment, required parts and the start, then - under a
row lock on the shop's bays of that type - takes a free bay for the cart, replacing the
cart's earlier hold; the hold's data goes into the service lines' metadata
(`set_line_metadata`), and with `install_parts` the parts' sellers ship to the shop
(`set_delivery_address`). A hold never hides its slot from its owner (the cart, or the
signed-in member); an expired hold hides nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction

from marketplace.plugins import clock, get_settings
from marketplace.plugins.errors import ErrorCode, MarketplaceError, NotFound, ValidationError

from .. import availability
from ..lookups import PLUGIN, bookable_shop, fitment, garage_vehicle, services_of_variants
from ..models import PartsLeadTime, RepairHold

DELIVERY_LABEL = "送至安装门店 Deliver to installer"


@dataclass
class CartBooking:
    """What a cart wants booked."""

    shop: object
    need: availability.Requirement
    service_lines: list  # CheckoutLineInfo
    part_lines: list  # shippable catalog lines that are not services
    services: dict  # {variant_id: RepairService}
    lines: list = field(default_factory=list)

    def parts_ready_at(self, now):
        return parts_ready_at(self.part_lines, now, self.shop)


def parts_ready_at(part_lines, now, shop):
    """When every part can be at the shop: each seller's lead + shipping days (its own
    `PartsLeadTime`, else the plugin's defaults), the latest of them, plus the shop's
    `parts_margin_hours`. None without parts."""
    vendor_ids = {line.vendor_id for line in part_lines if line.vendor_id is not None}
    if not vendor_ids:
        return None
    settings = get_settings(PLUGIN)
    own = {row.vendor_id: row for row in PartsLeadTime.objects.filter(vendor_id__in=vendor_ids)}
    days = max((own[v].lead_days + own[v].shipping_days) if v in own
               else settings.default_parts_lead_days + settings.default_parts_shipping_days for v in vendor_ids)
    from ..calendar import UTC

    return (now + timedelta(days=days, hours=shop.parts_margin_hours)).astimezone(UTC)


def cart_booking(token, user=None, lines=None) -> CartBooking | None:
    """The booking a cart asks for, or None when it holds no service. Raises
    ValidationError INVALID (field "lines") for services of several shops or bay types."""
    from marketplace.plugins.checkout import cart_lines

    lines = list(lines if lines is not None else cart_lines(token, user))
    variant_ids = [line.variant_id for line in lines if line.kind == "product" and line.variant_id]
    services = services_of_variants(variant_ids)
    service_lines = [line for line in lines if line.variant_id in services]
    if not service_lines:
        return None
    shop_ids = {services[line.variant_id].shop.vendor_id for line in service_lines}
    if len(shop_ids) > 1:
        raise ValidationError("Book the services of one shop per order.", field="lines")
    shop = bookable_shop(shop_ids.pop(), field="lines")
    need = availability.requirement([services[line.variant_id] for line in service_lines],
                                    {services[line.variant_id].pk: line.quantity for line in service_lines},
                                    shop.slot_minutes)
    parts = [line for line in lines if line.kind == "product" and line.variant_id not in services
             and line.requires_shipping]
    return CartBooking(shop, need, service_lines, parts, services, lines)


def check_vehicle_and_parts(booking: CartBooking, user, garage_vehicle_id, install_parts):
    """The car (the member's own), fitment of every service (and part, when installed)
    and required parts. Returns the vehicle dict or None. Raises NotFound
    (garage_vehicle_id), ValidationError INVALID / REQUIRED naming `lines.<index>`."""
    vehicle = None
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    if garage_vehicle_id is not None:
        if user_id is None:
            raise ValidationError("Sign in to book for a car in your garage.", code=ErrorCode.NOT_AUTHENTICATED,
                                  field="garage_vehicle_id")
        vehicle = garage_vehicle(user_id, garage_vehicle_id)
    checked = list(booking.service_lines) + (list(booking.part_lines) if install_parts else [])
    errors = []
    if checked:
        fits = fitment([line.variant_id for line in checked], vehicle["vehicle_id"] if vehicle else None,
                       vehicle["year"] if vehicle else None)
        for line in checked:
            answer = fits.get(line.variant_id)
            if answer is None:
                continue  # no fitment data: fits every car
            if vehicle is None:
                errors.append(MarketplaceError(f"{line.sku} fits only some cars: choose your car.",
                                               code=ErrorCode.REQUIRED, field="garage_vehicle_id"))
            elif not answer:
                errors.append(MarketplaceError(f"{line.sku} does not fit your {vehicle['label']}.",
                                               field=f"lines.{line.index}"))
    category_of = {}
    if booking.part_lines:
        from marketplace.plugins.catalog import variant_infos

        category_of = {v.variant_id: v.product.category_id for v in variant_infos([l.variant_id for l in booking.part_lines])}
    present = set(category_of.values())
    for line in booking.service_lines:
        wanted = set(booking.services[line.variant_id].required_part_categories or ())
        if wanted and not wanted & present:
            errors.append(MarketplaceError(f"{line.sku} needs its parts: add them to the cart.",
                                           code=ErrorCode.REQUIRED, field=f"lines.{line.index}"))
    if errors:
        raise ValidationError(errors=errors)
    return vehicle


def _owner(token, user):
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    return availability.Owner(checkout_token=str(token), user_id=user_id)


def place_hold(token, user, start, garage_vehicle_id=None, install_parts=False) -> RepairHold:
    """Hold `start` for the cart `token` (see the module docstring). `start` is aware, or
    naive meaning the shop's local wall-clock time (INVALID when it does not exist that
    day). Raises NotFound, ValidationError (REQUIRED: no service in the cart; INVALID,
    SLOT_TAKEN naming `start`; fitment on `lines.<i>`)."""
    from marketplace.plugins.checkout import set_line_metadata

    booking = cart_booking(token, user)
    if booking is None:
        raise ValidationError("The cart holds no service to book.", code=ErrorCode.REQUIRED, field="token")
    install_parts = bool(install_parts and booking.part_lines)
    vehicle = check_vehicle_and_parts(booking, user, garage_vehicle_id, install_parts)
    shop = booking.shop
    shop_calendar = availability.ShopCalendar(shop)
    start = aware_start(start, shop_calendar)
    now = clock.now()
    ready = booking.parts_ready_at(now) if install_parts else None
    owner = _owner(token, user)
    slot = availability.check_start(shop_calendar, booking.need, start, now, earliest=ready, owner=owner)
    with transaction.atomic():
        bay_id = availability.claim_bay(shop, booking.need.bay_type, slot.bay_ids, slot.start, slot.end, now, owner)
        RepairHold.objects.filter(checkout_token=owner.checkout_token).delete()
        hold = RepairHold.objects.create(
            shop=shop, bay_id=bay_id, start=slot.start, end=slot.end, checkout_token=owner.checkout_token,
            user_id=owner.user_id, garage_vehicle_id=vehicle["garage_vehicle_id"] if vehicle else None,
            install_parts=install_parts, expires_at=now + timedelta(minutes=shop.hold_minutes))
        data = {"hold_id": hold.pk, "shop_id": shop.vendor_id, "start": slot.start.isoformat(),
                "end": slot.end.isoformat(), "garage_vehicle_id": hold.garage_vehicle_id,
                "vehicle": vehicle["label"] if vehicle else "", "install_parts": install_parts,
                "expires_at": hold.expires_at.isoformat()}
        for line in booking.service_lines:
            set_line_metadata(token, line.line_id, PLUGIN, data, user=user)
        _route_parts(token, user, booking, install_parts, hold)
    return hold


def _route_parts(token, user, booking, install_parts, hold):
    from marketplace.plugins.checkout import clear_delivery_address, set_delivery_address, set_line_metadata
    from marketplace.plugins.vendors import vendor_info

    if not booking.part_lines:
        return  # nothing ships: no seller to redirect (a stale redirection of a seller without lines is ignored)
    clear_delivery_address(token, owner=PLUGIN, user=user)
    for line in booking.part_lines:
        set_line_metadata(token, line.line_id, PLUGIN, {"install_at": booking.shop.vendor_id,
                                                        "hold_id": hold.pk} if install_parts else None, user=user)
    if not install_parts:
        return
    shop = vendor_info(booking.shop.vendor_id)
    address = {"full_name": f"{shop.name_zh}（安装门店）", "phone": shop.phone or "00000000",
               "province": shop.province or shop.city or "-", "city": shop.city or "-",
               "district": shop.district or "", "street": shop.street or "-"}
    for vendor_id in sorted({line.vendor_id for line in booking.part_lines if line.vendor_id is not None}):
        set_delivery_address(token, vendor_id, address, label=f"{DELIVERY_LABEL}: {shop.name_zh}", owner=PLUGIN,
                             user=user)


def release_hold(token, user=None) -> bool:
    """Give the cart's slot back and clear the booking data from its lines. Returns
    whether a hold existed."""
    from marketplace.plugins.checkout import cart_lines, clear_delivery_address, set_line_metadata

    with transaction.atomic():
        deleted, _ = RepairHold.objects.filter(checkout_token=str(token)).delete()
        for line in cart_lines(token, user):
            if PLUGIN in (line.metadata or {}):
                set_line_metadata(token, line.line_id, PLUGIN, None, user=user)
        clear_delivery_address(token, owner=PLUGIN, user=user)
    return bool(deleted)


def aware_start(start, shop_calendar, field="start"):
    """An aware instant; a naive datetime is the shop's local wall-clock time (INVALID
    when that time does not exist, e.g. 02:30 when clocks go forward)."""
    from .. import calendar

    if start is None:
        raise ValidationError("Choose a time.", code=ErrorCode.REQUIRED, field=field)
    calendar.check_year(start, field)
    if start.tzinfo is not None:
        return start.astimezone(calendar.UTC)
    instant = calendar.local_instant(start, shop_calendar.tz)
    if instant is None:
        raise ValidationError(f"{start:%Y-%m-%d %H:%M} does not exist in {shop_calendar.shop.timezone} (the clocks "
                              "go forward then).", field=field)
    return instant


def purge_expired(now=None) -> int:
    """Delete holds expired more than an hour ago (they hide nothing already)."""
    now = now or clock.now()
    deleted, _ = RepairHold.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
    return deleted
