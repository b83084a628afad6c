"""Rows for the engine's test that every connection keeps a constant number of queries
(tests/test_query_counts.py): `create(count, users, vendors)` makes `count` live deals of
the first vendor, each with a group its leader opened and platform staff joined (paid, so
`myGroupBuys` lists `count` memberships), and `count` open staff alerts."""


def create(count, users, vendors):
    import uuid
    from datetime import timedelta
    from decimal import Decimal

    from marketplace.checkout import completion
    from marketplace.checkout import services as checkout
    from marketplace.core import clock
    from marketplace.payments import services as payments
    from marketplace.plugins.payments import GatewayEventData, deliver_event
    from plugins.group_buy import deals, seats
    from plugins.group_buy.models import Alert, Group

    vendor = vendors[0]
    staff = next(u for u in users if u.is_staff)
    leaders = [u for u in users if not u.is_staff][:count]
    method = vendor.shipping_methods.first()
    address = {"full_name": "张三", "phone": "13800000000", "province": "北京市", "city": "北京市",
               "street": "建国路1号"}
    variants = [v for p in vendor.products.order_by("pk") for v in p.variants.order_by("pk")[:1]][:count]
    now = clock.now()

    def buy(user, **target):
        cart = seats.prepare_checkout(user=user, **target)
        checkout.set_shipping_address(cart, address)
        checkout.set_shipping_method(cart, vendor.pk, method.pk)
        order = completion.complete(cart.token, user)
        payment = payments.create_payment(order, "dev", "automatic")
        deliver_event("dev", GatewayEventData(event_id=f"counts_{uuid.uuid4().hex}", type="payment_intent.succeeded",
                                              reference=payment.reference, status="captured", amount=payment.amount,
                                              currency=payment.currency))

    for variant, leader in zip(variants, leaders):
        price = (variant.list_price * Decimal("0.8")).quantize(Decimal("0.01"))
        deal = deals.create_deal(vendor_id=vendor.pk, variant_id=variant.pk, deal_price=price, group_size=3,
                                 starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=7), max_units=30)
        deals.submit_deal(deal.pk)
        deals.approve_deal(deal.pk, staff.pk)
        buy(leader, deal_id=deal.pk)
        buy(staff, share_code=Group.objects.get(deal=deal).share_code)
    Alert.objects.bulk_create([Alert(key=f"counts-{i}", kind="refund_pending", message=f"alert {i}",
                                     group=Group.objects.order_by("pk")[i % count], created_at=now)
                               for i in range(count)])
