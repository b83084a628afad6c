"""A store's programme and tiers (its owner and managers keep them), and the platform's
product gate.

The gate: a store switches VIP on only with at least `min_products` (50) active published
products (`require_enough_products`, also the plugin's activation guard for `pluginUpdate`).
The count is refreshed when the store's products change (`recount`, from the catalog
events) and hourly; a store that drops below keeps tier prices for `grace_days` (7) after
`below_since`, then they stop (accounts, tiers and balances are kept) until it is back at
the minimum.
"""
from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction

from marketplace.plugins import clock, emit, get_settings, is_active
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError

from .. import rules
from ..models import Stacking, VipAccount, VipProgram, VipTier
from . import inputs

PLUGIN = "vip_tiers"
MAX_TIERS = 10


def platform_settings():
    """The platform's rules (vendor overrides of these keys are ignored)."""
    return get_settings(PLUGIN)


def entitled(vendor_id, name) -> bool:
    from marketplace.plugins.entitlements import has_entitlement

    return has_entitlement(vendor_id, name)


def product_count(vendor_id) -> int:
    from marketplace.plugins.catalog import visible_product_count

    return visible_product_count(vendor_id)


def require_enough_products(vendor_id, field="active"):
    """Raise INVALID_STATE unless the store lists at least `min_products` active published
    products; the message says how many it has and how many more it needs."""
    minimum = platform_settings().min_products
    count = product_count(vendor_id)
    if count < minimum:
        raise ValidationError(
            f"VIP tiers need at least {minimum} active published products; this store lists {count}. "
            f"Publish {minimum - count} more to switch them on.", code=ErrorCode.INVALID_STATE, field=field)
    return count


def program_of(vendor_id) -> VipProgram | None:
    return VipProgram.objects.filter(vendor_id=vendor_id).first()


def _program_for_update(vendor_id) -> VipProgram:
    program = VipProgram.objects.select_for_update().filter(vendor_id=vendor_id).first()
    if program is None:
        now = clock.now()
        try:
            with transaction.atomic():
                program = VipProgram.objects.create(vendor_id=vendor_id, created_at=now, updated_at=now,
                                                    protection_days=platform_settings().protection_days)
        except IntegrityError:
            program = VipProgram.objects.select_for_update().get(vendor_id=vendor_id)
    return program


def status_of(program: VipProgram | None, now=None) -> str:
    """DISABLED, ENABLED, GRACE or SUSPENDED (see `rules.program_status`)."""
    if program is None:
        return "DISABLED"
    return rules.program_status(program.enabled, program.eligible, program.below_since,
                                platform_settings().grace_days, now or clock.now(),
                                active=is_active(PLUGIN, program.vendor_id))


PROGRAM_FIELDS = {
    "stacking", "points_enabled", "earn_points_per_cny", "cashback_enabled", "cashback_percent", "cashback_fixed",
    "cashback_threshold", "cashback_cap", "protection_days", "enabled",
}


