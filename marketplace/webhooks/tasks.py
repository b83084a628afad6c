from celery import shared_task

from . import services


@shared_task(bind=True, max_retries=None, acks_late=True)
def deliver_webhook(self, delivery_id):
    """Send one delivery; on failure retry with exponential backoff until
    WEBHOOK_MAX_ATTEMPTS, then mark it failed. Every attempt is recorded.

    Without a broker (eager mode) a failed attempt is left pending with its
    `next_attempt_at`; `retry_due_webhooks` sends it again, so a dead endpoint never
    holds up the request that emitted the event."""
    done = services.attempt_delivery(delivery_id)
    if done or self.request.is_eager:
        return done
    from .models import WebhookDelivery

    attempts = WebhookDelivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)
    raise self.retry(countdown=services.retry_delay(attempts))


@shared_task
def retry_due_webhooks(grace_seconds=300):
    """Beat task: re-send pending deliveries whose retry is overdue by `grace_seconds`
    (their Celery retry was lost, or they were made in eager mode)."""
    return services.retry_due(grace_seconds)
