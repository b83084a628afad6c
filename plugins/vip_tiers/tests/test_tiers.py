"""Tier movement: up at once on completion, down only at the monthly review after the
protection period (a refund never downgrades before that); the programme and tier
settings through the API, with field errors; the plan entitlement."""
from datetime import timedelta

import pytest

from marketplace.plugins.testing import gid

from .conftest import (
    PLUGIN_UPDATE, PROGRAM_UPDATE, TIER_CREATE, REDEEM, account, at, buy, cart, complete_order, refund, run_task,
    signed_in,
)


@pytest.mark.django_db(transaction=True)
def test_up_on_completion_down_only_at_the_review_after_protection(worker, make_store, member, make_user,
                                                                   frozen_clock):
    frozen_clock(at(2026, 2, 3, 4, 0))
    store = make_store("store-a")
    earlier = make_user("earlier@example.com")
    buy(signed_in(None, earlier), [(store, store.item_200, 2)])  # before the programme existed
    store.enable(tiers=[(1, "银卡", "300", "0", "1"), (2, "金卡", "1000", "5", "1.5")])
    buyer = signed_in(None, member)
    placed = buy(buyer, [(store, store.item_359, 3)])  # 1079.70
    assert account(buyer, store)["tier"] is None  # not before the order completes
    complete_order(buyer, placed)
    mine = account(buyer, store)
    assert mine["tier"] == {"rank": 2, "nameZh": "金卡"} and mine["nextTier"] is None
    assert mine["protectedUntil"] == "2026-05-04T04:00:00+00:00"  # 90 days
    refund(store, placed, "359.90")  # spend 719.80: below 金卡, but no downgrade before the review
    assert account(buyer, store)["tier"]["rank"] == 2
    assert run_task("review_tiers") == {"up": 1, "down": 0, "customers": 2}  # earlier@ reaches 银卡 (400.00)
    assert account(buyer, store)["tier"]["rank"] == 2  # still protected
    assert account(signed_in(None, earlier), store)["tier"] == {"rank": 1, "nameZh": "银卡"}
    frozen_clock.travel(timedelta(days=91))
    assert run_task("review_tiers")["down"] == 1
    mine = account(buyer, store)
    assert mine["tier"] == {"rank": 1, "nameZh": "银卡"} and mine["nextTier"] == {"rank": 2}
    assert mine["spendToNextTier"] == {"amount": "280.20"}
    frozen_clock.travel(timedelta(days=366))  # the spend left the 12-month window
    run_task("review_tiers")
    assert account(buyer, store)["tier"] is None


