"""Hook implementations. Imports are lazy: this module loads while the engine starts."""
from marketplace.plugins import hookimpl


# -- start-up --------------------------------------------------------------------------------
@hookimpl
def graphql_queries():
    from .schema import Query

    return Query


@hookimpl
def graphql_mutations():
    from .schema import Mutation

    return Mutation


@hookimpl
def graphql_type_fields():
    from .schema import type_fields

    return type_fields()


@hookimpl
def register_events():
    from .events import EVENTS

    return EVENTS


@hookimpl
def register_entitlements():
    from marketplace.plugins.entitlements import EntitlementSpec

    return [EntitlementSpec("group_buy", "flag", True, "all",
                            "Group deals (拼团) and service vouchers. On unless a plan plugin says off.")]


@hookimpl
def celery_beat_schedule():
    return {
        "group-buy-sweep": {"task": "group_buy.sweep", "schedule": 30.0},
        "group-buy-refunds": {"task": "group_buy.reconcile_refunds", "schedule": 300.0},
        "group-buy-vouchers": {"task": "group_buy.expire_vouchers", "schedule": 3600.0},
    }


# -- prices and checkout ------------------------------------------------------------------------------
@hookimpl
def price_adjustments(lines, context):
    from .seats import price_adjustments as deal_prices

    return deal_prices(lines, context)


@hookimpl
def checkout_validate(checkout, lines):
    from .seats import validate

    validate(checkout, lines)


@hookimpl
def checkout_reserve(order, lines, adjustments):
    from .seats import reserve

    reserve(order, lines, adjustments)


@hookimpl
def on_order_released(order):
    from .seats import meta_of, release

    if any(meta_of(line) for line in order.lines):
        release(order)


@hookimpl
def on_order_paid(order):
    from .seats import meta_of
    from .settlement import paid

    if any(meta_of(line) for line in order.lines):
        paid(order)


@hookimpl
def on_payment_authorized(payment):
    from .settlement import authorized

    authorized(payment)


@hookimpl
def on_refund_recorded(refund):
    from .refunds import recorded

    if refund.refund_id is not None:
        recorded(refund)


@hookimpl
def handle_event(event):
    from marketplace.plugins.events import PaymentCaptured, RefundFailed, RefundSucceeded

    if isinstance(event, (RefundSucceeded, RefundFailed)):
        if isinstance(event, RefundSucceeded) and event.vendor_order_id is not None:
            return  # a sub-order's refund: settled in `on_refund_recorded`, inside its transaction
        from .refunds import refund_settled

        refund_settled(event.refund_id)  # refunds of payments without a sub-order, and failures
    elif isinstance(event, PaymentCaptured) and event.order_id is not None:
        from .models import Member, MemberStatus

        if Member.objects.filter(order_id=event.order_id, status__in=[
                MemberStatus.ABANDONED, MemberStatus.VOIDED]).exists():
            from . import queue

            queue.now("stray_payment", event.payment_id, event.order_id)


# -- search: the deal badge in the product document (see search.py) -------------------------------
@hookimpl
def register_product_fields():
    from .search import product_fields

    return product_fields()
