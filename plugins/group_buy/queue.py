"""Queue the plugin's Celery tasks by name (registered by apps.ready importing tasks.py), so
the services never import the module of tasks that imports them."""
from celery import current_app
from django.db import transaction


def now(name, *args):
    """Send `group_buy.<name>` now (outside a transaction, e.g. from an event handler)."""
    current_app.tasks[f"group_buy.{name}"].delay(*args)


def after_commit(name, *args):
    """Send `group_buy.<name>` once the current transaction commits (never if it rolls back)."""
    transaction.on_commit(lambda: now(name, *args))
