"""Partner codes: checks, holds and redemptions.

A use of a code is *held* by an unpaid order (claimed in `checkout_reserve`, atomically
with the order), *redeemed* when the order is paid, *released* when the order is
cancelled or expires. Holds and redemptions together never exceed `max_redemptions`: a
hold is a conditional increment (`UPDATE ... WHERE held + redeemed < max`), so parallel
completions cannot overshoot, and a payment only turns a hold into a redemption. The
counters are what the cap counts; `redeemed_count` counts paid uses only.
"""
from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from marketplace.plugins import clock
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError

from ..models import CodeRedemption, Membership, MembershipStatus, PartnerCode, RedemptionStatus

COUNTED = (RedemptionStatus.HELD, RedemptionStatus.REDEEMED, RedemptionStatus.REFUNDED)
HAD_MEMBERSHIP = (MembershipStatus.ACTIVE, MembershipStatus.SCHEDULED, MembershipStatus.EXPIRED,
                  MembershipStatus.REFUNDED, MembershipStatus.REVOKED)


def normalize(code) -> str:
    return str(code or "").strip().upper()


def _local(value):
    return clock.localtime(value).strftime("%Y-%m-%d %H:%M")


def check_usable(code, user_id, now=None) -> PartnerCode:
    """The partner code `code` (any case) if `user_id` may use it now. Raises NotFound
    (field "code": unknown) or ValidationError INVALID (field "code": inactive, not yet
    valid, expired, already used by this member, no uses left, first membership only)."""
    normalized = normalize(code)
    if not normalized:
        raise ValidationError("Enter a partner code.", code=ErrorCode.REQUIRED, field="code")
    found = PartnerCode.objects.select_related("partner").filter(code=normalized).first()
    if found is None:
        raise NotFound(f"No partner code {normalized}.", field="code")
    now = now or clock.now()
    if not found.is_active or not found.partner.is_active:
        raise ValidationError(f"The code {normalized} is no longer valid.", field="code")
    if now < found.valid_from:
        raise ValidationError(f"The code {normalized} is valid from {_local(found.valid_from)}.", field="code")
    if found.valid_until is not None and now >= found.valid_until:
        raise ValidationError(f"The code {normalized} expired on {_local(found.valid_until)}.", field="code")
    if user_id and CodeRedemption.objects.filter(code=found, user_id=user_id, status__in=COUNTED).exists():
        raise ValidationError(f"You have already used the code {normalized}.", field="code")
    if found.max_redemptions is not None and found.held_count + found.redeemed_count >= found.max_redemptions:
        raise ValidationError(f"The code {normalized} has reached its limit of {found.max_redemptions} uses.",
                              field="code")
    if found.first_term_only and user_id and Membership.objects.filter(
            user_id=user_id, status__in=HAD_MEMBERSHIP).exists():
        raise ValidationError(f"The code {normalized} is for a first membership only.", field="code")
    return found


def hold(code, user_id, order_id, membership, list_price, paid_amount) -> CodeRedemption:
    """Claim one use of `code` for an unpaid order, inside the completion transaction.
    Re-checks everything `check_usable` does, then takes the use with a conditional
    increment. Raises ValidationError INVALID (field "code") when no use is left or the
    member already used it (a unique index settles parallel attempts)."""
    found = check_usable(code, user_id)
    taken = (PartnerCode.objects.filter(pk=found.pk)
             .filter(Q(max_redemptions__isnull=True) | Q(max_redemptions__gt=F("held_count") + F("redeemed_count")))
             .update(held_count=F("held_count") + 1))
    if not taken:
        raise ValidationError(f"The code {found.code} has reached its limit of {found.max_redemptions} uses.",
                              field="code")
    try:
        with transaction.atomic():
            redemption = CodeRedemption.objects.create(
                code=found, user_id=user_id, order_id=order_id, membership=membership, list_price=list_price,
                discount=max(Decimal(list_price) - Decimal(paid_amount), Decimal("0")), paid_amount=paid_amount,
                held_at=clock.now())
    except IntegrityError:
        raise ValidationError(f"You have already used the code {found.code}.", field="code") from None
    membership.partner_code = found
    membership.save(update_fields=["partner_code"])
    return redemption


def redeem(order_id) -> int:
    """The order was paid: its held uses become redemptions (`partner_code_redeemed`).
    Returns how many."""
    from marketplace.plugins import emit

    from ..events import PartnerCodeRedeemed

    now = clock.now()
    count = 0
    for redemption in CodeRedemption.objects.select_for_update(of=("self",)).select_related("code").filter(
            order_id=order_id, status=RedemptionStatus.HELD):
        CodeRedemption.objects.filter(pk=redemption.pk, status=RedemptionStatus.HELD).update(
            status=RedemptionStatus.REDEEMED, redeemed_at=now)
        PartnerCode.objects.filter(pk=redemption.code_id).update(held_count=F("held_count") - 1,
                                                                 redeemed_count=F("redeemed_count") + 1)
        emit(PartnerCodeRedeemed(code=redemption.code.code, partner_id=redemption.code.partner_id,
                                 membership_id=redemption.membership_id, order_id=order_id,
                                 discount=redemption.discount))
        count += 1
    return count


def release(order_id) -> int:
    """The unpaid order was cancelled or expired: its held uses are free again."""
    now = clock.now()
    count = 0
    for redemption in CodeRedemption.objects.select_for_update().filter(order_id=order_id,
                                                                       status=RedemptionStatus.HELD):
        CodeRedemption.objects.filter(pk=redemption.pk, status=RedemptionStatus.HELD).update(
            status=RedemptionStatus.RELEASED, released_at=now)
        PartnerCode.objects.filter(pk=redemption.code_id).update(held_count=F("held_count") - 1)
        count += 1
    return count


def mark_refunded(membership_id, amount) -> None:
    """A membership bought with a code was refunded (the use stays counted)."""
    CodeRedemption.objects.filter(membership_id=membership_id, status__in=[
        RedemptionStatus.REDEEMED, RedemptionStatus.REFUNDED]).update(
        status=RedemptionStatus.REFUNDED, refunded_amount=F("refunded_amount") + amount, refunded_at=clock.now())
