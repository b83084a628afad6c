"""A customer's view of their accounts, the hooks this plugin publishes (and the public
API additions it needed), the balance check command, demo data and admin pages."""
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from marketplace.plugins import call_hook, has_hook
from marketplace.plugins.testing import gid

from .conftest import assert_ledger_consistent, signed_in

pytestmark = pytest.mark.django_db

MINE = """{ myVipAccounts { id store { slug } tier { nameZh } points { available pending }
  cashback { available { amount } } program { status stacking }
  history(first: 10, asset: CASHBACK) { totalCount edges { node { asset kind amount } } } } }"""


@pytest.fixture
def two_stores(make_store, member):
    from plugins.vip_tiers.services import balances, tiers

    a = make_store("store-a").enable(tiers=[(1, "金卡", "0", "8", "1")])
    b = make_store("store-b", count=3)
    tiers.upgrade(a.pk, member.pk)
    balances.adjust(a.pk, member.pk, "points", 120, "welcome", key="a:p")
    balances.adjust(a.pk, member.pk, "cashback", "6.60", "welcome", key="a:c")
    balances.adjust(b.pk, member.pk, "points", 30, "welcome", key="b:p")
    return a, b


def test_a_customer_sees_tier_points_and_cashback_at_every_store(two_stores, member, make_user):
    a, b = two_stores
    buyer = signed_in(None, member)
    accounts = {acc["store"]["slug"]: acc for acc in buyer.data(MINE)["myVipAccounts"]}
    assert accounts["store-a"]["tier"] == {"nameZh": "金卡"}
    assert accounts["store-a"]["points"] == {"available": 120, "pending": 0}
    assert accounts["store-a"]["cashback"] == {"available": {"amount": "6.60"}}
    assert accounts["store-a"]["history"] == {"totalCount": 1, "edges": [
        {"node": {"asset": "CASHBACK", "kind": "adjust", "amount": "6.60"}}]}
    assert accounts["store-a"]["program"] == {"status": "ENABLED", "stacking": "STACK"}
    assert accounts["store-b"]["program"]["status"] == "DISABLED"
    # Another customer cannot read these accounts by ID.
    stranger = signed_in(None, make_user("stranger@example.com"))
    fetched = stranger.data('query($id: ID!) { node(id: $id) { id } }', {"id": accounts["store-a"]["id"]})
    assert fetched["node"] is None
    assert stranger.data(MINE)["myVipAccounts"] == []
    anonymous = signed_in(None, member).__class__(buyer.client.__class__())
    assert anonymous.execute(MINE)["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_hook_vip_customer(two_stores, member):
    a, _b = two_stores
    assert has_hook("vip_customer")
    standing = call_hook("vip_customer", user_id=member.pk, store_id=a.pk)
    assert standing == {"tier": "金卡", "tier_rank": 1, "percent_off": Decimal("8.00"), "net_spend": Decimal("0.00"),
                        "points": 120, "points_pending": 0, "cashback": Decimal("6.60"),
                        "cashback_pending": Decimal("0.00")}
    assert call_hook("vip_customer", user_id=member.pk + 999, store_id=a.pk) is None


def test_hook_vip_in_segment(two_stores, member, make_user):
    from plugins.vip_tiers.services import segments

    a, _b = two_stores
    segment = segments.create(a.pk, {"name": "有积分", "rule": {"fact": "points", "op": "gte", "value": 100}})
    assert call_hook("vip_in_segment", user_id=member.pk, segment_id=segment.pk) is True
    assert call_hook("vip_in_segment", user_id=make_user("x@example.com").pk, segment_id=segment.pk) is False


def test_hook_vip_deliver_message_sends_email_by_default(mailoutbox):
    message = {"channel": "email", "user_id": 1, "email": "a@example.com", "phone": "", "name": "A", "vendor_id": 1,
               "store": "店", "subject": "Hello", "body": "Body", "campaign_id": 1, "reference": "vip-campaign:1:1"}
    assert call_hook("vip_deliver_message", message=message) == "sent"
    assert [(m.to, m.subject) for m in mailoutbox] == [(["a@example.com"], "Hello")]
    assert call_hook("vip_deliver_message", message={**message, "channel": "sms"}) is None


def test_hook_garage_vehicles(member, make_user):
    """parts_storefront publishes members' garages for other plugins (segments)."""
    from plugins.parts_storefront import services

    make = services.create_make({"name_zh": "丰田", "name_en": "Toyota", "slug": "toyota"})
    vehicle = services.create_vehicle(services.create_model(make, {"name_zh": "卡罗拉", "slug": "corolla"}),
                                      {"year_from": 2014, "year_to": 2022, "engine": "1.2T"})
    services.add_garage_vehicle(member, vehicle.pk, 2019, set_default=True)
    garages = call_hook("garage_vehicles", user_ids=[member.pk, make_user("x@example.com").pk])
    assert garages == {member.pk: [{"vehicle_id": vehicle.pk, "make": "toyota", "model": "corolla", "year": 2019,
                                    "engine": "1.2T", "is_default": True}]}


def test_public_api_additions_contacts_masks_and_customer_stats(two_stores, member):
    from marketplace.accounts.models import Address
    from marketplace.plugins.accounts import contacts, mask_email, mask_phone
    from marketplace.plugins.orders import customer_stats

    Address.objects.create(user=member, full_name="王小明", phone="13800138000", province="北京市", city="北京市",
                           district="朝阳区", street="建国路88号", is_default=True)
    found = contacts([member.pk])[member.pk]
    assert (found.phone, found.district, found.email) == ("13800138000", "朝阳区", member.email)
    assert mask_phone("13800138000") == "138****8000" and mask_phone("12345") == "***45" and mask_phone("") == ""
    assert mask_email("wang.xiaoming@example.com") == "wa***@example.com"
    assert customer_stats(two_stores[0].pk) == {}  # no paid order yet


def test_the_balance_check_command_finds_a_tampered_balance(two_stores):
    from plugins.vip_tiers.models import VipAccount

    out = StringIO()
    call_command("vip_check_balances", stdout=out)
    assert out.getvalue().strip() == "2 accounts checked, 0 mismatches."
    VipAccount.objects.filter(vendor_id=two_stores[0].pk).update(points_available=121)
    errors = StringIO()
    with pytest.raises(CommandError, match="2 balance mismatches"):
        call_command("vip_check_balances", stdout=StringIO(), stderr=errors)
    assert "points_available is 121, the ledger says 120" in errors.getvalue()
    assert "points lots is 120" in errors.getvalue()


def test_demo_data_two_stores_with_programmes_and_customers_in_tiers(db):
    from fixtures import demo
    from marketplace.plugins.ledger import is_balanced
    from plugins.vip_tiers.models import Campaign, Segment, VipAccount, VipProgram

    demo.load()
    assert sorted(VipProgram.objects.filter(enabled=True).values_list("vendor__slug", flat=True)) == [
        "jingcheng-auto-parts", "shilihe-auto-parts"]
    tiers = dict(VipAccount.objects.filter(user__email="member@demo.marketplace")
                 .values_list("vendor__slug", "tier__name_zh"))
    assert tiers == {"jingcheng-auto-parts": "金卡", "shilihe-auto-parts": "会员"}
    assert VipAccount.objects.filter(tier__isnull=False).count() == 4
    assert Segment.objects.count() == 1 and Campaign.objects.count() == 1
    assert_ledger_consistent() == 4 and is_balanced()
    demo.load()
    assert VipAccount.objects.count() == 4  # idempotent
    # The demo member sees the tier price at the Gold store.
    from marketplace.plugins.testing import GraphQLClient

    api = GraphQLClient(__import__("django.test", fromlist=["Client"]).Client())
    api.login("member@demo.marketplace", demo.DEMO_PASSWORD)
    mine = {a["store"]["slug"]: a for a in api.data(MINE)["myVipAccounts"]}
    assert mine["jingcheng-auto-parts"]["points"]["available"] == 3200


def test_admin_pages_show_programmes_accounts_and_ledger(client, two_stores, make_user):
    from plugins.vip_tiers.models import VipAccount, VipProgram

    client.force_login(make_user("root@example.com", is_staff=True, is_superuser=True))
    for path in ("vipprogram", "viptier", "vipaccount", "vipentry", "viporder", "vipredemption", "segment",
                 "segmentexport", "campaign"):
        if path == "viptier":
            continue  # edited inline on the programme
        response = client.get(f"/admin/vip_tiers/{path}/")
        assert response.status_code == 200, path
    account = VipAccount.objects.filter(vendor_id=two_stores[0].pk).first()
    assert client.get(f"/admin/vip_tiers/vipaccount/{account.pk}/change/").status_code == 200
    program = VipProgram.objects.get(vendor_id=two_stores[0].pk)
    assert client.get(f"/admin/vip_tiers/vipprogram/{program.pk}/change/").status_code == 200
    assert client.get("/admin/vip_tiers/vipentry/add/").status_code == 403  # append-only
    assert gid("VipAccount", account.pk)
