"""The repair shop's fields in the shop search document (both backends), through the
engine's `search_shop_mapping_fields` / `search_shop_fields` hooks only - kept in this one
module so a rewrite of search can port it in one place:

- `services`: the codes and names of the services on the menu (the core's `services`
  filter of `searchShops`);
- `labour_rate` (CNY/h), `repair_offers` (code, names, list price, labour hours; stored,
  not indexed), `opening_hours` (["mon 08:00-20:00", ...] in the shop's zone),
  `shop_timezone`;
- `next_free_slot`: the earliest start at which the shop can take its shortest service
  (the core's `sortBy: NEXT_FREE_SLOT`). Kept fresh by re-indexing the shop after every
  booking change (`touch_shop`) and every 15 minutes (the clock moves it).
"""
from __future__ import annotations

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def mapping_fields():
    from elasticsearch.dsl import Date, Double, Keyword, Object

    return {"labour_rate": Double(), "next_free_slot": Date(), "opening_hours": Keyword(),
            "shop_timezone": Keyword(), "repair_offers": Object(enabled=False)}


def next_free_slot(shop, services, now):
    """The earliest offered start for the shop's shortest active service (per bay type),
    or None."""
    from . import availability

    shop_calendar = availability.ShopCalendar(shop)
    best = None
    needs = {}
    for service in services:
        need = availability.requirement([service], slot_minutes=shop.slot_minutes)
        if need.bay_type not in needs or need.minutes < needs[need.bay_type].minutes:
            needs[need.bay_type] = need
    today = shop_calendar.local_date(now)
    from datetime import timedelta

    for need in needs.values():
        found = availability.free_slots(shop_calendar, need, today, today + timedelta(days=shop.max_advance_days),
                                        now, limit=1)
        if found and (best is None or found[0].start < best):
            best = found[0].start
    return best


def shop_fields(vendors):
    from marketplace.plugins import clock, is_active

    from . import calendar
    from .models import RepairService, RepairShop
    from .services.setup import list_price

    ids = [v.pk for v in vendors]
    shops = {s.vendor_id: s for s in RepairShop.objects.filter(vendor_id__in=ids)
             .prefetch_related("opening_rules", "date_exceptions", "category_rates")}
    if not shops:
        return {}
    services = {}
    for service in RepairService.objects.filter(shop__vendor_id__in=list(shops), is_active=True).select_related("shop"):
        services.setdefault(service.shop.vendor_id, []).append(service)
    now = clock.now()
    result = {}
    for vendor_id, shop in shops.items():
        if not is_active("repair_booking", vendor_id):
            continue
        menu = services.get(vendor_id, [])
        rates = {r.category: r.labour_rate for r in shop.category_rates.all()}
        hours = [f"{DAYS[r.weekday]} {calendar.format_minute(r.opens)}-{calendar.format_minute(r.closes)}"
                 for r in shop.opening_rules.all()]
        slot = next_free_slot(shop, menu, now) if menu and shop.accepting else None
        result[vendor_id] = {
            "services": sorted({s.code for s in menu} | {s.name_zh for s in menu} | {s.name_en for s in menu if s.name_en}),
            "labour_rate": float(shop.labour_rate),
            "repair_offers": [{"code": s.code, "name_zh": s.name_zh, "name_en": s.name_en,
                               "price": str(list_price(shop, s, rates)), "labour_hours": str(s.labour_hours)}
                              for s in menu],
            "opening_hours": hours,
            "shop_timezone": shop.timezone,
            "next_free_slot": slot.isoformat() if slot else None,
        }
    return result
