"""Groups: opened by the leader's payment, filled by members' payments, settled once.

Settlement is ONE conditional update of the group's row:

    UPDATE group SET status='succeeded' WHERE id=? AND status='forming' AND paid_count>=size
    UPDATE group SET status='failed'    WHERE id=? AND status='forming' AND paid_count<size
                                         AND (expires_at + grace <= now OR (expires_at <= now AND held_count = 0))

Only the call whose update changed the row writes the log entry, emits the event and
enqueues the follow-up; every other caller (a redelivered webhook, the sweep, staff)
sees "already settled". The follow-up is idempotent step by step (release a hold, capture
an authorisation with the gateway's idempotency key, request a refund under a key per
member), so a worker killed anywhere in it is resumed by the next sweep with no double
capture and no double refund. A payment that arrives after its group closed makes the
member LATE and is refunded (or its authorisation voided): never an extra seat.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum

from marketplace.plugins import ErrorCode, MarketplaceError, ValidationError, emit
from marketplace.plugins import clock

from . import deals, queue
from .codes import share_code
from .events import GroupFailed, GroupOpened, GroupSucceeded
from .models import (
    Deal, DealStatus, Group, GroupLog, GroupStatus, Member, MemberStatus, PaidBy, RefundPurpose, RefundTrack,
)
from .followup import _finish, _start_refunds, follow_up
from .seats import _set

logger = logging.getLogger("plugins.group_buy")
HOLD_REASON = "Waiting for its group to fill (group buy)."
LATE_REASON = "Paid after its group closed: being refunded (group buy)."


def _settings():
    return deals.platform_settings()


def _enqueue_follow_up(group_id):
    queue.after_commit("follow_up", group_id)


def _enqueue_refund(track_id):
    queue.after_commit("process_refund", track_id)


def _log(group, status, reason=""):
    GroupLog.objects.create(group=group, status=status, reason=reason[:200], at=clock.now())


# -- payments arriving (inside the core's payment transaction) ----------------------------------------
def paid(order):
    """`on_order_paid`: the member's payment was captured."""
    member = Member.objects.select_for_update().select_related("deal").filter(order_id=order.order_id).first()
    if member is None:
        return
    now = clock.now()
    if member.status == MemberStatus.OPENING:
        _open_group(member, PaidBy.CAPTURE, None, now)
    elif member.status == MemberStatus.PAYING:
        _take_seat(member, PaidBy.CAPTURE, None, now)
    elif member.status == MemberStatus.JOINED and member.paid_by == PaidBy.AUTHORIZATION:
        group = Group.objects.get(pk=member.group_id)
        if group.status == GroupStatus.SUCCEEDED:  # the capture made on success
            _win(member, now)
            _finish(group)  # the last confirmation ends the follow-up
        else:  # captured although the group did not succeed: never keep the money
            _late(member, now, PaidBy.CAPTURE, "captured after the group closed")
    else:
        logger.error("Group member %s (%s) paid for order %s: nothing to do", member.pk, member.status,
                     order.order_id)


def authorized(payment):
    """`on_payment_authorized`: the member's payment was authorised (captured on success)."""
    if payment.order_id is None:
        return
    member = Member.objects.select_for_update().select_related("deal").filter(order_id=payment.order_id).first()
    if member is None:
        return
    now = clock.now()
    if member.status == MemberStatus.OPENING:
        _open_group(member, PaidBy.AUTHORIZATION, payment.payment_id, now)
    elif member.status == MemberStatus.PAYING:
        _take_seat(member, PaidBy.AUTHORIZATION, payment.payment_id, now)
    else:  # a seat is paid already, or the member is out: release this authorisation
        keep_order = member.status in (MemberStatus.JOINED, MemberStatus.WON)
        _void_later(member.pk, payment.payment_id, cancel=not keep_order)


def _void_later(member_id, payment_id, cancel):
    queue.after_commit("void_member", member_id, payment_id, cancel)


def _hold(member, reason):
    from marketplace.plugins.orders import hold

    hold(member.vendor_order_id, reason)


def _keep_open(member, group):
    """An authorised order must outlive its group's settlement (else expiry voids it)."""
    from marketplace.plugins.orders import extend_payment_deadline

    settings = _settings()
    extend_payment_deadline(member.order_id, group.expires_at + timedelta(seconds=settings.grace_seconds)
                            + timedelta(hours=settings.authorization_margin_hours))


