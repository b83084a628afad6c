"""What access means for a vendor: entitlements for the `vendor_entitlements` hook, the
storefront hold (hidden while SUSPENDED, never deleted), and the product quota (nothing
unpublished at once; the newest above the limit after `quota_grace_days`)."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Count

from marketplace.plugins import clock, emit, get_settings
from marketplace.plugins.catalog import save_product, visible_products
from marketplace.plugins.vendors import hide_storefront, show_storefront, vendor_infos

from .access import UNCONFIRMED, derive_access, grants
from .events import VendorAccessChanged
from .models import Access, AccessOverride, HeldStorefront, VendorSubscription

logger = logging.getLogger("plugins.vendor_plans")
PLUGIN = "vendor_plans"
HOLD_REASON = "No paid vendor plan (vendor_plans): pay the open invoice or choose a plan to show the storefront again."


def settings():
    return get_settings(PLUGIN)


def current_subscriptions(vendor_ids, related=()) -> dict[int, VendorSubscription]:
    """{vendor_id: its current subscription}: the open one, else the latest ended one."""
    found = {}
    qs = VendorSubscription.objects.filter(vendor_id__in=list(vendor_ids)).order_by("vendor_id", "ended", "-pk")
    for sub in qs.select_related(*related) if related else qs:
        found.setdefault(sub.vendor_id, sub)
    return found


def current_subscription(vendor_id, related=()):
    return current_subscriptions([vendor_id], related).get(int(vendor_id))


def plan_in_force(sub):
    """The plan whose entitlements apply: none while the subscription is not confirmed by
    the gateway (nothing changes until then)."""
    return sub.entitled_plan if sub is not None and sub.status not in UNCONFIRMED else None


def overrides_for(vendor_ids) -> dict[int, AccessOverride]:
    return {o.vendor_id: o for o in AccessOverride.objects.filter(vendor_id__in=list(vendor_ids))}


def access_of(sub, override=None, now=None, vendor_status=None, require_plan=None):
    """`derive_access` for a vendor's current subscription (None: none) and override."""
    if require_plan is None:
        require_plan = settings().require_plan
    return derive_access(sub.status if sub is not None else None, now=now or clock.now(),
                         grace_until=sub.grace_until if sub is not None else None,
                         override=override.access if override is not None else "",
                         override_until=override.until if override is not None else None,
                         vendor_status=vendor_status, require_plan=require_plan,
                         previous_status=sub.previous_status or None if sub is not None else None)


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


# -- storefront holds ----------------------------------------------------------------------------
def sync_storefront(vendor_id, access):
    """Hold the vendor's storefront hidden while its billing access is SUSPENDED; lift the
    hold otherwise. Idempotent; runs in the caller's transaction (listings change with it,
    search follows through the engine's `vendor_storefront_changed` event)."""
    held = HeldStorefront.objects.filter(vendor_id=vendor_id).exists()
    if access == Access.SUSPENDED and not held:
        hide_storefront(vendor_id, PLUGIN, HOLD_REASON)
        HeldStorefront.objects.create(vendor_id=vendor_id, since=clock.now())
        return True
    if access != Access.SUSPENDED and held:
        show_storefront(vendor_id, PLUGIN)
        HeldStorefront.objects.filter(vendor_id=vendor_id).delete()
        return True
    return False


def set_access(sub, now=None):
    """Set `sub.access` from its state, the override and the clock (not saved); emit
    `vendor_access_changed` when it changed. Returns True when it changed."""
    override = overrides_for([sub.vendor_id]).get(sub.vendor_id)
    access = access_of(sub, override, now)
    previous = sub.access
    if previous == access:
        return False
    sub.access = access
    emit(VendorAccessChanged(vendor_id=sub.vendor_id, access=access, previous=previous))
    return True


def apply_storefront(sub):
    """Hold or show the storefront by `sub.access` when `sub` is its vendor's current
    subscription (an open one always is)."""
    current = sub if not sub.ended else current_subscription(sub.vendor_id)
    if current is not None and current.pk == sub.pk:
        sync_storefront(sub.vendor_id, sub.access)


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
    from . import notices

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
