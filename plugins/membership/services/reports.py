"""The per-partner monthly report for platform staff (and its CSV export).

For a local calendar month (Asia/Shanghai) and each partner: redemptions (paid uses of
its codes in the month), their list amount, discount and paid amount, and the refunds
made that month of memberships bought with its codes (count and amount), exact to 0.01.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum

from marketplace.plugins import clock
from marketplace.plugins.errors import ValidationError

from .. import terms
from ..models import CodeRedemption, MembershipRefund, Partner, RedemptionStatus

ZERO = Decimal("0.00")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
COLUMNS = ["month", "partner_id", "partner", "redemptions", "list_amount", "discount", "paid_amount", "refunds",
           "refunded_amount"]


@dataclass(frozen=True)
class PartnerMonth:
    month: str
    partner_id: int
    partner: str
    redemptions: int
    list_amount: Decimal
    discount: Decimal
    paid_amount: Decimal
    refunds: int
    refunded_amount: Decimal


def parse_month(value) -> tuple[int, int]:
    """"2026-03" -> (2026, 3). Raises ValidationError (field "month")."""
    match = MONTH.match(str(value or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise ValidationError("Give the month as YYYY-MM, e.g. 2026-03.", field="month")
    return int(match.group(1)), int(match.group(2))


def partner_report(month, partner_id=None) -> list[PartnerMonth]:
    """One row per partner (every partner, or the one named), ordered by partner id."""
    year, number = parse_month(month)
    start, end = terms.month_bounds(year, number, clock.business_zone())
    partners = Partner.objects.order_by("pk")
    if partner_id is not None:
        partners = partners.filter(pk=partner_id)
    used = (CodeRedemption.objects.filter(status__in=[RedemptionStatus.REDEEMED, RedemptionStatus.REFUNDED],
                                          redeemed_at__gte=start, redeemed_at__lt=end)
            .values("code__partner_id")
            .annotate(n=Count("pk"), listed=Sum("list_price"), discount=Sum("discount"), paid=Sum("paid_amount")))
    used = {row["code__partner_id"]: row for row in used}
    refunded = (MembershipRefund.objects.filter(created_at__gte=start, created_at__lt=end,
                                                membership__partner_code__isnull=False)
                .exclude(status=MembershipRefund.Status.FAILED)
                .values("membership__partner_code__partner_id")
                .annotate(n=Count("pk", filter=Q(amount__gt=0)), amount=Sum("amount")))
    refunded = {row["membership__partner_code__partner_id"]: row for row in refunded}
    label = f"{year:04d}-{number:02d}"
    rows = []
    for partner in partners:
        u, r = used.get(partner.pk, {}), refunded.get(partner.pk, {})
        rows.append(PartnerMonth(
            month=label, partner_id=partner.pk, partner=partner.name_zh, redemptions=u.get("n") or 0,
            list_amount=terms.quantize(u.get("listed") or ZERO), discount=terms.quantize(u.get("discount") or ZERO),
            paid_amount=terms.quantize(u.get("paid") or ZERO), refunds=r.get("n") or 0,
            refunded_amount=terms.quantize(r.get("amount") or ZERO)))
    return rows


def as_csv(rows) -> str:
    """The report as CSV text (UTF-8, a header row, amounts with 2 decimals)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([getattr(row, column) for column in COLUMNS])
    return out.getvalue()
