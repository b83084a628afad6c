"""Demo data: VIP programmes at the two demo parts stores with at least 50 products, a
few demo customers in tiers with points and cashback, a segment and a draft campaign.
Idempotent; called by fixtures/demo.py (DEMO_PLUGINS) after the catalog and the demo
users exist. Goes through the plugin's services only.

- 京城汽配 (jingcheng-auto-parts): 银卡 from 500 CNY (1x points), 金卡 from 2 000 (5 % off,
  1.5x), 钻石卡 from 8 000 (8 % off, 2x); VIP stacks with the member price.
- 十里河汽配 (shilihe-auto-parts): 会员 from 300, 黄金会员 from 1 500 (6 % off, 2x); 3 %
  cashback (at most 50 CNY an order); the best of VIP and member price applies.
"""
from decimal import Decimal

from django.db import transaction

from marketplace.plugins.accounts import find_user
from marketplace.plugins.errors import MarketplaceError
from marketplace.plugins.vendors import vendor_infos

STORES = {
    "jingcheng-auto-parts": (
        {"stacking": "stack", "earn_points_per_cny": Decimal("1")},
        [(1, "银卡", "Silver", "500", "0", "1"), (2, "金卡", "Gold", "2000", "5", "1.5"),
         (3, "钻石卡", "Diamond", "8000", "8", "2")]),
    "shilihe-auto-parts": (
        {"stacking": "best_of", "earn_points_per_cny": Decimal("1"), "cashback_enabled": True,
         "cashback_percent": Decimal("3"), "cashback_cap": Decimal("50")},
        [(1, "会员", "Member", "300", "0", "1"), (2, "黄金会员", "Gold member", "1500", "6", "2")]),
}
# (e-mail, store slug, tier rank, points, cashback)
CUSTOMERS = [
    ("member@demo.marketplace", "jingcheng-auto-parts", 2, 3200, "0"),
    ("member@demo.marketplace", "shilihe-auto-parts", 1, 450, "18.60"),
    ("member.en@demo.marketplace", "jingcheng-auto-parts", 1, 820, "0"),
    ("member.en@demo.marketplace", "shilihe-auto-parts", 2, 1500, "42.00"),
]
SEGMENT = {"name": "高价值车主", "description": "Spent 500 CNY or more here in 180 days",
           "rule": {"all": [{"fact": "net_spend", "op": "gte", "value": "500", "days": 180}]}}
CAMPAIGN = {"name": "春季保养回购", "channel": "email", "subject": "{store}：{name}，您有 {points} 积分待使用",
            "body": "{name} 您好，您在 {store} 是{tier}，账户里有 {points} 积分，本月到店保养可直接抵扣。"}


def load(stdout=None):
    from .models import Campaign, Segment, VipAccount, VipProgram
    from .services import balances, campaigns, programs, segments, tiers

    stores = {v.slug: v for v in vendor_infos() if v.slug in STORES}
    created = {"programmes": 0, "tiers": 0, "customers": 0}
    for slug, (settings, ladder) in STORES.items():
        store = stores.get(slug)
        if store is None:
            continue
        with transaction.atomic():
            if VipProgram.objects.filter(vendor_id=store.vendor_id, enabled=True).exists():
                continue
            try:
                programs.save_program(store.vendor_id, {"enabled": True, **settings})
            except MarketplaceError as exc:  # fewer than 50 products in this catalog: leave it off
                if stdout is not None:
                    stdout.write(f"vip_tiers: {slug} not enabled ({exc.message})\n")
                continue
            created["programmes"] += 1
            for rank, name_zh, name_en, threshold, percent, multiplier in ladder:
                programs.create_tier(store.vendor_id, {"rank": rank, "name_zh": name_zh, "name_en": name_en,
                                                       "threshold": Decimal(threshold),
                                                       "percent_off": Decimal(percent),
                                                       "points_multiplier": Decimal(multiplier)})
                created["tiers"] += 1
    for email, slug, rank, points, cashback in CUSTOMERS:
        user, store = find_user(email), stores.get(slug)
        if user is None or store is None or not VipProgram.objects.filter(vendor_id=store.vendor_id,
                                                                           enabled=True).exists():
            continue
        if VipAccount.objects.filter(vendor_id=store.vendor_id, user_id=user.pk, tier__isnull=False).exists():
            continue
        tiers.grant(store.vendor_id, user.pk, rank)
        balances.adjust(store.vendor_id, user.pk, "points", points, "Demo welcome points",
                        key=f"demo:{store.vendor_id}:{user.pk}:points")
        if Decimal(cashback):
            balances.adjust(store.vendor_id, user.pk, "cashback", Decimal(cashback), "Demo cashback",
                            key=f"demo:{store.vendor_id}:{user.pk}:cashback")
        created["customers"] += 1
    main = stores.get("jingcheng-auto-parts")
    if main is not None and VipProgram.objects.filter(vendor_id=main.vendor_id, enabled=True).exists():
        segment = Segment.objects.filter(vendor_id=main.vendor_id, name=SEGMENT["name"]).first()
        if segment is None:
            segment = segments.create(main.vendor_id, dict(SEGMENT))
        if not Campaign.objects.filter(vendor_id=main.vendor_id, name=CAMPAIGN["name"]).exists():
            campaigns.create(main.vendor_id, {**CAMPAIGN, "segment": segment})
    if stdout is not None:
        stdout.write(f"vip_tiers: VIP programmes at {', '.join(s for s in STORES if s in stores)}; demo customers in "
                     f"tiers with points and cashback (member@demo.marketplace is 金卡 at jingcheng-auto-parts); "
                     f"{sum(created.values())} objects created.\n")
    return created
