"""The follow-up of a settled group, outside any transaction (it calls the gateway): what
the winning transition owes its members, each step idempotent and resumable (a killed
worker's follow-up is resumed by the sweep), run by one worker at a time per group.

On success: paid sub-orders leave their hold (members WON, vouchers issued), authorisations
are captured under the gateway's idempotency key. On failure: the refunds tracked with the
transition (`start_refunds`, key `group-<id>-member-<id>`) are sent, authorisations voided,
unpaid orders cancelled."""
from __future__ import annotations

import logging
from contextlib import contextmanager

from django.db import connection, transaction

from marketplace.plugins import MarketplaceError, ValidationError
from marketplace.plugins import clock

from . import failpoints
from .models import Group, GroupStatus, Member, MemberStatus, PaidBy, RefundPurpose, RefundTrack, TrackStatus
from .seats import _set

logger = logging.getLogger("plugins.group_buy")

# A PostgreSQL advisory lock key per group's follow-up: (namespace "gb" << 48) + group id.
FOLLOW_UP_LOCK = 0x6762 << 48


@contextmanager
def _running(group_id):
    """Yields whether this worker may run the group's follow-up: one worker at a time (the
    queued task, a sweep resuming it, a redelivery). On PostgreSQL a session advisory lock,
    which the server releases when a killed worker's connection goes; elsewhere (SQLite, one
    process) always granted."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = FOLLOW_UP_LOCK + int(group_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def follow_up(group_id):
    """What the winning transition owes its members, each step idempotent: on success,
    release each paid sub-order's hold (or capture each authorisation) and issue vouchers;
    on failure, send the refunds the failure tracked (one per paid member, key
    `group-<id>-member-<id>`), void authorisations and cancel unpaid orders. Marks the group done when nothing is left.
    Returns False at once while another worker runs the same group's follow-up."""
    with _running(group_id) as mine:
        return _follow_up(group_id) if mine else False


def _follow_up(group_id):
    from . import refunds

    group = Group.objects.filter(pk=group_id).first()
    if group is None or group.status == GroupStatus.FORMING:
        return False
    failpoints.checkpoint("follow_up.start")
    members = list(Member.objects.select_related("deal").filter(
        group=group, status__in=[MemberStatus.JOINED, MemberStatus.PAYING]).order_by("pk"))
    if group.status == GroupStatus.SUCCEEDED:
        _release_and_win([m for m in members if m.status == MemberStatus.JOINED and m.paid_by == PaidBy.CAPTURE])
    for member in members:
        if group.status == GroupStatus.SUCCEEDED:
            if member.status == MemberStatus.JOINED and member.paid_by == PaidBy.AUTHORIZATION:
                _capture(member, group)
        elif member.status == MemberStatus.JOINED and member.paid_by == PaidBy.CAPTURE:
            continue  # its refund, tracked by the failure, is sent below
        elif member.status == MemberStatus.JOINED:
            void_member(member.pk, member.payment_id, cancel=True)
        else:
            _cancel_unpaid(member)
    if group.status != GroupStatus.SUCCEEDED:  # the failure tracked the refunds; send what is unsent
        _start_refunds(group)  # a no-op but for groups failed before refunds were tracked at failure
        for track in RefundTrack.objects.filter(member__group=group, purpose=RefundPurpose.GROUP_FAILED,
                                                refund_id__isnull=True, status=TrackStatus.REQUESTED):
            refunds.process(track.pk, track)
    return _finish(group)


def _finish(group):
    if Member.objects.filter(group=group, status__in=[MemberStatus.JOINED, MemberStatus.PAYING]).exists():
        return False
    if RefundTrack.objects.filter(member__group=group, status=TrackStatus.REQUESTED, refund_id__isnull=True).exists():
        return False
    return bool(Group.objects.filter(pk=group.pk, follow_up_done_at__isnull=True).update(follow_up_done_at=clock.now()))


