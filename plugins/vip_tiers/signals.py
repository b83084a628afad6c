"""What the plugin does when engine events arrive (after their transaction committed;
`handle_event` reaches this plugin only for stores where it is on). Quick work happens
here; slower work is queued on Celery.

- `vendor_order_completed`: the return window starts, the customer moves up a tier at
  once if their spend reaches one, and their segments are refreshed (Celery);
- `order_paid`, `order_refunded`: the customer's segments (and shown spend) are refreshed
  (Celery);
- product and vendor changes: the store's product count is refreshed (Celery, at most
  one queued count per store every few seconds).
"""
from __future__ import annotations

import logging

logger = logging.getLogger("plugins.vip_tiers")
RECOUNT_DELAY = 2  # seconds: product changes in a burst (a CSV import) share one count


def dispatch(event):
    from marketplace.plugins.events import (
        OrderPaid, OrderRefunded, ProductCreated, ProductDeleted, ProductUpdated, VendorOrderCompleted,
        VendorReinstated, VendorStorefrontChanged, VendorSuspended,
    )

    from . import tasks

    if isinstance(event, VendorOrderCompleted):
        completed(event)
    elif isinstance(event, OrderPaid):
        if _has_programme_or_segments([v for v in event.vendor_totals if v]):
            tasks.refresh_order_customers.delay(order_id=event.order_id)
    elif isinstance(event, OrderRefunded):
        if _has_programme_or_segments([event.vendor_id]):
            tasks.refresh_order_customers.delay(order_id=event.order_id, vendor_id=event.vendor_id, refunded=True)
    elif isinstance(event, (ProductCreated, ProductUpdated, ProductDeleted, VendorSuspended, VendorReinstated,
                            VendorStorefrontChanged)):
        schedule_recount(event.vendor_id)


def _has_programme_or_segments(vendor_ids):
    """Whether any of these stores has something to refresh (one query): orders at other
    stores cost no task."""
    from django.db.models import Q

    from .models import Segment, VipProgram

    vendor_ids = [int(v) for v in vendor_ids if v is not None]
    if not vendor_ids:
        return False
    return VipProgram.objects.filter(vendor_id__in=vendor_ids).exists() or \
        Segment.objects.filter(vendor_id__in=vendor_ids).exists()


def completed(event):
    from . import tasks
    from .models import VipOrder, VipProgram
    from .services import earning, tiers

    if not VipProgram.objects.filter(vendor_id=event.vendor_id).exists():
        return
    earning.mark_completed(event.vendor_order_id, event.occurred_at)
    user_id = VipOrder.objects.filter(vendor_order_id=event.vendor_order_id).values_list(
        "account__user_id", flat=True).first()
    if user_id is None:
        from marketplace.plugins.orders import order_info

        info = order_info(event.order_id)
        user_id = info.user_id if info else None
    if user_id is not None and event.vendor_id is not None:
        tiers.upgrade(event.vendor_id, user_id)
        tasks.refresh_customer_segments.delay(vendor_id=event.vendor_id, user_id=user_id)


def schedule_recount(vendor_id):
    from django.core.cache import cache

    from . import tasks
    from .models import VipProgram

    if vendor_id is None or not VipProgram.objects.filter(vendor_id=vendor_id, enabled=True).exists():
        return
    if cache.add(f"vip_tiers:recount:{vendor_id}", 1, timeout=RECOUNT_DELAY):
        tasks.recount_products.apply_async(kwargs={"vendor_id": vendor_id}, countdown=RECOUNT_DELAY)
