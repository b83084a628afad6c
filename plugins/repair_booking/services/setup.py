"""Shop set-up by the shop's managers: rules, labour rates, bays, weekly hours, dated
exceptions, bay blocks and the service menu (catalog variants priced labour x rate).

Changing hours or deactivating a bay never moves a booking: the change is made and the
future bookings it no longer covers are returned as a conflict list for staff."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction

from marketplace.plugins import clock, get_settings
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError

from .. import calendar
from ..lookups import PLUGIN, SHOP_KINDS, forget_service_variants
from ..models import (
    OCCUPYING, BayType, RepairBay, RepairBayBlock, RepairBooking, RepairCategoryRate, RepairDateException,
    RepairOpeningRule, RepairService, RepairShop, ServiceCategory,
)

SHOP_FIELDS = ("slot_minutes", "min_notice_minutes", "max_advance_days", "hold_minutes", "cancel_notice_minutes",
               "reschedule_notice_minutes", "no_show_after_minutes", "allow_overrun_minutes", "parts_margin_hours")
MONEY = Decimal("0.01")


def _amount(value, field, high=Decimal("99999")):
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError("Not an amount.", field=field) from None
    if not amount.is_finite() or amount < 0 or amount > high:
        raise ValidationError(f"Give an amount between 0 and {high}.", field=field)
    return amount.quantize(MONEY)


def _percent(value, field):
    return _amount(value, field, Decimal("100"))


def _validate_model(instance, fields):
    """Run the model field validators of `fields` (ranges), naming the field."""
    from django.core.exceptions import ValidationError as DjangoError

    for name in fields:
        model_field = instance._meta.get_field(name)
        try:
            model_field.run_validators(getattr(instance, name))
        except DjangoError as exc:
            raise ValidationError("; ".join(exc.messages), field=name) from None


@transaction.atomic
def save_shop(vendor_id, data) -> RepairShop:
    """Create or change the booking set-up of a vendor of kind repair shop or dealer.
    `data`: timezone (IANA name), labour_rate (CNY/h), slot_minutes, min_notice_minutes,
    max_advance_days, hold_minutes, cancel_notice_minutes, reschedule_notice_minutes,
    no_show_after_minutes, allow_overrun_minutes, late_cancel_fee_percent,
    no_show_fee_percent, parts_margin_hours, accepting. A changed rate re-prices the
    menu. Raises ValidationError (INVALID kind, timezone, out-of-range values)."""
    from marketplace.plugins.vendors import touch_shop, vendor_info

    vendor = vendor_info(vendor_id)
    if vendor is None:
        raise NotFound("Vendor not found.", field="vendor_id")
    if vendor.kind not in SHOP_KINDS:
        raise ValidationError("Only repair shops and dealers take bookings.", field="vendor_id")
    shop = RepairShop.objects.select_for_update().filter(vendor_id=vendor_id).first() or RepairShop(
        vendor_id=vendor_id)
    rate_changed = False
    if data.get("timezone") is not None:
        try:
            calendar.zone(data["timezone"])
        except ValueError as exc:
            raise ValidationError(str(exc), field="timezone") from None
        shop.timezone = str(data["timezone"])
    if data.get("labour_rate") is not None:
        rate = _amount(data["labour_rate"], "labour_rate")
        rate_changed = rate != shop.labour_rate
        shop.labour_rate = rate
    for name in SHOP_FIELDS:
        if data.get(name) is not None:
            setattr(shop, name, int(data[name]))
    for name in ("late_cancel_fee_percent", "no_show_fee_percent"):
        if data.get(name) is not None:
            setattr(shop, name, _percent(data[name], name))
    if data.get("accepting") is not None:
        shop.accepting = bool(data["accepting"])
    _validate_model(shop, SHOP_FIELDS)
    shop.save()
    if rate_changed:
        reprice(shop)
    touch_shop(vendor_id)
    return shop


@transaction.atomic
def set_category_rate(shop, category, labour_rate) -> RepairShop:
    """A labour rate for one service category (None removes it: the shop's rate applies)."""
    if category not in ServiceCategory.values:
        raise ValidationError("Unknown service category.", field="category")
    if labour_rate is None:
        RepairCategoryRate.objects.filter(shop=shop, category=category).delete()
    else:
        RepairCategoryRate.objects.update_or_create(shop=shop, category=category,
                                                    defaults={"labour_rate": _amount(labour_rate, "labour_rate")})
    reprice(shop)
    return shop


def rate_for(shop, category, rates=None) -> Decimal:
    """The labour rate of a category at a shop: its own, else the shop's."""
    if rates is None:
        rates = dict(RepairCategoryRate.objects.filter(shop=shop).values_list("category", "labour_rate"))
    return rates.get(category, shop.labour_rate)


def list_price(shop, service, rates=None) -> Decimal:
    """labour_hours x rate, half-up to 0.01 (the service variant's list price)."""
    from marketplace.plugins.pricing import quantize

    return quantize(Decimal(service.labour_hours) * rate_for(shop, service.category, rates))


def reprice(shop):
    """Write every service variant's list price from the current rates (re-indexed)."""
    from marketplace.plugins.catalog import save_variant

    rates = dict(RepairCategoryRate.objects.filter(shop=shop).values_list("category", "labour_rate"))
    for service in RepairService.objects.filter(shop=shop).select_related("variant"):
        price = list_price(shop, service, rates)
        if service.variant.list_price != price:
            save_variant(service.variant.product_id, {"list_price": price}, variant_id=service.variant_id)


# -- hours ----------------------------------------------------------------------------------------
def _future_conflicts(shop, keep) -> list[RepairBooking]:
    """Future occupying bookings for which `keep(booking)` is False (staff must act)."""
    bookings = RepairBooking.objects.filter(shop=shop, status__in=OCCUPYING, start__gte=clock.now()).select_related(
        "bay")
    return [b for b in bookings if not keep(b)]


def _covered(shop_calendar, booking) -> bool:
    day = shop_calendar.local_date(booking.start)
    tz = shop_calendar.tz
    overrun = timedelta(minutes=shop_calendar.shop.allow_overrun_minutes)
    for opens, closes in shop_calendar.intervals(day):
        if (calendar.to_utc(day, opens, tz) <= booking.start
                and booking.end <= calendar.to_utc(day, closes, tz) + overrun):
            return True
    return False


@transaction.atomic
def set_weekly_hours(shop, days) -> list[RepairBooking]:
    """Replace the weekly hours. `days`: [{"weekday": 0-6, "intervals": [["09:00",
    "12:00"], ...]}] (a weekday left out is closed). Returns the future bookings the new
    hours no longer cover (they stay; staff decide). Raises ValidationError naming
    `days.<i>.intervals` / `days.<i>.weekday`."""
    from marketplace.plugins.vendors import touch_shop

    from ..availability import ShopCalendar

    rows, seen = [], set()
    for index, day in enumerate(days or ()):
        weekday = day.get("weekday")
        if weekday is None or not 0 <= int(weekday) <= 6 or int(weekday) in seen:
            raise ValidationError("Give each weekday (0 = Monday .. 6) once.", field=f"days.{index}.weekday")
        seen.add(int(weekday))
        try:
            intervals = calendar.clean_intervals(day.get("intervals") or [])
        except ValueError as exc:
            raise ValidationError(str(exc), field=f"days.{index}.intervals") from None
        rows += [RepairOpeningRule(shop=shop, weekday=int(weekday), opens=o, closes=c) for o, c in intervals]
    RepairOpeningRule.objects.filter(shop=shop).delete()
    RepairOpeningRule.objects.bulk_create(rows)
    touch_shop(shop.vendor_id)
    shop_calendar = ShopCalendar(RepairShop.objects.get(pk=shop.pk))
    return _future_conflicts(shop, lambda b: _covered(shop_calendar, b))


@transaction.atomic
def set_date_exception(shop, day: date, closed=False, intervals=None, label="") -> list[RepairBooking]:
    """A dated exception (closed, or its own intervals: a short day, a make-up working
    day); `closed=False` with no intervals removes the exception. Returns the future
    bookings it leaves uncovered."""
    from marketplace.plugins.vendors import touch_shop

    from ..availability import ShopCalendar

    if not closed and not intervals:
        RepairDateException.objects.filter(shop=shop, date=day).delete()
    else:
        try:
            cleaned = [] if closed else calendar.clean_intervals(intervals)
        except ValueError as exc:
            raise ValidationError(str(exc), field="intervals") from None
        RepairDateException.objects.update_or_create(
            shop=shop, date=day, defaults={"closed": bool(closed), "label": (label or "").strip()[:100],
                                           "intervals": [[calendar.format_minute(o), calendar.format_minute(c)]
                                                         for o, c in cleaned]})
    touch_shop(shop.vendor_id)
    shop_calendar = ShopCalendar(RepairShop.objects.get(pk=shop.pk))
    return _future_conflicts(shop, lambda b: _covered(shop_calendar, b))


# -- bays -------------------------------------------------------------------------------------------
@transaction.atomic
def save_bay(shop, data, bay=None) -> tuple[RepairBay, list[RepairBooking]]:
    """Create or change a bay (name, bay_type, is_active). Deactivating a bay with future
    bookings keeps them; they are returned as conflicts."""
    bay = bay or RepairBay(shop=shop)
    if data.get("name") is not None:
        bay.name = str(data["name"]).strip()[:60]
    if not bay.name:
        raise ValidationError("Name the bay.", code=ErrorCode.REQUIRED, field="name")
    if data.get("bay_type") is not None:
        if data["bay_type"] not in BayType.values:
            raise ValidationError("Unknown bay type.", field="bay_type")
        bay.bay_type = data["bay_type"]
    if data.get("is_active") is not None:
        bay.is_active = bool(data["is_active"])
    if RepairBay.objects.filter(shop=shop, name=bay.name).exclude(pk=bay.pk).exists():
        raise ValidationError("Another bay has this name.", code=ErrorCode.UNIQUE, field="name")
    bay.save()
    conflicts = [] if bay.is_active else list(RepairBooking.objects.filter(
        bay=bay, status__in=OCCUPYING, start__gte=clock.now()))
    return bay, conflicts


@transaction.atomic
def block_bay(bay, start, end, reason="") -> tuple[RepairBayBlock, list[RepairBooking]]:
    """Keep a bay free between `start` and `end` (aware). Bookings already there stay and
    are returned as conflicts."""
    if start is None or end is None or end <= start:
        raise ValidationError("The block must end after it starts.", field="end")
    if end - start > timedelta(days=31):
        raise ValidationError("Block at most 31 days at a time.", field="end")
    block = RepairBayBlock.objects.create(bay=bay, start=start, end=end, reason=(reason or "").strip()[:200])
    conflicts = list(RepairBooking.objects.filter(bay=bay, status__in=OCCUPYING, start__lt=end, end__gt=start))
    return block, conflicts


# -- the service menu ----------------------------------------------------------------------------------
def _product_type_id():
    from marketplace.plugins.catalog import save_product_type

    slug = get_settings(PLUGIN).product_type
    return save_product_type({"slug": slug, "name_zh": "维修服务", "name_en": "Repair service",
                              "requires_shipping": False})


@transaction.atomic
def save_service(shop, data, service=None) -> RepairService:
    """Create or change a service on the menu: code, name_zh, name_en, description_zh/en,
    category (a ServiceCategory), catalog category_id (new services), labour_hours,
    bay_type, buffer_minutes, required_part_categories (category ids), is_active. Its
    catalog variant (no shipping, no stock) is priced labour_hours x rate."""
    from django.utils.text import slugify

    from marketplace.plugins.catalog import save_product, save_variant

    creating = service is None
    service = service or RepairService(shop=shop)
    for name in ("name_zh", "name_en"):
        if data.get(name) is not None:
            setattr(service, name, str(data[name]).strip()[:150])
    if not service.name_zh:
        raise ValidationError("Name the service.", code=ErrorCode.REQUIRED, field="name_zh")
    if data.get("code") is not None or creating:
        code = slugify(data.get("code") or service.name_en or "")[:60]
        if not code:
            raise ValidationError("Give a code (letters, digits, hyphens).", code=ErrorCode.REQUIRED, field="code")
        if RepairService.objects.filter(shop=shop, code=code).exclude(pk=service.pk).exists():
            raise ValidationError("The shop has a service with this code.", code=ErrorCode.UNIQUE, field="code")
        service.code = code
    if data.get("category") is not None:
        if data["category"] not in ServiceCategory.values:
            raise ValidationError("Unknown service category.", field="category")
        service.category = data["category"]
    if data.get("labour_hours") is not None:
        service.labour_hours = _amount(data["labour_hours"], "labour_hours", Decimal("24"))
        if service.labour_hours <= 0:
            raise ValidationError("Give the labour hours (more than 0).", field="labour_hours")
    if service.labour_hours is None:
        raise ValidationError("Give the labour hours.", code=ErrorCode.REQUIRED, field="labour_hours")
    if data.get("bay_type") is not None:
        if data["bay_type"] not in BayType.values:
            raise ValidationError("Unknown bay type.", field="bay_type")
        service.bay_type = data["bay_type"]
    if data.get("buffer_minutes") is not None:
        service.buffer_minutes = int(data["buffer_minutes"])
    if data.get("required_part_categories") is not None:
        service.required_part_categories = sorted({int(c) for c in data["required_part_categories"]})
    if data.get("is_active") is not None:
        service.is_active = bool(data["is_active"])
    _validate_model(service, ("labour_hours", "buffer_minutes"))
    product_data = {"name_zh": service.name_zh, "name_en": service.name_en,
                    "description_zh": data.get("description_zh"), "description_en": data.get("description_en"),
                    "status": "published" if service.is_active else "draft"}
    product_data = {k: v for k, v in product_data.items() if v is not None}
    price = list_price(shop, service)
    if creating:
        if data.get("category_id") is None:
            raise ValidationError("Choose the catalog category the service is listed in.", code=ErrorCode.REQUIRED,
                                  field="category_id")
        product_id = save_product(shop.vendor_id, {**product_data, "slug": f"svc-{shop.vendor_id}-{service.code}",
                                                   "category_id": int(data["category_id"]),
                                                   "product_type_id": _product_type_id()})
        variant_id = save_variant(product_id, {"sku": f"SVC-{shop.vendor_id}-{service.code}"[:64].upper(),
                                               "name": service.name_zh, "list_price": price,
                                               "track_inventory": False, "weight_grams": 0})
        service.variant_id = variant_id
    else:
        product_id = service.variant.product_id
        save_product(shop.vendor_id, product_data, product_id=product_id)
        save_variant(product_id, {"list_price": price, "name": service.name_zh, "is_active": service.is_active},
                     variant_id=service.variant_id)
    service.save()
    forget_service_variants()
    return service
