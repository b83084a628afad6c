"""Celery tasks and their beat entries (merged through `celery_beat_schedule`); each does
nothing while the plugin is off.

- `send_reminders` every 5 minutes: 24 h and 2 h before a booking, each once;
- `purge_holds` every minute: holds expired an hour ago are deleted (expired ones hide
  nothing already);
- `retry_refunds` every 10 minutes: refunds a gateway failed;
- `refresh_next_free_slots` every 15 minutes: shops' search documents (the next free
  slot moves with the clock).
"""
from celery import shared_task

from marketplace.plugins import plugin_task

PLUGIN = "repair_booking"


def beat_schedule():
    return {
        "repair-booking-reminders": {"task": "plugins.repair_booking.tasks.send_reminders", "schedule": 300.0},
        "repair-booking-holds": {"task": "plugins.repair_booking.tasks.purge_holds", "schedule": 60.0},
        "repair-booking-refunds": {"task": "plugins.repair_booking.tasks.retry_refunds", "schedule": 600.0},
        "repair-booking-next-slots": {"task": "plugins.repair_booking.tasks.refresh_next_free_slots",
                                      "schedule": 900.0},
    }


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
@plugin_task(PLUGIN)
def send_reminders():
    from .services import reminders

    return reminders.run()


@shared_task
@plugin_task(PLUGIN)
def purge_holds():
    from .services import holds

    return holds.purge_expired()


@shared_task
@plugin_task(PLUGIN)
def retry_refunds():
    from .services import refunds

    return refunds.retry_failed()


@shared_task
@plugin_task(PLUGIN)
def refresh_next_free_slots():
    from marketplace.plugins.vendors import touch_shop

    from .models import RepairShop

    ids = list(RepairShop.objects.values_list("vendor_id", flat=True))
    for vendor_id in ids:
        touch_shop(vendor_id)
    return len(ids)
