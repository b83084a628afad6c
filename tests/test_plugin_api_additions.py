"""Public plugin API added for the group-buy plugin (issue 13): the `on_payment_authorized`
hook, `orders.extend_payment_deadline`, `checkout.open_cart` / `add_line(replace=)`, refund
look-ups by idempotency key, `resend_refund`, and `PaymentInfo.capture_method`."""
from datetime import timedelta
from decimal import Decimal

import pytest

from marketplace.plugins import hookimpl
from tests.conftest import GraphQLClient
from tests.test_checkout import ADDRESS, COMPLETE, CREATE, SHIP, gid, shop  # noqa: F401 (shop: a fixture)

CONFIRM = """mutation($s: String!) { devPaymentConfirm(clientSecret: $s) { status errors { code } } }"""


def _order(client, member, shop, capture_method="automatic"):
    """A member's unpaid order of one pad (vendor a), with a dev payment started."""
    a, _b, pads, _oil, flat_a, _flat_b = shop
    api = GraphQLClient(client)
    api.login(member.email)
    token = api.mutate(CREATE, {"lines": [{"variantId": gid("ProductVariant", pads.pk), "quantity": 1}]})["checkout"]["token"]
    api.mutate(ADDRESS, {"t": token})
    api.mutate(SHIP, {"t": token, "v": gid("Vendor", a.pk), "m": gid("ShippingMethod", flat_a.pk)})
    placed = api.mutate(COMPLETE.replace("checkoutComplete(token: $t, gateway: $g)",
                                         f'checkoutComplete(token: $t, gateway: $g, captureMethod: "{capture_method}")'),
                        {"t": token, "g": "dev"})
    assert placed["errors"] == [], placed["errors"]
    return api, placed


class Authorisations:
    def __init__(self):
        self.seen = []

    @hookimpl
    def on_payment_authorized(self, payment):
        self.seen.append((payment.order_id, payment.status, payment.capture_method))


@pytest.mark.django_db
def test_hook_on_payment_authorized(client, member, shop, plugin):
    """Called inside the transaction recording an authorisation (manual capture); the
    order stays unpaid until the capture."""
    from marketplace.orders.models import Order

    seen = Authorisations()
    plugin(seen, "authorisations")
    api, placed = _order(client, member, shop, capture_method="manual")
    assert api.mutate(CONFIRM, {"s": placed["payment"]["clientSecret"]})["status"] == "authorized"
    order = Order.objects.get(number=placed["order"]["number"])
    assert seen.seen == [(order.pk, "authorized", "manual")]
    assert order.status == "unpaid"


@pytest.mark.django_db
def test_extend_payment_deadline_never_shortens_and_only_for_unpaid_orders(client, member, shop):
    from marketplace.orders.models import Order
    from marketplace.plugins.orders import extend_payment_deadline

    _api, placed = _order(client, member, shop)
    order = Order.objects.get(number=placed["order"]["number"])
    later = order.expires_at + timedelta(hours=5)
    assert extend_payment_deadline(order.pk, later) is True
    assert extend_payment_deadline(order.pk, later - timedelta(hours=1)) is False
    order.refresh_from_db()
    assert order.expires_at == later
    Order.objects.filter(pk=order.pk).update(status="paid")
    assert extend_payment_deadline(order.pk, later + timedelta(hours=1)) is False


@pytest.mark.django_db
def test_open_cart_add_line_replace_and_unpriced_lines(member, shop):
    from marketplace.plugins.checkout import add_line, cart_line_refs, cart_lines, open_cart

    _a, _b, pads, *_rest = shop
    token = open_cart(member)
    assert open_cart(member) == token  # the member's one open cart
    add_line(token, "product", variant_id=pads.pk, quantity=2, user=member)
    add_line(token, "product", variant_id=pads.pk, quantity=1, user=member)
    assert [line.quantity for line in cart_lines(token, member)] == [3]
    add_line(token, "product", variant_id=pads.pk, quantity=1, user=member, replace=True)
    assert [line.quantity for line in cart_lines(token, member)] == [1]
    (ref,) = cart_line_refs(token, member)
    assert (ref.kind, ref.variant_id, ref.quantity) == ("product", pads.pk, 1)
    assert ref.line_id == cart_lines(token, member)[0].line_id