@pytest.mark.django_db
def test_programme_and_tier_settings_refuse_bad_input_with_field_errors(make_store):
    store = make_store("store-a")
    other = make_store("store-b", count=3)
    owner = store.owner_api()

    def errors(mutation, variables):
        return [(e["field"], e["code"]) for e in owner.mutate(mutation, variables)["errors"]]

    assert errors(PROGRAM_UPDATE, {"v": store.gid, "i": {"cashbackPercent": "NaN"}}) == [("cashbackPercent", "INVALID")]
    assert errors(PROGRAM_UPDATE, {"v": store.gid, "i": {"cashbackPercent": "51"}}) == [("cashbackPercent", "INVALID")]
    assert errors(PROGRAM_UPDATE, {"v": store.gid, "i": {"earnPointsPerCny": "-1"}}) == [
        ("earnPointsPerCny", "INVALID")]
    assert errors(PROGRAM_UPDATE, {"v": store.gid, "i": {"protectionDays": 9999}}) == [
        ("protectionDays", "INVALID")]
    ok = owner.mutate(PROGRAM_UPDATE, {"v": store.gid, "i": {"enabled": True, "stacking": "BEST_OF",
                                                            "cashbackEnabled": True, "cashbackPercent": "2.5"}})
    assert ok["errors"] == [] and ok["program"]["stacking"] == "BEST_OF" and ok["program"]["status"] == "ENABLED"
    assert errors(TIER_CREATE, {"v": store.gid, "i": {"rank": 1, "nameZh": "银卡", "threshold": "500"}}) == []
    assert errors(TIER_CREATE, {"v": store.gid, "i": {"rank": 1, "nameZh": "重复", "threshold": "900"}}) == [
        ("rank", "UNIQUE")]
    assert errors(TIER_CREATE, {"v": store.gid, "i": {"rank": 2, "nameZh": "金卡", "threshold": "400"}}) == [
        ("threshold", "INVALID")]  # thresholds rise with rank
    assert errors(TIER_CREATE, {"v": store.gid, "i": {"rank": 2, "nameZh": "金卡", "threshold": "800",
                                                      "percentOff": "95"}}) == [("percentOff", "INVALID")]
    assert errors(TIER_CREATE, {"v": store.gid, "i": {"rank": 2, "threshold": "800"}}) == [("nameZh", "REQUIRED")]
    made = owner.mutate(TIER_CREATE, {"v": store.gid, "i": {"rank": 2, "nameZh": "金卡", "threshold": "800",
                                                             "percentOff": "5", "pointsMultiplier": "2"}})
    tier_id = made["tier"]["id"]
    foreign = other.owner_api().mutate('mutation($id: ID!) { vipTierUpdate(id: $id, input: {percentOff: "50"}) { '
                                       'errors { code } } }', {"id": tier_id})
    assert foreign["errors"] == [{"code": "PERMISSION_DENIED"}]
    assert other.owner_api().mutate(PROGRAM_UPDATE, {"v": store.gid, "i": {"enabled": False}})["errors"][0][
        "code"] == "PERMISSION_DENIED"
    program = signed_in(None, store.owner).data('query($v: ID!) { vipProgram(vendorId: $v) { tiers { rank nameZh '
                                                'percentOff pointsMultiplier threshold { amount } } cashbackPercent '
                                                'pointsPerCny maxRedeemPercent } }', {"v": store.gid})["vipProgram"]
    assert program["tiers"] == [
        {"rank": 1, "nameZh": "银卡", "percentOff": "0.00", "pointsMultiplier": "1.00", "threshold": {"amount": "500.00"}},
        {"rank": 2, "nameZh": "金卡", "percentOff": "5.00", "pointsMultiplier": "2.00", "threshold": {"amount": "800.00"}}]
    assert (program["cashbackPercent"], program["pointsPerCny"], program["maxRedeemPercent"]) == ("2.50", 100, "50.00")
    deleted = owner.mutate('mutation($id: ID!) { vipTierDelete(id: $id) { program { tiers { rank } } '
                           'errors { code } } }', {"id": tier_id})
    assert deleted["errors"] == [] and deleted["program"]["tiers"] == [{"rank": 1}]
    anonymous = signed_in(None, store.owner).data('query($v: ID!) { vipProgram(vendorId: $v) { status } }',
                                                  {"v": other.gid})
    assert anonymous["vipProgram"]["status"] == "DISABLED"


