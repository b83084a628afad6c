"""A vendor's subscription state and what it means now: the current subscription, access
through `access.derive_access`, the derived fields (`recompute`), and the storefront hold.
Used by the event handling, the services, the sweeps and GraphQL (no module here imports
those)."""
from __future__ import annotations

from marketplace.plugins import clock, emit, get_settings
from marketplace.plugins.vendors import hide_storefront, show_storefront

from .access import UNCONFIRMED, derive_access, effective_status, entitled_plan, grace_deadline
from .events import VendorAccessChanged, VendorSubscriptionStatusChanged
from .models import Access, AccessOverride, BillingInvoice, HeldStorefront, Status, SubscriptionEvent, VendorSubscription
from .plans import PlanIndex

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


# -- derived state ---------------------------------------------------------------------------------
def recompute(sub, now=None, plans=None):
    """Derive status, paid-through date, grace and entitled plan from what is recorded, store
    them (with any field the caller set on `sub`), refresh access (and the storefront
    hold), and emit the changes."""
    plans = plans or PlanIndex()
    invoices = list(BillingInvoice.objects.filter(subscription=sub))
    previous = sub.status
    if sub.status == Status.FAILED:  # never created at the gateway: nothing can change it
        status = Status.FAILED
    else:
        status = effective_status(sub.snapshot_status, sub.last_event_created, sub.ended, invoices)
    paid = [i for i in invoices if i.paid_at is not None]
    periods = [i.period_end for i in paid if i.period_end is not None]
    observed = (SubscriptionEvent.objects.filter(subscription=sub).order_by("created", "rank", "event_id")
                .values_list("plan_id", flat=True))
    paid_codes = {code for i in paid for code in (i.plan_codes or ())}
    entitled = entitled_plan(plans.get(sub.started_plan_id), [plans.get(pk) for pk in observed], paid_codes)
    sub.status = status
    sub.paid_through = max(periods) if periods else None
    sub.grace_until = grace_deadline(status, invoices, sub.last_event_created, get_settings(PLUGIN).grace_days)
    sub.entitled_plan = entitled
    if previous != status:
        emit(VendorSubscriptionStatusChanged(vendor_id=sub.vendor_id, subscription_id=sub.pk,
                                             plan=plans.get(sub.plan_id).code,
                                             status=status, previous=previous))
    set_access(sub, now)
    sub.save()
    apply_storefront(sub)
    return sub
