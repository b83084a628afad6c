"""The Celery application. Tasks live in each app's (and plugin's) tasks.py."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _add_plugin_beat_entries(sender, **kwargs):
    """Merge the beat entries that plugins contribute through `celery_beat_schedule`."""
    from marketplace.plugins.manager import get_manager

    schedule = dict(sender.conf.beat_schedule or {})
    for entries in get_manager().call("celery_beat_schedule", include_inactive=True):
        schedule.update(entries or {})
    sender.conf.beat_schedule = schedule
