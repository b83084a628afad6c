"""Plans as data through the API: the seeded plans, who sees what, staff edits validated."""
import pytest

from .helpers import ERRORS

pytestmark = pytest.mark.django_db
PLANS = """query($v: ID, $all: Boolean) { vendorPlans(vendorId: $v, includeInactive: $all) {
  code nameZh nameEn price { amount currency } interval intervalCount trialDays vendorKinds isActive highlight
  entitlements { maxProducts booking vipTiers pointsCashback groupBuy commissionRate searchBoost } } }"""
UPDATE = """mutation($c: String!, $i: VendorPlanInput!) { vendorPlanUpdate(code: $c, input: $i) {
  plan { code isActive price { amount } entitlements { maxProducts commissionRate } } %s } }""" % ERRORS
CREATE = """mutation($c: String!, $i: VendorPlanInput!) { vendorPlanCreate(code: $c, input: $i) { plan { code } %s } }""" % ERRORS


def test_the_three_plans_of_the_spec(gql, plans):
    found = {p["code"]: p for p in gql.data(PLANS)["vendorPlans"]}
    assert list(found) == ["storefront_yearly", "shop_yearly", "dealer_yearly"]
    storefront, shop, dealer = found["storefront_yearly"], found["shop_yearly"], found["dealer_yearly"]
    assert storefront["price"] == shop["price"] == dealer["price"] == {"amount": "1200.00", "currency": "CNY"}
    assert all(p["interval"] == "YEAR" and p["intervalCount"] == 1 for p in found.values())
    assert storefront["trialDays"] == 0 and shop["trialDays"] == dealer["trialDays"] == 365
    assert storefront["vendorKinds"] == ["PARTS_VENDOR"] and shop["vendorKinds"] == ["REPAIR_SHOP"]
    assert dealer["vendorKinds"] == ["DEALER"]
    assert storefront["entitlements"] == {"maxProducts": 2000, "booking": False, "vipTiers": True,
                                          "pointsCashback": True, "groupBuy": True, "commissionRate": "0.0500",
                                          "searchBoost": 1.0}
    assert shop["entitlements"]["booking"] and shop["entitlements"]["maxProducts"] == 500
    assert dealer["entitlements"]["booking"] and dealer["entitlements"]["maxProducts"] == 5000
    assert shop["entitlements"]["commissionRate"] is None  # the platform's default rate


def test_a_vendor_sees_the_plans_of_its_kind(owner, gql):
    shop = owner("repair_shop")
    codes = [p["code"] for p in shop.api.data(PLANS, {"v": shop.id})["vendorPlans"]]
    assert codes == ["shop_yearly"]
    other = owner("dealer")
    refused = other.api.execute(PLANS, {"v": shop.id})
    assert refused["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert gql.execute(PLANS, {"all": True})["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_staff_edit_plans_with_validation(staff_gql, member_gql, gql, plans):
    retired = staff_gql.mutate(UPDATE, {"c": "dealer_yearly", "i": {"isActive": False, "amount": "1500.00",
                                                                   "commissionRate": "0.03"}})
    assert retired["errors"] == [] and retired["plan"] == {"code": "dealer_yearly", "isActive": False,
                                                           "price": {"amount": "1500.00"},
                                                           "entitlements": {"maxProducts": 5000,
                                                                            "commissionRate": "0.0300"}}
    assert "dealer_yearly" not in str(gql.data(PLANS))
    assert "dealer_yearly" in str(staff_gql.data(PLANS, {"all": True}))
    unlimited = staff_gql.mutate(UPDATE, {"c": "dealer_yearly", "i": {"maxProducts": None}})
    assert unlimited["plan"]["entitlements"]["maxProducts"] is None

    bad = staff_gql.mutate(UPDATE, {"c": "shop_yearly", "i": {
        "amount": "-1", "commissionRate": "1.5", "trialDays": 1000, "intervalCount": 0, "nameZh": " ",
        "searchBoost": "0", "currency": "R1B"}})
    assert {e["field"] for e in bad["errors"]} == {"amount", "commissionRate", "trialDays", "intervalCount", "nameZh",
                                                   "searchBoost", "currency"}
    assert gql.data(PLANS)["vendorPlans"][1]["price"]["amount"] == "1200.00"  # unchanged
    too_long = staff_gql.mutate(UPDATE, {"c": "shop_yearly", "i": {"currency": "CNYX", "nameEn": "x" * 101}})
    assert {(e["field"], e["code"]) for e in too_long["errors"]} == {("currency", "INVALID"), ("nameEn", "INVALID")}

    missing = staff_gql.mutate(CREATE, {"c": "gold", "i": {"nameZh": "金"}})
    assert {e["field"] for e in missing["errors"]} == {"amount", "vendorKinds"}
    taken = staff_gql.mutate(CREATE, {"c": "shop_yearly", "i": {"nameZh": "店", "amount": "1", "vendorKinds": ["DEALER"]}})
    assert taken["errors"] == [{"field": "code", "code": "UNIQUE", "message": "A plan with this code exists."}]
    bad_code = staff_gql.mutate(CREATE, {"c": "gold plan!", "i": {"nameZh": "金", "amount": "1",
                                                                  "vendorKinds": ["DEALER"]}})
    assert bad_code["errors"][0]["field"] == "code"
    assert staff_gql.mutate(UPDATE, {"c": "nope", "i": {}})["errors"][0]["code"] == "NOT_FOUND"
    assert member_gql.mutate(UPDATE, {"c": "shop_yearly", "i": {"amount": "1"}})["errors"][0]["code"] == \
        "PERMISSION_DENIED"
