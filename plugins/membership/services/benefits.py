"""Benefits a member consumed in a term, valued in CNY (what a refund quote subtracts):

- member-price savings of every paid sub-order (the `membership`-kind adjustments of its
  lines x quantity, recorded when the order is paid; a refund of goods reverses them pro
  rata, exactly when the sub-order is fully refunded);
- free tows (at their list cost) and labour discounts, recorded by other plugins through
  the published `record_member_benefit` hook and given back with `release_member_benefit`.

A free tow's cost is booked in the ledger when recorded (`platform_member_benefits -k`,
`towing_partner_payable +k`) and reversed when released.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum

from marketplace.plugins import clock, get_settings
from marketplace.plugins.errors import ErrorCode, ValidationError

from .. import lookups, terms
from ..models import BenefitKind, BenefitUse, EFFECTIVE, Membership
from ..pricing import PLUGIN

ZERO = Decimal("0.00")
RECORDABLE = (BenefitKind.TOWING, BenefitKind.LABOUR)


@dataclass(frozen=True)
class Usage:
    """What a membership's term consumed so far."""

    savings: Decimal  # member prices, net of refunds
    towing_count: int
    towing_value: Decimal
    labour_value: Decimal

    @property
    def total(self) -> Decimal:
        return terms.quantize(self.savings + self.towing_value + self.labour_value)


def usage(membership_id) -> Usage:
    rows = (BenefitUse.objects.filter(membership_id=membership_id, released_at__isnull=True)
            .values("kind").annotate(value=Sum("value"), uses=Count("pk")))
    by_kind = {row["kind"]: row for row in rows}

    def value(kind):
        return terms.quantize((by_kind.get(kind) or {}).get("value") or ZERO)

    return Usage(savings=max(value(BenefitKind.MEMBER_PRICE), ZERO),
                 towing_count=(by_kind.get(BenefitKind.TOWING) or {}).get("uses") or 0,
                 towing_value=value(BenefitKind.TOWING), labour_value=value(BenefitKind.LABOUR))


def usage_by_membership(membership_ids) -> dict[int, Usage]:
    """{membership_id: Usage} for many memberships in one query (staff listings)."""
    rows = (BenefitUse.objects.filter(membership_id__in=list(membership_ids), released_at__isnull=True)
            .values("membership_id", "kind").annotate(value=Sum("value"), uses=Count("pk")))
    found = {}
    for row in rows:
        found.setdefault(row["membership_id"], {})[row["kind"]] = row
    result = {}
    for pk in membership_ids:
        kinds = found.get(pk, {})
        result[pk] = Usage(
            savings=max(terms.quantize((kinds.get(BenefitKind.MEMBER_PRICE) or {}).get("value") or ZERO), ZERO),
            towing_count=(kinds.get(BenefitKind.TOWING) or {}).get("uses") or 0,
            towing_value=terms.quantize((kinds.get(BenefitKind.TOWING) or {}).get("value") or ZERO),
            labour_value=terms.quantize((kinds.get(BenefitKind.LABOUR) or {}).get("value") or ZERO))
    return result


# -- member prices ------------------------------------------------------------------------------
def _savings(line) -> Decimal:
    explanation = line.explanation or {}
    saved = ZERO
    for adjustment in explanation.get("adjustments") or ():
        if adjustment.get("kind") == "membership":
            saved -= Decimal(str(adjustment.get("amount") or "0"))
    return terms.quantize(saved * line.quantity)


def record_order_savings(order) -> int:
    """`on_order_paid`: book the member-price savings of each sub-order of a paid order on
    the membership covering its payment time. Idempotent (one row per sub-order)."""
    if order.user_id is None:
        return 0
    per_vendor_order = {}
    for line in order.lines:
        saved = _savings(line)
        if saved > 0:
            per_vendor_order[line.vendor_order_id] = per_vendor_order.get(line.vendor_order_id, ZERO) + saved
    if not per_vendor_order:
        return 0
    at = order.paid_at or clock.now()
    lookups.forget(order.user_id)
    period = lookups.period_at(order.user_id, at)
    if period is None:
        return 0
    created = 0
    for vendor_order_id, saved in per_vendor_order.items():
        try:
            with transaction.atomic():
                BenefitUse.objects.create(membership_id=period.membership_id, kind=BenefitKind.MEMBER_PRICE,
                                          reference=f"vo:{vendor_order_id}", value=saved, order_id=order.order_id,
                                          vendor_order_id=vendor_order_id, used_at=at)
                created += 1
        except IntegrityError:
            continue  # recorded already
    return created


