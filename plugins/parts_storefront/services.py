"""Every state change of the plugin. Plain, transactional functions; callers check
permission first (the GraphQL layer) and pass plain values."""
import re

from django.db import transaction

from marketplace.plugins import clock, get_settings
from marketplace.plugins.accounts import lock_user
from marketplace.plugins.catalog import touch_product, vendor_product_ids
from marketplace.plugins.errors import NotFound, ValidationError

from .models import (
    Body, FeaturedProduct, Fitment, Fuel, GarageVehicle, PartNumber, PartNumberKind, StorefrontPage, Vehicle,
    VehicleMake, VehicleModel, normalize_part_number,
)

PLUGIN = "parts_storefront"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NUMBER_RE = re.compile(r"^[A-Z0-9]{2,40}$")
MIN_YEAR = 1950


def _max_year():
    return clock.now().year + 2  # next model years are sold before the calendar year


def _text(data, name, model, required=False):
    value = str(data.get(name) or "").strip()
    if required and not value:
        raise ValidationError("This field is required.", code="REQUIRED", field=name)
    limit = model._meta.get_field(name).max_length
    if len(value) > limit:
        raise ValidationError(f"At most {limit} characters.", field=name)
    return value


def _slug(data, field="slug"):
    value = str(data.get(field) or "").strip().lower()
    if not SLUG_RE.match(value) or len(value) > 100:
        raise ValidationError("Use lowercase letters, digits and hyphens.", field=field)
    return value


def _gather(*checks):
    """Run field checks and report every failure at once."""
    values, errors = [], []
    for check in checks:
        try:
            values.append(check())
        except ValidationError as exc:
            errors.extend(exc.as_list())
    if errors:
        raise ValidationError(errors=errors)
    return values


def _product_changed(variant):
    """Fitment and part numbers are part of a product's search document."""
    touch_product(variant.product_id)


# -- vehicle registry (platform staff) ----------------------------------------------------
@transaction.atomic
def create_make(data):
    name_zh, name_en, slug = _gather(lambda: _text(data, "name_zh", VehicleMake, required=True),
                                     lambda: _text(data, "name_en", VehicleMake), lambda: _slug(data))
    if VehicleMake.objects.filter(slug=slug).exists():
        raise ValidationError("This slug is taken.", code="UNIQUE", field="slug")
    return VehicleMake.objects.create(name_zh=name_zh, name_en=name_en, slug=slug)


@transaction.atomic
def create_model(make, data):
    name_zh, name_en, slug = _gather(lambda: _text(data, "name_zh", VehicleModel, required=True),
                                     lambda: _text(data, "name_en", VehicleModel), lambda: _slug(data))
    if VehicleModel.objects.filter(make=make, slug=slug).exists():
        raise ValidationError("This make already has a model with this slug.", code="UNIQUE", field="slug")
    return VehicleModel.objects.create(make=make, name_zh=name_zh, name_en=name_en, slug=slug)


def _year(value, field):
    if value is None or not MIN_YEAR <= int(value) <= _max_year():
        raise ValidationError(f"Give a year between {MIN_YEAR} and {_max_year()}.", field=field)
    return int(value)


def _choice(data, name, choices):
    value = data.get(name) or ""
    if value and value not in choices.values:
        raise ValidationError(f"Unknown {name}.", field=name)
    return value


@transaction.atomic
def create_vehicle(model, data):
    year_from, year_to, engine, fuel, body = _gather(
        lambda: _year(data.get("year_from"), "year_from"), lambda: _year(data.get("year_to"), "year_to"),
        lambda: _text(data, "engine", Vehicle, required=True), lambda: _choice(data, "fuel", Fuel),
        lambda: _choice(data, "body", Body))
    if year_to < year_from:
        raise ValidationError("The range must not end before it starts.", field="year_to")
    if Vehicle.objects.filter(model=model, year_from=year_from, year_to=year_to, engine=engine).exists():
        raise ValidationError("This vehicle is already registered.", code="UNIQUE", field="engine")
    return Vehicle.objects.create(model=model, year_from=year_from, year_to=year_to, engine=engine, fuel=fuel,
                                  body=body)


# -- fitment and part numbers (the variant's vendor staff) ---------------------------------
@transaction.atomic
def set_fitments(variant, vehicle_ids):
    """Replace the vehicles a variant (a `VariantInfo`) fits. Returns them."""
    wanted = {int(pk) for pk in vehicle_ids}
    vehicles = list(Vehicle.objects.filter(pk__in=wanted).select_related("model__make"))
    if len(vehicles) != len(wanted):
        raise NotFound("A vehicle was not found.", field="vehicle_ids")
    Fitment.objects.filter(variant_id=variant.variant_id).exclude(vehicle_id__in=wanted).delete()
    Fitment.objects.bulk_create([Fitment(variant_id=variant.variant_id, vehicle=v) for v in vehicles],
                                ignore_conflicts=True)
    _product_changed(variant)
    return vehicles


