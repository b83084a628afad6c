"""Staff refunds (M6): everything back when no benefit was used, else the unused whole
months pro rata minus the benefits consumed; the ledger reverses the membership revenue;
revocation; goods refunds give savings back; a whole-order refund ends the membership."""
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.plugins import call_hook
from marketplace.plugins.testing import gid

from .conftest import (
    complete, local, membership_line, my_membership, pay_stripe, product_line, ready, signed_in, start_cart,
)

REFUND = """mutation($id: ID!, $r: String!) { membershipRefund(id: $id, reason: $r) {
  membership { status refundedAmount { amount } endedAt }
  refund { amount { amount } status }
  quote { amount { amount } full benefitsUsed { amount } savings { amount } towingCount towingValue { amount }
          unusedMonths termMonths }
  errors { field code message } } }"""
QUOTE = """query($id: ID!) { membershipRefundQuote(id: $id) { amount { amount } full unusedMonths benefitsUsed { amount } } }"""
REVOKE = """mutation($id: ID!, $r: String!) { membershipRevoke(id: $id, reason: $r) {
  membership { status reason } errors { field code message } } }"""


def buy(client, api, lines, shop=None):
    placed = complete(api, ready(api, start_cart(api, lines), shop))
    assert placed["errors"] == [], placed["errors"]
    pay_stripe(client, placed)
    return placed


@pytest.mark.django_db(transaction=True)
def test_m6_refund_after_a_free_tow_is_pro_rata_minus_the_tow(worker, client, member, plan, staff_gql, frozen_clock,
                                                              stripe_mock):
    from marketplace.plugins.ledger import account_total, is_balanced

    frozen_clock(local(2026, 3, 10, 10, 0))
    api = signed_in(client, member)
    buy(client, api, [membership_line()])
    mine = my_membership(api)
    frozen_clock(local(2026, 5, 20, 15, 0))
    # The repair-booking plugin records a free tow through the published hook.
    use = call_hook("record_member_benefit", user_id=member.pk, benefit="towing", reference="booking:1",
                    value=Decimal("50.00"), at=None)
    assert use["free_towing_left"] == 1 and use["value"] == Decimal("50.00")
    assert account_total("towing_partner_payable") == Decimal("50.00")

    quote = staff_gql.data(QUOTE, {"id": mine["id"]})["membershipRefundQuote"]
    assert quote == {"amount": {"amount": "76.00"}, "full": False, "unusedMonths": 9,
                     "benefitsUsed": {"amount": "50.00"}}  # 168 x 9/12 = 126.00, minus the tow's 50.00
    done = staff_gql.mutate(REFUND, {"id": mine["id"], "r": "moving to Shanghai"})
    assert done["errors"] == []
    assert done["refund"] == {"amount": {"amount": "76.00"}, "status": "succeeded"}
    assert done["membership"]["status"] == "REFUNDED" and done["membership"]["refundedAmount"] == {"amount": "76.00"}
    assert done["quote"]["towingCount"] == 1 and done["quote"]["towingValue"] == {"amount": "50.00"}
    # The ledger: 168 booked as membership revenue, 76 reversed.
    assert account_total("platform_membership_revenue") == Decimal("92.00")
    assert account_total("customer_payments") == Decimal("-92.00")  # 168 received, 76 returned
    assert is_balanced()
    assert my_membership(api)["status"] == "REFUNDED"
    assert call_hook("is_member", user_id=member.pk, at=None) is False
    again = staff_gql.mutate(REFUND, {"id": mine["id"], "r": "twice"})
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("id", "INVALID_STATE")]


@pytest.mark.django_db(transaction=True)
def test_full_refund_when_no_benefit_was_used(client, member, plan, staff_gql, frozen_clock, stripe_mock):
    from marketplace.plugins.ledger import account_total, is_balanced

    frozen_clock(local(2026, 3, 10, 10, 0))
    api = signed_in(client, member)
    buy(client, api, [membership_line()])
    frozen_clock.travel(timedelta(days=200))
    mine = my_membership(api)
    done = staff_gql.mutate(REFUND, {"id": mine["id"], "r": "never used"})
    assert done["quote"]["full"] is True and done["refund"]["amount"] == {"amount": "168.00"}
    assert account_total("platform_membership_revenue") == 0 and is_balanced()


