"""Demo data: common vehicles on Chinese roads, fitment and part numbers for the demo
catalog, a storefront page per parts vendor, a car in the demo member's garage.

`load()` is idempotent and works before any product exists (then it registers the
vehicles only); fixtures/demo.py calls it after bulk-creating the catalog. Fitment and
part numbers are bulk-created too (no `product_updated` event per variant), and only
ever added: running it again, or after vendors edited their data, removes nothing.
"""
import re

from django.db import transaction

from . import services
from .models import (
    Fitment, GarageVehicle, PartNumber, PartNumberKind, StorefrontPage, Vehicle, VehicleMake, VehicleModel,
    normalize_part_number,
)

# (make slug, 中文, English, [(model slug, 中文, English, extra aliases in product names)])
# Model slugs and names follow the demo catalog (fixtures/catalog_demo.py), whose product
# names say "（适用丰田卡罗拉）" / "for Toyota Corolla".
MAKES = [
    ("toyota", "丰田", "Toyota", [
        ("corolla", "卡罗拉", "Corolla", []), ("levin", "雷凌", "Levin", []),
        ("camry", "凯美瑞", "Camry", []), ("rav4", "RAV4荣放", "RAV4", ["rav4"])]),
    ("volkswagen", "大众", "Volkswagen", [
        ("lavida", "朗逸", "Lavida", []), ("sagitar", "速腾", "Sagitar", []),
        ("bora", "宝来", "Bora", []), ("passat", "帕萨特", "Passat", [])]),
    ("honda", "本田", "Honda", [
        ("civic", "思域", "Civic", []), ("accord", "雅阁", "Accord", []), ("crv", "CR-V", "CR-V", ["crv"])]),
    ("nissan", "日产", "Nissan", [("sylphy", "轩逸", "Sylphy", [])]),
    ("byd", "比亚迪", "BYD", [
        ("qin-plus", "秦PLUS DM-i", "Qin PLUS DM-i", ["秦plus", "qin plus"]),
        ("song-plus", "宋PLUS DM-i", "Song PLUS DM-i", ["宋plus", "song plus"]),
        ("han", "汉DM-i", "Han DM-i", []), ("tang", "唐DM-i", "Tang DM-i", [])]),
    ("geely", "吉利", "Geely", [("emgrand", "帝豪", "Emgrand", []), ("monjaro", "星越L", "Monjaro", [])]),
    ("haval", "哈弗", "Haval", [("h6", "H6", "H6", [])]),
    ("buick", "别克", "Buick", [("excelle-gt", "英朗", "Excelle GT", [])]),
    ("changan", "长安", "Changan", [("cs75-plus", "CS75 PLUS", "CS75 PLUS", [])]),
    ("tesla", "特斯拉", "Tesla", [("model-3", "Model 3", "Model 3", []), ("model-y", "Model Y", "Model Y", [])]),
]

# (model slug, year_from, year_to, engine, fuel, body)
VEHICLES = [
    ("corolla", 2014, 2018, "1.6L 1ZR-FE", "petrol", "sedan"),
    ("corolla", 2019, 2024, "1.2T 9NR-FTS", "petrol", "sedan"),
    ("corolla", 2019, 2024, "1.8L hybrid 8ZR-FXE", "hybrid", "sedan"),
    ("levin", 2019, 2024, "1.2T 9NR-FTS", "petrol", "sedan"),
    ("camry", 2018, 2023, "2.5L hybrid A25A-FXS", "hybrid", "sedan"),
    ("rav4", 2020, 2024, "2.0L M20C", "petrol", "suv"),
    ("lavida", 2018, 2023, "1.5L EA211", "petrol", "sedan"),
    ("lavida", 2019, 2023, "1.4T EA211", "petrol", "sedan"),
    ("sagitar", 2019, 2024, "1.4T EA211", "petrol", "sedan"),
    ("sagitar", 2019, 2024, "2.0T EA888", "petrol", "sedan"),
    ("bora", 2019, 2024, "1.5L EA211", "petrol", "sedan"),
    ("passat", 2019, 2024, "2.0T EA888", "petrol", "sedan"),
    ("civic", 2016, 2021, "1.5T L15B", "petrol", "sedan"),
    ("civic", 2016, 2021, "1.0T P10A", "petrol", "sedan"),
    ("accord", 2018, 2022, "1.5T L15B", "petrol", "sedan"),
    ("crv", 2017, 2022, "1.5T L15B", "petrol", "suv"),
    ("sylphy", 2019, 2024, "1.6L HR16DE", "petrol", "sedan"),
    ("qin-plus", 2021, 2024, "1.5L DM-i", "phev", "sedan"),
    ("song-plus", 2021, 2024, "1.5L DM-i", "phev", "suv"),
    ("han", 2022, 2024, "1.5T DM-i", "phev", "sedan"),
    ("tang", 2021, 2024, "1.5T DM-i", "phev", "suv"),
    ("emgrand", 2018, 2024, "1.5L JL4G15", "petrol", "sedan"),
    ("monjaro", 2021, 2024, "2.0T JLH-4G20TDB", "petrol", "suv"),
    ("h6", 2017, 2020, "1.5T GW4G15B", "petrol", "suv"),
    ("h6", 2021, 2024, "1.5T GW4B15A", "petrol", "suv"),
    ("excelle-gt", 2015, 2022, "1.5L L2B", "petrol", "sedan"),
    ("cs75-plus", 2020, 2024, "1.5T JL476ZQCF", "petrol", "suv"),
    ("model-3", 2019, 2024, "RWD single motor", "electric", "sedan"),
    ("model-y", 2021, 2024, "RWD single motor", "electric", "suv"),
]