def _open_group(member, paid_by, payment_id, now):
    deal = Deal.objects.get(pk=member.deal_id)
    if deal.status not in (DealStatus.LIVE, DealStatus.SOLD_OUT) or now >= deal.ends_at:
        deals.release_capacity(deal.pk, deal.group_capacity)
        _late(member, now, paid_by, "the deal closed before the leader paid", payment_id=payment_id)
        return
    for _attempt in range(8):
        try:
            with transaction.atomic():
                group = Group.objects.create(
                    deal=deal, leader_id=member.user_id, share_code=share_code(), size=deal.group_size,
                    capacity_units=deal.group_capacity, paid_count=1, opened_at=now,
                    expires_at=deals.group_expiry(deal, now))
            break
        except IntegrityError:
            continue
    else:
        raise RuntimeError("Could not draw a unique share code")
    _set(member, MemberStatus.JOINED, group=group, paid_by=paid_by, payment_id=payment_id, paid_at=now)
    _log(group, GroupStatus.FORMING, "opened by the leader's payment")
    emit(GroupOpened(group_id=group.pk, deal_id=deal.pk, leader_id=member.user_id, expires_at=group.expires_at,
                     vendor_id=deal.vendor_id))
    if paid_by == PaidBy.CAPTURE:
        _hold(member, HOLD_REASON)
    else:
        _keep_open(member, group)
    if group.paid_count >= group.size:
        succeed(group, "filled")


def _take_seat(member, paid_by, payment_id, now):
    group = Group.objects.select_for_update().get(pk=member.group_id)
    grace = timedelta(seconds=_settings().grace_seconds)
    if group.status == GroupStatus.FORMING and now <= group.expires_at + grace:
        Group.objects.filter(pk=group.pk, status=GroupStatus.FORMING).update(
            held_count=F("held_count") - 1, paid_count=F("paid_count") + 1, version=F("version") + 1)
        group.refresh_from_db()
        _set(member, MemberStatus.JOINED, paid_by=paid_by, payment_id=payment_id, paid_at=now)
        if paid_by == PaidBy.CAPTURE:
            _hold(member, HOLD_REASON)
        else:
            _keep_open(member, group)
        if group.paid_count >= group.size:
            succeed(group, "filled")
        return
    if group.status == GroupStatus.FORMING:  # past its window and grace, not yet failed by the sweep
        Group.objects.filter(pk=group.pk).update(held_count=F("held_count") - 1, version=F("version") + 1)
    _late(member, now, paid_by, f"the group was {group.status} when the payment arrived", payment_id=payment_id)


def _late(member, now, paid_by, why, payment_id=None):
    """A payment after the group closed: never a seat. Captured money is refunded (the
    sub-order is held meanwhile); an authorisation is voided."""
    _set(member, MemberStatus.LATE, paid_by=paid_by, payment_id=payment_id or member.payment_id, paid_at=now,
         note=f"Late: {why}."[:200])
    if paid_by == PaidBy.AUTHORIZATION:
        _void_later(member.pk, member.payment_id, cancel=True)
        return
    _hold(member, LATE_REASON)
    track = _track(member, RefundPurpose.LATE, f"group-late-member-{member.pk}")
    _enqueue_refund(track.pk)


def _track(member, purpose, key):
    track, _created = RefundTrack.objects.get_or_create(key=key, defaults=dict(
        purpose=purpose, member=member, order_id=member.order_id, vendor_order_id=member.vendor_order_id,
        amount=member.amount, requested_at=clock.now(), attempted_at=clock.now()))
    return track


def _win(member, now):
    from . import vouchers

    if _set(member, MemberStatus.WON, settled_at=now):
        if member.deal.kind == "service_voucher":
            vouchers.issue(member, now)


# -- the transitions ---------------------------------------------------------------------------------
def succeed(group, reason):
    """The success transition, inside a transaction holding the group's row lock. Returns
    True for the call that made it. The deal's cap keeps only the units sold."""
    now = clock.now()
    changed = Group.objects.filter(pk=group.pk, status=GroupStatus.FORMING, paid_count__gte=F("size")).update(
        status=GroupStatus.SUCCEEDED, settled_at=now, settle_reason=reason[:200], version=F("version") + 1)
    if not changed:
        return False
    used = Member.objects.filter(group=group, status=MemberStatus.JOINED).aggregate(n=Sum("quantity"))["n"] or 0
    deals.release_capacity(group.deal_id, group.capacity_units - used)
    Group.objects.filter(pk=group.pk).update(capacity_units=used)
    _log(group, GroupStatus.SUCCEEDED, reason)
    deal = Deal.objects.only("vendor_id").get(pk=group.deal_id)
    emit(GroupSucceeded(group_id=group.pk, deal_id=group.deal_id, paid_count=group.paid_count, vendor_id=deal.vendor_id))
    _enqueue_follow_up(group.pk)
    return True


