"""The demo (populatedb): every demo vendor on a plan in a realistic state, loaded through
the public API with no network (Stripe not configured), idempotent."""
from io import StringIO

import pytest
from django.core.management import call_command

from marketplace.plugins.ledger import account_total

pytestmark = pytest.mark.django_db
LISTING = """{ vendorSubscriptions(first: 50) { totalCount edges { node {
  vendor { slug } plan { code } status access paymentMethod cancelAtPeriodEnd graceUntil trialEnd } } } }"""


def test_demo_vendors_are_on_plans(staff_gql, settings):
    settings.STRIPE_API_KEY = ""
    out = StringIO()
    call_command("populatedb", stdout=out)
    assert "vendor_plans: every demo vendor on a plan" in out.getvalue()
    first = staff_gql.data(LISTING)["vendorSubscriptions"]
    rows = {e["node"]["vendor"]["slug"]: e["node"] for e in first["edges"]}
    assert first["totalCount"] == 12
    states = {slug: (row["plan"]["code"], row["status"], row["access"]) for slug, row in rows.items()}
    assert states["wangjing-quick-service"] == ("shop_yearly", "TRIALING", "FULL")
    assert states["jingcheng-auto-parts"] == ("storefront_yearly", "ACTIVE", "FULL")
    assert states["yizhuang-tyre-battery"] == ("storefront_yearly", "PAST_DUE", "GRACE")
    assert states["beiyuan-toyota"] == ("dealer_yearly", "ACTIVE", "FULL")
    assert states["chegongzhuang-auto-parts"] == ("storefront_yearly", "ACTIVE", "SUSPENDED")  # staff-suspended
    assert states["huilongguan-auto-care"][1] == "PENDING"
    assert rows["shilihe-auto-parts"]["paymentMethod"] == "WALLET"
    assert rows["zhongguancun-car-parts"]["cancelAtPeriodEnd"] is True
    assert sum(1 for s in states.values() if s[1] == "TRIALING") == 5
    revenue = account_total("platform_subscription_revenue")
    assert revenue == 1200 * 6  # one paid year each for the five paying vendors + beiyuan's second year

    plugins = staff_gql.data('{ plugins { name settings } }')["plugins"]
    assert next(p for p in plugins if p["name"] == "vendor_plans")["settings"]["require_plan"] is True
    # Every approved demo vendor but the suspended one still lists its products.
    from marketplace.plugins.vendors import vendor_infos

    hidden = {v.slug for v in vendor_infos() if v.storefront_hidden}
    assert hidden <= {"huilongguan-auto-care", "chegongzhuang-auto-parts"}

    call_command("populatedb", stdout=StringIO())
    assert staff_gql.data(LISTING)["vendorSubscriptions"] == first
    assert account_total("platform_subscription_revenue") == revenue