@pytest.mark.django_db
def test_the_plan_entitlement_gates_the_programme(make_store, member, plugin):
    from marketplace.plugins import hookimpl
    from plugins.vip_tiers.services import balances, tiers

    store = make_store("store-a").enable(tiers=[(1, "金卡", "0", "8", "1")])
    blocked = make_store("store-b")
    credit_only = make_store("store-c").enable()

    class Plans:
        @hookimpl
        def vendor_entitlements(self, vendor_ids):
            return {blocked.pk: {"vip_tiers": False}, store.pk: {"vip_tiers": False},
                    credit_only.pk: {"points_cashback": False}}

    tiers.upgrade(store.pk, member.pk)
    balances.adjust(credit_only.pk, member.pk, "points", 500, "before the plan changed", key="k")
    plugin(Plans(), "vendor_plans_stub")
    owner = blocked.owner_api()
    refused = owner.mutate(PROGRAM_UPDATE, {"v": blocked.gid, "i": {"enabled": True}})
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("enabled", "ENTITLEMENT_REQUIRED")]
    switched = owner.mutate(PLUGIN_UPDATE, {"v": blocked.gid, "i": {"active": True}})
    assert [(e["field"], e["code"]) for e in switched["errors"]] == [("active", "ENTITLEMENT_REQUIRED")]
    # A store that lost the entitlement: suspended, no tier price, the account kept.
    buyer = signed_in(None, member)
    status = buyer.data('query($v: ID!) { vipProgram(vendorId: $v) { status } }', {"v": store.gid})["vipProgram"]
    assert status == {"status": "SUSPENDED"}
    detail = buyer.data('query($v: String!) { product(vendorSlug: $v, slug: "store-a-pads") { variants { price { '
                        'final { amount } } } } }', {"v": "store-a"})["product"]["variants"][0]["price"]
    assert detail["final"] == {"amount": "150.00"}
    assert account(buyer, store)["tier"]["nameZh"] == "金卡"
    # Without points_cashback: the balance is shown but cannot be redeemed.
    token = cart(buyer, [(credit_only, credit_only.item_150, 1)])
    redeemed = buyer.mutate(REDEEM, {"t": token, "v": credit_only.gid, "p": 100})
    assert [(e["field"], e["code"]) for e in redeemed["errors"]] == [("vendorId", "INVALID_STATE")]
    assert account(buyer, credit_only)["points"]["available"] == 500


@pytest.mark.django_db(transaction=True)
def test_a_store_that_switches_the_plugin_off_stops_earning_and_redeeming_but_keeps_balances(worker, make_store,
                                                                                              member):
    from marketplace.plugins.services import update_plugin
    from plugins.vip_tiers.services import balances

    store = make_store("store-a").enable()
    balances.adjust(store.pk, member.pk, "points", 400, "welcome", key="w")
    update_plugin("vip_tiers", vendor_id=store.pk, active=False)
    buyer = signed_in(None, member)
    buy(buyer, [(store, store.item_200, 1)])
    mine = account(buyer, store)
    assert mine["points"] == {"available": 400, "pending": 0, "debt": 0, "value": {"amount": "4.00"}}
    token = cart(buyer, [(store, store.item_150, 1)])
    assert buyer.mutate(REDEEM, {"t": token, "v": store.gid, "p": 100})["errors"][0]["code"] == "INVALID_STATE"
    update_plugin("vip_tiers", vendor_id=store.pk, active=True)  # back on: earning resumes
    buy(buyer, [(store, store.item_200, 1)])  # the member's open cart still holds the 150.00 pads
    assert account(buyer, store)["points"]["pending"] == 350


@pytest.mark.django_db(transaction=True)
def test_a_cancelled_unpaid_order_gives_the_points_back(worker, make_store, member):
    from plugins.vip_tiers.services import balances

    from .conftest import place

    store = make_store("store-a").enable()
    balances.adjust(store.pk, member.pk, "points", 2000, "welcome", key="w")
    buyer = signed_in(None, member)
    token = cart(buyer, [(store, store.item_200, 1)])
    buyer.mutate(REDEEM, {"t": token, "v": store.gid, "p": 1500})
    placed = place(buyer, token)
    assert account(buyer, store)["points"]["available"] == 500
    cancelled = buyer.mutate('mutation($id: ID!) { orderCancel(id: $id) { errors { code } } }',
                             {"id": placed["order"]["id"]})
    assert cancelled["errors"] == []
    mine = account(buyer, store)
    assert mine["points"]["available"] == 2000
    assert [e["node"]["kind"] for e in mine["history"]["edges"][:2]] == ["redeem_return", "redeem"]
    assert gid("VipAccount", 1)  # ids are global
