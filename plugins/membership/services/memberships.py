"""Membership periods: pending at completion, activated on payment, granted, revoked,
expired by the sweep; and what a member (or another plugin) reads.

Term rules (see `terms.py`): a period starts at payment time, or at the end of the
member's last paid period when one still runs (a renewal is SCHEDULED from there: only
ever extended, never shortened, no proration credit) and ends on the same local date
`term_months` later at 23:59:59 Asia/Shanghai. At most one ACTIVE row per member (a
partial unique index); changes to one member's periods are serialised by locking the
member's row (`marketplace.plugins.accounts.lock_user`).
"""
from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from marketplace.plugins import clock, emit
from marketplace.plugins.accounts import lock_user
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError

from .. import lookups, terms
from ..events import MembershipActivated, MembershipExpired, MembershipRevoked
from ..lines import sellable_plan
from ..models import EFFECTIVE, Membership, MembershipPlan, MembershipSource, MembershipStatus
from ..pricing import LINE_KIND, PLUGIN
from . import codes

ZERO = Decimal("0.00")


# -- completion, payment, cancellation (called from the GUARD hooks) -----------------------
def reserve(order, lines) -> list[Membership]:
    """`checkout_reserve`: a PENDING membership per membership line of the new order, and
    the partner code's use held for it. Raises ValidationError (NOT_AUTHENTICATED, more than
    one membership per order, the code's refusals on field "code")."""
    bought = order.lines_of(LINE_KIND)
    if not bought:
        return []
    if order.user_id is None:
        raise ValidationError("Sign in to buy a membership.", code=ErrorCode.NOT_AUTHENTICATED, field="lines")
    if len(bought) > 1 or bought[0].quantity != 1:
        raise ValidationError("Buy one membership per order.", code=ErrorCode.LIMIT_EXCEEDED, field="lines")
    line = bought[0]
    plan = sellable_plan(line.reference, field="lines")
    membership = Membership.objects.create(
        user_id=order.user_id, plan_id=plan.plan_id, status=MembershipStatus.PENDING, source=MembershipSource.ORDER,
        order_id=order.order_id, order_line_id=line.line_id, list_price=line.unit_list_price * line.quantity,
        price_paid=line.total)
    code = ((line.metadata or {}).get(PLUGIN) or {}).get("code")
    if code:
        codes.hold(code, order.user_id, order.order_id, membership, membership.list_price, membership.price_paid)
    return [membership]


def activate_order(order) -> list[Membership]:
    """`on_order_paid`: the order's pending memberships start (or are scheduled after the
    member's running period), their code uses are redeemed. Idempotent."""
    pending = list(Membership.objects.filter(order_id=order.order_id, status=MembershipStatus.PENDING))
    if not pending:
        return []
    activated = [_start(m, order.paid_at or clock.now()) for m in pending]
    codes.redeem(order.order_id)
    return [m for m in activated if m is not None]


def void_order(order) -> int:
    """`on_order_released`: the unpaid order is gone; so are its pending memberships and
    the code uses they held."""
    voided = Membership.objects.filter(order_id=order.order_id, status=MembershipStatus.PENDING).update(
        status=MembershipStatus.VOID, ended_at=clock.now())
    codes.release(order.order_id)
    return voided


def _start(membership, paid_at):
    """Turn a pending (or new) row into a paid period, inside the caller's transaction."""
    user_id = membership.user_id
    if user_id is not None:
        lock_user(user_id)
    plan = MembershipPlan.objects.get(pk=membership.plan_id)
    now = clock.now()
    latest = None
    if user_id is not None:
        latest = (Membership.objects.filter(user_id=user_id, status__in=EFFECTIVE, ends_at__gt=paid_at)
                  .exclude(pk=membership.pk).order_by("-ends_at").values_list("ends_at", flat=True).first())
    starts_at = terms.renewal_start(paid_at, latest)
    ends_at = terms.term_end(starts_at, plan.term_months, clock.business_zone())
    status = MembershipStatus.SCHEDULED if starts_at > now else MembershipStatus.ACTIVE
    if status == MembershipStatus.ACTIVE and user_id is not None:
        _expire(Membership.objects.filter(user_id=user_id, status=MembershipStatus.ACTIVE, ends_at__lte=starts_at))
    changed = Membership.objects.filter(pk=membership.pk, status=MembershipStatus.PENDING).update(
        status=status, starts_at=starts_at, ends_at=ends_at, activated_at=now)
    if not changed:
        return None
    membership.refresh_from_db()
    if user_id is not None:
        lookups.forget(user_id)
    emit(MembershipActivated(membership_id=membership.pk, user_id=user_id, plan=plan.code, status=status,
                             starts_at=starts_at, ends_at=ends_at, order_id=membership.order_id))
    return membership


def _expire(queryset) -> int:
    """ACTIVE rows of `queryset` become EXPIRED (conditional updates); `membership_expired`
    for each. Returns how many changed."""
    expired = 0
    for membership in queryset.select_related("plan"):
        if Membership.objects.filter(pk=membership.pk, status=MembershipStatus.ACTIVE).update(
                status=MembershipStatus.EXPIRED):
            expired += 1
            emit(MembershipExpired(membership_id=membership.pk, user_id=membership.user_id,
                                   plan=membership.plan.code, ends_at=membership.ends_at))
    return expired