def _release_and_win(members):
    """Paid members of a succeeded group: their sub-orders leave the hold (one by one,
    idempotent), then they are WON (and get their vouchers) in one transaction."""
    from marketplace.plugins.orders import release

    if not members:
        return
    for member in members:
        failpoints.checkpoint("success.before_release")
        release(member.vendor_order_id)
    failpoints.checkpoint("success.after_release")
    now = clock.now()
    with transaction.atomic():
        won = list(Member.objects.select_for_update().select_related("deal").filter(
            pk__in=[m.pk for m in members], status=MemberStatus.JOINED))
        Member.objects.filter(pk__in=[m.pk for m in won]).update(status=MemberStatus.WON, settled_at=now)
        for member in won:
            if member.deal.kind == "service_voucher":
                from . import vouchers

                vouchers.issue(member, now)


def _capture(member, group):
    """Capture an authorised member (the gateway call carries `capture-<payment id>`, so a
    repeat after a crash captures once). WON follows from the capture (`on_order_paid`);
    a gateway that confirms later (a webhook) leaves the member JOINED until then."""
    from marketplace.plugins.payments import capture, get_payment

    from . import refunds

    payment = get_payment(member.payment_id) if member.payment_id else None
    if payment is None or payment.status != "authorized":
        return
    Member.objects.filter(pk=member.pk).update(capture_requested_at=clock.now())
    failpoints.checkpoint("success.before_capture")
    try:
        capture(member.payment_id)
    except ValidationError:
        return  # no longer authorised (captured or cancelled meanwhile): its own event handles it
    except MarketplaceError as exc:  # declined, authorisation expired
        from marketplace.plugins.orders import cancel_order

        with transaction.atomic():
            locked = Member.objects.select_for_update().get(pk=member.pk)
            if locked.status == MemberStatus.JOINED:
                _set(locked, MemberStatus.CAPTURE_FAILED, settled_at=clock.now(), note=exc.message[:200])
                refunds.alert("capture_failed", f"capture-failed:{member.pk}",
                              f"Group {group.share_code}: the authorised payment of order {member.order_id} could "
                              f"not be captured ({exc.message}). The member's order is cancelled.",
                              group=group, member=locked)
        try:
            cancel_order(member.order_id, "The authorised payment could not be captured.")
        except MarketplaceError:
            pass
    failpoints.checkpoint("success.after_capture")


def _start_refunds(group):
    """Every paid member of a failed group becomes REFUNDING with a tracked refund under
    the key `group-<id>-member-<id>`, in one transaction (what a crash leaves is resumed)."""
    now = clock.now()
    with transaction.atomic():
        paid = list(Member.objects.select_for_update().filter(group=group, status=MemberStatus.JOINED,
                                                              paid_by=PaidBy.CAPTURE).order_by("pk"))
        if not paid:
            return
        Member.objects.filter(pk__in=[m.pk for m in paid]).update(status=MemberStatus.REFUNDING)
        RefundTrack.objects.bulk_create([RefundTrack(
            key=f"group-{group.pk}-member-{m.pk}", purpose=RefundPurpose.GROUP_FAILED, member=m, order_id=m.order_id,
            vendor_order_id=m.vendor_order_id, amount=m.amount, requested_at=now, attempted_at=now) for m in paid],
            ignore_conflicts=True)


def void_member(member_id, payment_id=None, cancel=True):
    """Release an authorisation (void; no money moved) and, with `cancel`, cancel the
    member's unpaid order; the member becomes VOIDED through `on_order_released`.
    Idempotent."""
    from marketplace.plugins.orders import cancel_order, order_info
    from marketplace.plugins.payments import get_payment, void

    member = Member.objects.get(pk=member_id)
    payment_id = payment_id or member.payment_id
    payment = get_payment(payment_id) if payment_id else None
    if payment is not None and payment.status in ("pending", "authorized"):
        try:
            void(payment_id)
        except MarketplaceError as exc:
            logger.warning("Could not void payment %s of group member %s: %s", payment_id, member_id, exc)
    if not cancel:
        return
    info = order_info(member.order_id)
    if info is not None and info.status == "unpaid":
        try:
            cancel_order(member.order_id, "Its group closed; the authorisation was released.")
        except MarketplaceError:
            pass


def _cancel_unpaid(member):
    from marketplace.plugins.orders import cancel_order

    try:
        cancel_order(member.order_id, "Its group closed before the payment arrived.")
    except MarketplaceError:
        pass  # paid meanwhile: `on_order_paid` made the member late