def reverse_on_refund(refund) -> None:
    """`on_refund_recorded`: goods returned were not a benefit consumed. Reverse the
    sub-order's savings pro rata (`refund.share`), exactly what is left when final."""
    rows = list(BenefitUse.objects.filter(kind=BenefitKind.MEMBER_PRICE, vendor_order_id=refund.vendor_order_id))
    original = next((r for r in rows if r.reference == f"vo:{refund.vendor_order_id}"), None)
    if original is None:
        return
    left = terms.quantize(sum((r.value for r in rows), ZERO))
    if left <= 0:
        return
    reversal = left if refund.is_final else min(terms.quantize(original.value * Decimal(refund.share)), left)
    if reversal <= 0:
        return
    key = refund.refund_id if refund.refund_id is not None else f"n{len(rows)}"
    try:
        with transaction.atomic():
            BenefitUse.objects.create(membership_id=original.membership_id, kind=BenefitKind.MEMBER_PRICE,
                                      reference=f"vo:{refund.vendor_order_id}:refund:{key}", value=-reversal,
                                      order_id=refund.order_id, vendor_order_id=refund.vendor_order_id,
                                      used_at=clock.now())
    except IntegrityError:
        pass


# -- tows and labour (other plugins, through the published hooks) -------------------------------
def _value(benefit, value) -> Decimal:
    if value is None:
        if benefit != BenefitKind.TOWING:
            raise ValidationError("Give the value of the labour discount.", code=ErrorCode.REQUIRED, field="value")
        value = get_settings(PLUGIN).towing_list_price
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError("Not an amount.", field="value") from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError("Give a finite amount that is not negative.", field="value")
    return terms.quantize(amount)


def record(user_id, benefit, reference, value=None, at=None) -> dict:
    """Record a benefit use (see `hookspecs.record_member_benefit`). Runs in the caller's
    transaction (the hook's savepoint)."""
    from marketplace.plugins.ledger import book

    if benefit not in RECORDABLE:
        raise ValidationError(f"Unknown benefit {benefit!r}: towing or labour.", field="benefit")
    reference = str(reference or "").strip()
    if not reference or len(reference) > 100:
        raise ValidationError("Give a reference of 1 to 100 characters.", field="reference")
    amount = _value(benefit, value)
    at = at or clock.now()
    membership = (Membership.objects.select_for_update().select_related("plan")
                  .filter(user_id=user_id, status__in=EFFECTIVE, starts_at__lte=at, ends_at__gte=at).first())
    if membership is None:
        raise ValidationError("Not a member at that time.", code=ErrorCode.NOT_FOUND, field="user_id")
    existing = BenefitUse.objects.filter(kind=benefit, reference=reference).first()
    if existing is None:
        if benefit == BenefitKind.TOWING:
            used = BenefitUse.objects.filter(membership=membership, kind=BenefitKind.TOWING,
                                             released_at__isnull=True).count()
            if used >= membership.plan.free_towing_per_term:
                raise ValidationError(f"No free tow left this term ({used} of {membership.plan.free_towing_per_term} "
                                      "used).", code=ErrorCode.LIMIT_EXCEEDED, field="benefit")
        existing = BenefitUse.objects.create(membership=membership, kind=benefit, reference=reference, value=amount,
                                             used_at=at)
        if benefit == BenefitKind.TOWING and amount > 0:
            book("member_benefit", [("platform_member_benefits", -amount), ("towing_partner_payable", amount)],
                 memo=f"Free tow {reference} (membership {membership.pk})", key=f"membership:towing:{reference}")
    left = membership.plan.free_towing_per_term - BenefitUse.objects.filter(
        membership=membership, kind=BenefitKind.TOWING, released_at__isnull=True).count()
    return {"use_id": existing.pk, "membership_id": existing.membership_id, "benefit": existing.kind,
            "value": existing.value, "free_towing_left": max(left, 0)}


def release(benefit, reference) -> bool:
    """Give back a use (see `hookspecs.release_member_benefit`)."""
    from marketplace.plugins.ledger import book

    use = (BenefitUse.objects.select_for_update().filter(kind=benefit, reference=str(reference or "").strip(),
                                                         released_at__isnull=True).first())
    if use is None:
        return False
    use.released_at = clock.now()
    use.save(update_fields=["released_at"])
    if use.kind == BenefitKind.TOWING and use.value > 0:
        book("member_benefit", [("platform_member_benefits", use.value), ("towing_partner_payable", -use.value)],
             memo=f"Free tow {use.reference} released", key=f"membership:towing:{use.reference}:release")
    return True


def benefits_at(user_id, at=None) -> dict | None:
    """The `member_benefits` answer (see hookspecs), or None when not a member at `at`."""
    at = at or clock.now()
    period = lookups.period_at(user_id, at) if user_id else None
    if period is None:
        return None
    plan = lookups.plan_by_id(period.plan_id)
    used = usage(period.membership_id)
    return {"membership_id": period.membership_id, "plan": plan.code, "starts_at": period.starts_at,
            "ends_at": period.ends_at, "parts_discount_percent": plan.parts_discount_percent,
            "labour_discount_percent": plan.labour_discount_percent,
            "free_towing_per_term": plan.free_towing_per_term, "free_towing_km": plan.free_towing_km,
            "free_towing_used": used.towing_count,
            "free_towing_left": max(plan.free_towing_per_term - used.towing_count, 0),
            "savings_this_term": used.savings}
