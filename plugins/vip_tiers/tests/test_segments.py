"""Customer segments (V7): rules over store facts, garage vehicles and membership,
recomputed nightly and on order events; vendor isolation, masked contacts, logged and
rate-limited exports, bad rules; re-purchase campaigns through the notification hook."""
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.plugins.testing import gid

from .conftest import at, buy, refund, run_task, signed_in

SEGMENT_CREATE = """mutation($v: ID!, $i: VipSegmentInput!) { vipSegmentCreate(vendorId: $v, input: $i) {
  segment { id name memberCount computedAt } errors { field code message } } }"""
SEGMENT = """query($id: ID!) { vipSegment(id: $id) { name memberCount rule
  members(first: 20) { totalCount edges { node { customer { id name phone email district orders
  netSpend { amount } tier { nameZh } points { available } } } } } } }"""
EXPORT = """mutation($id: ID!) { vipSegmentExport(id: $id) { csv rows errors { field code message } } }"""
CAMPAIGN_CREATE = """mutation($v: ID!, $i: VipCampaignInput!) { vipCampaignCreate(vendorId: $v, input: $i) {
  campaign { id status } errors { field code message } } }"""
CAMPAIGN_SEND = """mutation($id: ID!) { vipCampaignSend(id: $id) { campaign { status recipients }
  errors { field code message } } }"""
CAMPAIGNS = """query($v: ID!) { vipCampaigns(vendorId: $v) { name status recipients sentCount failedCount } }"""
GARAGE_ADD = """mutation($v: ID!, $y: Int!) { garageVehicleAdd(vehicleId: $v, year: $y) { errors { code } } }"""
V7_RULE = {"all": [{"fact": "net_spend", "op": "gte", "value": "500", "days": 180},
                   {"fact": "vehicle", "op": "has", "value": {"make": "toyota", "model": "corolla"}}]}


@pytest.fixture
def vehicles(db):
    from plugins.parts_storefront import services

    toyota = services.create_make({"name_zh": "丰田", "name_en": "Toyota", "slug": "toyota"})
    honda = services.create_make({"name_zh": "本田", "name_en": "Honda", "slug": "honda"})
    corolla = services.create_vehicle(services.create_model(toyota, {"name_zh": "卡罗拉", "name_en": "Corolla",
                                                                     "slug": "corolla"}),
                                      {"year_from": 2014, "year_to": 2022, "engine": "1.2T 9NR"})
    civic = services.create_vehicle(services.create_model(honda, {"name_zh": "思域", "name_en": "Civic",
                                                                  "slug": "civic"}),
                                    {"year_from": 2016, "year_to": 2021, "engine": "1.5T"})
    return {"corolla": gid("Vehicle", corolla.pk), "civic": gid("Vehicle", civic.pk)}


def customer(make_user, email, vehicles, car=None, phone="13800138000"):
    from marketplace.accounts.models import Address

    user = make_user(email)
    Address.objects.create(user=user, full_name="王小明", phone=phone, province="北京市", city="北京市",
                           district="海淀区", street="中关村大街1号", is_default=True)
    api = signed_in(None, user)
    if car:
        assert api.mutate(GARAGE_ADD, {"v": vehicles[car], "y": 2018})["errors"] == []
    return user, api


