"""Service vouchers (团购券) of SERVICE_VOUCHER deals.

    UNUSED -verified at a shop of the deal's vendor-> REDEEMED
    UNUSED -member asks (随时退)-> REFUNDING -gateway confirms-> REFUNDED
    UNUSED -valid_until passes-> EXPIRED (refund requested at once, 过期退) -gateway confirms-> REFUNDED

One voucher per unit bought, issued when the group succeeds. Verification is one
conditional update (a voucher verifies once). A refund returns the voucher's share of the
sub-order and is tracked like every group-buy refund (`refunds.py`).
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q

from marketplace.plugins import ErrorCode, NotFound, PermissionDenied, ValidationError, emit, get_settings
from marketplace.plugins import clock

from . import deals, refunds
from .codes import normalize_voucher_code, voucher_code
from .events import VoucherRedeemed
from .models import RefundPurpose, RefundTrack, Voucher, VoucherStatus


def _shares(total, count):
    """Split `total` (2 places) into `count` amounts differing by at most 0.01."""
    cents = int((total * 100).to_integral_value())
    base, extra = divmod(cents, count)
    return [Decimal(base + (1 if i < extra else 0)) / 100 for i in range(count)]


def issue(member, now):
    """Vouchers for a member whose group succeeded (inside the caller's transaction)."""
    if Voucher.objects.filter(member=member).exists():
        return []
    deal = member.deal
    days = deal.voucher_valid_days or get_settings(deals.PLUGIN, deal.vendor_id).voucher_valid_days
    made = []
    for amount in _shares(member.amount, member.quantity):
        for _attempt in range(8):
            try:
                with transaction.atomic():
                    made.append(Voucher.objects.create(
                        code=voucher_code(), deal=deal, member=member, vendor_id=deal.vendor_id,
                        user_id=member.user_id, amount=amount, issued_at=now, valid_until=now + timedelta(days=days)))
                break
            except IntegrityError:
                continue
    return made


def verify(*, code, vendor_id, user_id) -> Voucher:
    """A shop verifies (核销) a voucher. Raises ValidationError (INVALID: not a voucher code,
    field "code"; INVALID_STATE: already redeemed, refunded or expired), NotFound,
    PermissionDenied (the voucher belongs to another vendor's deal)."""
    normalized = normalize_voucher_code(code)
    if not normalized:
        raise ValidationError("Not a voucher code (13 digits; check the last one).", field="voucher_code")
    voucher = Voucher.objects.filter(code=normalized).first()
    if voucher is None:
        raise NotFound("No voucher has this code.", field="voucher_code")
    if voucher.vendor_id != int(vendor_id):
        raise PermissionDenied("This voucher is for another shop.", code=ErrorCode.PERMISSION_DENIED)
    now = clock.now()
    with transaction.atomic():
        redeemed = Voucher.objects.filter(pk=voucher.pk, status=VoucherStatus.UNUSED, valid_until__gt=now).update(
            status=VoucherStatus.REDEEMED, redeemed_at=now, redeemed_by_id=user_id)
        voucher.refresh_from_db()
        if not redeemed:
            if voucher.status == VoucherStatus.REDEEMED:
                message = f"Already redeemed at {clock.localtime(voucher.redeemed_at):%Y-%m-%d %H:%M}."
            elif voucher.status == VoucherStatus.UNUSED:
                message = "This voucher has expired."
            else:
                message = f"This voucher is {voucher.get_status_display().lower()}."
            raise ValidationError(message, code=ErrorCode.INVALID_STATE, field="voucher_code")
        emit(VoucherRedeemed(voucher_id=voucher.pk, deal_id=voucher.deal_id, vendor_id=voucher.vendor_id))
    _fulfil_when_done(voucher)
    return voucher


def _fulfil_when_done(voucher):
    """When every voucher of the order line is redeemed, its service line is fulfilled."""
    from marketplace.plugins.orders import fulfil_service_lines

    member = voucher.member
    left = Voucher.objects.filter(member=member).exclude(status=VoucherStatus.REDEEMED)
    if left.exists():
        return
    try:
        fulfil_service_lines(member.vendor_order_id, [member.order_line_id])
    except ValidationError:
        pass  # already fulfilled, or part refunded: nothing to ship anyway


def request_refund(*, voucher_id, user_id) -> Voucher:
    """随时退: the member asks to refund an unused voucher. It is REFUNDING until the
    gateway confirms. Raises NotFound, ValidationError (INVALID_STATE)."""
    with transaction.atomic():
        voucher = Voucher.objects.select_for_update().filter(pk=voucher_id, user_id=user_id).first()
        if voucher is None:
            raise NotFound("Voucher not found.", field="id")
        if voucher.status != VoucherStatus.UNUSED:
            raise ValidationError(f"A {voucher.get_status_display().lower()} voucher cannot be refunded.",
                                  code=ErrorCode.INVALID_STATE, field="id")
        Voucher.objects.filter(pk=voucher.pk).update(status=VoucherStatus.REFUNDING)
        track = _track(voucher)
    refunds.process(track.pk)
    voucher.refresh_from_db()
    return voucher


def _track(voucher):
    member = voucher.member
    track, _created = RefundTrack.objects.get_or_create(key=f"voucher-{voucher.pk}", defaults=dict(
        purpose=RefundPurpose.VOUCHER, member=member, voucher=voucher, order_id=member.order_id,
        vendor_order_id=member.vendor_order_id, amount=voucher.amount, requested_at=clock.now(),
        attempted_at=clock.now()))
    return track


def expire(now=None):
    """Beat work (过期退): unused vouchers past their date expire and are refunded at
    once. Returns how many expired."""
    now = now or clock.now()
    limit = deals.platform_settings().sweep_batch
    tracks = []
    for voucher in Voucher.objects.select_related("member").filter(
            Q(status=VoucherStatus.UNUSED) & Q(valid_until__lte=now)).order_by("valid_until")[:limit]:
        with transaction.atomic():
            if Voucher.objects.filter(pk=voucher.pk, status=VoucherStatus.UNUSED).update(status=VoucherStatus.EXPIRED):
                tracks.append(_track(voucher).pk)
    for track_id in tracks:
        refunds.process(track_id)
    return len(tracks)
