"""Hook implementations (the engine's hooks and the ones this plugin publishes). Imports
are lazy: this module loads while the engine starts."""
from marketplace.plugins import hookimpl


# -- start-up contributions -------------------------------------------------------------------
@hookimpl
def graphql_queries():
    from .schema import Query

    return Query


@hookimpl
def graphql_mutations():
    from .schema import Mutation

    return Mutation


@hookimpl
def register_events():
    from .events import EVENTS

    return EVENTS


@hookimpl
def register_entitlements():
    from marketplace.plugins.entitlements import EntitlementSpec

    return [
        EntitlementSpec("vip_tiers", "flag", True, "all", "The store may run VIP tiers, points and cashback "
                                                          "(the vip_tiers plugin is off without it)."),
        EntitlementSpec("points_cashback", "flag", True, "all", "The store's customers earn and redeem points and "
                                                                "cashback."),
    ]


@hookimpl
def celery_beat_schedule():
    from .tasks import beat_schedule

    return beat_schedule()


# -- prices and checkout ------------------------------------------------------------------------------
@hookimpl
def price_adjustments(lines, context):
    from .pricing import price_adjustments as adjust

    return adjust(lines, context)


@hookimpl
def checkout_adjustments(checkout, lines, context):
    from .services import redemption

    return redemption.offers(checkout, lines, context)


@hookimpl
def checkout_validate(checkout, lines, context):
    from .services import redemption

    redemption.check(checkout, lines, context)


@hookimpl
def checkout_reserve(order, checkout, lines, adjustments, context):
    from .services import redemption

    redemption.reserve(order, adjustments)


@hookimpl
def on_order_released(order, reason):
    from .services import redemption

    redemption.release(order)


@hookimpl
def on_order_paid(order):
    from .services import earning

    earning.on_order_paid(order)


@hookimpl
def on_refund_recorded(refund):
    from .services import refunds

    refunds.on_refund_recorded(refund)


@hookimpl
def handle_event(event):
    from . import signals

    signals.dispatch(event)


# -- published for other plugins (hookspecs.py) ------------------------------------------------------
@hookimpl(trylast=True)
def vip_deliver_message(message):
    from .services import campaigns

    return campaigns.deliver_email(message)


@hookimpl
def vip_customer(user_id, store_id):
    from decimal import Decimal

    from .models import VipAccount

    account = VipAccount.objects.select_related("tier").filter(user_id=user_id, vendor_id=store_id).first()
    if account is None:
        return None
    tier = account.tier
    return {"tier": tier.name_zh if tier else None, "tier_rank": tier.rank if tier else 0,
            "percent_off": tier.percent_off if tier else Decimal("0.00"), "net_spend": account.net_spend,
            "points": account.points_available, "points_pending": account.points_pending,
            "cashback": account.cashback_available, "cashback_pending": account.cashback_pending}


@hookimpl
def vip_in_segment(user_id, segment_id):
    from .models import SegmentMember

    return SegmentMember.objects.filter(user_id=user_id, segment_id=segment_id).exists()
