"""Platform campaigns through GraphQL (issue 16): platform staff create, list, update and
deactivate them; dates are read in Asia/Shanghai; overlaps are reported (and refused
unless confirmed); the floor exemption is explained; prices follow at once."""
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace.pricing import services
from marketplace.pricing.models import Campaign
from tests.conftest import GraphQLClient, gid

FIELDS = """id nameZh nameEn startsAt endsAt timeZone status discountPercent exemptFromFloor isActive
  floorExemption categories { slug } vendors { slug } overlappingCampaigns { nameZh }"""
CREATE = f"""mutation($i: CampaignInput!, $o: Boolean) {{ campaignCreate(input: $i, allowOverlap: $o) {{
  campaign {{ {FIELDS} }} overlaps {{ nameZh }} errors {{ field code message }} }} }}"""
UPDATE = f"""mutation($id: ID!, $i: CampaignInput!, $o: Boolean) {{ campaignUpdate(id: $id, input: $i, allowOverlap: $o) {{
  campaign {{ {FIELDS} }} overlaps {{ nameZh }} errors {{ field code message }} }} }}"""
DEACTIVATE = """mutation($id: ID!) { campaignDeactivate(id: $id) { campaign { status isActive } errors { field code } } }"""
LIST = f"""query($s: CampaignStatus) {{ campaigns(first: 50, status: $s) {{ totalCount edges {{ node {{ {FIELDS} }} }} }} }}"""
PRICE = """query($v: String!, $s: String!) { product(vendorSlug: $v, slug: $s) { variants { price {
  final { amount } floorApplied floorExempt adjustments { source label amount { amount } } } } } }"""

DOUBLE_11 = {"nameZh": "双11狂欢节", "nameEn": "Double 11", "startsAt": "2030-11-11", "endsAt": "2030-11-11",
             "discountPercent": "50", "exemptFromFloor": True}


@pytest.fixture
def pinned(frozen_clock):
    """Pin the engine clock to an instant; returns a setter."""
    return frozen_clock


@pytest.mark.django_db
def test_staff_create_double_11_read_in_shanghai_time(staff_gql, taxonomy):
    created = staff_gql.mutate(CREATE, {"i": {**DOUBLE_11, "categoryIds": [gid("Category", taxonomy.pads.pk)]}})
    assert created["errors"] == [] and created["overlaps"] == []
    campaign = created["campaign"]
    # A date alone: from that day's midnight to the next, in Beijing time.
    assert (campaign["startsAt"], campaign["endsAt"]) == ("2030-11-11T00:00:00+08:00", "2030-11-12T00:00:00+08:00")
    assert campaign["timeZone"] == "Asia/Shanghai" and campaign["status"] == "SCHEDULED"
    assert campaign["discountPercent"] == "50.00" and campaign["categories"] == [{"slug": "brake-pads"}]
    assert campaign["vendors"] == [] and campaign["isActive"]
    assert campaign["floorExemption"].startswith("Exempt from the price floor")
    assert "2030-11-11 00:00 - 2030-11-12 00:00 Asia/Shanghai" in campaign["floorExemption"]
    stored = Campaign.objects.get()
    assert stored.starts_at == datetime(2030, 11, 10, 16, 0, tzinfo=dt_timezone.utc)  # UTC in the database

    # Wall-clock times are Beijing's too; an explicit offset is kept.
    evening = staff_gql.mutate(CREATE, {"i": {"nameZh": "晚八点预热", "startsAt": "2030-11-10T20:00",
                                              "endsAt": "2030-11-10T16:00:00Z", "discountPercent": "5",
                                              "categoryIds": [gid("Category", taxonomy.oil.pk)]}})
    assert evening["errors"] == []
    assert (evening["campaign"]["startsAt"], evening["campaign"]["endsAt"]) == (
        "2030-11-10T20:00:00+08:00", "2030-11-11T00:00:00+08:00")
    assert "floor lifts the price back" in evening["campaign"]["floorExemption"]


@pytest.mark.django_db
def test_only_platform_staff_manage_campaigns(gql, member_gql, client, taxonomy):
    refused = member_gql.mutate(CREATE, {"i": DOUBLE_11})
    assert refused["campaign"] is None and refused["errors"][0]["code"] == "PERMISSION_DENIED"
    assert GraphQLClient(client).mutate(CREATE, {"i": DOUBLE_11}, token=None)["errors"][0]["code"] in (
        "NOT_AUTHENTICATED", "PERMISSION_DENIED")
    listing = member_gql.execute(LIST)
    assert listing["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    campaign = Campaign.objects.create(name_zh="x", starts_at=timezone.now(), ends_at=timezone.now() + timedelta(days=1))
    assert member_gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": gid("Campaign", campaign.pk)})[
        "node"] is None
    assert member_gql.mutate(DEACTIVATE, {"id": gid("Campaign", campaign.pk)})["errors"][0]["code"] == \
        "PERMISSION_DENIED"


