from celery import shared_task

from . import services


@shared_task(bind=True, max_retries=None, acks_late=True)
def deliver_webhook(self, delivery_id):
    """Send one delivery; on failure retry with exponential backoff until
    WEBHOOK_MAX_ATTEMPTS, then mark it failed. Every attempt is recorded."""
    done = services.attempt_delivery(delivery_id)
    if not done:
        from .models import WebhookDelivery

        attempts = WebhookDelivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)
        countdown = services.retry_delay(attempts)
        if self.request.is_eager:
            # Embedded mode (no broker): the retry runs inline, right away.
            return self.retry(countdown=countdown, throw=False)
        raise self.retry(countdown=countdown)