@pytest.mark.django_db(transaction=True)
def test_v7_spent_500_at_a_in_180_days_and_drives_a_corolla(worker, make_store, make_user, vehicles, frozen_clock):
    a = make_store("store-a").enable(tiers=[(1, "金卡", "500", "5", "1")])
    b = make_store("store-b", count=3)
    frozen_clock(at(2026, 1, 10, 4, 0))
    old, old_api = customer(make_user, "old@example.com", vehicles, "corolla")
    buy(old_api, [(a, a.item_200, 3)])  # 600.00, but 200 days before the segment is made
    frozen_clock(at(2026, 7, 29, 4, 0))
    fits, fits_api = customer(make_user, "fits@example.com", vehicles, "corolla", phone="13912345678")
    buy(fits_api, [(a, a.item_200, 3)])
    civic, civic_api = customer(make_user, "civic@example.com", vehicles, "civic")
    buy(civic_api, [(a, a.item_200, 3)])
    small, small_api = customer(make_user, "small@example.com", vehicles, "corolla")
    buy(small_api, [(a, a.item_150, 2)])  # 300.00
    refunded, refunded_api = customer(make_user, "refunded@example.com", vehicles, "corolla")
    placed = buy(refunded_api, [(a, a.item_200, 3)])
    refund(a, placed, "200.00")  # net 400.00
    elsewhere, elsewhere_api = customer(make_user, "elsewhere@example.com", vehicles, "corolla")
    buy(elsewhere_api, [(b, b.item_200, 3)])  # store B's customer
    twice, twice_api = customer(make_user, "twice@example.com", vehicles, "corolla")
    buy(twice_api, [(a, a.item_150, 1), (a, a.products[0].variants.first(), 1)])  # 250.00
    buy(twice_api, [(a, a.item_150, 2)])  # + 300.00
    frozen_clock.travel(timedelta(days=1))

    owner = a.owner_api()
    made = owner.mutate(SEGMENT_CREATE, {"v": a.gid, "i": {"name": "卡罗拉车主高消费", "rule": V7_RULE}})
    assert made["errors"] == [] and made["segment"]["memberCount"] == 2
    segment = owner.data(SEGMENT, {"id": made["segment"]["id"]})["vipSegment"]
    members = {m["node"]["customer"]["email"]: m["node"]["customer"] for m in segment["members"]["edges"]}
    assert sorted(members) == ["fi***@example.com", "tw***@example.com"]  # exactly fits@ and twice@, masked
    assert members["fi***@example.com"]["phone"] == "139****5678"
    assert members["fi***@example.com"]["name"] == "王**"
    assert members["tw***@example.com"]["orders"] == 2
    assert members["tw***@example.com"]["netSpend"] == {"amount": "550.00"}

    # Vendor B's staff cannot read or change A's segment.
    other = b.owner_api()
    denied = other.execute(SEGMENT, {"id": made["segment"]["id"]})
    assert denied["data"]["vipSegment"] is None
    assert denied["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert other.mutate(EXPORT, {"id": made["segment"]["id"]})["errors"][0]["code"] == "PERMISSION_DENIED"
    listed = other.execute('query($v: ID!) { vipSegments(vendorId: $v) { name } }', {"v": a.gid})
    assert listed["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"

    # An order event adds a customer at once (Celery): small@ spends 300 more.
    buy(small_api, [(a, a.item_150, 2)])
    from tests.conftest import wait_for

    wait_for(lambda: owner.data(SEGMENT, {"id": made["segment"]["id"]})["vipSegment"]["memberCount"] == 3,
             message="small@ joins the segment")
    # The nightly run drops customers whose spend left the window.
    frozen_clock.travel(timedelta(days=181))
    run_task("recompute_segments")
    assert owner.data(SEGMENT, {"id": made["segment"]["id"]})["vipSegment"]["memberCount"] == 0


@pytest.mark.django_db
def test_a_rule_on_an_unknown_fact_or_a_bad_value_is_refused_naming_its_place(make_store):
    a = make_store("store-a", count=3)
    owner = a.owner_api()

    def refused(rule):
        payload = owner.mutate(SEGMENT_CREATE, {"v": a.gid, "i": {"name": "x", "rule": rule}})
        return [(e["field"], e["code"]) for e in payload["errors"]]

    assert refused({"all": [{"fact": "net_spend", "op": "gte", "value": "1"},
                            {"fact": "shoe_size", "op": "eq", "value": 42}]}) == [("rule.all.1.fact", "INVALID")]
    assert refused({"fact": "net_spend", "op": "gte", "value": "NaN"}) == [("rule.value", "INVALID")]
    assert refused({"fact": "net_spend", "op": "like", "value": "1"}) == [("rule.op", "INVALID")]
    assert refused({"fact": "order_count", "op": "gte", "value": 2, "days": 0}) == [("rule.days", "INVALID")]
    assert refused({"fact": "member", "op": "eq", "value": "yes"}) == [("rule.value", "INVALID")]
    assert refused({"any": []}) == [("rule.any", "INVALID")]
    assert refused({"fact": "tier", "op": "in", "value": [1, "gold"]}) == [("rule.value.1", "INVALID")]
    assert refused({"fact": "vehicle", "op": "has", "value": {"colour": "red"}}) == [("rule.value", "INVALID")]
    assert refused([1, 2]) == [("rule", "INVALID")]
    nested = {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"fact": "points", "op": "gt", "value": 1}}}}}}}}
    assert refused(nested) == [("rule.not.not.not.not.not.not.not", "LIMIT_EXCEEDED")]
    ok = owner.mutate(SEGMENT_CREATE, {"v": a.gid, "i": {"name": "ok", "rule": {"any": [
        {"fact": "member", "op": "eq", "value": True}, {"fact": "district", "op": "in", "value": ["海淀区"]},
        {"fact": "tier", "op": "gte", "value": 1}, {"fact": "last_order_days", "op": "lte", "value": 30},
        {"fact": "cashback", "op": "gt", "value": 0}, {"fact": "city", "op": "eq", "value": "北京市"}]}}})
    assert ok["errors"] == [] and ok["segment"]["memberCount"] == 0
    assert owner.mutate(SEGMENT_CREATE, {"v": a.gid, "i": {"name": "ok", "rule": {"fact": "points", "op": "gt",
                                                                                   "value": 0}}})[
        "errors"][0]["code"] == "UNIQUE"
    facts = owner.data("{ vipSegmentFacts { name operators takesDays } }")["vipSegmentFacts"]
    assert {f["name"] for f in facts} >= {"net_spend", "order_count", "last_order_days", "tier", "member", "vehicle",
                                          "district", "points"}