@transaction.atomic
def set_part_numbers(variant, numbers):
    """Replace a variant's part numbers. `numbers`: [{"number", "kind"}]; numbers that
    differ only in case, spaces, hyphens, dots or slashes are the same number."""
    cleaned, errors = {}, []
    for index, item in enumerate(numbers):
        raw = str(item.get("number") or "").strip()
        normalized = normalize_part_number(raw)
        kind = item.get("kind") or PartNumberKind.OE
        if not NUMBER_RE.match(normalized) or len(raw) > 64:
            errors.append(ValidationError(f"{raw!r} is not a part number (letters and digits, 2-40).",
                                          field=f"numbers.{index}.number"))
        elif normalized in cleaned:
            errors.append(ValidationError(f"{raw!r} repeats {cleaned[normalized][0]!r}.", code="UNIQUE",
                                          field=f"numbers.{index}.number"))
        elif kind not in PartNumberKind.values:
            errors.append(ValidationError("Unknown kind.", field=f"numbers.{index}.kind"))
        else:
            cleaned[normalized] = (raw, kind)
    if errors:
        raise ValidationError(errors=errors)
    existing = {p.normalized: p for p in PartNumber.objects.filter(variant_id=variant.variant_id)}
    PartNumber.objects.filter(pk__in=[p.pk for n, p in existing.items() if n not in cleaned]).delete()
    for normalized, (raw, kind) in cleaned.items():
        current = existing.get(normalized)
        if current is None:
            PartNumber.objects.create(variant_id=variant.variant_id, number=raw, kind=kind)
        elif (current.number, current.kind) != (raw, kind):
            current.number, current.kind = raw, kind
            current.save()
    _product_changed(variant)
    return list(PartNumber.objects.filter(variant_id=variant.variant_id).order_by("pk"))


# -- my garage (the member) ----------------------------------------------------------------
def _lock_garage(user):
    """Serialise changes to one member's garage (count limit, single default)."""
    lock_user(user.pk)
    return GarageVehicle.objects.filter(user=user)


def _own(user, garage_vehicle_id):
    item = _lock_garage(user).filter(pk=garage_vehicle_id).first()
    if item is None:  # someone else's looks the same as none: ids do not leak
        raise NotFound("This vehicle is not in your garage.", field="id")
    return item


def _make_default(item):
    GarageVehicle.objects.filter(user_id=item.user_id, is_default=True).exclude(pk=item.pk).update(is_default=False)
    if not item.is_default:
        item.is_default = True
        item.save(update_fields=["is_default"])


@transaction.atomic
def add_garage_vehicle(user, vehicle_id, year, nickname="", set_default=False):
    garage = _lock_garage(user)
    limit = get_settings(PLUGIN).max_garage_vehicles
    if garage.count() >= limit:
        raise ValidationError(f"Your garage holds at most {limit} vehicles.", code="LIMIT_EXCEEDED")
    vehicle = Vehicle.objects.select_related("model__make").filter(pk=vehicle_id).first()
    if vehicle is None:
        raise NotFound("Vehicle not found.", field="vehicle_id")
    if year is None or not vehicle.year_from <= year <= vehicle.year_to:
        raise ValidationError(f"This vehicle was built {vehicle.year_from}-{vehicle.year_to}.", field="year")
    nickname = (nickname or "").strip()
    if len(nickname) > 50:
        raise ValidationError("At most 50 characters.", field="nickname")
    item = GarageVehicle.objects.create(user=user, vehicle=vehicle, year=year, nickname=nickname)
    if set_default or not garage.filter(is_default=True).exists():  # the first vehicle is the default
        _make_default(item)
    return item


@transaction.atomic
def remove_garage_vehicle(user, garage_vehicle_id):
    item = _own(user, garage_vehicle_id)
    item.delete()
    if item.is_default:  # the most recently added one takes over
        successor = GarageVehicle.objects.filter(user=user).order_by("-created_at", "-pk").first()
        if successor is not None:
            _make_default(successor)


@transaction.atomic
def set_default_garage_vehicle(user, garage_vehicle_id):
    item = _own(user, garage_vehicle_id)
    _make_default(item)
    return item


# -- storefront page (vendor owner or manager) ---------------------------------------------
def _banner(data):
    value = _text(data, "banner_url", StorefrontPage)
    if value and not value.startswith(("https://", "http://")):
        raise ValidationError("Give an http(s) image URL.", field="banner_url")
    return value


@transaction.atomic
def update_storefront_page(vendor_id, data):
    """Change the given fields of a vendor's page (created on first use).
    `featured_product_ids`: ordered product ids of this vendor; replaces the list."""
    page, _ = StorefrontPage.objects.select_for_update().get_or_create(vendor_id=vendor_id)
    checks = {"banner_url": lambda: _banner(data), "headline_zh": lambda: _text(data, "headline_zh", StorefrontPage),
              "headline_en": lambda: _text(data, "headline_en", StorefrontPage)}
    given = [name for name in checks if data.get(name) is not None]
    for name, value in zip(given, _gather(*(checks[name] for name in given))):
        setattr(page, name, value)
    page.save()
    if data.get("featured_product_ids") is not None:
        ids = list(dict.fromkeys(int(pk) for pk in data["featured_product_ids"]))
        limit = get_settings(PLUGIN, vendor_id).max_featured_products
        if len(ids) > limit:
            raise ValidationError(f"Feature at most {limit} products.", code="LIMIT_EXCEEDED",
                                  field="featured_products")
        if len(vendor_product_ids(vendor_id, ids)) != len(ids):
            raise NotFound("A product was not found in this store.", field="featured_products")
        FeaturedProduct.objects.filter(page=page).delete()
        FeaturedProduct.objects.bulk_create(
            [FeaturedProduct(page=page, product_id=pk, position=i) for i, pk in enumerate(ids)])
    return page
