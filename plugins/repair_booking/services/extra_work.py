"""Extra work and part substitutions: the shop proposes (while the car is checked in or
in service), the customer approves or declines. Work that costs something is paid as
its own order (a `repair_extra_work` line the approval puts in the customer's cart),
never added to what was already captured; a substitution with nothing to pay counts as
soon as it is approved (completion accepts the substitute's part number)."""
from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from marketplace.plugins import clock
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError

from ..lookups import normalize_number
from ..models import BookingStatus, ExtraWorkStatus, RepairBooking, RepairExtraWork
from .setup import _amount


@transaction.atomic
def propose(booking_id, description, labour_hours=0, parts_amount=0, replaces_part_number="",
            substitute_part_number="") -> RepairExtraWork:
    booking = RepairBooking.objects.select_for_update().select_related("shop").filter(pk=booking_id).first()
    if booking is None:
        raise NotFound("Booking not found.", field="booking_id")
    if booking.status not in (BookingStatus.CHECKED_IN, BookingStatus.IN_SERVICE):
        raise ValidationError("Propose extra work while the car is at the shop.", code=ErrorCode.INVALID_STATE,
                              field="booking_id")
    description = (description or "").strip()
    if not description:
        raise ValidationError("Describe the work.", code=ErrorCode.REQUIRED, field="description")
    hours = _amount(labour_hours or 0, "labour_hours", Decimal("24"))
    parts = _amount(parts_amount or 0, "parts_amount", Decimal("999999"))
    replaces, substitute = normalize_number(replaces_part_number or ""), normalize_number(substitute_part_number or "")
    if bool(replaces) != bool(substitute):
        raise ValidationError("A substitution names both the sold and the substitute part number.",
                              code=ErrorCode.REQUIRED, field="substitute_part_number")
    if not substitute and hours == 0 and parts == 0:
        raise ValidationError("Give the labour hours or the parts amount.", code=ErrorCode.REQUIRED,
                              field="labour_hours")
    return RepairExtraWork.objects.create(
        booking=booking, description=description[:300], labour_hours=hours, parts_amount=parts,
        labour_rate=booking.shop.labour_rate if hours else Decimal("0"),
        replaces_part_number=replaces, substitute_part_number=substitute)


def decide(work_id, user_id, approve, checkout_token=None, user=None) -> RepairExtraWork:
    """The customer approves (a paid item goes into the cart `checkout_token`) or
    declines. Someone else's proposal is NOT_FOUND."""
    with transaction.atomic():
        work = RepairExtraWork.objects.select_for_update().select_related("booking").filter(pk=work_id).first()
        if work is None or work.booking.user_id != user_id:
            raise NotFound("No such extra work.", field="id")
        if work.status != ExtraWorkStatus.PROPOSED:
            raise ValidationError("This proposal was decided already.", code=ErrorCode.INVALID_STATE, field="id")
        work.status = ExtraWorkStatus.APPROVED if approve else ExtraWorkStatus.DECLINED
        work.decided_at = clock.now()
        work.save(update_fields=["status", "decided_at"])
        if approve and work.amount > 0:
            if not checkout_token:
                raise ValidationError("Give your cart to pay the extra work.", code=ErrorCode.REQUIRED,
                                      field="checkout_token")
            from marketplace.plugins.checkout import add_line

            add_line(checkout_token, "repair_extra_work", reference=str(work.pk), quantity=1, user=user)
    return work


def on_order_paid(order):
    """Paid extra-work lines: the work is PAID."""
    ids = [int(line.reference) for line in order.lines if line.kind == "repair_extra_work"
           and line.reference.isdigit()]
    if ids:
        RepairExtraWork.objects.filter(pk__in=ids, status=ExtraWorkStatus.APPROVED).update(
            status=ExtraWorkStatus.PAID, order_id=order.order_id)