@pytest.mark.django_db
def test_bad_input_gets_field_errors(staff_gql, taxonomy, pinned):
    pinned(datetime(2030, 6, 1, tzinfo=dt_timezone.utc))

    def errors(**fields):
        result = staff_gql.mutate(CREATE, {"i": {**DOUBLE_11, **fields}})
        assert result["campaign"] is None
        return {(e["field"], e["code"]) for e in result["errors"]}

    assert errors(startsAt="11/11/2030") == {("startsAt", "INVALID")}
    assert errors(startsAt="2030-02-30") == {("startsAt", "INVALID")}
    assert errors(endsAt="2030-11-10") == {("endsAt", "INVALID")}  # ends before it starts
    assert errors(startsAt="2030-01-01", endsAt="2030-05-31") == {("endsAt", "INVALID")}  # over before "now"
    assert errors(discountPercent="150") == {("discountPercent", "INVALID")}
    assert errors(discountPercent="0") == {("discountPercent", "INVALID")}
    assert errors(discountPercent="12.345") == {("discountPercent", "INVALID")}
    assert errors(nameZh="  ") == {("nameZh", "REQUIRED")}
    assert errors(nameZh="长" * 101) == {("nameZh", "INVALID")}
    assert errors(categoryIds=[gid("Category", 999999)]) == {("categoryIds", "NOT_FOUND")}
    assert errors(vendorIds=[gid("Category", taxonomy.pads.pk)]) == {("vendorIds", "INVALID")}
    assert errors(startsAt="soon", discountPercent="-5") == {("startsAt", "INVALID"), ("discountPercent", "INVALID")}
    missing = staff_gql.mutate(CREATE, {"i": {"nameEn": "no name, no dates"}})
    assert {(e["field"], e["code"]) for e in missing["errors"]} == {
        ("nameZh", "REQUIRED"), ("startsAt", "REQUIRED"), ("endsAt", "REQUIRED")}
    assert Campaign.objects.count() == 0


@pytest.mark.django_db
def test_overlapping_campaigns_are_reported_and_need_confirmation(staff_gql, taxonomy, make_vendor):
    vendor = make_vendor("jingcheng")
    pads, oil = gid("Category", taxonomy.pads.pk), gid("Category", taxonomy.oil.pk)
    first = staff_gql.mutate(CREATE, {"i": {**DOUBLE_11, "categoryIds": [pads]}})["campaign"]
    # Same night, same category (for one vendor): refused, naming the other campaign.
    clash = {"nameZh": "刹车片专场", "startsAt": "2030-11-11T10:00", "endsAt": "2030-11-13", "discountPercent": "10",
             "categoryIds": [pads], "vendorIds": [gid("Vendor", vendor.pk)]}
    refused = staff_gql.mutate(CREATE, {"i": clash})
    assert refused["campaign"] is None
    (error,) = refused["errors"]
    assert (error["field"], error["code"]) == ("startsAt", "OVERLAPS")
    assert "双11狂欢节" in error["message"] and "allowOverlap" in error["message"]
    # Confirmed: created, and the overlap is reported on both sides.
    allowed = staff_gql.mutate(CREATE, {"i": clash, "o": True})
    assert allowed["errors"] == [] and allowed["overlaps"] == [{"nameZh": "双11狂欢节"}]
    assert allowed["campaign"]["overlappingCampaigns"] == [{"nameZh": "双11狂欢节"}]
    listed = {e["node"]["nameZh"]: e["node"] for e in staff_gql.data(LIST)["campaigns"]["edges"]}
    assert listed["双11狂欢节"]["overlappingCampaigns"] == [{"nameZh": "刹车片专场"}]
    # Another category at the same time, or the next day, does not overlap.
    other = staff_gql.mutate(CREATE, {"i": {**DOUBLE_11, "nameZh": "机油节", "categoryIds": [oil]}})
    assert other["errors"] == [] and other["overlaps"] == []
    later = staff_gql.mutate(CREATE, {"i": {**DOUBLE_11, "nameZh": "返场", "startsAt": "2030-11-14",
                                            "endsAt": "2030-11-15", "categoryIds": [pads]}})
    assert later["errors"] == [] and later["overlaps"] == []
    # Moving it onto Double 11 is refused too; a deactivated campaign overlaps nothing.
    moved = staff_gql.mutate(UPDATE, {"id": later["campaign"]["id"], "i": {"startsAt": "2030-11-11"}})
    assert moved["errors"][0]["code"] == "OVERLAPS"
    for campaign in (first, allowed["campaign"]):
        assert staff_gql.mutate(DEACTIVATE, {"id": campaign["id"]})["campaign"] == {"status": "INACTIVE",
                                                                                    "isActive": False}
    moved = staff_gql.mutate(UPDATE, {"id": later["campaign"]["id"], "i": {"startsAt": "2030-11-11"}})
    assert moved["errors"] == [] and moved["campaign"]["startsAt"] == "2030-11-11T00:00:00+08:00"


