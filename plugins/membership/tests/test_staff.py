"""Platform staff keep plans, partners and codes and see every membership; bad input gets
a field error with a code and writes nothing."""
import pytest

from marketplace.plugins.testing import gid

from .conftest import local, signed_in

PLAN_CREATE = """mutation($i: MembershipPlanInput!) { membershipPlanCreate(input: $i) {
  plan { id code price { amount } termMonths benefits { partsDiscountPercent labourDiscountPercent freeTowingPerTerm
         freeTowingKm } isActive } errors { field code message } } }"""
PLAN_UPDATE = """mutation($id: ID!, $i: MembershipPlanInput!) { membershipPlanUpdate(id: $id, input: $i) {
  plan { price { amount } isActive } errors { field code message } } }"""
PARTNER_CREATE = """mutation($i: MembershipPartnerInput!) { membershipPartnerCreate(input: $i) {
  partner { id nameZh kind } errors { field code message } } }"""
CODE_CREATE = """mutation($p: ID!, $i: PartnerCodeInput!) { partnerCodeCreate(partnerId: $p, input: $i) {
  partnerCode { id code discountPercent discountAmount { amount } maxRedemptions usesLeft firstTermOnly
                partner { nameZh } } errors { field code message } } }"""
CODE_UPDATE = """mutation($id: ID!, $i: PartnerCodeInput!) { partnerCodeUpdate(id: $id, input: $i) {
  partnerCode { maxRedemptions validUntil isActive } errors { field code message } } }"""
GRANT = """mutation($u: ID!, $p: String!, $r: String!) { membershipGrant(userId: $u, plan: $p, reason: $r) {
  membership { status startsAt endsAt source pricePaid { amount } userEmail } errors { field code message } } }"""
MEMBERSHIPS = """query($s: MembershipStatus, $e: String) { memberships(first: 20, status: $s, userEmail: $e) {
  totalCount edges { node { status userEmail plan { code } benefits { freeTowingLeft } savingsThisTerm { amount } } } } }"""


def errors(payload):
    return [(e["field"], e["code"]) for e in payload["errors"]]


@pytest.mark.django_db
def test_staff_create_plans_partners_and_codes(staff_gql, gql):
    created = staff_gql.mutate(PLAN_CREATE, {"i": {"code": "annual", "nameZh": "年卡", "price": "168",
                                                   "partsDiscountPercent": "5", "labourDiscountPercent": "20"}})
    assert created["errors"] == []
    assert created["plan"] == {"id": created["plan"]["id"], "code": "annual", "price": {"amount": "168.00"},
                               "termMonths": 12, "isActive": True,
                               "benefits": {"partsDiscountPercent": "5.00", "labourDiscountPercent": "20.00",
                                            "freeTowingPerTerm": 2, "freeTowingKm": 30}}
    assert gql.data("{ membershipPlans { code price { amount } } }")["membershipPlans"] == [
        {"code": "annual", "price": {"amount": "168.00"}}]
    partner = staff_gql.mutate(PARTNER_CREATE, {"i": {"nameZh": "东方时尚驾校", "contactPhone": "010-61299999"}})
    assert partner["errors"] == [] and partner["partner"]["kind"] == "driving_school"
    code = staff_gql.mutate(CODE_CREATE, {"p": partner["partner"]["id"],
                                          "i": {"code": "dfss-2026", "discountPercent": "50", "maxRedemptions": 70}})
    assert code["errors"] == []
    assert code["partnerCode"] == {"id": code["partnerCode"]["id"], "code": "DFSS-2026", "discountPercent": "50.00",
                                   "discountAmount": None, "maxRedemptions": 70, "usesLeft": 70, "firstTermOnly": True,
                                   "partner": {"nameZh": "东方时尚驾校"}}
    changed = staff_gql.mutate(CODE_UPDATE, {"id": code["partnerCode"]["id"],
                                             "i": {"maxRedemptions": None, "validUntil": "2026-12-31T16:00:00+00:00"}})
    assert changed == {"partnerCode": {"maxRedemptions": None, "validUntil": "2026-12-31T16:00:00+00:00",
                                       "isActive": True}, "errors": []}
    listed = staff_gql.data("{ membershipPartners { nameZh } partnerCodes { code usesLeft } }")
    assert listed == {"membershipPartners": [{"nameZh": "东方时尚驾校"}],
                      "partnerCodes": [{"code": "DFSS-2026", "usesLeft": None}]}