@transaction.atomic
def save_program(vendor_id, data) -> VipProgram:
    """Create or change the store's programme from `data` (keys of PROGRAM_FIELDS; only
    those given change). Switching it on (`enabled: true`) needs the `vip_tiers`
    entitlement (ENTITLEMENT_REQUIRED), the plugin on for the store (INVALID_STATE) and
    `min_products` products (INVALID_STATE). Raises ValidationError naming the field."""
    from marketplace.plugins.entitlements import require

    unknown = set(data) - PROGRAM_FIELDS
    if unknown:
        raise ValidationError(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    clean = {}
    if data.get("stacking") is not None:
        stacking = str(data["stacking"])
        if stacking not in Stacking.values:
            raise ValidationError("Give stack or best_of.", field="stacking")
        clean["stacking"] = stacking
    for name in ("points_enabled", "cashback_enabled", "enabled"):
        if data.get(name) is not None:
            clean[name] = inputs.boolean(data[name], name)
    if data.get("earn_points_per_cny") is not None:
        clean["earn_points_per_cny"] = inputs.decimal(data["earn_points_per_cny"], "earn_points_per_cny",
                                                      high=Decimal("100"))
    if data.get("cashback_percent") is not None:
        clean["cashback_percent"] = inputs.decimal(data["cashback_percent"], "cashback_percent", high=Decimal("50"))
    for name in ("cashback_fixed", "cashback_threshold"):
        if data.get(name) is not None:
            clean[name] = inputs.decimal(data[name], name, high=Decimal("100000"))
    if "cashback_cap" in data:
        clean["cashback_cap"] = (inputs.decimal(data["cashback_cap"], "cashback_cap", high=Decimal("100000"))
                                 if data["cashback_cap"] is not None else None)
    if data.get("protection_days") is not None:
        clean["protection_days"] = inputs.whole(data["protection_days"], "protection_days", high=730)
    program = _program_for_update(vendor_id)
    now = clock.now()
    if clean.get("enabled") and not program.enabled:
        require(vendor_id, PLUGIN, field="enabled")
        if not is_active(PLUGIN, vendor_id):
            raise ValidationError("The VIP plugin is switched off for this store: switch it on first "
                                  "(pluginUpdate).", code=ErrorCode.INVALID_STATE, field="enabled")
        count = require_enough_products(vendor_id, field="enabled")
        program.enabled_at = now
        program.product_count, program.eligible, program.below_since, program.counted_at = count, True, None, now
    for name, value in clean.items():
        setattr(program, name, value)
    program.updated_at = now
    program.save()
    _forget_prices()
    return program


def _forget_prices():
    from .. import lookups

    lookups.forget()


@transaction.atomic
def recount(vendor_id) -> VipProgram | None:
    """Count the store's active published products and update the gate: below the
    minimum starts the grace period (`below_since`), back at it ends it. Emits
    `vip_program_status_changed` when the status changes. Returns the programme (None:
    the store has none)."""
    from ..events import VipProgramStatusChanged

    program = VipProgram.objects.select_for_update().filter(vendor_id=vendor_id).first()
    if program is None:
        return None
    now = clock.now()
    before = status_of(program, now)
    count = product_count(vendor_id)
    eligible = count >= platform_settings().min_products
    program.product_count, program.counted_at = count, now
    if eligible:
        program.below_since = None
    elif program.eligible or program.below_since is None:
        program.below_since = now
    program.eligible = eligible
    program.updated_at = now
    program.save(update_fields=["product_count", "counted_at", "below_since", "eligible", "updated_at"])
    after = status_of(program, now)
    if after != before:
        _forget_prices()
        emit(VipProgramStatusChanged(vendor_id=vendor_id, status=after, product_count=count))
    return program


def recount_all() -> int:
    """Recount every store with a programme switched on (hourly): catches vendor
    suspensions and anything the events missed. Returns how many were counted."""
    done = 0
    for vendor_id in VipProgram.objects.filter(enabled=True).values_list("vendor_id", flat=True):
        recount(vendor_id)
        done += 1
    return done


# -- tiers -----------------------------------------------------------------------------------------
TIER_FIELDS = {"rank", "name_zh", "name_en", "threshold", "percent_off", "points_multiplier"}


def _clean_tier(data, creating):
    unknown = set(data) - TIER_FIELDS
    if unknown:
        raise ValidationError(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    clean = {}
    if creating or data.get("rank") is not None:
        if data.get("rank") is None:
            raise ValidationError("Required.", code=ErrorCode.REQUIRED, field="rank")
        clean["rank"] = inputs.whole(data["rank"], "rank", low=1, high=MAX_TIERS)
    if creating or data.get("name_zh") is not None:
        clean["name_zh"] = inputs.text(data.get("name_zh"), "name_zh", 40, required=True)
    if data.get("name_en") is not None:
        clean["name_en"] = inputs.text(data["name_en"], "name_en", 40)
    if creating or data.get("threshold") is not None:
        if data.get("threshold") is None:
            raise ValidationError("Required.", code=ErrorCode.REQUIRED, field="threshold")
        clean["threshold"] = inputs.decimal(data["threshold"], "threshold", high=Decimal("10000000"))
    if data.get("percent_off") is not None:
        clean["percent_off"] = inputs.decimal(data["percent_off"], "percent_off", high=Decimal("90"))
    if data.get("points_multiplier") is not None:
        clean["points_multiplier"] = inputs.decimal(data["points_multiplier"], "points_multiplier",
                                                    high=Decimal("10"))
    return clean


def _check_ladder(program):
    """Thresholds rise with rank (a higher tier needs more spend)."""
    tiers = list(VipTier.objects.filter(program=program).order_by("rank"))
    for lower, higher in zip(tiers, tiers[1:]):
        if higher.threshold <= lower.threshold:
            raise ValidationError(f"Tier {higher.rank} ({higher.name_zh}) needs a higher threshold than tier "
                                  f"{lower.rank} ({lower.threshold}).", field="threshold")


@transaction.atomic
def create_tier(vendor_id, data) -> VipTier:
    """Add a tier (rank 1-10, unique per store; thresholds must rise with rank). Raises
    ValidationError (INVALID, REQUIRED, UNIQUE rank)."""
    clean = _clean_tier(data, creating=True)
    program = _program_for_update(vendor_id)
    if VipTier.objects.filter(program=program, rank=clean["rank"]).exists():
        raise ValidationError(f"The store already has a tier of rank {clean['rank']}.", code=ErrorCode.UNIQUE,
                              field="rank")
    tier = VipTier.objects.create(program=program, **clean)
    _check_ladder(program)
    _forget_prices()
    return tier


@transaction.atomic
def update_tier(tier_id, data) -> VipTier:
    clean = _clean_tier(data, creating=False)
    tier = VipTier.objects.select_for_update().filter(pk=tier_id).first()
    if tier is None:
        raise NotFound("Tier not found.", field="id")
    if "rank" in clean and clean["rank"] != tier.rank and \
            VipTier.objects.filter(program_id=tier.program_id, rank=clean["rank"]).exists():
        raise ValidationError(f"The store already has a tier of rank {clean['rank']}.", code=ErrorCode.UNIQUE,
                              field="rank")
    for name, value in clean.items():
        setattr(tier, name, value)
    tier.save()
    _check_ladder(tier.program)
    _forget_prices()
    return tier


@transaction.atomic
def delete_tier(tier_id) -> int:
    """Remove a tier. Its customers move to the highest remaining tier their recorded
    spend reaches (or none). Returns the store's vendor id."""
    tier = VipTier.objects.select_for_update().select_related("program").filter(pk=tier_id).first()
    if tier is None:
        raise NotFound("Tier not found.", field="id")
    program = tier.program
    holders = list(VipAccount.objects.select_for_update().filter(tier=tier))
    tier.delete()
    ladder = tier_rules(program.pk)
    now = clock.now()
    for account in holders:
        target = rules.tier_for(account.net_spend, ladder)
        account.tier_id = target.tier_id if target else None
        account.tier_since = now if target else None
        account.updated_at = now
        account.save(update_fields=["tier", "tier_since", "updated_at"])
    _forget_prices()
    return program.vendor_id


def tier_rules(program_id) -> list[rules.TierRule]:
    return [rules.TierRule(t.pk, t.rank, t.threshold, t.percent_off, t.points_multiplier)
            for t in VipTier.objects.filter(program_id=program_id).order_by("rank")]
