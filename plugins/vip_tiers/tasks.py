"""Celery tasks and their beat entries (merged through `celery_beat_schedule`). Every task
does nothing while the plugin is switched off (for the store, when it names one).

| entry | when (Asia/Shanghai) | task |
| --- | --- | --- |
| points and cashback maturation and expiry | daily 00:10 (and maturation hourly) | `mature_and_expire` |
| segment recomputation | daily 02:00 | `recompute_segments` |
| tier review | the 1st of each month, 03:00 | `review_tiers` |
| product gate | hourly | `recount_all_products` |
| ledger invariant check | daily 04:00 | `check_balances` |
"""
from datetime import datetime
from zoneinfo import ZoneInfo

from celery import shared_task
from celery.schedules import crontab
from django.conf import settings

from marketplace.plugins import plugin_task

PLUGIN = "vip_tiers"


def business_now():
    """Beat's notion of now for the calendar entries: wall time in the business zone."""
    return datetime.now(ZoneInfo(settings.TIME_ZONE))


def beat_schedule():
    return {
        "vip-mature-and-expire": {"task": "plugins.vip_tiers.tasks.mature_and_expire",
                                  "schedule": crontab(hour=0, minute=10, nowfun=business_now)},
        "vip-mature-hourly": {"task": "plugins.vip_tiers.tasks.mature_and_expire",
                              "schedule": crontab(minute=25, nowfun=business_now), "kwargs": {"expire": False}},
        "vip-segments-nightly": {"task": "plugins.vip_tiers.tasks.recompute_segments",
                                 "schedule": crontab(hour=2, minute=0, nowfun=business_now)},
        "vip-tier-review": {"task": "plugins.vip_tiers.tasks.review_tiers",
                            "schedule": crontab(day_of_month=1, hour=3, minute=0, nowfun=business_now)},
        "vip-product-gate": {"task": "plugins.vip_tiers.tasks.recount_all_products",
                             "schedule": crontab(minute=5, nowfun=business_now)},
        "vip-check-balances": {"task": "plugins.vip_tiers.tasks.check_balances",
                               "schedule": crontab(hour=4, minute=0, nowfun=business_now)},
    }


@shared_task
@plugin_task(PLUGIN)
def mature_and_expire(expire=True):
    from .services import earning

    caught_up = earning.catch_up_completions()
    matured = earning.mature_due()
    expired = earning.expire_due() if expire else 0
    return {"caught_up": caught_up, "matured": matured, "expired": expired}


@shared_task
@plugin_task(PLUGIN)
def recompute_segments(vendor_id=None, segment_ids=None):
    from .services import segments

    if vendor_id is None:
        return segments.recompute_all()
    return {str(k): v for k, v in segments.recompute(vendor_id, segment_ids).items()}


@shared_task
@plugin_task(PLUGIN, vendor_id_arg="vendor_id")
def refresh_customer_segments(vendor_id, user_id):
    from .services import segments

    return {str(k): v for k, v in segments.refresh_customer(vendor_id, user_id).items()}


@shared_task
@plugin_task(PLUGIN)
def refresh_order_customers(order_id, vendor_id=None, refunded=False):
    """After a payment or a refund: each store's segments for the customer (and, after a
    refund, the spend the customer sees)."""
    from marketplace.plugins import is_active
    from marketplace.plugins.orders import order_info

    from .services import segments, tiers

    order = order_info(order_id)
    if order is None or order.user_id is None:
        return 0
    vendors = {vo.vendor_id for vo in order.vendor_orders if vo.vendor_id is not None}
    if vendor_id is not None:
        vendors &= {vendor_id}
    for vendor in sorted(vendors):
        if not is_active(PLUGIN, vendor):
            continue
        if refunded:
            tiers.refresh_spend(vendor, order.user_id)
        segments.refresh_customer(vendor, order.user_id)
    return len(vendors)


@shared_task
@plugin_task(PLUGIN)
def review_tiers():
    from .services import tiers

    return tiers.review_all()


@shared_task
@plugin_task(PLUGIN, vendor_id_arg="vendor_id")
def recount_products(vendor_id):
    from .services import programs

    program = programs.recount(vendor_id)
    return program.product_count if program else None


@shared_task
@plugin_task(PLUGIN)
def recount_all_products():
    from .services import programs

    return programs.recount_all()


@shared_task
@plugin_task(PLUGIN)
def send_campaign(campaign_id, vendor_id=None):
    from .services import campaigns

    return campaigns.send(campaign_id)


@shared_task
@plugin_task(PLUGIN)
def check_balances():
    import logging

    from .services import integrity

    checked, mismatches = integrity.check()
    logger = logging.getLogger("plugins.vip_tiers")
    for mismatch in mismatches:
        logger.error("VIP ledger mismatch: %s", mismatch)
    return {"checked": checked, "mismatches": len(mismatches)}
