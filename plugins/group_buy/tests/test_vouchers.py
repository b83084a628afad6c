"""G7: service vouchers verified once at a shop of the deal's vendor, refunded on request
while unused and automatically at expiry, REFUNDED only once the gateway confirms."""
from datetime import timedelta

import pytest

from marketplace.plugins import clock, ledger
from marketplace.plugins.testing import gid

from .helpers import live_deal, my_groups, pay_dev, place, signed_in

VERIFY = """mutation($v: ID!, $c: String!) { groupBuyVoucherVerify(vendorId: $v, voucherCode: $c) {
  voucher { status code redeemedAt } errors { field code message } } }"""
REFUND = """mutation($id: ID!) { groupBuyVoucherRefund(id: $id) { voucher { status refund { status } }
  errors { field code message } } }"""
VOUCHERS = """{ myGroupBuyVouchers { id code status amount { amount } validUntil refund { status amount { amount } } } }"""
SETTLE = """mutation($r: String!, $ok: Boolean) { devRefundSettle(reference: $r, succeed: $ok) { status errors { code } } }"""
PLUGIN_UPDATE = """mutation($name: String!, $s: GenericScalar) { pluginUpdate(name: $name, input: {settings: $s}) {
  errors { field code message } } }"""


@pytest.fixture
def repair_shop(client, make_vendor, taxonomy):
    from marketplace.plugins.catalog import save_product, save_product_type, save_variant

    vendor = make_vendor("gb-repair", kind="repair_shop", name_zh="望京快修")
    voucher_type = save_product_type({"slug": "gb-service-voucher", "name_zh": "服务券", "requires_shipping": False})
    product = save_product(vendor.pk, {"slug": "gb-wash", "name_zh": "精洗套餐", "status": "published",
                                       "category_id": taxonomy.maintenance.pk, "product_type_id": voucher_type})
    variant = save_variant(product, {"sku": "GB-WASH-1", "list_price": "100.00", "track_inventory": False})
    return {"vendor": vendor, "variant_id": variant, "owner": signed_in(client, vendor.owner), "method": None}


class _Variant:
    def __init__(self, pk):
        self.pk = pk


def _voucher_deal(repair_shop, staff_api, **overrides):
    return live_deal(repair_shop["owner"], staff_api, repair_shop["vendor"], _Variant(repair_shop["variant_id"]),
                     kind="SERVICE_VOUCHER", groupSize=1, dealPrice="80.00", maxUnits=20, maxPerMember=2,
                     voucherValidDays=30, **overrides)


@pytest.mark.django_db(transaction=True)
def test_g7_vouchers_verify_once_at_their_own_shop_and_refund_at_expiry(
        client, repair_shop, shop, owner, staff_api, members, worker, frozen_clock):
    from tests.conftest import wait_for

    frozen_clock(clock.now())
    assert staff_api.mutate(PLUGIN_UPDATE, {"name": "dev_gateway", "s": {"refund_mode": "async"}})["errors"] == []
    deal = _voucher_deal(repair_shop, staff_api)
    buyer = members[0]
    placed = place(buyer, repair_shop, deal_id=deal["id"], quantity=2)
    assert placed["order"]["total"] == {"amount": "160.00"}
    pay_dev(buyer, placed["order"]["id"], method="WALLET")
    wait_for(lambda: len(my_groups(buyer)[0]["vouchers"]) == 2, message="two vouchers issued")
    first, second = buyer.data(VOUCHERS)["myGroupBuyVouchers"]
    assert first["status"] == "UNUSED" and len(first["code"].replace(" ", "")) == 13
    assert first["amount"] == {"amount": "80.00"}

    # the wrong shop: refused; a mistyped code: refused before any lookup
    wrong = owner.mutate(VERIFY, {"v": gid("Vendor", shop["vendor"].pk), "c": first["code"]})
    assert wrong["errors"][0]["code"] == "PERMISSION_DENIED"
    typo = first["code"][:-1] + str((int(first["code"][-1]) + 1) % 10)
    assert repair_shop["owner"].mutate(VERIFY, {"v": gid("Vendor", repair_shop["vendor"].pk), "c": typo})[
        "errors"] == [{"field": "voucherCode", "code": "INVALID",
                  "message": "Not a voucher code (13 digits; check the last one)."}]
    ok = repair_shop["owner"].mutate(VERIFY, {"v": gid("Vendor", repair_shop["vendor"].pk), "c": first["code"]})
    assert ok["errors"] == [] and ok["voucher"]["status"] == "REDEEMED"
    assert ok["voucher"]["code"].startswith("****")  # shop staff never see the whole code
    again = repair_shop["owner"].mutate(VERIFY, {"v": gid("Vendor", repair_shop["vendor"].pk), "c": first["code"]})
    assert again["errors"][0]["code"] == "INVALID_STATE" and again["errors"][0]["field"] == "voucherCode"

    # the second one is never used: at expiry a refund is made, REFUNDED only when it succeeds
    frozen_clock.travel(timedelta(days=31))
    from plugins.group_buy import tasks

    assert tasks.expire_vouchers.delay().get(timeout=30) == 1
    expired = [v for v in buyer.data(VOUCHERS)["myGroupBuyVouchers"] if v["id"] == second["id"]][0]
    assert expired["status"] == "EXPIRED" and expired["refund"]["status"] == "PENDING"
    late_verify = repair_shop["owner"].mutate(VERIFY, {"v": gid("Vendor", repair_shop["vendor"].pk), "c": second["code"]})
    assert late_verify["errors"][0]["code"] == "INVALID_STATE"
    from plugins.group_buy.models import RefundTrack
    from marketplace.plugins.payments import refund_record

    reference = refund_record(RefundTrack.objects.get(voucher__isnull=False).refund_id).reference
    assert staff_api.mutate(SETTLE, {"r": reference, "ok": True})["errors"] == []
    settled = [v for v in buyer.data(VOUCHERS)["myGroupBuyVouchers"] if v["id"] == second["id"]][0]
    assert settled["status"] == "REFUNDED" and settled["refund"] == {"status": "SUCCEEDED",
                                                                      "amount": {"amount": "80.00"}}
    assert ledger.is_balanced()


@pytest.mark.django_db(transaction=True)
def test_refund_on_request_while_unused(repair_shop, staff_api, members, worker):
    from tests.conftest import wait_for

    deal = _voucher_deal(repair_shop, staff_api)
    buyer = members[0]
    pay_dev(buyer, place(buyer, repair_shop, deal_id=deal["id"])["order"]["id"], method="WALLET")
    wait_for(lambda: buyer.data(VOUCHERS)["myGroupBuyVouchers"], message="a voucher")
    (voucher,) = buyer.data(VOUCHERS)["myGroupBuyVouchers"]
    assert members[1].mutate(REFUND, {"id": voucher["id"]})["errors"][0]["code"] == "NOT_FOUND"  # not theirs
    done = buyer.mutate(REFUND, {"id": voucher["id"]})
    assert done["errors"] == [] and done["voucher"] == {"status": "REFUNDED", "refund": {"status": "SUCCEEDED"}}
    assert buyer.mutate(REFUND, {"id": voucher["id"]})["errors"][0]["code"] == "INVALID_STATE"
    verify = repair_shop["owner"].mutate(VERIFY, {"v": gid("Vendor", repair_shop["vendor"].pk),
                                                   "c": voucher["code"]})
    assert verify["errors"][0]["code"] == "INVALID_STATE"
    assert ledger.is_balanced()