# Part kinds: the product type's slug, else keywords in the product's name. Oil filter
# comes before engine oil ("机油滤清器" is a filter).
KINDS = {
    "oil-filter": ("oil filter", "机油滤"),
    "brake-pads": ("brake pad", "刹车片", "制动片"),
    "brake-fluid": ("brake fluid", "刹车油", "制动液"),
    "engine-oil": ("engine oil", "motor oil", "机油"),
    "wiper-blade": ("wiper", "雨刮", "雨刷"),
}
SKIP_TYPES = {"service-package"}  # labour, not parts
# Parts that name no car fit every vehicle the rule accepts.
GENERIC = {"engine-oil": lambda v: v.fuel != "electric", "brake-fluid": lambda v: True}
# Genuine OE numbers, as cross-references on the parts that fit those models.
OE_NUMBERS = {
    ("corolla", "brake-pads/front"): ["04465-02220"],
    ("levin", "brake-pads/front"): ["04465-02220"],
    ("corolla", "oil-filter"): ["04152-YZZA6"],
    ("levin", "oil-filter"): ["04152-YZZA6"],
    ("lavida", "oil-filter"): ["04E 115 561 H"],
    ("sagitar", "oil-filter"): ["04E 115 561 H"],
    ("bora", "oil-filter"): ["04E 115 561 H"],
    ("civic", "oil-filter"): ["15400-RTA-003"],
    ("accord", "oil-filter"): ["15400-RTA-003"],
    ("crv", "oil-filter"): ["15400-RTA-003"],
    ("sylphy", "oil-filter"): ["15208-65F0E"],
}


@transaction.atomic
def load(stdout=None):
    vehicles = load_vehicles()
    fitments, numbers = assign_fitments()
    pages = storefront_pages()
    garage = demo_garage()
    if stdout is not None:
        stdout.write(f"parts_storefront: {vehicles} vehicles; {fitments} fitments, {numbers} part numbers, "
                     f"{pages} storefront pages, {garage} garage vehicles added.\n")


def load_vehicles():
    models = {}
    for make_slug, make_zh, make_en, make_models in MAKES:
        make, _ = VehicleMake.objects.get_or_create(slug=make_slug, defaults={"name_zh": make_zh, "name_en": make_en})
        for slug, name_zh, name_en, _aliases in make_models:
            models[slug], _ = VehicleModel.objects.get_or_create(
                make=make, slug=slug, defaults={"name_zh": name_zh, "name_en": name_en})
    for model, year_from, year_to, engine, fuel, body in VEHICLES:
        Vehicle.objects.get_or_create(model=models[model], year_from=year_from, year_to=year_to, engine=engine,
                                      defaults={"fuel": fuel, "body": body})
    return Vehicle.objects.count()


# -- rules -------------------------------------------------------------------------------------
def _mentions(text, alias):
    alias = alias.lower()
    if alias.isascii():  # "han" must not match inside "than"
        return re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", text) is not None
    return alias in text


def _engine_codes(vehicle):
    """Engine codes such as EA211, 9NR-FTS, L15B (not "1.5L" or "hybrid")."""
    return [t for t in vehicle.engine.split()
            if re.search(r"[a-z]", t, re.I) and re.search(r"\d", t) and not re.fullmatch(r"[\d.]+[lt]", t, re.I)]


def kind_of(text, type_slug=""):
    kind = type_slug if type_slug in KINDS else next((k for k, words in KINDS.items()
                                                      if any(w in text for w in words)), None)
    if kind == "brake-pads":
        kind += "/rear" if any(w in text for w in ("rear", "后轮", "后刹车")) else "/front"
    return kind


