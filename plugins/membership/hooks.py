"""Hook implementations (the engine's hooks and the ones this plugin publishes). Imports
are lazy: this module loads while the engine starts."""
from marketplace.plugins import hookimpl


# -- start-up contributions -------------------------------------------------------------------
@hookimpl
def graphql_queries():
    from .schema import Query
    from .schema_staff import StaffQuery

    return [Query, StaffQuery]


@hookimpl
def graphql_mutations():
    from .schema import Mutation
    from .schema_staff import StaffMutation

    return [Mutation, StaffMutation]


@hookimpl
def graphql_type_fields():
    from .schema import type_fields

    return type_fields()


@hookimpl
def register_line_kinds():
    from .lines import MembershipLine

    return [MembershipLine()]


@hookimpl
def register_events():
    from .events import EVENTS

    return EVENTS


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
    from marketplace.plugins.errors import ErrorCode, ValidationError

    from .pricing import LINE_KIND

    memberships = [line for line in lines if line.kind == LINE_KIND]
    if len(memberships) > 1:
        raise ValidationError("Buy one membership per order.", code=ErrorCode.LIMIT_EXCEEDED,
                              field=f"lines.{memberships[1].index}")


@hookimpl
def checkout_reserve(order, checkout, lines, adjustments, context):
    from .services import memberships

    memberships.reserve(order, lines)


@hookimpl
def on_order_paid(order):
    from .services import benefits, memberships

    memberships.activate_order(order)
    benefits.record_order_savings(order)


@hookimpl
def on_order_released(order, reason):
    from .services import memberships

    memberships.void_order(order)


@hookimpl
def on_refund_recorded(refund):
    from .services import benefits, refunds

    benefits.reverse_on_refund(refund)
    refunds.end_for_order_refund(refund)


@hookimpl
def handle_event(event):
    from marketplace.plugins.events import RefundFailed, RefundSucceeded

    if isinstance(event, (RefundSucceeded, RefundFailed)):
        from .services import refunds

        refunds.on_refund_event(event.refund_id, isinstance(event, RefundSucceeded))


# -- published for other plugins (hookspecs.py) ------------------------------------------------------
@hookimpl
def is_member(user_id, at):
    from marketplace.plugins import clock

    from . import lookups

    return lookups.period_at(user_id, at or clock.now()) is not None if user_id else False


@hookimpl
def member_benefits(user_id, at):
    from .services import benefits

    return benefits.benefits_at(user_id, at)


@hookimpl
def record_member_benefit(user_id, benefit, reference, value, at):
    from .services import benefits

    return benefits.record(user_id, benefit, reference, value, at)


@hookimpl
def release_member_benefit(benefit, reference):
    from .services import benefits

    return benefits.release(benefit, reference)
