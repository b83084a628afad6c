"""Pure rules (no database, no clock of their own): what a subscription's facts mean.

`derive_access` is THE access function: every reader (entitlements, storefront holds,
GraphQL, the sweep) goes through it. The other functions derive the subscription's state
from what events reported, in a way that does not depend on the order the events arrived
in (each is a function of a *set* of facts), which is what makes any permutation or
duplication of webhook deliveries end in the same state.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .models import Access, Status

# Ordering guard: subscription events are applied by (created, rank, event id); a
# deletion outranks any update of the same second and is terminal.
RANK = {"subscription.created": 0, "subscription.updated": 1, "subscription.paused": 1,
        "subscription.resumed": 1, "subscription.deleted": 2}
TERMINAL = {Status.CANCELED, Status.INCOMPLETE_EXPIRED}
FULL_STATUSES = {Status.TRIALING, Status.ACTIVE}
LIMITED_STATUSES = {Status.UNPAID, Status.PAUSED, Status.INCOMPLETE}
UNCONFIRMED = {Status.PENDING, Status.FAILED}
# Statuses a later paid invoice (with nothing else owed) turns back to active.
RECOVERABLE = {Status.PAST_DUE, Status.UNPAID, Status.INCOMPLETE, Status.PENDING}
# A vendor the platform itself keeps closed: suspended whatever it pays.
VENDOR_CLOSED = {"suspended", "closed", "rejected"}


def derive_access(status, *, now: datetime, grace_until: datetime | None = None, override: str = "",
                  override_until: datetime | None = None, vendor_status: str | None = None,
                  require_plan: bool = False, previous_status: str | None = None) -> Access:
    """The vendor's access from its subscription.

    - `status`: the subscription's effective status (a `Status` value), or None when the
      vendor has no subscription. A subscription not confirmed by the gateway (pending,
      or failed to be created) changes nothing: the vendor keeps the access of
      `previous_status`, the status of its previous subscription (None: it had none);
    - `now`: the engine clock's time; `grace_until`: end of the grace of a past-due
      subscription;
    - `override` / `override_until`: platform staff's override (an `Access` value, until a
      time or for good), which wins over the subscription;
    - `vendor_status`: the vendor's own status; a vendor the platform suspended, closed
      or rejected is SUSPENDED whatever it pays (None: not considered, e.g. for the
      storefront hold, which is independent of the platform's own suspension);
    - `require_plan`: whether a vendor without a subscription is SUSPENDED (else FULL:
      the engine's defaults apply to it).

    Table: trialing/active -> FULL; past_due -> GRACE until `grace_until`, then LIMITED;
    unpaid/paused/incomplete -> LIMITED; canceled/incomplete_expired -> SUSPENDED.
    """
    if vendor_status is not None and vendor_status in VENDOR_CLOSED:
        return Access.SUSPENDED
    if override and (override_until is None or now < override_until):
        return Access(override)
    if status in UNCONFIRMED:
        status = previous_status if previous_status not in UNCONFIRMED else None
    if status is None:
        return Access.SUSPENDED if require_plan else Access.FULL
    if status in FULL_STATUSES:
        return Access.FULL
    if status == Status.PAST_DUE:
        return Access.GRACE if grace_until is not None and now < grace_until else Access.LIMITED
    if status in LIMITED_STATUSES:
        return Access.LIMITED
    if status in TERMINAL:
        return Access.SUSPENDED
    raise ValueError(f"Unknown subscription status {status!r}")


def event_key(created, kind, event_id):
    """The ordering key of a subscription-level event."""
    return (created, RANK[kind], event_id)


def effective_status(snapshot_status, snapshot_created, ended, invoices):
    """The subscription's status from the newest applied subscription event and the
    invoices' facts (objects with `owed`, `last_failed_at`, `paid_at`):

    - ended (a deletion arrived) -> the deletion's status, whatever came after;
    - no subscription event yet -> pending, or active when an invoice was paid;
    - trialing/active but an invoice failed after that event and is still owed ->
      past_due (Stripe's own update may come later or not at all);
    - past_due/unpaid/incomplete but an invoice was paid after that event and nothing is
      owed -> active.
    """
    if ended:
        return snapshot_status or Status.CANCELED
    status = snapshot_status or Status.PENDING
    owed = [i for i in invoices if i.owed]
    paid = [i.paid_at for i in invoices if i.paid_at is not None]
    if status in FULL_STATUSES and any(snapshot_created is None or i.last_failed_at > snapshot_created for i in owed):
        return Status.PAST_DUE
    if status in RECOVERABLE and not owed and any(snapshot_created is None or p > snapshot_created for p in paid):
        return Status.ACTIVE
    return status


def grace_deadline(status, invoices, snapshot_created, grace_days):
    """End of the grace of a past-due subscription: `grace_days` after the first failure of
    the oldest invoice still owed (or after the past_due event when no failure is known)."""
    if status != Status.PAST_DUE:
        return None
    failures = [i.first_failed_at for i in invoices if i.owed]
    start = min(failures) if failures else snapshot_created
    return start + timedelta(days=grace_days) if start is not None else None


def entitled_plan(started_plan, observed_plans, paid_plan_codes):
    """The plan whose entitlements apply. `observed_plans`: the plans the subscription's
    events named, in event order (created, rank, id); `paid_plan_codes`: codes of plans
    that paid invoices billed. Walking the history from the plan subscribed to, a change
    counts when it is not an upgrade (costs no more per year: a downgrade at period end)
    or when an invoice billing the new plan was paid. So an upgrade's entitlements arrive
    with its `invoice.paid`, never before."""
    entitled = started_plan
    for plan in observed_plans:
        if plan is None or plan.pk == entitled.pk:
            continue
        if plan.code in paid_plan_codes or plan.yearly_amount <= entitled.yearly_amount:
            entitled = plan
    return entitled


def grants(plan, access):
    """{entitlement: value} for a vendor on `plan` (None: no subscription) with `access`,
    or None when nothing is limited (no plan, full access: the engine's defaults)."""
    if access in (Access.FULL, Access.GRACE):
        return plan.entitlements() if plan is not None else None
    limited = {"max_products": 0, "booking": False, "vip_tiers": False, "points_cashback": False,
               "group_buy": False}
    if plan is not None and plan.commission_rate is not None:
        limited["commission_rate"] = plan.commission_rate
    return limited