def vehicles_for(text, vehicles, kind=None):
    """The vehicles a product fits, from its lowercase text: the models it names, else
    the makes it names, else the engine codes it names, else its kind's generic rule."""
    models, makes = set(), set()
    for make_slug, make_zh, make_en, make_models in MAKES:
        for slug, name_zh, name_en, aliases in make_models:
            if any(_mentions(text, alias) for alias in (name_zh, name_en, *aliases)):
                models.add(slug)
        if _mentions(text, make_zh) or _mentions(text, make_en):
            makes.add(make_slug)
    if models:
        return [v for v in vehicles if v.model.slug in models]
    if makes:
        return [v for v in vehicles if v.model.make.slug in makes]
    by_engine = [v for v in vehicles if any(_mentions(text, code) for code in _engine_codes(v))]
    if by_engine:
        return by_engine
    rule = GENERIC.get((kind or "").split("/")[0])
    return [v for v in vehicles if rule(v)] if rule else []


def assign_fitments():
    """Add fitment, the catalog's own part numbers (the `part-number` attribute: OE for a
    car maker's genuine part, else the manufacturer's) and OE cross-references to every
    variant. Returns (fitments added, part numbers added)."""
    from marketplace.plugins.catalog import variant_infos

    vehicles = list(Vehicle.objects.select_related("model__make"))
    makes = {m[0] for m in MAKES}
    fitments, numbers = [], []
    for variant in variant_infos(with_attributes=True):
        product = variant.product
        if product.product_type_slug in SKIP_TYPES:
            continue
        text = f"{product.name_zh} {product.name_en}".lower()
        kind = kind_of(text, product.product_type_slug)
        fits = vehicles_for(text, vehicles, kind)
        fitments.extend(Fitment(variant_id=variant.variant_id, vehicle=v) for v in fits)
        wanted = {}
        if variant.attributes.get("part-number"):
            genuine = product.brand_slug is not None and product.brand_slug in makes
            wanted[str(variant.attributes["part-number"])] = PartNumberKind.OE if genuine else PartNumberKind.MANUFACTURER
        for slug in sorted({v.model.slug for v in fits}):
            for number in OE_NUMBERS.get((slug, kind), []):
                wanted.setdefault(number, PartNumberKind.OE)
        numbers.extend(PartNumber(variant_id=variant.variant_id, number=n, normalized=normalize_part_number(n), kind=k)
                       for n, k in wanted.items() if normalize_part_number(n))
    before = (Fitment.objects.count(), PartNumber.objects.count())
    # Unique constraints make both idempotent: existing rows are left alone.
    Fitment.objects.bulk_create(fitments, ignore_conflicts=True, batch_size=1000)
    PartNumber.objects.bulk_create(numbers, ignore_conflicts=True, batch_size=1000)
    return Fitment.objects.count() - before[0], PartNumber.objects.count() - before[1]


def storefront_pages():
    """A page for each approved parts vendor that has none, featuring its best sellers."""
    from marketplace.plugins.catalog import visible_products
    from marketplace.plugins.vendors import VendorKind, VendorStatus, vendor_infos

    created = 0
    have_pages = set(StorefrontPage.objects.values_list("vendor_id", flat=True))
    for vendor in vendor_infos(kind=VendorKind.PARTS_VENDOR, status=VendorStatus.APPROVED):
        if vendor.vendor_id in have_pages:
            continue
        featured = list(visible_products().filter(vendor_id=vendor.vendor_id).order_by("-sales_count", "pk")
                        .values_list("pk", flat=True)[:4])
        services.update_storefront_page(vendor.vendor_id, {
            "headline_zh": f"{vendor.name_zh}：正品配件，按车型找件",
            "headline_en": f"{vendor.name_en or vendor.name_zh}: genuine-quality parts, found by your car",
            "banner_url": f"https://picsum.photos/seed/{vendor.slug}/1200/300",
            "featured_product_ids": featured,
        })
        created += 1
    return created


def demo_garage():
    """The demo member drives a 2021 Corolla hybrid."""
    from marketplace.plugins.accounts import find_user

    user = find_user("member@demo.marketplace")
    vehicle = Vehicle.objects.filter(model__slug="corolla", fuel="hybrid").first()
    if user is None or vehicle is None or GarageVehicle.objects.filter(user=user).exists():
        return 0
    services.add_garage_vehicle(user, vehicle.pk, 2021, nickname="我的卡罗拉", set_default=True)
    return 1