@pytest.fixture
def segment_with_members(make_store, make_user, vehicles, plan_member):
    """Store A's segment of platform members in 海淀区 with points, and its members."""
    from plugins.vip_tiers.services import balances, segments

    a = make_store("store-a", count=3)
    users = []
    for i in range(3):
        user, _api = customer(make_user, f"m{i}@example.com", vehicles, phone=f"1380000000{i}")
        balances.adjust(a.pk, user.pk, "points", 100 * (i + 1), "welcome", key=f"welcome:{i}")
        users.append(user)
    plan_member(users[0])
    plan_member(users[1])
    segment = segments.create(a.pk, {"name": "会员回购", "rule": {"all": [
        {"fact": "member", "op": "eq", "value": True}, {"fact": "district", "op": "eq", "value": "海淀区"},
        {"fact": "points", "op": "gte", "value": 100}]}})
    assert segment.member_count == 2
    return a, segment, users


@pytest.fixture
def plan_member(db):
    from plugins.membership.services import memberships, setup

    setup.save_plan({"code": "annual", "name_zh": "年卡会员", "price": "168.00", "term_months": 12,
                     "parts_discount_percent": "5", "labour_discount_percent": "20", "free_towing_per_term": 2,
                     "free_towing_km": 30})
    return lambda user: memberships.grant(user.pk, "annual", "test")


@pytest.mark.django_db
def test_exports_are_masked_logged_and_limited(segment_with_members, staff_gql, settings):
    from marketplace.plugins.services import update_plugin
    from plugins.vip_tiers.models import SegmentExport

    a, segment, users = segment_with_members
    owner = a.owner_api()
    exported = owner.mutate(EXPORT, {"id": gid("VipSegment", segment.pk)})
    assert exported["errors"] == [] and exported["rows"] == 2
    lines = exported["csv"].strip().splitlines()
    assert lines[0] == "customer,phone,email,district,tier,net_spend_12m,orders_12m,last_order,points,cashback"
    assert lines[1].startswith("王**,138****0000,m0***@example.com,海淀区,") and lines[1].endswith(",100,0.00")
    log = SegmentExport.objects.get()
    assert (log.user, log.rows, log.segment_name) == (a.owner, 2, "会员回购")
    # Platform staff export in full.
    full = staff_gql.mutate(EXPORT, {"id": gid("VipSegment", segment.pk)})
    assert "13800000000" in full["csv"] and "m0@example.com" in full["csv"]
    update_plugin("vip_tiers", settings={"export_limit_per_hour": 2})
    limited = owner.mutate(EXPORT, {"id": gid("VipSegment", segment.pk)})
    assert [(e["field"], e["code"]) for e in limited["errors"]] == [("id", "RATE_LIMITED")]
    exports = owner.data('query($v: ID!) { vipSegmentExports(vendorId: $v) { segmentName rows exportedBy } }',
                         {"v": a.gid})["vipSegmentExports"]
    assert exports[-1] == {"segmentName": "会员回购", "rows": 2, "exportedBy": a.owner.email}


