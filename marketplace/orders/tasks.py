from celery import shared_task

from . import services


@shared_task
def expire_unpaid_orders():
    """Beat task: cancel unpaid orders past their deadline and release their stock."""
    return services.expire_unpaid()