# -- staff -------------------------------------------------------------------------------------
@transaction.atomic
def grant(user_id, plan_code, reason) -> Membership:
    """Give a member a period of a plan without payment (compensation, a partner's staff,
    the demo). Scheduled after a running period like a renewal. Raises NotFound (field
    "user_id"/"plan"), ValidationError REQUIRED (field "reason"), INVALID_STATE (plan not
    sold)."""
    from marketplace.plugins.accounts import get_user

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why the membership is granted.", code=ErrorCode.REQUIRED, field="reason")
    if get_user(user_id) is None:
        raise NotFound("No such member.", field="user_id")
    plan = sellable_plan(plan_code, field="plan")
    membership = Membership.objects.create(user_id=user_id, plan_id=plan.plan_id, status=MembershipStatus.PENDING,
                                           source=MembershipSource.GRANT, reason=reason[:255])
    return _start(membership, clock.now())


@transaction.atomic
def revoke(membership_id, reason) -> Membership:
    """End a running or scheduled membership at once (fraud, abuse); nothing is refunded.
    Raises NotFound (field "id"), ValidationError REQUIRED (field "reason"), INVALID_STATE
    (already ended)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("A reason is required to revoke a membership.", code=ErrorCode.REQUIRED, field="reason")
    membership = Membership.objects.select_for_update().filter(pk=membership_id).first()
    if membership is None:
        raise NotFound("Membership not found.", field="id")
    now = clock.now()
    if display_status(membership, now) not in (MembershipStatus.ACTIVE, MembershipStatus.SCHEDULED):
        raise ValidationError(f"A {display_status(membership, now)} membership cannot be revoked.",
                              code=ErrorCode.INVALID_STATE, field="id")
    membership.status = MembershipStatus.REVOKED
    membership.reason = reason[:255]
    membership.ended_at = now
    membership.save(update_fields=["status", "reason", "ended_at"])
    if membership.user_id:
        lookups.forget(membership.user_id)
    emit(MembershipRevoked(membership_id=membership.pk, user_id=membership.user_id, reason=membership.reason))
    return membership


# -- the clock --------------------------------------------------------------------------------
PAID_ORDER = ("paid", "partially_fulfilled", "fulfilled", "completed")


def catch_up() -> dict:
    """Pending memberships whose order was paid (or cancelled) while the plugin was
    switched off, so its hooks did not run: activate (or void) them now. Returns
    {"activated": n, "voided": n}."""
    from marketplace.plugins.orders import order_info

    activated = voided = 0
    stale = (Membership.objects.filter(status=MembershipStatus.PENDING, order__isnull=False)
             .values_list("order_id", flat=True).distinct())
    for order_id in list(stale):
        order = order_info(order_id)
        with transaction.atomic():
            if order.status in PAID_ORDER:
                activated += len(activate_order(order))
            elif order.status == "cancelled":
                voided += void_order(order)
    return {"activated": activated, "voided": voided}


def sweep(now=None) -> dict:
    """Keep stored statuses in step with the clock: ACTIVE periods past their end become
    EXPIRED (`membership_expired`), SCHEDULED ones whose start came become ACTIVE, and
    pending ones whose order was settled while the plugin was off catch up (`catch_up`).
    Each member in its own transaction. Returns {"expired": n, "started": n, "activated":
    n, "voided": n}."""
    now = now or clock.now()
    caught = catch_up()
    expired = started = 0
    for pk in list(Membership.objects.filter(status=MembershipStatus.ACTIVE, ends_at__lt=now)
                   .values_list("pk", flat=True)):
        with transaction.atomic():
            expired += _expire(Membership.objects.filter(pk=pk, status=MembershipStatus.ACTIVE, ends_at__lt=now))
    for membership in list(Membership.objects.filter(status=MembershipStatus.SCHEDULED, starts_at__lte=now)):
        with transaction.atomic():
            if membership.user_id:
                lock_user(membership.user_id)
            expired += _expire(Membership.objects.filter(user_id=membership.user_id, status=MembershipStatus.ACTIVE,
                                                         ends_at__lte=membership.starts_at))
            status = MembershipStatus.ACTIVE if membership.ends_at >= now else MembershipStatus.EXPIRED
            started += Membership.objects.filter(pk=membership.pk, status=MembershipStatus.SCHEDULED).update(
                status=status)
    return {"expired": expired, "started": started, **caught}


# -- reading ---------------------------------------------------------------------------------------
def display_status(membership, now) -> str:
    """The status (a plain string) as of `now`: paid periods by their dates (the stored
    status may lag the sweep by minutes), the others as stored."""
    if membership.status not in EFFECTIVE:
        return str(membership.status)
    if now < membership.starts_at:
        return MembershipStatus.SCHEDULED.value
    if now > membership.ends_at:
        return MembershipStatus.EXPIRED.value
    return MembershipStatus.ACTIVE.value


def current(user_id, now=None) -> Membership | None:
    """What `myMembership` shows: the period covering now; else the next scheduled one;
    else one awaiting payment; else the latest that ended (refunded, revoked, expired)."""
    now = now or clock.now()
    rows = list(Membership.objects.filter(user_id=user_id).exclude(status=MembershipStatus.VOID)
                .select_related("plan").order_by("-pk")[:50])
    by_status = {}
    for row in rows:
        by_status.setdefault(display_status(row, now), []).append(row)
    if by_status.get(MembershipStatus.ACTIVE):
        return by_status[MembershipStatus.ACTIVE][0]
    if by_status.get(MembershipStatus.SCHEDULED):
        return min(by_status[MembershipStatus.SCHEDULED], key=lambda m: m.starts_at)
    if by_status.get(MembershipStatus.PENDING):
        return by_status[MembershipStatus.PENDING][0]
    return rows[0] if rows else None


def renewal_of(membership) -> Membership | None:
    """The paid period scheduled right after this one, if any."""
    if membership.user_id is None or membership.ends_at is None:
        return None
    return (Membership.objects.filter(user_id=membership.user_id, status__in=EFFECTIVE,
                                      starts_at__gte=membership.ends_at).exclude(pk=membership.pk)
            .order_by("starts_at").first())