@pytest.mark.django_db(transaction=True)
def test_member_prices_in_the_joining_order_count_as_benefits_used(client, member, plan, shop, staff_gql,
                                                                   frozen_clock, stripe_mock):
    frozen_clock(local(2026, 3, 10, 10, 0))
    api = signed_in(client, member)
    buy(client, api, [product_line(shop.pads), membership_line()], shop)
    mine = my_membership(api)
    assert mine["savingsThisTerm"] == {"amount": "10.00"}
    done = staff_gql.mutate(REFUND, {"id": mine["id"], "r": "changed mind"})
    assert done["quote"]["unusedMonths"] == 12 and done["quote"]["savings"] == {"amount": "10.00"}
    assert done["refund"]["amount"] == {"amount": "158.00"}


@pytest.mark.django_db(transaction=True)
def test_benefits_worth_more_than_the_rest_refund_nothing(client, member, plan, staff_gql, frozen_clock,
                                                          stripe_mock):
    frozen_clock(local(2026, 3, 10, 10, 0))
    api = signed_in(client, member)
    buy(client, api, [membership_line()])
    call_hook("record_member_benefit", user_id=member.pk, benefit="towing", reference="t1", value=None, at=None)
    frozen_clock(local(2026, 12, 1, 9, 0))
    mine = my_membership(api)
    done = staff_gql.mutate(REFUND, {"id": mine["id"], "r": "abuse of tows"})
    # 168 x 3/12 = 42.00 minus the tow at its list price (200.00 by default): nothing due.
    assert done["refund"] == {"amount": {"amount": "0.00"}, "status": "nothing_due"}
    assert done["membership"]["status"] == "REFUNDED"


@pytest.mark.django_db(transaction=True)
def test_refund_and_revoke_errors(client, member, plan, staff_gql, frozen_clock, stripe_mock):
    from plugins.membership.services import memberships

    frozen_clock(local(2026, 3, 10, 10, 0))
    api = signed_in(client, member)
    buy(client, api, [membership_line()])
    mine = my_membership(api)
    assert [(e["field"], e["code"]) for e in staff_gql.mutate(REFUND, {"id": mine["id"], "r": " "})["errors"]] == [
        ("reason", "REQUIRED")]
    assert api.mutate(REFUND, {"id": mine["id"], "r": "me"})["errors"][0]["code"] == "PERMISSION_DENIED"
    assert staff_gql.mutate(REFUND, {"id": gid("Membership", 999999), "r": "x"})["errors"][0]["code"] == "NOT_FOUND"
    assert staff_gql.mutate(REFUND, {"id": gid("Order", 1), "r": "x"})["errors"][0]["field"] == "id"
    granted = memberships.grant(staff_gql_user(staff_gql), "annual", "staff perk")
    refused = staff_gql.mutate(REFUND, {"id": gid("Membership", granted.pk), "r": "x"})
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("id", "INVALID_STATE")]

    assert staff_gql.mutate(REVOKE, {"id": mine["id"], "r": ""})["errors"][0]["code"] == "REQUIRED"
    revoked = staff_gql.mutate(REVOKE, {"id": mine["id"], "r": "fraudulent chargeback"})
    assert revoked == {"membership": {"status": "REVOKED", "reason": "fraudulent chargeback"}, "errors": []}
    assert call_hook("member_benefits", user_id=member.pk, at=None) is None
    assert staff_gql.mutate(REVOKE, {"id": mine["id"], "r": "again"})["errors"][0]["code"] == "INVALID_STATE"


def staff_gql_user(api):
    from marketplace.plugins.accounts import find_user

    return find_user("staff@example.com").pk


