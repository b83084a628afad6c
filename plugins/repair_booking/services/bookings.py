"""Bookings: claimed with the order (`checkout_reserve`), released with an unpaid order
(`on_order_released`), and their life cycle:

    CONFIRMED -> CHECKED_IN -> IN_SERVICE -> COMPLETED
    CONFIRMED -> CANCELLED_BY_CUSTOMER (>= cancel notice) | CANCELLED_LATE (< notice)
              -> CANCELLED_BY_SHOP | RESCHEDULED (a new CONFIRMED booking) | NO_SHOW
              -> BLOCKED_PARTS (parts damaged or wrong; rescheduled for free)
    CONFIRMED (order never paid) -> RELEASED

Every change is made under a row lock on the booking; taking a slot also locks the
shop's bays of its type, and on PostgreSQL an exclusion constraint refuses any overlap
(`SLOT_TAKEN`, nothing written). Refunds (labour, by the shop's policy) go through the
payments facade after the state change commits (`refunds.py`).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction

from marketplace.plugins import clock, emit
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError

from .. import availability
from ..events import BookingCancelled, BookingCompleted, BookingConfirmed, BookingNoShow, BookingRescheduled
from ..lookups import PLUGIN, normalize_number, part_numbers, services_of_variants, shop_of
from ..models import OCCUPYING, BookingStatus, ExtraWorkStatus, RepairBooking, RepairHold
from . import holds

ZERO = Decimal("0.00")
SLOT_TAKEN_MESSAGE = "That time was taken meanwhile; choose another (nothing was ordered)."


def _slot_taken(field="lines"):
    return ValidationError(SLOT_TAKEN_MESSAGE, code=ErrorCode.SLOT_TAKEN, field=field)


def _parse(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _insert(**values) -> RepairBooking:
    """Insert a booking; the database's exclusion constraint (PostgreSQL) turns a
    concurrent overlap into SLOT_TAKEN."""
    try:
        with transaction.atomic():
            return RepairBooking.objects.create(**values)
    except IntegrityError as exc:
        if "repair_booking_no_overlap" in str(exc) or "exclusion" in str(exc).lower():
            raise _slot_taken() from None
        raise


def _take_bay(shop, need, start, end, now, owner, exclude_booking_ids=()):
    """A free bay for [start, end), locked (`availability.claim_bay`), or SLOT_TAKEN."""
    busy = availability.load_busy(shop, need.bay_type, start, end, now, owner, exclude_booking_ids)
    free = [bay_id for bay_id, bay in busy.items() if bay.free(start, end)]
    return availability.claim_bay(shop, need.bay_type, free, start, end, now, owner, exclude_booking_ids,
                                  field="lines")


# -- with the order ----------------------------------------------------------------------------------
def validate_cart(checkout, lines):
    """`checkout_validate`: the service lines carry a chosen time (a hold), the car still
    fits, the parts still arrive in time. Raises ValidationError."""
    user_id = checkout.user_id
    user = None
    if user_id:
        from marketplace.plugins.accounts import get_user

        user = get_user(user_id)
    booking = holds.cart_booking(checkout.token, user, lines=lines)
    if booking is None:
        return
    data = dict(booking.service_lines[0].metadata.get(PLUGIN) or {})
    if not data.get("start"):
        line = booking.service_lines[0]
        raise ValidationError(f"{line.sku}: choose a time for the service (bookingHold).", code=ErrorCode.REQUIRED,
                              field=f"lines.{line.index}")
    holds.check_vehicle_and_parts(booking, user, data.get("garage_vehicle_id"), data.get("install_parts"))
    start = _parse(data["start"])
    if start <= clock.now():
        raise ValidationError("The chosen time has passed; choose another.", field="lines")
    ready = booking.parts_ready_at(clock.now()) if data.get("install_parts") else None
    if ready is not None and start < ready:
        raise ValidationError("The parts cannot reach the shop by the chosen time; choose a later one.",
                              field="lines")


def reserve(order, checkout, lines):
    """`checkout_reserve`: turn the cart's hold into a CONFIRMED booking inside the
    completion transaction. SLOT_TAKEN (nothing written) when the slot went to someone
    else (e.g. the hold expired)."""
    from marketplace.plugins.vendors import touch_shop

    services = services_of_variants([line.variant_id for line in order.lines if line.variant_id])
    service_lines = [line for line in order.lines if line.variant_id in services]
    if not service_lines:
        return None
    data = dict(service_lines[0].metadata.get(PLUGIN) or {})
    shop = shop_of(data.get("shop_id") or services[service_lines[0].variant_id].shop.vendor_id, field="lines")
    need = availability.requirement([services[line.variant_id] for line in service_lines],
                                    {services[line.variant_id].pk: line.quantity for line in service_lines},
                                    shop.slot_minutes)
    start = _parse(data["start"])
    end = start + timedelta(minutes=need.minutes)
    now = clock.now()
    owner = availability.Owner(checkout_token=str(checkout.token), user_id=checkout.user_id)
    bay_id = _take_bay(shop, need, start, end, now, owner)
    vendor_order_id = service_lines[0].vendor_order_id
    part_lines = [line for line in order.lines if (line.metadata.get(PLUGIN) or {}).get("install_at")]
    ready = holds.parts_ready_at(part_lines, now, shop) if part_lines else None
    booking = _insert(
        shop=shop, bay_id=bay_id, user_id=order.user_id, email=order.email,
        garage_vehicle_id=data.get("garage_vehicle_id"), vehicle_label=(data.get("vehicle") or "")[:200],
        start=start, end=end, status=BookingStatus.CONFIRMED, order_id=order.order_id,
        vendor_order_id=vendor_order_id, order_number=order.number,
        service_line_ids=[line.line_id for line in service_lines], part_line_ids=[line.line_id for line in part_lines],
        labour_amount=sum((line.total for line in service_lines), ZERO), parts_ready_at=ready)
    RepairHold.objects.filter(checkout_token=str(checkout.token)).delete()
    emit(BookingConfirmed(vendor_id=shop.vendor_id, booking_id=booking.pk, order_id=order.order_id,
                          user_id=order.user_id, start=start, end=end))
    touch_shop(shop.vendor_id)
    return booking


def release_order(order, reason=""):
    """`on_order_released`: an unpaid order was cancelled or expired: its bookings free
    their slots (RELEASED)."""
    from marketplace.plugins.vendors import touch_shop

    released = 0
    for booking in RepairBooking.objects.select_for_update().filter(order_id=order.order_id,
                                                                    status=BookingStatus.CONFIRMED):
        booking.status = BookingStatus.RELEASED
        booking.cancelled_at = clock.now()
        booking.cancel_reason = (reason or "order not paid")[:200]
        booking.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
        touch_shop(booking.shop.vendor_id)
        released += 1
    return released


# -- the life cycle --------------------------------------------------------------------------------------
def _locked(booking_id) -> RepairBooking:
    booking = RepairBooking.objects.select_for_update().select_related("shop").filter(pk=booking_id).first()
    if booking is None:
        raise NotFound("Booking not found.", field="id")
    return booking


def _expect(booking, *statuses):
    if booking.status not in statuses:
        raise ValidationError(f"A {booking.get_status_display().lower()} booking cannot do this.",
                              code=ErrorCode.INVALID_STATE, field="id")


@transaction.atomic
def check_in(booking_id) -> RepairBooking:
    """The car arrived (from 2 hours before the start). CONFIRMED -> CHECKED_IN."""
    booking = _locked(booking_id)
    _expect(booking, BookingStatus.CONFIRMED)
    now = clock.now()
    if now < booking.start - timedelta(hours=2):
        raise ValidationError("Check in from 2 hours before the booking.", code=ErrorCode.INVALID_STATE, field="id")
    _require_paid(booking)
    booking.status, booking.checked_in_at = BookingStatus.CHECKED_IN, now
    booking.save(update_fields=["status", "checked_in_at", "updated_at"])
    return booking


@transaction.atomic
def start_service(booking_id) -> RepairBooking:
    booking = _locked(booking_id)
    _expect(booking, BookingStatus.CHECKED_IN)
    booking.status, booking.started_at = BookingStatus.IN_SERVICE, clock.now()
    booking.save(update_fields=["status", "started_at", "updated_at"])
    return booking


def _require_paid(booking):
    from marketplace.plugins.orders import order_info

    order = order_info(booking.order_id)
    vendor_order = next((vo for vo in order.vendor_orders if vo.vendor_order_id == booking.vendor_order_id), None)
    if vendor_order is None or vendor_order.status not in ("paid", "fulfilled", "completed"):
        raise ValidationError("The booking's order is not paid yet.", code=ErrorCode.INVALID_STATE, field="id")
    return order


def check_installed(booking, installed) -> list[dict]:
    """The installed part numbers against the parts sold for this booking (their part
    numbers, or a substitution the customer approved). Returns the cleaned list
    [{"part_number", "photo_id"}]. Raises ValidationError INVALID naming
    `installed_parts.<i>` (a number nobody sold or approved) or REQUIRED (a sold part
    with part numbers that nothing installed matches)."""
    from marketplace.plugins.orders import order_info

    cleaned = []
    for index, item in enumerate(installed or ()):
        number = normalize_number(str(item.get("part_number") or ""))
        if not number:
            raise ValidationError("Give the part number.", code=ErrorCode.REQUIRED,
                                  field=f"installed_parts.{index}.part_number")
        cleaned.append({"part_number": number, "photo_id": str(item.get("photo_id") or "")[:100]})
    if not booking.part_line_ids:
        return cleaned
    order = order_info(booking.order_id)
    sold = [line for line in order.lines if line.line_id in set(booking.part_line_ids)]
    numbers = part_numbers([line.variant_id for line in sold if line.variant_id])
    substitutes = {}
    for work in booking.extra_work.filter(status__in=(ExtraWorkStatus.APPROVED, ExtraWorkStatus.PAID)) \
            .exclude(substitute_part_number=""):
        substitutes.setdefault(normalize_number(work.replaces_part_number), set()).add(
            normalize_number(work.substitute_part_number))
    allowed = set()
    for line in sold:
        for number in numbers.get(line.variant_id, []):
            allowed.add(number)
            allowed |= substitutes.get(number, set())
    installed_numbers = {item["part_number"] for item in cleaned}
    for index, item in enumerate(cleaned):
        if item["part_number"] not in allowed:
            raise ValidationError(f"{item['part_number']} is not the part sold for this booking and no substitution "
                                  "was approved by the customer.", field=f"installed_parts.{index}.part_number")
    for line in sold:
        own = set(numbers.get(line.variant_id, []))
        if own and not any(n in installed_numbers for n in own | set().union(*(substitutes.get(n, set())
                                                                                for n in own))):
            raise ValidationError(f"{line.sku}: record the part number installed for it.", code=ErrorCode.REQUIRED,
                                  field="installed_parts")
    return cleaned


@transaction.atomic
def complete(booking_id, installed=None, notes="") -> RepairBooking:
    """IN_SERVICE -> COMPLETED: the installed parts are checked against what was sold,
    then the booking's service lines (and paid extra work) are fulfilled without a
    carrier. Raises ValidationError (INVALID_STATE, INVALID installed_parts)."""
    from marketplace.plugins.orders import fulfil_service_lines, order_info

    booking = _locked(booking_id)
    _expect(booking, BookingStatus.IN_SERVICE)
    _require_paid(booking)
    booking.installed_parts = check_installed(booking, installed)
    booking.status, booking.completed_at = BookingStatus.COMPLETED, clock.now()
    if notes:
        booking.notes = str(notes)[:500]
    booking.save(update_fields=["status", "completed_at", "installed_parts", "notes", "updated_at"])
    fulfil_service_lines(booking.vendor_order_id, booking.service_line_ids)
    for work in booking.extra_work.filter(status=ExtraWorkStatus.PAID, order_id__isnull=False):
        info = order_info(work.order_id)
        for vendor_order in info.vendor_orders:
            lines = [l.line_id for l in info.lines if l.vendor_order_id == vendor_order.vendor_order_id
                     and l.kind == "repair_extra_work" and l.reference == str(work.pk) and not l.fulfilled]
            if lines and vendor_order.status == "paid":
                fulfil_service_lines(vendor_order.vendor_order_id, lines)
    emit(BookingCompleted(vendor_id=booking.shop.vendor_id, booking_id=booking.pk, order_id=booking.order_id,
                          installed_parts=[item["part_number"] for item in booking.installed_parts]))
    return booking


def _fee(amount, percent):
    from marketplace.plugins.pricing import quantize

    return quantize(Decimal(amount) * Decimal(percent) / Decimal(100))


def cancel(booking_id, by, reason="", refund_parts=False, user_id=None) -> RepairBooking:
    """Cancel a booking. `by`: "customer" (their own: `user_id`; CONFIRMED or
    BLOCKED_PARTS; at least `cancel_notice_minutes` ahead -> CANCELLED_BY_CUSTOMER with
    the labour refunded in full, later -> CANCELLED_LATE keeping `late_cancel_fee_percent`),
    "shop" or "staff" (-> CANCELLED_BY_SHOP, full refund). An unpaid order is cancelled
    instead of refunded. `refund_parts`: the customer's parts delivered for it are
    refunded too (those not shipped yet). Refunds run after the change commits."""
    from marketplace.plugins.orders import cancel_order, order_info
    from marketplace.plugins.vendors import touch_shop

    from . import refunds

    with transaction.atomic():
        booking = _locked(booking_id)
        if by == "customer" and booking.user_id != user_id:
            raise NotFound("Booking not found.", field="id")
        _expect(booking, BookingStatus.CONFIRMED, BookingStatus.BLOCKED_PARTS)
        now = clock.now()
        order = order_info(booking.order_id)
        if by == "customer":
            on_time = booking.status == BookingStatus.BLOCKED_PARTS or \
                booking.start - now >= timedelta(minutes=booking.shop.cancel_notice_minutes)
            status = BookingStatus.CANCELLED_BY_CUSTOMER if on_time else BookingStatus.CANCELLED_LATE
            fee = ZERO if on_time else _fee(booking.labour_amount, booking.shop.late_cancel_fee_percent)
        else:
            status, fee = BookingStatus.CANCELLED_BY_SHOP, ZERO
        booking.status, booking.cancelled_at = status, now
        booking.cancel_reason = (reason or "")[:200]
        paid = order.status not in ("unpaid", "cancelled")
        booking.refund_fee = fee if paid else ZERO
        booking.refund_due = max(booking.labour_amount - fee, ZERO) if paid else ZERO
        booking.save(update_fields=["status", "cancelled_at", "cancel_reason", "refund_fee", "refund_due",
                                    "updated_at"])
        if order.status == "unpaid":
            cancel_order(booking.order_id, f"Booking {booking.pk} cancelled")
        emit(BookingCancelled(vendor_id=booking.shop.vendor_id, booking_id=booking.pk, order_id=booking.order_id,
                              status=status, by=by, refund=booking.refund_due, fee=booking.refund_fee))
        touch_shop(booking.shop.vendor_id)
    refunds.settle(booking.pk)
    if refund_parts and by == "customer" and booking.part_line_ids:
        refunds.refund_parts(booking.pk)
    booking.refresh_from_db()
    return booking


def reschedule(booking_id, start, by, user_id=None) -> RepairBooking:
    """Move a booking atomically: the new slot is taken (bays locked, constraint checked)
    in the same transaction that marks the old one RESCHEDULED, so either both happen or
    neither. The customer (their own, `user_id`) must do it at least
    `reschedule_notice_minutes` before the old start (any time from BLOCKED_PARTS); shop
    staff any time. The new start follows every slot rule. Returns the new booking."""
    from marketplace.plugins.vendors import touch_shop

    with transaction.atomic():
        old = _locked(booking_id)
        if by == "customer" and old.user_id != user_id:
            raise NotFound("Booking not found.", field="id")
        _expect(old, BookingStatus.CONFIRMED, BookingStatus.BLOCKED_PARTS)
        now = clock.now()
        shop = old.shop
        if by == "customer" and old.status == BookingStatus.CONFIRMED and \
                old.start - now < timedelta(minutes=shop.reschedule_notice_minutes):
            raise ValidationError(f"Reschedule at least {shop.reschedule_notice_minutes} minutes before the "
                                  "booking; call the shop.", code=ErrorCode.INVALID_STATE, field="id")
        shop_calendar = availability.ShopCalendar(shop)
        start = holds.aware_start(start, shop_calendar)
        need = _need_of(old)
        owner = availability.Owner(user_id=old.user_id)
        slot = availability.check_start(shop_calendar, need, start, now, earliest=old.parts_ready_at, owner=owner,
                                        exclude_booking_ids=[old.pk])
        bay_id = availability.claim_bay(shop, need.bay_type, slot.bay_ids, slot.start, slot.end, now, owner,
                                        exclude_booking_ids=[old.pk])
        old.status = BookingStatus.RESCHEDULED
        old.save(update_fields=["status", "updated_at"])
        new = _insert(
            shop=shop, bay_id=bay_id, user_id=old.user_id,
            email=old.email, garage_vehicle_id=old.garage_vehicle_id, vehicle_label=old.vehicle_label,
            start=slot.start, end=slot.end, status=BookingStatus.CONFIRMED, order_id=old.order_id,
            vendor_order_id=old.vendor_order_id, order_number=old.order_number,
            service_line_ids=old.service_line_ids, part_line_ids=old.part_line_ids, labour_amount=old.labour_amount,
            parts_ready_at=old.parts_ready_at, rescheduled_from=old, notes=old.notes)
        old.extra_work.update(booking=new)
        emit(BookingRescheduled(vendor_id=shop.vendor_id, booking_id=new.pk, previous_booking_id=old.pk,
                                start=new.start, end=new.end, by=by))
        touch_shop(shop.vendor_id)
    return new


def _need_of(booking):
    """The requirement of an existing booking: its bay's type, its length."""
    return availability.Requirement(booking.bay.bay_type, int((booking.end - booking.start).total_seconds() // 60),
                                    None)


def no_show(booking_id) -> RepairBooking:
    """The customer did not come by start + `no_show_after_minutes`: NO_SHOW, the labour
    refunded less `no_show_fee_percent`."""
    from marketplace.plugins.orders import order_info
    from marketplace.plugins.vendors import touch_shop

    from . import refunds

    with transaction.atomic():
        booking = _locked(booking_id)
        _expect(booking, BookingStatus.CONFIRMED)
        now = clock.now()
        if now < booking.start + timedelta(minutes=booking.shop.no_show_after_minutes):
            raise ValidationError(f"Mark a no-show from {booking.shop.no_show_after_minutes} minutes after the "
                                  "start.", code=ErrorCode.INVALID_STATE, field="id")
        paid = order_info(booking.order_id).status not in ("unpaid", "cancelled")
        fee = _fee(booking.labour_amount, booking.shop.no_show_fee_percent) if paid else ZERO
        booking.status, booking.cancelled_at = BookingStatus.NO_SHOW, now
        booking.refund_fee, booking.refund_due = fee, (booking.labour_amount - fee if paid else ZERO)
        booking.save(update_fields=["status", "cancelled_at", "refund_fee", "refund_due", "updated_at"])
        emit(BookingNoShow(vendor_id=booking.shop.vendor_id, booking_id=booking.pk, order_id=booking.order_id,
                           refund=booking.refund_due, fee=fee))
        touch_shop(booking.shop.vendor_id)
    refunds.settle(booking.pk)
    booking.refresh_from_db()
    return booking


@transaction.atomic
def block_parts(booking_id, reason="") -> RepairBooking:
    """The parts arrived damaged or do not fit: BLOCKED_PARTS (the slot is freed); the
    customer (or staff) reschedules for free."""
    from marketplace.plugins.vendors import touch_shop

    booking = _locked(booking_id)
    _expect(booking, BookingStatus.CONFIRMED)
    if not booking.part_line_ids:
        raise ValidationError("This booking has no parts delivered to the shop.", code=ErrorCode.INVALID_STATE,
                              field="id")
    booking.status = BookingStatus.BLOCKED_PARTS
    booking.notes = (f"{booking.notes}\n" if booking.notes else "") + f"Parts: {reason}"[:300]
    booking.notes = booking.notes[:500]
    booking.save(update_fields=["status", "notes", "updated_at"])
    touch_shop(booking.shop.vendor_id)
    return booking


def occupied(shop, start, end):
    return RepairBooking.objects.filter(shop=shop, status__in=OCCUPYING, start__lt=end, end__gt=start)
