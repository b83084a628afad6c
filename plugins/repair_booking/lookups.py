"""Look-ups shared by services, pricing and GraphQL: the shop of a vendor, the services of
catalog variants (cached: pricing asks on every listing), and what other plugins publish
(membership: labour discount; parts_storefront: garage, fitment, part numbers), always
through `call_hook`, never by importing them."""
from __future__ import annotations

from decimal import Decimal

from marketplace.plugins import call_hook, has_hook, request_cache
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError

PLUGIN = "repair_booking"
SHOP_KINDS = ("repair_shop", "dealer")
SERVICE_VARIANTS_KEY = "repair_booking:service-variants"
SERVICE_VARIANTS_TTL = 300


def shop_of(vendor_id, field="shop_id", lock=False):
    """The `RepairShop` of a vendor, or NotFound naming `field`."""
    from .models import RepairShop

    qs = RepairShop.objects.select_for_update() if lock else RepairShop.objects
    shop = qs.select_related("vendor").filter(vendor_id=vendor_id).first()
    if shop is None:
        raise NotFound("This shop takes no bookings.", field=field)
    return shop


def bookable_shop(vendor_id, field="shop_id"):
    """A shop that takes bookings now: approved vendor, accepting, plugin on for it
    (entitlement `booking`). Raises NotFound / ValidationError (INVALID_STATE,
    ENTITLEMENT_REQUIRED)."""
    from marketplace.plugins import is_active
    from marketplace.plugins.entitlements import has_entitlement

    cache = request_cache(PLUGIN)
    key = ("bookable", int(vendor_id))
    if key in cache:
        return cache[key]
    shop = shop_of(vendor_id, field)
    if shop.vendor.status != "approved" or shop.vendor.storefront_hidden:
        raise NotFound("This shop takes no bookings.", field=field)
    if not has_entitlement(vendor_id, "booking"):
        raise ValidationError("This shop's plan does not include online booking.",
                              code=ErrorCode.ENTITLEMENT_REQUIRED, field=field)
    if not is_active(PLUGIN, vendor_id):
        raise ValidationError("Online booking is off for this shop.", code=ErrorCode.PLUGIN_DISABLED, field=field)
    if not shop.accepting:
        raise ValidationError("This shop takes no new bookings at the moment.", code=ErrorCode.INVALID_STATE,
                              field=field)
    cache[key] = shop  # for the rest of this request or task
    return shop


def service_variant_ids() -> frozenset:
    """Ids of every variant that is a repair service (Django's cache; a query only after a
    change), so pricing a listing costs no query for it."""
    from django.core.cache import cache as shared

    from .models import RepairService

    local = request_cache(PLUGIN)
    if "service_variants" not in local:
        found = shared.get(SERVICE_VARIANTS_KEY)
        if found is None:
            found = frozenset(RepairService.objects.values_list("variant_id", flat=True))
            shared.set(SERVICE_VARIANTS_KEY, found, timeout=SERVICE_VARIANTS_TTL)
        local["service_variants"] = found
    return local["service_variants"]


def forget_service_variants():
    from django.core.cache import cache as shared
    from django.db import transaction

    shared.delete(SERVICE_VARIANTS_KEY)
    request_cache(PLUGIN).pop("service_variants", None)
    transaction.on_commit(lambda: shared.delete(SERVICE_VARIANTS_KEY))


def services_of_variants(variant_ids) -> dict:
    """{variant_id: RepairService} (with shop) for the variants that are services."""
    from .models import RepairService

    ids = [v for v in variant_ids if v in service_variant_ids()]
    if not ids:
        return {}
    return {s.variant_id: s for s in RepairService.objects.select_related("shop").filter(variant_id__in=ids)}


# -- membership (published hooks) ------------------------------------------------------------------
def labour_discount_percent(user_id, at=None) -> Decimal:
    """The member's labour discount (percent) at `at`, 0 for non-members or while the
    membership plugin is off."""
    if not user_id or not has_hook("member_benefits"):
        return Decimal("0")
    cache = request_cache(PLUGIN)
    key = ("labour", int(user_id), at)
    if key not in cache:
        benefits = call_hook("member_benefits", user_id=int(user_id), at=at)
        cache[key] = Decimal(str(benefits["labour_discount_percent"])) if benefits else Decimal("0")
    return cache[key]


def member_benefits(user_id, at=None) -> dict | None:
    if not user_id or not has_hook("member_benefits"):
        return None
    return call_hook("member_benefits", user_id=int(user_id), at=at)


# -- parts_storefront (published hooks) ------------------------------------------------------------
def garage_vehicle(user_id, garage_vehicle_id, field="garage_vehicle_id") -> dict:
    """The member's car, or NotFound (someone else's car looks like none)."""
    found = None
    if user_id and garage_vehicle_id is not None and has_hook("parts_garage_vehicle"):
        found = call_hook("parts_garage_vehicle", user_id=int(user_id), garage_vehicle_id=int(garage_vehicle_id))
    if not found:
        raise NotFound("This vehicle is not in your garage.", field=field)
    return found


def fitment(variant_ids, vehicle_id, year) -> dict:
    """{variant_id: True | False | None (no fitment data)}; all None without the plugin."""
    ids = list(variant_ids)
    if not ids or not has_hook("parts_fitment"):
        return {v: None for v in ids}
    answer = call_hook("parts_fitment", variant_ids=ids, vehicle_id=vehicle_id, year=year)
    return answer if answer is not None else {v: None for v in ids}


def part_numbers(variant_ids) -> dict:
    ids = list(variant_ids)
    if not ids or not has_hook("parts_numbers"):
        return {v: [] for v in ids}
    return call_hook("parts_numbers", variant_ids=ids) or {v: [] for v in ids}


def normalize_number(number) -> str:
    import re
    import unicodedata

    if has_hook("parts_normalize_number"):
        found = call_hook("parts_normalize_number", number=number)
        if found is not None:
            return found
    return re.sub(r"[\s\-\u2010-\u2015./\\_]+", "", unicodedata.normalize("NFKC", number or "")).upper()
