from marketplace.plugins import get_settings, hookimpl


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
    from .events import GuestbookSigned

    return [GuestbookSigned]


@hookimpl
def handle_event(event):
    settings = get_settings("guestbook")
    if settings.fail_on_events:
        raise RuntimeError("guestbook exploded on purpose")
    if settings.refuse_events:
        from marketplace.plugins.errors import ValidationError

        raise ValidationError("guestbook refuses on purpose")
    if event.name == "user_registered":
        from .tasks import welcome

        welcome.delay(event.payload["email"])


@hookimpl
def celery_beat_schedule():
    return {"guestbook-prune": {"task": "guestbook.tasks.prune", "schedule": 3600.0}}


# -- commerce ---------------------------------------------------------------------------------
@hookimpl
def register_line_kinds():
    from .commerce import StickerPack

    return [StickerPack()]


@hookimpl
def checkout_validate(checkout, lines, context):
    if get_settings("guestbook").crash_in_validation:
        raise RuntimeError("guestbook validation exploded on purpose")


@hookimpl
def checkout_adjustments(checkout, lines, context):
    from .commerce import credit_offered

    return credit_offered(checkout, lines)


@hookimpl
def checkout_reserve(order, checkout, lines, adjustments, context):
    from .commerce import reserve

    reserve(order, adjustments)


@hookimpl
def on_order_released(order, reason):
    from .commerce import release

    release(order)


@hookimpl
def on_refund_recorded(refund):
    from .commerce import refunded

    refunded(refund)


@hookimpl
def vendor_entitlements(vendor_ids):
    settings = get_settings("guestbook")
    answer = {}
    for vendor_id in vendor_ids:
        values = {}
        if str(vendor_id) in settings.product_limits:
            values["max_products"] = settings.product_limits[str(vendor_id)]
        if vendor_id in settings.no_guestbook_for:
            values["guestbook_corner"] = False
        if values:
            answer[vendor_id] = values
    return answer


# -- the hook this plugin publishes (guestbook/hookspecs.py) ------------------------------------
@hookimpl
def guestbook_signatures(email):
    from .models import Entry

    return Entry.objects.filter(author_email=email).count()


@hookimpl
def register_entitlements():
    from marketplace.plugins.entitlements import EntitlementSpec

    return [EntitlementSpec("guestbook_corner", "flag", True, "all", "The store may run a guestbook corner.")]


@hookimpl
def on_order_paid(order):
    from .commerce import paid

    paid(order)


@hookimpl
def on_payment_captured(payment):
    from .commerce import donation_paid

    donation_paid(payment)


@hookimpl
def gateway_event(gateway, event):
    """The guestbook answers gateway pings (a stand-in for billing events a plugin owns)."""
    if event.type != "guestbook.ping":
        return None
    from .models import Entry

    Entry.objects.create(author_email=f"{gateway}@gateway.invalid", message=f"ping {event.event_id}")
    return "guestbook pinged"


@hookimpl
def graphql_types():
    from .schema import StickerClaimNode

    return [StickerClaimNode]


# -- the shop document: stores with a guestbook corner ------------------------------------------
@hookimpl
def search_shop_mapping_fields():
    from elasticsearch.dsl import Boolean

    return {"guestbook_corner": Boolean()}


@hookimpl
def search_shop_fields(vendors):
    from marketplace.plugins import is_active

    return {v.pk: {"guestbook_corner": is_active("guestbook", v.pk)} for v in vendors}
