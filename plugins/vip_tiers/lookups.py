"""Look-ups behind tier prices, so that a listing costs at most one query more:

- `priced_stores()`: the stores whose programme is on with at least one tier that takes
  a percentage off, kept in Django's cache (shared by the app servers when it is Redis)
  and re-read after a change (`forget`): a batch with none of them costs no query;
- `tier_prices(user_id)`: a signed-in buyer's tiers at every store, with each store's
  programme state: one query, then kept in Django's cache too (keyed by the generation of
  `priced_stores`, so any programme, tier or gate change makes every buyer's entry stale;
  a buyer's tier move drops theirs).

Anonymous buyers cost nothing; a signed-in buyer costs one query per five minutes at most.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from marketplace.plugins import request_cache

NAMESPACE = "vip_tiers"


@dataclass(frozen=True)
class TierPrice:
    vendor_id: int
    vendor_slug: str
    tier_name_zh: str
    tier_name_en: str
    percent_off: Decimal
    stacking: str
    eligible: bool
    below_since: datetime | None


def tier_prices(user_id) -> dict[int, TierPrice]:
    """{vendor_id: TierPrice} for the stores where the user holds a tier with a
    percentage off and whose programme is switched on (the gate is checked by the
    caller with the clock). One query, cached for the request."""
    from .models import VipAccount

    if not user_id:
        return {}
    from django.core.cache import cache as shared

    cache = request_cache(NAMESPACE)
    key = ("tiers", int(user_id))
    if key not in cache:
        shared_key = _user_key(user_id)
        found = shared.get(shared_key)
        if found is None:
            rows = (VipAccount.objects.filter(user_id=user_id, tier__isnull=False, tier__percent_off__gt=0,
                                              tier__program__enabled=True)
                    .values_list("vendor_id", "vendor__slug", "tier__name_zh", "tier__name_en", "tier__percent_off",
                                 "tier__program__stacking", "tier__program__eligible", "tier__program__below_since"))
            found = {row[0]: TierPrice(*row) for row in rows}
            shared.set(shared_key, found, timeout=STORES_TTL)
        cache[key] = found
    return cache[key]


def _user_key(user_id):
    return f"vip_tiers:tiers:{_generation()}:{int(user_id)}"


STORES_KEY = "vip_tiers:priced-stores"
STORES_TTL = 300


def _stores():
    """(generation, frozenset of vendor ids), from Django's cache or one query."""
    import uuid

    from django.core.cache import cache as shared

    from .models import VipTier

    local = request_cache(NAMESPACE)
    if "stores" not in local:
        found = shared.get(STORES_KEY)
        if found is None:
            found = (uuid.uuid4().hex[:12], frozenset(VipTier.objects.filter(program__enabled=True, percent_off__gt=0)
                                                      .values_list("program__vendor_id", flat=True).distinct()))
            shared.set(STORES_KEY, found, timeout=STORES_TTL)
        local["stores"] = found
    return local["stores"]


def _generation():
    return _stores()[0]


def priced_stores() -> frozenset:
    """Vendor ids whose programme is on and has a tier with a percentage off."""
    return _stores()[1]


def forget(user_id=None):
    """Drop cached look-ups after a change: one user's tiers, or (user_id None) the
    stores' programmes and everything this request cached (now, and again once the
    change commits)."""
    from django.core.cache import cache as shared
    from django.db import transaction

    cache = request_cache(NAMESPACE)
    if user_id is None:
        cache.clear()
        shared.delete(STORES_KEY)
        transaction.on_commit(lambda: shared.delete(STORES_KEY))
    else:
        cache.pop(("tiers", int(user_id)), None)
        key = _user_key(user_id)
        shared.delete(key)
        transaction.on_commit(lambda: shared.delete(key))