@pytest.mark.django_db
def test_update_status_and_the_clock(staff_gql, taxonomy, pinned):
    created = staff_gql.mutate(CREATE, {"i": {**DOUBLE_11, "exemptFromFloor": False}})["campaign"]
    assert "cut back to at most 30% off list" in created["floorExemption"]
    updated = staff_gql.mutate(UPDATE, {"id": created["id"], "i": {"discountPercent": "20", "nameEn": "11.11"}})
    assert updated["errors"] == []
    assert (updated["campaign"]["discountPercent"], updated["campaign"]["nameEn"]) == ("20.00", "11.11")
    assert updated["campaign"]["startsAt"] == "2030-11-11T00:00:00+08:00"  # untouched fields stay

    pinned(datetime(2030, 11, 11, 12, 0, tzinfo=dt_timezone.utc))  # 20:00 in Beijing on the day
    assert [e["node"]["status"] for e in staff_gql.data(LIST, {"s": "RUNNING"})["campaigns"]["edges"]] == ["RUNNING"]
    assert staff_gql.data(LIST, {"s": "SCHEDULED"})["campaigns"]["totalCount"] == 0
    pinned(datetime(2030, 11, 11, 16, 0, tzinfo=dt_timezone.utc))  # midnight in Beijing: over
    assert staff_gql.data(LIST, {"s": "ENDED"})["campaigns"]["totalCount"] == 1
    ended = staff_gql.mutate(UPDATE, {"id": created["id"], "i": {"discountPercent": "30"}})
    assert ended["errors"] == [{"field": "id", "code": "INVALID_STATE", "message": ended["errors"][0]["message"]}]
    missing = staff_gql.mutate(UPDATE, {"id": gid("Campaign", 999999), "i": {"nameEn": "x"}})
    assert missing["errors"][0]["code"] == "NOT_FOUND"


@pytest.mark.django_db
def test_a_running_campaign_changes_prices_and_deactivating_restores_them(staff_gql, gql, make_vendor, make_product,
                                                                          taxonomy):
    vendor = make_vendor("tongzhou")
    make_product(vendor, "pads", price="200.00", category=taxonomy.pads)
    variables = {"v": "tongzhou", "s": "pads"}
    assert gql.data(PRICE, variables)["product"]["variants"][0]["price"]["final"] == {"amount": "200.00"}
    shanghai = timezone.now().astimezone(services.business_timezone())
    started = staff_gql.mutate(CREATE, {"i": {
        "nameZh": "年中大促", "startsAt": (shanghai - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "endsAt": (shanghai + timedelta(days=2)).date().isoformat(), "discountPercent": "50",
        "exemptFromFloor": True, "categoryIds": [gid("Category", taxonomy.pads.pk)]}})
    assert started["errors"] == [] and started["campaign"]["status"] == "RUNNING"
    price = gql.data(PRICE, variables)["product"]["variants"][0]["price"]
    assert price["final"] == {"amount": "100.00"} and price["floorExempt"] and not price["floorApplied"]
    assert price["adjustments"][0]["label"] == "年中大促"

    # Without the exemption the floor (70% of list) holds, and the price says so.
    staff_gql.mutate(UPDATE, {"id": started["campaign"]["id"], "i": {"exemptFromFloor": False}})
    price = gql.data(PRICE, variables)["product"]["variants"][0]["price"]
    assert price["final"] == {"amount": "140.00"} and price["floorApplied"]
    assert staff_gql.mutate(DEACTIVATE, {"id": started["campaign"]["id"]})["errors"] == []
    assert gql.data(PRICE, variables)["product"]["variants"][0]["price"]["final"] == {"amount": "200.00"}


@pytest.mark.django_db
def test_campaign_listing_runs_constant_queries(staff_gql, taxonomy):
    def run():
        with CaptureQueriesContext(connection) as ctx:
            data = staff_gql.data(LIST)
        return data, len(ctx.captured_queries)

    def make(i):
        campaign = Campaign.objects.create(
            name_zh=f"活动{i}", starts_at=datetime(2030, 1, 1 + i, tzinfo=dt_timezone.utc),
            ends_at=datetime(2030, 1, 3 + i, tzinfo=dt_timezone.utc))
        campaign.categories.set([taxonomy.pads])

    make(0)
    small, small_count = run()
    for i in range(1, 15):
        make(i)
    big, big_count = run()
    assert big["campaigns"]["totalCount"] == 15
    assert big_count == small_count
    assert len(big["campaigns"]["edges"][5]["node"]["overlappingCampaigns"]) == 2
