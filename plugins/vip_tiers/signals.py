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
        tasks.refresh_order_customers.delay(order_id=event.order_id)
    elif isinstance(event, OrderRefunded):
        tasks.refresh_order_customers.delay(order_id=event.order_id, vendor_id=event.vendor_id, refunded=True)
    elif isinstance(event, (ProductCreated, ProductUpdated, ProductDeleted, VendorSuspended, VendorReinstated,
                            VendorStorefrontChanged)):
        schedule_recount(event.vendor_id)


def completed(event):
    from .models import VipOrder
    from .services import earning, tiers
    from . import tasks

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

    from .models import VipProgram
    from . import tasks

    if vendor_id is None or not VipProgram.objects.filter(vendor_id=vendor_id, enabled=True).exists():
        return
    if cache.add(f"vip_tiers:recount:{vendor_id}", 1, timeout=RECOUNT_DELAY):
        tasks.recount_products.apply_async(kwargs={"vendor_id": vendor_id}, countdown=RECOUNT_DELAY)
