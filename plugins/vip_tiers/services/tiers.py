"""Tier movement. A customer's spend at a store is the engine's net goods spend of the
last 12 months (`customer_spend` / `spend_by_customer`: paid sub-orders less refunds,
shipping excluded).

- Up at once: when one of the customer's sub-orders at the store completes
  (`upgrade`), the highest tier the spend reaches, if higher than the current one. The
  new tier is protected for the programme's `protection_days` (90).
- Down only at the monthly review (`review`, the 1st at 03:00 Asia/Shanghai), and only
  once the protection period is over: a refund that drops the spend below the threshold
  never lowers the tier before that.
"""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction

from marketplace.plugins import clock, emit

from .. import rules
from ..models import VipAccount, VipProgram, VipTier
from . import balances
from .programs import tier_rules

YEAR = timedelta(days=365)


def _move(account, target, now, protection_days, reason):
    from .. import lookups
    from ..events import TierChanged

    before = account.tier.name_zh if account.tier_id else ""
    account.tier_id = target.tier_id if target is not None else None
    account.tier_since = now if target is not None else None
    account.protected_until = now + timedelta(days=protection_days) if target is not None else None
    account.updated_at = now
    account.save(update_fields=["tier", "tier_since", "protected_until", "updated_at", "net_spend", "spend_at"])
    after = VipTier.objects.filter(pk=account.tier_id).values_list("name_zh", flat=True).first() or ""
    if account.user_id:
        lookups.forget(account.user_id)
    emit(TierChanged(vendor_id=account.vendor_id, user_id=account.user_id, from_tier=before, to_tier=after,
                     net_spend=account.net_spend, reason=reason))


@transaction.atomic
def upgrade(vendor_id, user_id) -> VipAccount | None:
    """Recompute the customer's 12-month spend at the store and move them up if it
    reaches a higher tier (never down). Returns the account (None: no programme)."""
    from marketplace.plugins.orders import customer_spend

    program = VipProgram.objects.filter(vendor_id=vendor_id).first()
    if program is None:
        return None
    account = balances.account_for(vendor_id, user_id, lock=True)
    now = clock.now()
    account.net_spend = customer_spend(user_id, vendor_id, since=now - YEAR)
    account.spend_at = now
    target = rules.tier_for(account.net_spend, tier_rules(program.pk)) if program.enabled else None
    current = account.tier.rank if account.tier_id else 0
    if target is not None and target.rank > current:
        _move(account, target, now, program.protection_days, "upgrade")
    else:
        account.save(update_fields=["net_spend", "spend_at"])
    return account


def review(vendor_id, now=None) -> dict:
    """The monthly review of one store: every customer's spend is recomputed (one
    query); customers move up, or down where their protection period is over. Creates
    accounts for customers who ordered before the programme existed. Only the accounts
    whose tier moves are locked and rewritten one by one; the spend of the others is
    written in bulk. Returns {"up": n, "down": n, "customers": n}."""
    from marketplace.plugins.orders import spend_by_customer

    now = now or clock.now()
    program = VipProgram.objects.filter(vendor_id=vendor_id).first()
    counts = {"up": 0, "down": 0, "customers": 0}
    if program is None or not program.enabled:
        return counts
    spend = spend_by_customer(vendor_id, since=now - YEAR)
    ladder = tier_rules(program.pk)
    ranks = {t.tier_id: t.rank for t in ladder}
    existing = set(VipAccount.objects.filter(vendor_id=vendor_id, user_id__in=list(spend))
                   .values_list("user_id", flat=True))
    VipAccount.objects.bulk_create([VipAccount(vendor_id=vendor_id, user_id=user_id, created_at=now, updated_at=now)
                                    for user_id in spend if user_id not in existing], ignore_conflicts=True)
    unchanged = []
    rows = VipAccount.objects.filter(vendor_id=vendor_id, user__isnull=False).values_list(
        "pk", "user_id", "tier_id", "protected_until")
    for account_id, user_id, tier_id, protected_until in rows:
        counts["customers"] += 1
        amount = spend.get(user_id, Decimal("0.00"))
        target = rules.tier_for(amount, ladder)
        current, wanted = ranks.get(tier_id, 0), (target.rank if target else 0)
        down = wanted < current and (protected_until is None or protected_until <= now)
        if wanted <= current and not down:
            unchanged.append(VipAccount(pk=account_id, net_spend=amount, spend_at=now))
            continue
        with transaction.atomic():
            account = balances.locked_account(account_id)
            account.net_spend, account.spend_at = amount, now
            _move(account, target, now, program.protection_days, "review")
        counts["up" if wanted > current else "down"] += 1
    VipAccount.objects.bulk_update(unchanged, ["net_spend", "spend_at"], batch_size=1000)
    return counts


def review_all(now=None) -> dict:
    totals = {"up": 0, "down": 0, "customers": 0}
    for vendor_id in VipProgram.objects.filter(enabled=True).values_list("vendor_id", flat=True):
        for key, value in review(vendor_id, now).items():
            totals[key] += value
    return totals


@transaction.atomic
def refresh_spend(vendor_id, user_id):
    """Keep the shown 12-month spend current after a refund (the tier is not touched)."""
    from marketplace.plugins.orders import customer_spend

    account = VipAccount.objects.select_for_update().filter(vendor_id=vendor_id, user_id=user_id).first()
    if account is None:
        return None
    now = clock.now()
    account.net_spend = customer_spend(user_id, vendor_id, since=now - YEAR)
    account.spend_at = now
    account.save(update_fields=["net_spend", "spend_at"])
    return account


@transaction.atomic
def grant(vendor_id, user_id, rank) -> VipAccount:
    """A store puts a customer in one of its tiers (an invitation, or a correction): the
    tier is protected like a reached one, and later movement follows the usual rules.
    `rank` 0 removes the tier. Raises NotFound (field "rank") for a rank the store lacks."""
    from marketplace.plugins.errors import NotFound

    program = VipProgram.objects.filter(vendor_id=vendor_id).first()
    target = None
    if rank:
        target = next((t for t in (tier_rules(program.pk) if program else []) if t.rank == rank), None)
        if target is None:
            raise NotFound("The store has no tier of this rank.", field="rank")
    account = balances.account_for(vendor_id, user_id, lock=True)
    _move(account, target, clock.now(), program.protection_days if program else 0, "granted")
    return account