def fail(group_id, status=GroupStatus.FAILED, reason="Not filled in time.", force=False, skip_locked=False):
    """The failure transition (FAILED by expiry; DISSOLVED, or FAILED with `force`, by
    staff or a cancelled deal), in its own transaction. Expiry waits `grace_seconds` past
    the window while a seat is held by a payment in flight. Returns True for the call
    that made it; the group's units go back to the deal's cap. With `skip_locked` (the
    sweep) a group whose row another transaction holds - a payment taking a seat, another
    sweep failing it - is left for that transaction or the next sweep instead of waited for."""
    now = clock.now()
    grace = timedelta(seconds=_settings().grace_seconds)
    condition = Q(pk=group_id, status=GroupStatus.FORMING)
    if not force:
        condition &= Q(paid_count__lt=F("size")) & (
            Q(expires_at__lte=now - grace) | (Q(expires_at__lte=now) & Q(held_count=0)))
    with transaction.atomic():
        if skip_locked and not list(Group.objects.select_for_update(skip_locked=True).filter(condition)
                                    .values_list("pk", flat=True)):
            return False
        changed = Group.objects.filter(condition).update(status=status, settled_at=now, settle_reason=reason[:200],
                                                         version=F("version") + 1)
        if not changed:
            return False
        group = Group.objects.select_related("deal").get(pk=group_id)
        deals.release_capacity(group.deal_id, group.capacity_units)
        Group.objects.filter(pk=group_id).update(capacity_units=0)
        _log(group, status, reason)
        _start_refunds(group)  # the refunds exist with the failure; the follow-up makes the gateway calls
        emit(GroupFailed(group_id=group.pk, deal_id=group.deal_id, status=status, reason=reason,
                         vendor_id=group.deal.vendor_id))
        _enqueue_follow_up(group.pk)
    return True


def force_settle(group_id):
    """Staff: settle a forming group now by its seats (full: success; else failure, even
    before its window ends); a settled group's unfinished follow-up is resumed. Returns
    the group."""
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group_id)
        if group.status == GroupStatus.FORMING and group.paid_count >= group.size:
            succeed(group, "settled by platform staff")
    if Group.objects.filter(pk=group_id, status=GroupStatus.FORMING).exists():
        fail(group_id, GroupStatus.FAILED, "Settled by platform staff before it filled.", force=True)
    follow_up(group_id)
    return Group.objects.get(pk=group_id)


def dissolve(group_id, reason):
    """Staff (e.g. a scalper group) or a cancelled deal: a forming group is DISSOLVED and
    its members refunded. Raises INVALID_STATE for a settled group."""
    if not fail(group_id, GroupStatus.DISSOLVED, reason or "Dissolved by platform staff.", force=True):
        raise ValidationError("Only a forming group can be dissolved.", code=ErrorCode.INVALID_STATE, field="id")
    return Group.objects.get(pk=group_id)


def cancel_deal(deal_id, reason):
    """Cancel a deal (`deals.cancel_deal`) and dissolve its forming groups (members
    refunded); leaders still paying have their orders cancelled. Returns the deal."""
    deal = deals.cancel_deal(deal_id, reason)
    close_deal_groups(deal.pk, "The deal was cancelled.")
    return deal


def close_deal_groups(deal_id, reason):
    """A cancelled deal: its forming groups are dissolved; leaders still paying have their
    orders cancelled (a payment arriving later is refunded)."""
    from marketplace.plugins.orders import cancel_order

    for group_id in Group.objects.filter(deal_id=deal_id, status=GroupStatus.FORMING).values_list("pk", flat=True):
        fail(group_id, GroupStatus.DISSOLVED, reason, force=True)
    for order_id in Member.objects.filter(deal_id=deal_id, status=MemberStatus.OPENING).values_list("order_id",
                                                                                                   flat=True):
        try:
            cancel_order(order_id, reason)
        except MarketplaceError:
            continue  # paid meanwhile: the payment made the member late, and it is refunded


# -- the sweep -----------------------------------------------------------------------------------------
def sweep(now=None):
    """Beat work (every 30 s): start and end deals, fail groups past their window (and
    grace), resume follow-ups left unfinished (a worker died). Returns counts."""
    settings = _settings()
    now = now or clock.now()
    changed = deals.advance(now)
    expired = 0
    for group_id in Group.objects.filter(status=GroupStatus.FORMING, expires_at__lte=now).order_by(
            "expires_at").values_list("pk", flat=True)[:settings.sweep_batch]:
        expired += fail(group_id, skip_locked=True)
    resumed = 0
    stale = now - timedelta(seconds=settings.resume_after_seconds)
    for group_id in Group.objects.exclude(status=GroupStatus.FORMING).filter(
            follow_up_done_at__isnull=True, settled_at__lte=stale).values_list("pk", flat=True)[:settings.sweep_batch]:
        follow_up(group_id)
        resumed += 1
    return {"deals": changed, "failed": expired, "resumed": resumed}
