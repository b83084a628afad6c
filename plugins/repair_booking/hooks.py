"""Hook implementations (the engine's hooks). Imports are lazy: this module loads while
the engine starts."""
from marketplace.plugins import hookimpl


# -- start-up contributions -------------------------------------------------------------------
@hookimpl
def graphql_queries():
    from .schema.member import Query
    from .schema.staff import StaffQuery
    from .schema.towing import TowQueryFields

    return [Query, StaffQuery, TowQueryFields]


@hookimpl
def graphql_mutations():
    from .schema.member import Mutation
    from .schema.staff import StaffMutation
    from .schema.towing import TowMutation

    return [Mutation, StaffMutation, TowMutation]


@hookimpl
def graphql_type_fields():
    from .schema.types import type_fields

    return type_fields()


@hookimpl
def register_line_kinds():
    from .lines import ExtraWorkLine

    return [ExtraWorkLine()]


@hookimpl
def register_events():
    from .events import EVENTS

    return EVENTS


@hookimpl
def register_entitlements():
    from marketplace.plugins.entitlements import EntitlementSpec

    return [EntitlementSpec("booking", "flag", True, "all",
                            "Online booking of repair services (bays, slots, member labour discount).")]


@hookimpl
def celery_beat_schedule():
    from .tasks import beat_schedule

    return beat_schedule()


# -- prices -----------------------------------------------------------------------------------
@hookimpl
def price_adjustments(lines, context):
    from .pricing import price_adjustments as adjust

    return adjust(lines, context)


# -- checkout and orders -------------------------------------------------------------------------
@hookimpl
def checkout_validate(checkout, lines, context):
    from .services import bookings

    bookings.validate_cart(checkout, lines)


@hookimpl
def checkout_reserve(order, checkout, lines, adjustments, context):
    from .services import bookings

    bookings.reserve(order, checkout, lines)


@hookimpl
def on_order_released(order, reason):
    from .services import bookings

    bookings.release_order(order, reason)


@hookimpl
def on_order_paid(order):
    from .services import extra_work

    extra_work.on_order_paid(order)


@hookimpl
def on_payment_captured(payment):
    from .services import towing

    towing.on_payment_captured(payment)


# -- search: the shop document ----------------------------------------------------------------------
@hookimpl
def search_shop_mapping_fields():
    from .search import mapping_fields

    return mapping_fields()


@hookimpl
def search_shop_fields(vendors):
    from .search import shop_fields

    return shop_fields(vendors)
