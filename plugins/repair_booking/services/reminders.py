"""Reminders 24 hours and 2 hours before a booking, each sent once (a conditional update
claims it before the mail goes: two workers never send the same one). A booking made
less than 2 hours ahead gets only the 2-hour one. Times on the engine clock."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings as django_settings
from django.core.mail import send_mail

from marketplace.plugins import clock

from ..models import BookingStatus, RepairBooking

WINDOWS = (("reminded_2h_at", timedelta(hours=2)), ("reminded_24h_at", timedelta(hours=24)))


def _message(booking, hours):
    from .. import calendar

    local = booking.start.astimezone(calendar.zone(booking.shop.timezone))
    when = local.strftime("%Y-%m-%d %H:%M")
    subject = f"预约提醒：{when} Your repair booking at {when}"
    body = (f"您在门店的维修预约将于 {when}（{booking.shop.timezone}）开始，约 {hours} 小时后。订单 {booking.order_number}。"
            f"\n\nYour repair booking starts at {when} ({booking.shop.timezone}), in about {hours} hours. "
            f"Order {booking.order_number}. {booking.vehicle_label}\n")
    return subject, body


def run(now=None) -> int:
    """Send the reminders now due. Returns how many went."""
    now = now or clock.now()
    sent = 0
    due = RepairBooking.objects.filter(status=BookingStatus.CONFIRMED, start__gt=now,
                                       start__lte=now + timedelta(hours=24)).select_related("shop")
    for booking in due:
        for field, window in WINDOWS:
            if booking.start - now > window:
                continue
            claim = {field: now}
            if field == "reminded_2h_at":
                skipped = RepairBooking.objects.filter(pk=booking.pk, reminded_24h_at__isnull=True)
                skipped.update(reminded_24h_at=now)  # too late for the 24-hour one: never sent after this
            if RepairBooking.objects.filter(pk=booking.pk, **{f"{field}__isnull": True}).update(**claim) != 1:
                break
            if booking.email:
                subject, body = _message(booking, 2 if field == "reminded_2h_at" else 24)
                send_mail(subject, body, django_settings.DEFAULT_FROM_EMAIL, [booking.email])
                sent += 1
            break
    return sent
