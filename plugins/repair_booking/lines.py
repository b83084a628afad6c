"""Approved extra work paid separately: `checkoutLinesAdd(lines: [{kind:
"repair_extra_work", reference: "<extra work id>", quantity: 1}])` (or
`bookingExtraWorkApprove(checkoutToken:)`, which adds it). Sold by the shop (its own
sub-order), no shipping; list price = labour hours x rate + parts; the member labour
discount applies to the labour part."""
from __future__ import annotations

from marketplace.plugins.checkout import LineDescription, LineKind
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError

from .pricing import EXTRA_WORK_KIND


def _work(reference, field="reference"):
    from .models import RepairExtraWork

    if not str(reference or "").strip().isdigit():
        raise NotFound("No such extra work.", field=field)
    work = RepairExtraWork.objects.select_related("booking__shop").filter(pk=int(reference)).first()
    if work is None:
        raise NotFound("No such extra work.", field=field)
    return work


class ExtraWorkLine(LineKind):
    name = EXTRA_WORK_KIND
    requires_shipping = False
    applies_floor = False
    max_quantity = 1

    def describe(self, reference):
        from .models import ExtraWorkStatus

        work = _work(reference)
        if work.status != ExtraWorkStatus.APPROVED:
            raise ValidationError("This extra work is not approved (or already paid).", code=ErrorCode.INVALID_STATE,
                                  field="reference")
        return LineDescription(name=f"追加项目 Extra work: {work.description}"[:255], sku=f"EXTRA-{work.pk}",
                               seller_id=work.booking.shop.vendor_id)

    def clean_metadata(self, reference, metadata, user):
        work = _work(reference)
        if user is None or not getattr(user, "is_authenticated", False) or work.booking.user_id != user.pk:
            raise NotFound("No such extra work.", field="reference")
        return super().clean_metadata(reference, metadata, user)

    def list_prices(self, lines, context):
        from .models import RepairExtraWork

        works = RepairExtraWork.objects.in_bulk([int(line.reference) for line in lines])
        return {line.reference: works[int(line.reference)].amount for line in lines}

    def validate(self, line, context):
        work = _work(line.reference)
        if context.user is None or work.booking.user_id != context.user.pk:
            raise NotFound("No such extra work.", field="reference")
