"""Demo group deals, loaded by `manage.py populatedb` (fixtures/demo.py) after the catalog:

- 京城汽配 (jingcheng-auto-parts): brake pads for 3 people;
- 十里河汽配商行 (shilihe-auto-parts): engine oil for 2;
- 望京快修养护中心 (wangjing-quick-service): a 团购券 for a premium wash (a service voucher,
  bought alone and verified at the shop).

Everything goes through the public API the GraphQL mutations use (the plugin's deal
services, the catalog facade for the voucher's product): created, submitted, approved by
the demo platform admin. Idempotent: a vendor that already has a deal of the demo is left
alone. The deals are live for 30 days from the load.
"""
from datetime import timedelta
from decimal import ROUND_UP, Decimal

from marketplace.plugins import clock

from . import deals
from .models import Deal, DealKind, DealStatus

VOUCHER_TYPE = {"slug": "service-voucher", "name_zh": "服务团购券", "name_en": "Service voucher",
                "requires_shipping": False}
VOUCHER_PRODUCT = {"slug": "premium-wash-voucher", "name_zh": "精洗套餐团购券（内外精洗+轮毂清洁）",
                   "name_en": "Premium wash voucher (inside and out, wheels included)",
                   "description_zh": "到店核销，周一至周日可用，无需预约；未使用随时退，过期自动退。",
                   "description_en": "Redeem at the shop any day, no booking; refund any time while unused, "
                                     "automatically at expiry.",
                   "status": "published"}
# (vendor slug, product type slug of the variant to pick, group size, share of list price, max units)
GOODS = [("jingcheng-auto-parts", "brake-pads", 3, Decimal("0.80"), 90),
         ("shilihe-auto-parts", "engine-oil", 2, Decimal("0.85"), 60)]


def _price(list_price, share):
    """`share` of the list price, rounded up to a whole yuan, never under the floor."""
    from marketplace.plugins.pricing import floor_price

    wanted = (list_price * share).quantize(Decimal("1"), rounding=ROUND_UP)
    return max(wanted.quantize(Decimal("0.01")), floor_price(list_price))


def _live(deal, admin_id):
    deal = deals.submit_deal(deal.pk)
    return deals.approve_deal(deal.pk, admin_id)


def _pick(vendor_id, type_slug):
    from marketplace.plugins.catalog import available, variant_infos

    candidates = [v for v in variant_infos(vendor_id=vendor_id) if v.is_active and v.product.visible
                  and v.product.product_type_slug == type_slug]
    stock = available([v.variant_id for v in candidates])
    candidates = [v for v in candidates if stock.get(v.variant_id, 0) >= 10]
    return candidates[0] if candidates else None


def _voucher_variant(vendor_id):
    from marketplace.plugins.catalog import (
        category_ids, save_product, save_product_type, save_variant, variant_infos,
    )

    for variant in variant_infos(vendor_id=vendor_id):
        if variant.product.slug == VOUCHER_PRODUCT["slug"]:
            return variant.variant_id
    type_id = save_product_type(VOUCHER_TYPE)
    category = category_ids(["service-packages"]).get("service-packages")
    product_id = save_product(vendor_id, {**VOUCHER_PRODUCT, "category_id": category, "product_type_id": type_id})
    return save_variant(product_id, {"sku": "WJ-WASH-VOUCHER", "name": "精洗一次 One premium wash",
                                     "list_price": "128.00", "track_inventory": False})


def load(stdout=None):
    """Create the demo deals that are missing. Returns how many were created."""
    from marketplace.plugins.accounts import find_user
    from marketplace.plugins.vendors import vendor_infos

    vendors = {v.slug: v for v in vendor_infos()}
    admin = find_user("admin@demo.marketplace")
    now = clock.now()
    window = {"starts_at": now - timedelta(hours=1), "ends_at": now + timedelta(days=30)}
    made = []
    for slug, type_slug, size, share, units in GOODS:
        vendor = vendors.get(slug)
        if vendor is None or Deal.objects.filter(vendor_id=vendor.vendor_id).exclude(
                status__in=[DealStatus.ENDED, DealStatus.CANCELLED]).exists():
            continue
        variant = _pick(vendor.vendor_id, type_slug)
        if variant is None:
            continue
        deal = deals.create_deal(vendor_id=vendor.vendor_id, variant_id=variant.variant_id,
                                 deal_price=_price(variant.list_price, share), group_size=size, max_units=units,
                                 **window)
        made.append(_live(deal, admin.pk if admin else None))
    shop = vendors.get("wangjing-quick-service")
    if shop is not None and not Deal.objects.filter(vendor_id=shop.vendor_id, kind=DealKind.SERVICE_VOUCHER).exclude(
            status__in=[DealStatus.ENDED, DealStatus.CANCELLED]).exists():
        variant_id = _voucher_variant(shop.vendor_id)
        deal = deals.create_deal(vendor_id=shop.vendor_id, variant_id=variant_id, kind=DealKind.SERVICE_VOUCHER,
                                 deal_price=Decimal("98.00"), group_size=1, max_units=500, max_per_member=2,
                                 voucher_valid_days=90, **window)
        made.append(_live(deal, admin.pk if admin else None))
    if stdout is not None:
        live = Deal.objects.filter(status=DealStatus.LIVE).count()
        stdout.write(f"group_buy: {len(made)} demo deals created ({live} live: 拼团 brake pads and oil, "
                     f"a 团购券 at Wangjing Quick Service).\n")
    return len(made)