@pytest.mark.django_db(transaction=True)
def test_returned_goods_give_their_savings_back(client, member, plan, shop, frozen_clock, stripe_mock):
    from graphql_relay import from_global_id

    from marketplace.plugins.payments import refund

    frozen_clock(local(2026, 3, 10, 10, 0))
    api = signed_in(client, member)
    buy(client, api, [membership_line()])
    placed = buy(client, api, [product_line(shop.pads, 2)], shop)
    assert my_membership(api)["savingsThisTerm"] == {"amount": "20.00"}
    vendor_order = placed["order"]["vendorOrders"][0]
    order_id = int(from_global_id(placed["order"]["id"])[1])
    refund(order_id, amount=Decimal("195.00"), vendor_order_id=int(from_global_id(vendor_order["id"])[1]))
    assert my_membership(api)["savingsThisTerm"] == {"amount": "10.00"}  # half the sub-order came back
    refund(order_id)  # the rest
    assert my_membership(api)["savingsThisTerm"] == {"amount": "0.00"}


@pytest.mark.django_db(transaction=True)
def test_a_whole_order_refund_by_staff_ends_the_membership(client, member, plan, staff_gql, frozen_clock,
                                                           stripe_mock):
    frozen_clock(local(2026, 3, 10, 10, 0))
    api = signed_in(client, member)
    placed = buy(client, api, [membership_line()])
    done = staff_gql.mutate("""mutation($o: ID!) { orderRefund(orderId: $o, reason: "duplicate") {
      errors { field code message } } }""", {"o": placed["order"]["id"]})
    assert done["errors"] == []
    assert my_membership(api)["status"] == "REFUNDED"
    assert call_hook("is_member", user_id=member.pk, at=None) is False


@pytest.mark.django_db(transaction=True)
def test_a_refund_the_gateway_fails_later_restores_the_membership(client, member, plan, staff_gql, frozen_clock):
    """WeChat Pay refunds settle asynchronously; a failed one must not leave the member
    without benefits and without money (the development gateway in its async mode)."""
    import uuid

    from marketplace.payments.models import Refund
    from marketplace.plugins.payments import GatewayEventData, PaymentStatus, deliver_event

    frozen_clock(local(2026, 3, 10, 10, 0))
    assert staff_gql.mutate('mutation { pluginUpdate(name: "dev_gateway", input: {settings: {refund_mode: "async"}}) '
                            '{ errors { code } } }')["errors"] == []
    api = signed_in(client, member)
    placed = complete(api, start_cart(api, [membership_line()]), gateway="dev")
    reference = placed["payment"]["reference"]
    deliver_event("dev", GatewayEventData(event_id=f"dev_evt_{uuid.uuid4().hex}", type="payment_intent.succeeded",
                                          reference=reference, status=PaymentStatus.CAPTURED,
                                          amount=Decimal("168.00"), currency="CNY", payload={}))
    mine = my_membership(api)
    assert mine["status"] == "ACTIVE"
    done = staff_gql.mutate(REFUND, {"id": mine["id"], "r": "asked by phone"})
    assert done["refund"] == {"amount": {"amount": "168.00"}, "status": "requested"}
    assert my_membership(api)["status"] == "REFUNDED"  # benefits end while the money is on its way
    settle = """mutation($r: String!) { devRefundSettle(reference: $r, succeed: false) { status errors { code } } }"""
    assert staff_gql.mutate(settle, {"r": Refund.objects.get().reference})["status"] == "failed"
    restored = my_membership(api)
    assert restored["status"] == "ACTIVE" and restored["endsAt"] == mine["endsAt"]
    from plugins.membership.models import MembershipRefund

    assert MembershipRefund.objects.get().status == "failed"
    assert call_hook("is_member", user_id=member.pk, at=None) is True

    # Asked again, the gateway pays this time.
    again = staff_gql.mutate(REFUND, {"id": mine["id"], "r": "asked again"})
    assert again["refund"]["status"] == "requested" and again["errors"] == []
    pending = Refund.objects.filter(status="pending").get()
    settle_ok = """mutation($r: String!) { devRefundSettle(reference: $r) { status errors { code } } }"""
    assert staff_gql.mutate(settle_ok, {"r": pending.reference})["status"] == "succeeded"
    assert list(MembershipRefund.objects.order_by("pk").values_list("status", flat=True)) == ["failed", "succeeded"]
    assert my_membership(api)["status"] == "REFUNDED"
