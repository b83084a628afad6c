"""Hook implementations. Imports are lazy: this module loads while the engine starts."""
from marketplace.plugins import hookimpl

PLUGIN = "vendor_plans"


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
def vendor_entitlements(vendor_ids):
    """Each vendor's plan, as its access allows: max_products, booking, vip_tiers,
    points_cashback, group_buy, commission_rate, search_boost (docs/vendor-plans.md)."""
    from .enforcement import vendor_grants

    return vendor_grants(vendor_ids)


@hookimpl
def gateway_event(gateway, event):
    from .billing_events import handle

    return handle(gateway, event)


def business_now():
    """The engine clock in the business zone (module level: beat pickles its schedule)."""
    from marketplace.plugins import clock

    return clock.localtime(clock.now())


@hookimpl
def celery_beat_schedule():
    from celery.schedules import crontab

    return {
        "vendor-plans-sweep": {"task": "vendor_plans.sweep", "schedule": 300.0},
        # 09:30 in the business zone (Asia/Shanghai by default), whatever CELERY_TIMEZONE is.
        "vendor-plans-reminders": {"task": "vendor_plans.reminders",
                                   "schedule": crontab(hour=9, minute=30, nowfun=business_now)},
    }


@hookimpl
def handle_event(event):
    """A vendor approved or reinstated, or this plugin's settings changed: bring access and
    storefront holds up to date at once (a task, so the request does not wait)."""
    from celery import current_app

    sync = current_app.tasks["vendor_plans.sync_vendors"]
    if event.name == "plugin_updated" and event.payload.get("plugin") == PLUGIN:
        sync.delay(None)
    elif event.name in ("vendor_approved", "vendor_reinstated") and event.vendor_id is not None:
        sync.delay([event.vendor_id])