@pytest.mark.django_db
def test_bad_input_gets_field_errors_and_writes_nothing(staff_gql, plan, partner, make_code):
    from plugins.membership.models import MembershipPlan, PartnerCode

    cases = [
        ({"code": "gold", "nameZh": "金卡", "price": "NaN"}, [("price", "INVALID")]),
        ({"code": "gold", "nameZh": "金卡", "price": "-1"}, [("price", "INVALID")]),
        ({"code": "gold", "nameZh": "金卡", "price": "Infinity"}, [("price", "INVALID")]),
        ({"code": "gold", "nameZh": "金卡", "price": "1.005"}, [("price", "INVALID")]),
        ({"code": "gold", "nameZh": "金卡", "price": "168", "partsDiscountPercent": "120",
          "termMonths": 0}, [("termMonths", "INVALID"), ("partsDiscountPercent", "INVALID")]),
        ({"code": "Gold Card", "nameZh": "金卡", "price": "168"}, [("code", "INVALID")]),
        ({"code": "annual", "nameZh": "又一个", "price": "168"}, [("code", "UNIQUE")]),
        ({"code": "gold", "price": "168"}, [("nameZh", "REQUIRED")]),
    ]
    for data, expected in cases:
        assert errors(staff_gql.mutate(PLAN_CREATE, {"i": data})) == expected, data
    assert MembershipPlan.objects.count() == 1
    assert errors(staff_gql.mutate(PLAN_UPDATE, {"id": gid("MembershipPlan", plan.pk), "i": {"price": "-5"}})) == [
        ("price", "INVALID")]
    plan.refresh_from_db()
    assert str(plan.price) == "168.00"

    partner_id = gid("MembershipPartner", partner.pk)
    code_cases = [
        ({"code": "X1", "discountPercent": "50"}, [("code", "INVALID")]),
        ({"code": "NEW-1"}, [("discountPercent", "REQUIRED")]),
        ({"code": "NEW-1", "discountPercent": "NaN"}, [("discountPercent", "INVALID")]),
        ({"code": "NEW-1", "discountPercent": "0"}, [("discountPercent", "INVALID")]),
        ({"code": "NEW-1", "discountAmount": "-10"}, [("discountAmount", "INVALID")]),
        ({"code": "NEW-1", "discountPercent": "10", "discountAmount": "10"}, [("discountAmount", "INVALID")]),
        ({"code": "NEW-1", "discountPercent": "10", "maxRedemptions": 0}, [("maxRedemptions", "INVALID")]),
        ({"code": "NEW-1", "discountPercent": "10", "validFrom": "2026-06-01T00:00:00+08:00",
          "validUntil": "2026-05-01T00:00:00+08:00"}, [("validUntil", "INVALID")]),
        ({"code": "jiaxiao-a", "discountPercent": "10"}, [("code", "UNIQUE")]),
    ]
    make_code("JIAXIAO-A")
    for data, expected in code_cases:
        assert errors(staff_gql.mutate(CODE_CREATE, {"p": partner_id, "i": data})) == expected, data
    assert PartnerCode.objects.count() == 1
    unknown = staff_gql.mutate(CODE_CREATE, {"p": gid("MembershipPartner", 999), "i": {"code": "NEW-2"}})
    assert errors(unknown) == [("partnerId", "NOT_FOUND")]