def _paid_order(client, member, shop):
    from marketplace.orders.models import Order
    from marketplace.plugins.payments import find_payment
    from plugins.dev_gateway.gateway import reference_from_secret

    api, placed = _order(client, member, shop)
    assert api.mutate(CONFIRM, {"s": placed["payment"]["clientSecret"]})["status"] == "captured"
    payment = find_payment("dev", reference_from_secret(placed["payment"]["clientSecret"]))
    return Order.objects.get(number=placed["order"]["number"]), payment


@pytest.mark.django_db
def test_refunds_are_idempotent_by_key_and_found_by_it(client, member, shop):
    from marketplace.plugins.payments import find_refunds, get_payment, refund, refund_record

    order, payment = _paid_order(client, member, shop)
    first = refund(order.pk, amount=Decimal("20.00"), vendor_order_id=order.vendor_orders.get().pk,
                   idempotency_key="test-refund-1")
    again = refund(order.pk, amount=Decimal("20.00"), vendor_order_id=order.vendor_orders.get().pk,
                   idempotency_key="test-refund-1")
    assert again == first and first[0][1] == "succeeded"
    assert get_payment(payment.payment_id).refunded == Decimal("20.00")  # once
    (record,) = find_refunds("test-refund-1")
    assert record.refund_id == first[0][0] and record.idempotency_key == "test-refund-1-0"
    assert refund_record(record.refund_id).status == "succeeded" and record.reference.startswith("dev_re_")
    assert find_refunds("test-refund") == []  # an exact key, not a prefix
    # the whole rest, under another key; then a retry of it after it succeeded refunds nothing more
    rest = refund(order.pk, idempotency_key="test-refund-2")
    assert refund(order.pk, idempotency_key="test-refund-2") == rest
    assert get_payment(payment.payment_id).refunded == payment.captured


class CrashingRefunds:
    """A gateway whose process dies in the refund call (the intent is committed, the
    gateway never answers); then it works again."""

    crash = True

    @hookimpl
    def payment_gateways(self):
        from plugins.dev_gateway.gateway import DevGateway

        owner = self

        class Fragile(DevGateway):
            name = "dev"

            def refund(self, payment, amount, reason="", idempotency_key=None):
                if owner.crash:
                    raise RuntimeError("worker killed")
                owner.keys.append(idempotency_key)
                return super().refund(payment, amount, reason, idempotency_key)

        return [Fragile()]

    def __init__(self):
        self.keys = []


@pytest.mark.django_db
def test_resend_refund_finishes_a_refund_whose_call_was_cut_short(client, member, shop, plugin):
    from marketplace.orders import ledger
    from marketplace.plugins import ValidationError
    from marketplace.plugins.payments import find_refunds, refund, resend_refund

    order, payment = _paid_order(client, member, shop)
    gateway = CrashingRefunds()
    plugin(gateway, "fragile-dev")  # registered last: pluggy calls it first, its "dev" wins
    with pytest.raises(RuntimeError):
        refund(order.pk, idempotency_key="cut-short")
    (pending,) = find_refunds("cut-short")
    assert pending.status == "pending" and pending.reference == ""
    gateway.crash = False
    done = resend_refund(pending.refund_id)
    assert done.status == "succeeded" and done.reference
    assert gateway.keys == [f"refund-{pending.refund_id}"]  # the first attempt's gateway key
    order.refresh_from_db()
    assert order.status == "refunded" and ledger.is_balanced()
    with pytest.raises(ValidationError):
        resend_refund(pending.refund_id)  # settled: never sent again
