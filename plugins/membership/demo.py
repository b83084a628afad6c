"""Demo data: the 168 CNY yearly plan, two Beijing driving schools with partner codes, and
an active membership for the demo member (member@demo.marketplace), granted by the
platform. Idempotent (looked up by code and name first); called by fixtures/demo.py after
the demo users exist. Everything goes through the plugin's services and the public API.
"""
from datetime import datetime, timezone
from decimal import Decimal

from django.db import transaction

from marketplace.plugins.accounts import find_user

from .models import Membership, MembershipPlan, Partner, PartnerCode
from .services import memberships, setup

PLAN = {"code": "annual", "name_zh": "途安年卡会员", "name_en": "Annual membership", "price": Decimal("168.00"),
        "term_months": 12, "parts_discount_percent": Decimal("5"), "labour_discount_percent": Decimal("20"),
        "free_towing_per_term": 2, "free_towing_km": 30}
PARTNERS = [
    ({"name_zh": "北京东方时尚驾校", "name_en": "Eastern Fashion Driving School", "kind": "driving_school",
      "contact_name": "刘老师", "contact_phone": "010-61299999", "settlement_terms": "按月结算，每单返 20 元"},
     [{"code": "DFSS-2026", "discount_percent": Decimal("50"), "max_redemptions": 500},
      {"code": "DFSS-VIP", "discount_amount": Decimal("68.00"), "max_redemptions": 50}]),
    ({"name_zh": "北京海淀驾校", "name_en": "Haidian Driving School", "kind": "driving_school",
      "contact_name": "张老师", "contact_phone": "010-62588888", "settlement_terms": "季度结算"},
     [{"code": "HDJX-2026", "discount_percent": Decimal("30"), "max_redemptions": 300}]),
]
DEMO_MEMBER = "member@demo.marketplace"
VALID_FROM = datetime(2026, 1, 1, tzinfo=timezone.utc)


def load(stdout=None):
    created = {"plans": 0, "partners": 0, "codes": 0, "memberships": 0}
    with transaction.atomic():
        if not MembershipPlan.objects.filter(code=PLAN["code"]).exists():
            setup.save_plan(dict(PLAN))
            created["plans"] += 1
        for partner_data, codes in PARTNERS:
            partner = Partner.objects.filter(name_zh=partner_data["name_zh"]).first()
            if partner is None:
                partner = setup.save_partner(dict(partner_data))
                created["partners"] += 1
            for code in codes:
                if not PartnerCode.objects.filter(code=code["code"]).exists():
                    setup.save_code({**code, "valid_from": VALID_FROM}, partner_id=partner.pk)
                    created["codes"] += 1
    member = find_user(DEMO_MEMBER)
    if member is not None and not Membership.objects.filter(user_id=member.pk).exists():
        memberships.grant(member.pk, PLAN["code"], "Demo member")
        created["memberships"] += 1
    if stdout is not None:
        stdout.write(f"membership: the {PLAN['price']} CNY {PLAN['code']} plan, "
                     f"{Partner.objects.count()} partners with {PartnerCode.objects.count()} codes "
                     f"(e.g. DFSS-2026: 50% off), {DEMO_MEMBER} is a member "
                     f"({sum(created.values())} objects created).\n")
    return created
