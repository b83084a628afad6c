"""Reminders 24 h and 2 h before a booking, each sent once, on the engine clock; through
a real Celery worker when Redis is configured."""
from datetime import timedelta

import pytest
from django.core import mail

from .conftest import BOOK, SHANGHAI, cart, iso, local, signed_in

pytestmark = pytest.mark.django_db


def test_each_reminder_is_sent_once(client, repair, make_user, frozen_clock):
    from plugins.repair_booking.tasks import send_reminders

    api = signed_in(client, make_user("driver@example.com"))
    token = cart(api, [repair.line(repair.pads)])
    tuesday = local(SHANGHAI, 2026, 3, 3, 14, 0)
    assert api.mutate(BOOK, {"t": token, "start": iso(tuesday)})["errors"] == []
    mail.outbox.clear()
    assert send_reminders() == 0  # 30 hours ahead: nothing yet
    frozen_clock(tuesday - timedelta(hours=23))
    assert send_reminders() == 1 and send_reminders() == 0
    assert "预约提醒" in mail.outbox[0].subject and mail.outbox[0].to == ["driver@example.com"]
    assert "24 hours" in mail.outbox[0].body and "2026-03-03 14:00" in mail.outbox[0].body
    frozen_clock(tuesday - timedelta(hours=1, minutes=55))
    assert send_reminders() == 1 and send_reminders() == 0
    assert "2 hours" in mail.outbox[1].body
    assert len(mail.outbox) == 2


def test_a_booking_made_late_gets_only_the_two_hour_reminder(client, repair, make_user, frozen_clock):
    from plugins.repair_booking.tasks import send_reminders

    api = signed_in(client, make_user("late@example.com"))
    token = cart(api, [repair.line(repair.pads)])
    assert api.mutate(BOOK, {"t": token, "start": iso(local(SHANGHAI, 2026, 3, 2, 10, 0))})["errors"] == []
    mail.outbox.clear()
    assert send_reminders() == 1 and send_reminders() == 0
    assert "2 hours" in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_runs_on_the_worker(worker, client, repair, make_user, frozen_clock):
    from tests.conftest import wait_for

    from plugins.repair_booking.models import RepairBooking
    from plugins.repair_booking.tasks import beat_schedule, send_reminders

    assert beat_schedule()["repair-booking-reminders"]["schedule"] == 300.0
    api = signed_in(client, make_user("worker@example.com"))
    token = cart(api, [repair.line(repair.pads)])
    assert api.mutate(BOOK, {"t": token, "start": iso(local(SHANGHAI, 2026, 3, 2, 11, 0))})["errors"] == []
    send_reminders.delay()
    wait_for(lambda: RepairBooking.objects.filter(reminded_24h_at__isnull=False).exists(), message="the reminder")