@pytest.mark.django_db(transaction=True)
def test_the_cap_cannot_drop_below_the_uses_taken(client, staff_gql, member, plan, make_code, stripe_mock):
    from .conftest import complete, membership_line, start_cart

    code = make_code("CAP", max_redemptions=5)
    api = signed_in(client, member)
    assert complete(api, start_cart(api, [membership_line(code="CAP")]))["errors"] == []  # one use held
    refused = staff_gql.mutate(CODE_UPDATE, {"id": gid("PartnerCode", code.pk), "i": {"maxRedemptions": 0}})
    assert errors(refused) == [("maxRedemptions", "INVALID")]
    ok = staff_gql.mutate(CODE_UPDATE, {"id": gid("PartnerCode", code.pk), "i": {"maxRedemptions": 1}})
    assert ok["errors"] == [] and ok["partnerCode"]["maxRedemptions"] == 1


@pytest.mark.django_db
def test_staff_grant_and_list_memberships_members_cannot(client, staff_gql, member, plan, frozen_clock):
    frozen_clock(local(2026, 3, 15, 10, 0))
    granted = staff_gql.mutate(GRANT, {"u": gid("User", member.pk), "p": "annual", "r": "compensation"})
    assert granted["errors"] == []
    assert granted["membership"] == {"status": "ACTIVE", "startsAt": "2026-03-15T02:00:00+00:00",
                                     "endsAt": "2027-03-15T15:59:59+00:00", "source": "grant",
                                     "pricePaid": {"amount": "0.00"}, "userEmail": member.email}
    assert errors(staff_gql.mutate(GRANT, {"u": gid("User", member.pk), "p": "gold", "r": "x"})) == [
        ("plan", "NOT_FOUND")]
    assert errors(staff_gql.mutate(GRANT, {"u": gid("User", member.pk), "p": "annual", "r": ""})) == [
        ("reason", "REQUIRED")]
    listed = staff_gql.data(MEMBERSHIPS, {"s": "ACTIVE", "e": member.email})["memberships"]
    assert listed["totalCount"] == 1
    assert listed["edges"][0]["node"] == {"status": "ACTIVE", "userEmail": member.email, "plan": {"code": "annual"},
                                          "benefits": {"freeTowingLeft": 2}, "savingsThisTerm": {"amount": "0.00"}}
    api = signed_in(client, member)
    assert api.execute(MEMBERSHIPS)["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert errors(api.mutate(GRANT, {"u": gid("User", member.pk), "p": "annual", "r": "me"})) == [
        (None, "PERMISSION_DENIED")]
    assert errors(api.mutate(PLAN_CREATE, {"i": {"code": "x", "nameZh": "x", "price": "1"}})) == [
        (None, "PERMISSION_DENIED")]
    mine = api.data("{ myMemberships { status source } }")["myMemberships"]
    assert mine == [{"status": "ACTIVE", "source": "grant"}]
    assert api.execute("{ membershipPlans(includeInactive: true) { code } }")["errors"][0]["extensions"]["code"] == \
        "PERMISSION_DENIED"


@pytest.mark.django_db
def test_the_staff_membership_listing_costs_constant_queries(staff_gql, make_user, plan):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from marketplace.plugins import call_hook
    from plugins.membership.services import memberships

    query = """query($n: Int!) { memberships(first: $n) { edges { node { status userEmail plan { code }
      benefits { freeTowingUsed } savingsThisTerm { amount } benefitsUsed { kind } renewal { status } } } } }"""

    def count(size):
        with CaptureQueriesContext(connection) as ctx:
            edges = staff_gql.data(query, {"n": size})["memberships"]["edges"]
        return len(ctx.captured_queries), len(edges)

    for index in range(12):
        user = make_user(f"m{index}@example.com")
        memberships.grant(user.pk, "annual", "listing")
        call_hook("record_member_benefit", user_id=user.pk, benefit="towing", reference=f"tow-{index}", value=None,
                  at=None)
    small, n_small = count(2)
    large, n_large = count(12)
    assert (n_small, n_large) == (2, 12)
    assert small == large, (small, large)
