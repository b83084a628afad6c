"""Refunds of memberships by platform staff.

The amount (`quote`): everything paid when no benefit of the term was used; otherwise the
unused whole months pro rata minus the benefits consumed (member-price savings, free tows
at list cost, labour discounts), never below 0 (see `terms.refund_amount`).

`refund` ends the membership's benefits at once (status REFUNDED) and commits that with a
`MembershipRefund` record, then asks the payments facade to refund the amount on the
order's platform sub-order (outside any transaction, with an idempotency key). The core
books the reversal on the line kind's revenue account (`platform_membership_revenue`). If
the gateway refuses at once, or its refund later fails (`refund_failed`), the membership is
restored and the record marked failed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from marketplace.plugins import clock, emit
from marketplace.plugins.errors import ErrorCode, MarketplaceError, NotFound, ValidationError

from .. import lookups, terms
from ..events import MembershipRefunded
from ..models import CodeRedemption, Membership, MembershipRefund, MembershipSource, MembershipStatus, RedemptionStatus
from . import benefits, codes
from .memberships import display_status

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Quote:
    membership_id: int
    price_paid: Decimal
    already_refunded: Decimal
    savings: Decimal
    towing_count: int
    towing_value: Decimal
    labour_value: Decimal
    benefits_used: Decimal
    unused_months: int
    term_months: int
    amount: Decimal

    @property
    def full(self):
        return self.benefits_used <= 0

    def as_json(self):
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}


def _refundable(membership, now):
    status = display_status(membership, now)
    if membership.source != MembershipSource.ORDER or membership.order_id is None:
        raise ValidationError("A granted membership was not paid for: revoke it instead.",
                              code=ErrorCode.INVALID_STATE, field="id")
    if status not in (MembershipStatus.ACTIVE, MembershipStatus.SCHEDULED):
        raise ValidationError(f"A {status} membership cannot be refunded.", code=ErrorCode.INVALID_STATE, field="id")


def quote(membership, now=None) -> Quote:
    """The refund due for a membership now (no state changes)."""
    now = now or clock.now()
    used = benefits.usage(membership.pk)
    unused = terms.whole_months_between(max(now, membership.starts_at), membership.ends_at, clock.business_zone())
    amount = terms.refund_amount(membership.price_paid, membership.refunded_amount, used.total, unused,
                                 membership.plan.term_months)
    return Quote(membership_id=membership.pk, price_paid=membership.price_paid,
                 already_refunded=membership.refunded_amount, savings=used.savings, towing_count=used.towing_count,
                 towing_value=used.towing_value, labour_value=used.labour_value, benefits_used=used.total,
                 unused_months=unused, term_months=membership.plan.term_months, amount=amount)


def quote_for(membership_id) -> Quote:
    """Raises NotFound (field "id"), ValidationError INVALID_STATE (not refundable)."""
    membership = Membership.objects.select_related("plan").filter(pk=membership_id).first()
    if membership is None:
        raise NotFound("Membership not found.", field="id")
    _refundable(membership, clock.now())
    return quote(membership)


def _platform_vendor_order(order_id):
    from marketplace.plugins.orders import order_info

    order = order_info(order_id)
    return next((vo.vendor_order_id for vo in order.vendor_orders if vo.vendor_id is None), None) if order else None


def refund(membership_id, reason, staff_user_id=None) -> tuple[Membership, MembershipRefund]:
    """Refund a membership (see the module docstring). Returns the membership and the
    refund record. Raises NotFound (field "id"), ValidationError (REQUIRED "reason",
    INVALID_STATE not refundable), and the payments facade's errors (the membership is
    then restored)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why the membership is refunded.", code=ErrorCode.REQUIRED, field="reason")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().select_related("plan").filter(pk=membership_id).first()
        if membership is None:
            raise NotFound("Membership not found.", field="id")
        now = clock.now()
        _refundable(membership, now)
        found = quote(membership, now)
        vendor_order_id = _platform_vendor_order(membership.order_id)
        if found.amount > 0 and vendor_order_id is None:
            raise ValidationError("The order has no platform part to refund.", code=ErrorCode.INVALID_STATE,
                                  field="id")
        record = MembershipRefund.objects.create(
            membership=membership, amount=found.amount, previous_status=membership.status,
            status=MembershipRefund.Status.REQUESTED if found.amount > 0 else MembershipRefund.Status.NOTHING_DUE,
            quote=found.as_json(), reason=reason[:255], staff_id=staff_user_id, created_at=now)
        membership.status = MembershipStatus.REFUNDED
        membership.ended_at = now
        membership.reason = reason[:255]
        membership.refunded_amount = membership.refunded_amount + found.amount
        membership.save(update_fields=["status", "ended_at", "reason", "refunded_amount"])
        codes.mark_refunded(membership.pk, found.amount)
        if membership.user_id:
            lookups.forget(membership.user_id)
        emit(MembershipRefunded(membership_id=membership.pk, user_id=membership.user_id, amount=found.amount,
                                benefits_used=found.benefits_used))
    if found.amount <= 0:
        return membership, record
    from marketplace.plugins.payments import refund as refund_order

    try:
        made = refund_order(membership.order_id, amount=found.amount, vendor_order_id=vendor_order_id, reason=reason,
                            idempotency_key=f"membership-refund-{record.pk}")
    except MarketplaceError:
        restore(record.pk)
        raise
    succeeded = all(status == "succeeded" for _pk, status in made)
    MembershipRefund.objects.filter(pk=record.pk, status=MembershipRefund.Status.REQUESTED).update(
        refund_ids=[pk for pk, _status in made],
        status=MembershipRefund.Status.SUCCEEDED if succeeded else MembershipRefund.Status.REQUESTED)
    record.refresh_from_db()
    membership.refresh_from_db()
    return membership, record


