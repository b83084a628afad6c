"""Per-request look-ups behind pricing and the published hooks: a member's paid periods
(one query per member per request, through `marketplace.plugins.request_cache`), the
plans (one query per request, when needed) and which products are excluded from member
prices (from Django's cache; a query only after a change).

Services that change memberships call `forget(user_id)` so a later read in the same
request sees the change.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from marketplace.plugins import request_cache

NAMESPACE = "membership"


@dataclass(frozen=True)
class Period:
    membership_id: int
    plan_id: int
    starts_at: datetime
    ends_at: datetime
    parts_discount_percent: Decimal

    def covers(self, at):
        return self.starts_at <= at <= self.ends_at


@dataclass(frozen=True)
class PlanRow:
    plan_id: int
    code: str
    name_zh: str
    name_en: str
    price: Decimal
    term_months: int
    parts_discount_percent: Decimal
    labour_discount_percent: Decimal
    free_towing_per_term: int
    free_towing_km: int
    is_active: bool


def periods(user_id) -> tuple[Period, ...]:
    """The user's paid periods (active, scheduled or expired; never refunded, revoked,
    pending or void) with their plan's parts discount: one query, cached for the request."""
    from .models import EFFECTIVE, Membership

    if not user_id:
        return ()
    cache = request_cache(NAMESPACE)
    key = ("periods", int(user_id))
    if key not in cache:
        rows = (Membership.objects.filter(user_id=user_id, status__in=EFFECTIVE, starts_at__isnull=False)
                .order_by("starts_at")
                .values_list("pk", "plan_id", "starts_at", "ends_at", "plan__parts_discount_percent"))
        cache[key] = tuple(Period(*row) for row in rows)
    return cache[key]


def period_at(user_id, at) -> Period | None:
    """The paid period covering `at`, or None."""
    for period in periods(user_id):
        if period.covers(at):
            return period
    return None


def latest_end(user_id, after) -> datetime | None:
    """The end of the user's last paid period that ends after `after` (for renewals)."""
    ends = [p.ends_at for p in periods(user_id) if p.ends_at > after]
    return max(ends) if ends else None


def plans() -> dict[str, PlanRow]:
    """Every plan by code, cached for the request."""
    from .models import MembershipPlan

    cache = request_cache(NAMESPACE)
    if "plans" not in cache:
        fields = ("pk", "code", "name_zh", "name_en", "price", "term_months", "parts_discount_percent",
                  "labour_discount_percent", "free_towing_per_term", "free_towing_km", "is_active")
        cache["plans"] = {row[1]: PlanRow(*row) for row in MembershipPlan.objects.values_list(*fields)}
    return cache["plans"]


def plan_by_id(plan_id) -> PlanRow | None:
    return next((p for p in plans().values() if p.plan_id == plan_id), None)


EXCLUSIONS_KEY = "membership:member-price-exclusions"
EXCLUSIONS_TTL = 300


def excluded_products(product_ids) -> set[int]:
    """The ids among `product_ids` whose vendor excluded them from member prices. The whole
    (small) set of excluded products is kept in Django's cache (shared by the app servers
    when it is Redis) and re-read after a change (`forget_exclusions`), so a member's
    listing costs no query for it."""
    from django.core.cache import cache as shared

    from .models import MemberPriceExclusion

    ids = {pk for pk in product_ids if pk is not None}
    if not ids:
        return set()
    local = request_cache(NAMESPACE)
    if "exclusions" not in local:
        found = shared.get(EXCLUSIONS_KEY)
        if found is None:
            found = frozenset(MemberPriceExclusion.objects.values_list("product_id", flat=True))
            shared.set(EXCLUSIONS_KEY, found, timeout=EXCLUSIONS_TTL)
        local["exclusions"] = found
    return ids & local["exclusions"]


def forget_exclusions():
    """After a vendor changed its exclusions: now, and again once the change commits."""
    from django.core.cache import cache as shared
    from django.db import transaction

    shared.delete(EXCLUSIONS_KEY)
    request_cache(NAMESPACE).pop("exclusions", None)
    transaction.on_commit(lambda: shared.delete(EXCLUSIONS_KEY))


def forget(user_id=None):
    """Drop cached look-ups after a change (a user's periods; plans when user_id is None)."""
    cache = request_cache(NAMESPACE)
    if user_id is None:
        cache.pop("plans", None)
    else:
        cache.pop(("periods", int(user_id)), None)
