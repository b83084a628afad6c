"""What access means for a vendor: entitlements for the `vendor_entitlements` hook, the
storefront hold (hidden while SUSPENDED, never deleted), and the product quota (nothing
unpublished at once; the newest above the limit after `quota_grace_days`)."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Count

from marketplace.plugins import clock, emit
from marketplace.plugins.catalog import save_product, visible_products
from marketplace.plugins.vendors import vendor_infos

from . import notices
from .access import grants
from .events import VendorAccessChanged
from .models import Access, AccessOverride, HeldStorefront, VendorSubscription
from .state import access_of, current_subscriptions, overrides_for, plan_in_force, settings, sync_storefront

logger = logging.getLogger("plugins.vendor_plans")


def vendor_grants(vendor_ids):
    """The `vendor_entitlements` hook: {vendor_id: {entitlement: value}} for vendors whose
    plan limits or grants something (two queries for any number of vendors)."""
    vendor_ids = [int(v) for v in vendor_ids]
    if not vendor_ids:
        return {}
    require_plan = settings().require_plan
    now = clock.now()
    subs = current_subscriptions(vendor_ids, related=("entitled_plan",))
    overrides = overrides_for(vendor_ids)
    answer = {}
    for vendor_id in vendor_ids:
        sub = subs.get(vendor_id)
        access = access_of(sub, overrides.get(vendor_id), now, require_plan=require_plan)
        granted = grants(plan_in_force(sub), access)
        if granted is not None:
            answer[vendor_id] = granted
    return answer


def sync_vendors(vendor_ids=None, now=None):
    """Bring stored access and storefront holds in line with the clock and the settings for
    these vendors (None: every vendor with a subscription, an override or a hold, and, when
    `require_plan` is on, every vendor). Returns the number of holds placed or lifted."""
    now = now or clock.now()
    require_plan = settings().require_plan
    if vendor_ids is None:
        ids = set(VendorSubscription.objects.values_list("vendor_id", flat=True))
        ids |= set(AccessOverride.objects.values_list("vendor_id", flat=True))
        ids |= set(HeldStorefront.objects.values_list("vendor_id", flat=True))
        if require_plan:
            ids |= {v.vendor_id for v in vendor_infos()}
        vendor_ids = sorted(ids)
    changed = 0
    for start in range(0, len(vendor_ids), 200):
        chunk = vendor_ids[start:start + 200]
        subs = current_subscriptions(chunk)
        overrides = overrides_for(chunk)
        for vendor_id in chunk:
            with transaction.atomic():
                sub = subs.get(vendor_id)
                if sub is not None:
                    sub = VendorSubscription.objects.select_for_update().get(pk=sub.pk)
                access = access_of(sub, overrides.get(vendor_id), now, require_plan=require_plan)
                if sub is not None and sub.access != access:
                    previous = sub.access
                    VendorSubscription.objects.filter(pk=sub.pk).update(access=access)
                    emit(VendorAccessChanged(vendor_id=vendor_id, access=access, previous=previous))
                changed += sync_storefront(vendor_id, access)
    return changed


# -- product quota -------------------------------------------------------------------------------
def sweep_quota(now=None):
    """Vendors publishing more products than their plan allows: note since when (and tell
    them: `notices`); after `quota_grace_days` unpublish the newest above the limit.
    Returns the number of products unpublished."""
    now = now or clock.now()
    grace = timedelta(days=settings().quota_grace_days)
    subs = list(VendorSubscription.objects.filter(ended=False, entitled_plan__max_products__isnull=False)
                .exclude(access=Access.SUSPENDED).select_related("entitled_plan"))
    used = dict(visible_products().filter(vendor_id__in=[s.vendor_id for s in subs]).values("vendor_id")
                .annotate(n=Count("pk")).values_list("vendor_id", "n"))
    unpublished = 0
    for sub in subs:
        limit, count = sub.entitled_plan.max_products, used.get(sub.vendor_id, 0)
        if count <= limit:
            if sub.over_quota_since is not None:
                VendorSubscription.objects.filter(pk=sub.pk).update(over_quota_since=None)
            continue
        if sub.over_quota_since is None:
            with transaction.atomic():
                VendorSubscription.objects.filter(pk=sub.pk).update(over_quota_since=now)
                notices.quota_exceeded(sub, count, limit, now + grace)
            continue
        if now < sub.over_quota_since + grace:
            continue
        excess = list(visible_products().filter(vendor_id=sub.vendor_id).order_by("-pk")
                      .values_list("pk", flat=True)[:count - limit])
        for product_id in excess:
            save_product(sub.vendor_id, {"status": "draft"}, product_id)
        unpublished += len(excess)
        with transaction.atomic():
            VendorSubscription.objects.filter(pk=sub.pk).update(over_quota_since=None)
            notices.quota_enforced(sub, len(excess), limit)
        logger.info("vendor %s over its quota of %s: unpublished %s products", sub.vendor_id, limit, len(excess))
    return unpublished


def quota_state(sub, now=None):
    """(limit, published, deadline) of a subscription's product quota (deadline None when
    within it)."""
    limit = sub.entitled_plan.max_products
    used = visible_products().filter(vendor_id=sub.vendor_id).count()
    deadline = None
    if sub.over_quota_since is not None:
        deadline = sub.over_quota_since + timedelta(days=settings().quota_grace_days)
    return limit, used, deadline