@transaction.atomic
def restore(record_id) -> bool:
    """The money did not move: put the membership back as it was and mark the record
    failed. Idempotent."""
    record = MembershipRefund.objects.select_for_update().filter(pk=record_id).first()
    if record is None or record.status not in (MembershipRefund.Status.REQUESTED,):
        return False
    membership = Membership.objects.select_for_update().get(pk=record.membership_id)
    if membership.status == MembershipStatus.REFUNDED:
        membership.status = record.previous_status
        membership.ended_at = None
        membership.refunded_amount = max(membership.refunded_amount - record.amount, ZERO)
        membership.save(update_fields=["status", "ended_at", "refunded_amount"])
        CodeRedemption.objects.filter(membership_id=membership.pk, status=RedemptionStatus.REFUNDED).update(
            refunded_amount=F("refunded_amount") - record.amount)
        CodeRedemption.objects.filter(membership_id=membership.pk, status=RedemptionStatus.REFUNDED,
                                      refunded_amount__lte=0).update(status=RedemptionStatus.REDEEMED, refunded_at=None)
        if membership.user_id:
            lookups.forget(membership.user_id)
    record.status = MembershipRefund.Status.FAILED
    record.save(update_fields=["status"])
    return True


def on_refund_event(refund_id, succeeded) -> None:
    """A pending gateway refund settled (`refund_succeeded` / `refund_failed`)."""
    for record in MembershipRefund.objects.filter(status=MembershipRefund.Status.REQUESTED,
                                                  refund_ids__contains=[refund_id]):
        if succeeded:
            MembershipRefund.objects.filter(pk=record.pk, status=MembershipRefund.Status.REQUESTED).update(
                status=MembershipRefund.Status.SUCCEEDED)
        else:
            restore(record.pk)


@transaction.atomic
def end_for_order_refund(refund) -> int:
    """`on_refund_recorded`: the platform part of an order was refunded in full outside
    this plugin (e.g. `orderRefund` by staff): its memberships end as refunded."""
    if not refund.is_final or refund.vendor_id is not None:
        return 0
    ended = 0
    for membership in Membership.objects.select_for_update().filter(
            order_id=refund.order_id, status__in=[MembershipStatus.ACTIVE, MembershipStatus.SCHEDULED,
                                                  MembershipStatus.EXPIRED]):
        membership.status = MembershipStatus.REFUNDED
        membership.ended_at = clock.now()
        membership.refunded_amount = membership.price_paid
        membership.reason = membership.reason or "Order refunded"
        membership.save(update_fields=["status", "ended_at", "refunded_amount", "reason"])
        codes.mark_refunded(membership.pk, membership.price_paid)
        if membership.user_id:
            lookups.forget(membership.user_id)
        emit(MembershipRefunded(membership_id=membership.pk, user_id=membership.user_id,
                                amount=membership.price_paid, benefits_used=benefits.usage(membership.pk).total))
        ended += 1
    return ended
