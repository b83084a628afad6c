"""Celery tasks and their beat entries (merged through `celery_beat_schedule`).

- `expire_memberships` every 10 minutes: stored statuses follow the clock
  (`membership_expired` events, scheduled renewals start);
- `send_renewal_reminders` daily at 09:00 in the business zone (Asia/Shanghai):
  reminders 30/7/1 days before the end, each sent once.
Both do nothing while the plugin is switched off.
"""
from datetime import datetime
from zoneinfo import ZoneInfo

from celery import shared_task
from celery.schedules import crontab
from django.conf import settings

from marketplace.plugins import plugin_task

PLUGIN = "membership"


def business_now():
    """Beat's notion of now for the daily entries: wall time in the business zone."""
    return datetime.now(ZoneInfo(settings.TIME_ZONE))


def beat_schedule():
    return {
        "membership-expire": {"task": "plugins.membership.tasks.expire_memberships", "schedule": 600.0},
        "membership-renewal-reminders": {"task": "plugins.membership.tasks.send_renewal_reminders",
                                         "schedule": crontab(hour=9, minute=0, nowfun=business_now)},
    }


@shared_task
@plugin_task(PLUGIN)
def expire_memberships():
    from .services import memberships

    return memberships.sweep()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
@plugin_task(PLUGIN)
def send_renewal_reminders():
    from .services import reminders

    return reminders.run()
