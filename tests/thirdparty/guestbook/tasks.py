from celery import shared_task

from marketplace.plugins import get_settings, plugin_task


@shared_task
@plugin_task("guestbook")
def welcome(email):
    from .models import Entry

    greeting = get_settings("guestbook").greeting
    return Entry.objects.create(author_email=email, message=f"{greeting}, {email}!").pk


@shared_task
@plugin_task("guestbook")
def prune(keep=1000):
    from .models import Entry

    stale = Entry.objects.order_by("-pk").values_list("pk", flat=True)[keep:]
    return Entry.objects.filter(pk__in=list(stale)).delete()[0]
