"""The member labour discount through the one price pipeline.

A service line's list price is its variant's list price: labour hours x the shop's rate
(kept in sync by `services.setup.reprice`). Campaigns and the floor apply to it as to any
catalog line. Members get the labour discount of their plan (from the membership plugin's
published `member_benefits` hook) as a `PriceAdjustment(kind="membership",
group="member_price", stacking=BEST_OF, funded_by=PLATFORM)`, as the membership README
asks: the best of it and the plan's parts discount wins, the savings count in the
membership's benefits used, the ledger pays the shop back. The price is fixed when the
order is placed. Extra-work lines get the discount on their labour part only.
"""
from __future__ import annotations

from decimal import Decimal

from .lookups import labour_discount_percent, service_variant_ids

EXTRA_WORK_KIND = "repair_extra_work"
LABEL = "会员工时折扣 Member labour discount"


def _user_id(user):
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


def price_adjustments(lines, context):
    from marketplace.plugins.pricing import BEST_OF, PLATFORM, PriceAdjustment

    user_id = _user_id(context.user)
    if user_id is None:
        return None
    services = service_variant_ids()
    labour = [line for line in lines if line.kind == "product" and line.variant_id in services]
    extra = [line for line in lines if line.kind == EXTRA_WORK_KIND]
    if not labour and not extra:
        return None
    percent = labour_discount_percent(user_id, context.now)
    if percent <= 0:
        return None
    result = {}
    adjustment = PriceAdjustment("repair_booking", LABEL, percent_off=percent, kind="membership",
                                 group="member_price", stacking=BEST_OF, funded_by=PLATFORM)
    for line in labour:
        result[line.key] = [adjustment]
    if extra:
        from .models import RepairExtraWork

        works = RepairExtraWork.objects.in_bulk([int(l.key.split(":", 1)[1]) for l in extra
                                                 if str(l.key.split(":", 1)[1]).isdigit()])
        for line in extra:
            work = works.get(int(line.key.split(":", 1)[1]))
            if work is None:
                continue
            off = (work.labour_hours * work.labour_rate * percent / Decimal(100))
            if off > 0:
                result[line.key] = [PriceAdjustment("repair_booking", LABEL, amount_off=off, kind="membership",
                                                    group="member_price", stacking=BEST_OF, funded_by=PLATFORM)]
    return result
