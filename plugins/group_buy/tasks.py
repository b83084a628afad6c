"""Celery tasks of the group-buy plugin (beat entries in hooks.py), named `group_buy.<name>`
and queued by name (queue.py). Each does nothing while the plugin is off for the platform,
and each is safe to run twice or concurrently."""
from celery import shared_task

from marketplace.plugins import plugin_task

PLUGIN = "group_buy"


@shared_task(name="group_buy.sweep")
@plugin_task(PLUGIN)
def sweep():
    """Every 30 s: deals start and end, expired groups fail, unfinished follow-ups resume."""
    from . import settlement

    return settlement.sweep()


@shared_task(name="group_buy.follow_up")
@plugin_task(PLUGIN)
def follow_up(group_id):
    """The settled group's follow-up (enqueued by the transition that won)."""
    from . import followup

    return followup.follow_up(group_id)


@shared_task(name="group_buy.process_refund")
@plugin_task(PLUGIN)
def process_refund(track_id):
    from . import refunds

    track = refunds.process(track_id)
    return track.status if track is not None else None


@shared_task(name="group_buy.void_member")
@plugin_task(PLUGIN)
def void_member(member_id, payment_id=None, cancel=True):
    from . import followup

    followup.void_member(member_id, payment_id, cancel)


@shared_task(name="group_buy.reconcile_refunds")
@plugin_task(PLUGIN)
def reconcile_refunds():
    """Every 5 min: tracked refunds move on (resends, retries, pending alerts)."""
    from . import refunds

    return refunds.reconcile()


@shared_task(name="group_buy.expire_vouchers")
@plugin_task(PLUGIN)
def expire_vouchers():
    """Hourly: unused vouchers past their date are refunded (过期退)."""
    from . import vouchers

    return vouchers.expire()


@shared_task(name="group_buy.stray_payment")
@plugin_task(PLUGIN)
def stray_payment(payment_id, order_id):
    from . import refunds

    refunds.stray_payment(payment_id, order_id)