@pytest.mark.django_db(transaction=True)
def test_a_campaign_reaches_the_segment_once_through_the_notification_hook(worker, segment_with_members, plugin,
                                                                           mailoutbox):
    from marketplace.plugins import hookimpl

    a, segment, users = segment_with_members
    owner = a.owner_api()
    made = owner.mutate(CAMPAIGN_CREATE, {"v": a.gid, "i": {
        "segmentId": gid("VipSegment", segment.pk), "name": "回购", "subject": "{store}: {name}, 你有 {points} 积分",
        "body": "凭 {points} 积分到店换购。{unknown} stays."}})
    assert made["errors"] == []
    sent = owner.mutate(CAMPAIGN_SEND, {"id": made["campaign"]["id"]})
    assert sent["errors"] == [] and sent["campaign"] == {"status": "sending", "recipients": 2}
    from tests.conftest import wait_for

    wait_for(lambda: owner.data(CAMPAIGNS, {"v": a.gid})["vipCampaigns"][0]["status"] == "sent",
             message="campaign sent")
    assert sorted(m.to[0] for m in mailoutbox) == ["m0@example.com", "m1@example.com"]
    first = next(m for m in mailoutbox if m.to == ["m0@example.com"])
    assert first.subject == "store-a店: 王小明, 你有 100 积分"
    assert first.body == "凭 100 积分到店换购。{unknown} stays."
    again = owner.mutate(CAMPAIGN_SEND, {"id": made["campaign"]["id"]})
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("id", "INVALID_STATE")]

    # SMS: nobody delivers it until an SMS plugin answers the hook.
    class Sms:
        sent = []

        @hookimpl
        def vip_deliver_message(self, message):
            if message["channel"] != "sms":
                return None
            Sms.sent.append((message["phone"], message["body"]))
            return "sms-1"

    sms = owner.mutate(CAMPAIGN_CREATE, {"v": a.gid, "i": {"segmentId": gid("VipSegment", segment.pk), "name": "短信",
                                                            "channel": "sms", "subject": "-", "body": "{name}好"}})
    owner.mutate(CAMPAIGN_SEND, {"id": sms["campaign"]["id"]})
    wait_for(lambda: owner.data(CAMPAIGNS, {"v": a.gid})["vipCampaigns"][0]["status"] == "sent", message="sms")
    assert owner.data(CAMPAIGNS, {"v": a.gid})["vipCampaigns"][0] == {
        "name": "短信", "status": "sent", "recipients": 2, "sentCount": 0, "failedCount": 2}
    plugin(Sms(), "sms_gateway")
    sms = owner.mutate(CAMPAIGN_CREATE, {"v": a.gid, "i": {"segmentId": gid("VipSegment", segment.pk),
                                                            "name": "短信2", "channel": "sms", "subject": "-",
                                                            "body": "{name}好"}})
    owner.mutate(CAMPAIGN_SEND, {"id": sms["campaign"]["id"]})
    wait_for(lambda: owner.data(CAMPAIGNS, {"v": a.gid})["vipCampaigns"][0]["status"] == "sent", message="sms 2")
    assert sorted(Sms.sent) == [("13800000000", "王小明好"), ("13800000001", "王小明好")]
    assert owner.data(CAMPAIGNS, {"v": a.gid})["vipCampaigns"][0]["sentCount"] == 2
    assert len(mailoutbox) == 2  # no e-mail for SMS campaigns


@pytest.mark.django_db
def test_vendor_staff_see_only_their_own_customers_masked(segment_with_members, make_store, staff_gql):
    a, segment, users = segment_with_members
    b = make_store("store-b", count=3)
    query = 'query($v: ID!) { vipCustomers(vendorId: $v, first: 10) { totalCount edges { node { name phone email ' \
            'points { available } } } } }'
    mine = a.owner_api().data(query, {"v": a.gid})["vipCustomers"]
    assert mine["totalCount"] == 3
    assert {e["node"]["phone"] for e in mine["edges"]} == {"138****0000", "138****0001", "138****0002"}
    assert b.owner_api().data(query, {"v": b.gid})["vipCustomers"]["totalCount"] == 0
    denied = b.owner_api().execute(query, {"v": a.gid})
    assert denied["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    full = staff_gql.data(query, {"v": a.gid})["vipCustomers"]
    assert {e["node"]["phone"] for e in full["edges"]} == {"13800000000", "13800000001", "13800000002"}
    in_segment = a.owner_api().data('query($v: ID!, $s: ID!) { vipCustomers(vendorId: $v, segmentId: $s) { '
                                    'totalCount } }', {"v": a.gid, "s": gid("VipSegment", segment.pk)})
    assert in_segment["vipCustomers"]["totalCount"] == 2
    assert Decimal("0") == Decimal("0")
