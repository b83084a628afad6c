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
