"""Refunds the plugin owes (failed groups, late payments, vouchers), followed until the
gateway confirms the money went back.

Each `RefundTrack` makes attempts under the idempotency key `<key>-a<n>`:

- the first call asks the payments facade for the refund under that key; a crash before
  or after it is repaired by looking the key up (`find_refunds`) instead of refunding
  again, and a refund the gateway never heard of (no reference after `resend_after_seconds`)
  is sent again under its original gateway key (`resend_refund`);
- `succeeded` (from `on_refund_recorded` or the refund events) marks the member or voucher
  REFUNDED; never earlier;
- `failed` raises a staff alert and is retried with the next attempt number after
  `refund_retry_minutes`, up to `refund_max_attempts`, then waits for staff (MANUAL);
- still pending `refund_alert_hours` after it was requested (engine clock) raises a staff
  alert and is sent again.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q

from marketplace.plugins import MarketplaceError, emit
from marketplace.plugins import clock

from . import deals, failpoints, queue
from .events import AlertRaised, MemberRefunded, VoucherRefunded
from .models import Alert, Member, MemberStatus, RefundPurpose, RefundTrack, TrackStatus, Voucher, VoucherStatus

logger = logging.getLogger("plugins.group_buy")
KEY = re.compile(r"^(?P<base>.+)-a(?P<attempt>\d+)(?:-\d+)?$")
REASONS = {RefundPurpose.GROUP_FAILED: "Group buy: the group did not succeed",
           RefundPurpose.LATE: "Group buy: paid after the group closed",
           RefundPurpose.STRAY: "Group buy: paid after the order was cancelled",
           RefundPurpose.VOUCHER: "Group buy: voucher refund"}


def alert(kind, key, message, group=None, member=None, track=None):
    """Raise a staff alert once per `key` (logged, stored, `group_buy_alert_raised`
    emitted). Returns the Alert when it is new, else None."""
    with transaction.atomic():
        found, created = Alert.objects.get_or_create(key=key[:120], defaults=dict(
            kind=kind, message=message[:500], group=group, member=member, refund_track=track,
            created_at=clock.now()))
        if created:
            logger.error("Group-buy alert %s: %s", kind, message)
            emit(AlertRaised(alert_id=found.pk, kind=kind, message=found.message))
    return found if created else None


@transaction.atomic
def resolve_alert(alert_id, user_id):
    """Staff mark an alert handled. Returns the Alert."""
    found = Alert.objects.select_for_update().get(pk=alert_id)
    if found.resolved_at is None:
        found.resolved_at, found.resolved_by_id = clock.now(), user_id
        found.save(update_fields=["resolved_at", "resolved_by"])
    return found


def process(track_id, track=None):
    """Move one tracked refund forward (outside any transaction: it may call the gateway).
    Safe to call any number of times, from several workers. Returns the track."""
    from marketplace.plugins.payments import find_refunds, refund, refund_payment, refund_record

    settings = deals.platform_settings()
    now = clock.now()
    track = track or RefundTrack.objects.filter(pk=track_id).first()
    if track is None or track.status in (TrackStatus.SUCCEEDED, TrackStatus.MANUAL):
        return track
    if track.status == TrackStatus.FAILED:
        if track.retry_at is not None and track.retry_at > now:
            return track
        if not RefundTrack.objects.filter(pk=track.pk, status=TrackStatus.FAILED, attempt=track.attempt).update(
                status=TrackStatus.REQUESTED, attempt=F("attempt") + 1, refund_id=None, retry_at=None,
                attempted_at=now):
            return track  # another worker moved it on
        track.refresh_from_db()
    key = track.idempotency_key
    reason = REASONS.get(track.purpose, "Group buy refund")
    failpoints.checkpoint("refund.before_request")
    made, error = None, None
    try:  # under a key already used, the facade answers the refunds made then: never a second one
        if track.payment_id is not None:
            made = [refund_payment(track.payment_id, reason=reason, idempotency_key=key)]
        else:
            amount = track.amount if track.purpose == RefundPurpose.VOUCHER else None  # None: all that is left
            made = refund(track.order_id, amount=amount, vendor_order_id=track.vendor_order_id, reason=reason,
                          idempotency_key=key)
    except MarketplaceError as exc:  # recorded as a failed refund, or refused before one was made
        error = exc
    failpoints.checkpoint("refund.after_request")
    if made:
        refund_id, status = made[0]
        if status == "succeeded":
            if track.payment_id is not None:  # a payment's refund: no `on_refund_recorded`
                settle(track.pk, refund_id)
            return track  # a sub-order's: `on_refund_recorded` settled the track in the booking's transaction
        record = refund_record(refund_id)
    else:
        found = find_refunds(key)
        if not found:
            if _already_refunded(track):
                settle(track.pk, None)
            else:
                _failed(track, error.message if error is not None else "no refund was made", settings, now)
            return track
        record = found[0]
    if track.refund_id != record.refund_id:
        RefundTrack.objects.filter(pk=track.pk).update(refund_id=record.refund_id)
        track.refund_id = record.refund_id
    _apply(track, record, settings, now)
    return track


def _already_refunded(track):
    """The sub-order was refunded in full by someone else (staff, the vendor)."""
    from marketplace.plugins.orders import order_info

    if track.purpose == RefundPurpose.VOUCHER or track.vendor_order_id is None:
        return False
    info = order_info(track.order_id)
    part = next((vo for vo in info.vendor_orders if vo.vendor_order_id == track.vendor_order_id), None) if info else None
    return part is not None and part.total > 0 and part.refunded >= part.total


def _apply(track, record, settings, now, resent=False):
    from marketplace.plugins.payments import refund_record, resend_refund

    if record.status == "succeeded":
        settle(track.pk, record.refund_id)
        return
    if record.status == "failed":
        _failed(track, record.failure_reason or "refused by the gateway", settings, now)
        return
    RefundTrack.objects.filter(pk=track.pk, status=TrackStatus.REQUESTED).update(status=TrackStatus.PENDING)
    send_again = False
    if not record.reference and not resent and track.attempted_at is not None \
            and now - track.attempted_at >= timedelta(seconds=settings.resend_after_seconds):
        send_again = True  # the gateway call never returned (a crash): same gateway key, no double refund
    elif now - track.requested_at >= timedelta(hours=settings.refund_alert_hours) and track.alerted_at is None:
        alert("refund_pending", f"refund-pending:{track.pk}:{track.attempt}",
              f"Refund {track.key} ({track.amount} CNY) is still pending at the gateway "
              f"{settings.refund_alert_hours} h after it was requested: check it with the gateway.",
              member=track.member, track=track)
        RefundTrack.objects.filter(pk=track.pk).update(alerted_at=now)
        send_again = not resent
    if send_again:
        failpoints.checkpoint("refund.before_resend")
        try:
            resend_refund(record.refund_id)
        except MarketplaceError as exc:
            logger.warning("Resending refund %s of %s failed: %s", record.refund_id, track.key, exc)
        RefundTrack.objects.filter(pk=track.pk).update(attempted_at=clock.now())
        again = refund_record(record.refund_id)
        if again is not None and again.status != "pending":
            _apply(track, again, settings, now, resent=True)


def _failed(track, reason, settings, now):
    if track.attempt >= settings.refund_max_attempts:
        changed = RefundTrack.objects.filter(pk=track.pk).exclude(status=TrackStatus.SUCCEEDED).update(
            status=TrackStatus.MANUAL, failure_reason=reason[:255], retry_at=None)
        if changed:
            alert("refund_manual", f"refund-manual:{track.pk}",
                  f"Refund {track.key} ({track.amount} CNY) failed {track.attempt} times ({reason}): "
                  "return the money by hand and resolve this alert.", member=track.member, track=track)
        return
    changed = RefundTrack.objects.filter(pk=track.pk, attempt=track.attempt).exclude(
        status__in=[TrackStatus.SUCCEEDED, TrackStatus.MANUAL]).update(
        status=TrackStatus.FAILED, failure_reason=reason[:255],
        retry_at=now + timedelta(minutes=settings.refund_retry_minutes))
    if changed:
        alert("refund_failed", f"refund-failed:{track.pk}:{track.attempt}",
              f"Refund {track.key} ({track.amount} CNY) failed ({reason}); retrying in "
              f"{settings.refund_retry_minutes} min (attempt {track.attempt} of {settings.refund_max_attempts}).",
              member=track.member, track=track)


def settle(track_id, refund_id, loaded=None):
    """The gateway confirmed the track's refund: the member (or voucher) is REFUNDED.
    Runs inside the refund's recording transaction when called from `on_refund_recorded`
    (`loaded`: the track with its member and deal, already read there). Idempotent."""
    from django.db import connection

    if connection.in_atomic_block:  # the caller's transaction (the hook's savepoint) holds it all
        return _settle(track_id, refund_id, loaded)
    with transaction.atomic():
        return _settle(track_id, refund_id, loaded)


def _settle(track_id, refund_id, loaded):
    now = clock.now()
    changed = RefundTrack.objects.filter(pk=track_id).exclude(status=TrackStatus.SUCCEEDED).update(
        status=TrackStatus.SUCCEEDED, settled_at=now, failure_reason="",
        **({"refund_id": refund_id} if refund_id else {}))
    if not changed:
        return False
    track = loaded or RefundTrack.objects.select_related("member__deal", "voucher").get(pk=track_id)
    if track.voucher_id is not None:
        if Voucher.objects.filter(pk=track.voucher_id).exclude(status=VoucherStatus.REFUNDED).update(
                status=VoucherStatus.REFUNDED):
            emit(VoucherRefunded(voucher_id=track.voucher_id, deal_id=track.voucher.deal_id, amount=track.amount,
                                 vendor_id=track.voucher.vendor_id))
    elif track.member_id is not None:
        member = track.member
        if Member.objects.filter(pk=member.pk).filter(
                Q(status__in=[MemberStatus.REFUNDING, MemberStatus.LATE])).update(status=MemberStatus.REFUNDED,
                                                                                   settled_at=now):
            emit(MemberRefunded(member_id=member.pk, group_id=member.group_id, amount=track.amount,
                                vendor_id=member.deal.vendor_id))
    return True


def recorded(refund):
    """`on_refund_recorded` (a `RefundInfo`, inside the refund's booking transaction): the
    open track of that sub-order is settled. A member's track (a full refund) is found by
    its sub-order; vouchers share one, so theirs are told apart by the refund's key."""
    tracks = list(RefundTrack.objects.select_related("member__deal", "voucher").filter(
        vendor_order_id=refund.vendor_order_id).exclude(status=TrackStatus.SUCCEEDED))
    if not tracks:
        return
    if refund.is_final and len(tracks) == 1 and tracks[0].voucher_id is None:
        settle(tracks[0].pk, refund.refund_id, loaded=tracks[0])
    else:
        refund_settled(refund.refund_id)


def track_of_refund(refund_id):
    """The track a gateway refund belongs to (by its idempotency key), or None."""
    from marketplace.plugins.payments import refund_record

    record = refund_record(refund_id)
    match = KEY.match(record.idempotency_key or "") if record is not None else None
    if match is None:
        return None, record
    return RefundTrack.objects.filter(key=match.group("base")).first(), record


def refund_settled(refund_id):
    """`on_refund_recorded` / the refund events: a refund of ours reached a final state."""
    track, record = track_of_refund(refund_id)
    if track is None:
        return
    if record.status == "succeeded":
        settle(track.pk, refund_id)
    elif record.status == "failed" and track.refund_id in (None, refund_id):
        queue.after_commit("process_refund", track.pk)


def reconcile(now=None):
    """Beat work: move every open track forward (first requests a crash lost, resends,
    retries of failed refunds, pending alerts). Returns how many were looked at."""
    settings = deals.platform_settings()
    now = now or clock.now()
    in_flight = now - timedelta(seconds=settings.resend_after_seconds)
    due = (RefundTrack.objects.filter(status__in=[TrackStatus.REQUESTED, TrackStatus.PENDING, TrackStatus.FAILED])
           .exclude(status=TrackStatus.REQUESTED, attempted_at__gt=in_flight)
           .exclude(status=TrackStatus.FAILED, retry_at__gt=now).order_by("pk")
           .values_list("pk", flat=True)[:settings.sweep_batch])
    count = 0
    for track_id in list(due):
        try:
            process(track_id)
        except Exception:  # one bad refund must not stop the others; it stays open for the next run
            logger.exception("Group-buy refund track %s could not be processed", track_id)
        count += 1
    return count


def stray_payment(payment_id, order_id):
    """A payment captured for a group order that was already cancelled (the core keeps
    such money aside): refund it in full, as a late payment."""
    from marketplace.plugins.orders import order_info
    from marketplace.plugins.payments import get_payment

    member = Member.objects.filter(order_id=order_id).first()
    info = order_info(order_id) if member is not None else None
    payment = get_payment(payment_id) if info is not None else None
    if payment is None or info.status != "cancelled" or payment.status != "captured":
        return None
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if member.status in (MemberStatus.ABANDONED, MemberStatus.VOIDED):
            Member.objects.filter(pk=member.pk).update(status=MemberStatus.LATE,
                                                       note="Late: paid after the order was cancelled.")
        track, _created = RefundTrack.objects.get_or_create(key=f"group-stray-payment-{payment_id}", defaults=dict(
            purpose=RefundPurpose.STRAY, member=member, order_id=order_id, payment_id=payment_id,
            amount=payment.captured - payment.refunded, requested_at=clock.now(), attempted_at=clock.now()))
    return process(track.pk)
