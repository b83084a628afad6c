"""Demo data: the demo marketplace's approved repair shops and dealers take bookings -
labour rates, bays, their opening hours, the Spring Festival closure and a make-up working
day, and a service menu (brake pads, oil change, tyre fitting, alignment, A/C service).
Idempotent (looked up first); called by fixtures/demo.py (`populatedb`) after the catalog
exists. Everything goes through the plugin's services and the public API.
"""
from datetime import date, timedelta

from django.db import transaction

from marketplace.plugins.catalog import category_ids
from marketplace.plugins.vendors import vendor_infos

from .models import RepairBay, RepairDateException, RepairService, RepairShop
from .services import setup

RATES = {"repair_shop": "120.00", "dealer": "180.00"}
DESCRIPTIONS = {
    "brake-pads": ("更换前轴或后轴刹车片，含制动系统检查与路试；刹车片可在本店或任意配件商购买并直接寄到门店。",
                   "Front or rear pads replaced, with a brake check and a road test; buy the pads here or from any "
                   "parts seller and have them delivered to the shop."),
    "oil-change": ("更换机油与机滤工时，机油可自带或店内购买，附送安全检查。",
                   "Oil and filter change labour; bring your oil or buy it here; safety check included."),
    "tyre-fitting": ("四条轮胎拆装、动平衡与气门嘴更换，18寸及以下。", "Four tyres fitted and balanced, new valves, rims "
                                                                     "up to 18 inches."),
    "alignment": ("3D四轮定位检测与调整，解决跑偏、吃胎。", "3D wheel alignment check and adjustment: fixes pulling "
                                                          "and uneven tyre wear."),
    "ac-service": ("空调系统检测、清洗与制冷剂补充（按量另计）。", "A/C check, cleaning and refrigerant top-up (refrigerant "
                                                                  "charged by use)."),
}
# code, name_zh, name_en, hours, rate category, bay type, catalog category, buffer minutes
MENU = [
    ("brake-pads", "刹车片更换（单轴）", "Brake pad replacement (one axle)", "0.8", "brakes", "general",
     "repair-and-fitting", 10),
    ("oil-change", "机油机滤更换", "Oil and filter change", "0.5", "maintenance", "general", "service-packages", 0),
    ("tyre-fitting", "轮胎拆装动平衡（四条）", "Tyre fitting and balancing (four)", "1.0", "tyres", "tyre",
     "repair-and-fitting", 0),
    ("alignment", "四轮定位", "Four-wheel alignment", "1.0", "alignment", "alignment", "repair-and-fitting", 0),
    ("ac-service", "空调系统保养", "A/C service", "1.0", "air_conditioning", "general", "service-packages", 0),
]
BAYS = [("1号工位", "general"), ("2号工位", "general"), ("轮胎工位", "tyre"), ("四轮定位工位", "alignment")]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPRING_FESTIVAL = [date(2027, 2, 6) + timedelta(days=n) for n in range(7)]  # demo: the week of 春节 2027
MAKE_UP_DAY = date(2027, 2, 20)  # demo: a Saturday worked instead (调休上班)


def load(stdout=None):
    created = {"shops": 0, "bays": 0, "services": 0}
    categories = category_ids(["repair-and-fitting", "service-packages", "car-services"])
    if not categories:
        if stdout is not None:
            stdout.write("repair_booking: no service categories in the catalog; skipped.\n")
        return created
    shops = [v for v in vendor_infos(status="approved") if v.kind in ("repair_shop", "dealer")]
    for vendor in shops:
        with transaction.atomic():
            shop = RepairShop.objects.filter(vendor_id=vendor.vendor_id).first()
            if shop is None:
                shop = setup.save_shop(vendor.vendor_id, {"labour_rate": RATES[vendor.kind]})
                weekly = [{"weekday": DAYS.index(day), "intervals": intervals}
                          for day, intervals in (vendor.opening_hours or {}).items() if day in DAYS]
                setup.set_weekly_hours(shop, weekly or [{"weekday": d, "intervals": [["09:00", "18:00"]]}
                                                        for d in range(7)])
                for day in SPRING_FESTIVAL:
                    setup.set_date_exception(shop, day, closed=True, label="春节 Spring Festival")
                setup.set_date_exception(shop, MAKE_UP_DAY, intervals=[["09:00", "17:00"]], label="调休上班")
                if vendor.kind == "dealer":
                    setup.set_category_rate(shop, "air_conditioning", "160.00")
                created["shops"] += 1
            for name, bay_type in BAYS + ([("新能源工位", "ev")] if "byd" in vendor.slug else []):
                if not RepairBay.objects.filter(shop=shop, name=name).exists():
                    setup.save_bay(shop, {"name": name, "bay_type": bay_type})
                    created["bays"] += 1
            for code, name_zh, name_en, hours, category, bay_type, catalog, buffer in MENU:
                if RepairService.objects.filter(shop=shop, code=code).exists():
                    continue
                zh, en = DESCRIPTIONS[code]
                setup.save_service(shop, {"code": code, "name_zh": name_zh, "name_en": name_en, "labour_hours": hours,
                                          "description_zh": zh, "description_en": en,
                                          "category": category, "bay_type": bay_type, "buffer_minutes": buffer,
                                          "category_id": categories.get(catalog) or next(iter(categories.values()))})
                created["services"] += 1
    if stdout is not None:
        stdout.write(f"repair_booking: {len(shops)} shops take bookings (rates 120/180 CNY/h; bays, hours, "
                     f"{len(MENU)} services each; {sum(created.values())} objects created).\n")
    return created


__all__ = ["load", "RepairDateException"]
