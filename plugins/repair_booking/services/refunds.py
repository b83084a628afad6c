"""Refunds of cancelled and no-show bookings through the payments facade, after the
booking's change committed: the amount owed (`refund_due`) is refunded on the shop's
sub-order with the idempotency key `repair-booking-<id>` (a retry never refunds twice:
the facade answers a used key with the refunds made under it). A gateway failure is
recorded (`refund_error`) and retried by the `retry_refunds` task under the next key
`repair-booking-<id>-a<n>`, since the facade keeps the failed refund under the key used."""
from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction

from marketplace.plugins.errors import MarketplaceError

from ..models import RepairBooking

logger = logging.getLogger("plugins.repair_booking")
ZERO = Decimal("0.00")


def settle(booking_id) -> list:
    """Refund what the booking is owed, once. Returns [(refund_id, status)]."""
    from marketplace.plugins.payments import refund

    booking = RepairBooking.objects.get(pk=booking_id)
    if booking.refund_due <= 0 or booking.refund_ids:
        return []
    key, earlier = _next_key(booking.pk)
    if earlier:  # a refund under one of our keys is under way or done (a crash before we noted it)
        made = [(record.refund_id, record.status) for record in earlier]
        RepairBooking.objects.filter(pk=booking.pk).update(refund_ids=[pk for pk, _status in made], refund_error="")
        return made
    try:
        made = refund(booking.order_id, amount=booking.refund_due, vendor_order_id=booking.vendor_order_id,
                      reason=f"Booking {booking.pk}: {booking.get_status_display()}", idempotency_key=key)
    except MarketplaceError as exc:
        logger.warning("Refund of booking %s failed: %s", booking.pk, exc)
        RepairBooking.objects.filter(pk=booking.pk).update(refund_error=str(exc)[:300])
        return []
    with transaction.atomic():
        RepairBooking.objects.filter(pk=booking.pk).update(refund_ids=[pk for pk, _status in made], refund_error="")
    return made


def _next_key(booking_id):
    """(the key of the next attempt, []) when every earlier attempt failed, else (the key,
    its refunds that did not fail)."""
    from marketplace.plugins.payments import find_refunds

    attempt = 0
    while True:
        key = f"repair-booking-{booking_id}" + (f"-a{attempt}" if attempt else "")
        records = find_refunds(key)
        if not records:
            return key, []
        alive = [record for record in records if record.status != "failed"]
        if alive:
            return key, alive
        attempt += 1


def refund_parts(booking_id) -> list:
    """Refund the parts delivered for a cancelled booking, seller by seller, where nothing
    was shipped yet (a shipped sub-order is the seller's to take back)."""
    from marketplace.plugins.orders import order_info
    from marketplace.plugins.payments import refund

    booking = RepairBooking.objects.get(pk=booking_id)
    order = order_info(booking.order_id)
    wanted = {line.vendor_order_id for line in order.lines if line.line_id in set(booking.part_line_ids)}
    made = []
    for vendor_order in order.vendor_orders:
        if vendor_order.vendor_order_id not in wanted or vendor_order.status != "paid":
            continue
        remaining = vendor_order.total - vendor_order.refunded
        if remaining <= 0:
            continue
        try:
            made += refund(booking.order_id, amount=remaining, vendor_order_id=vendor_order.vendor_order_id,
                           reason=f"Booking {booking.pk} cancelled: parts refunded",
                           idempotency_key=f"repair-booking-{booking.pk}-parts-{vendor_order.vendor_order_id}")
        except MarketplaceError as exc:
            logger.warning("Parts refund of booking %s failed: %s", booking.pk, exc)
    return made


def retry_failed(limit=100) -> int:
    """Refunds owed but not made (the gateway failed): try again."""
    done = 0
    for pk in RepairBooking.objects.filter(refund_due__gt=0, refund_ids=[]).exclude(refund_error="") \
            .values_list("pk", flat=True)[:limit]:
        done += bool(settle(pk))
    return done
