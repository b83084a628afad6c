import json
import logging

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.core.errors import ErrorCode, ValidationError

from .models import WebhookDelivery, WebhookSubscription
from .signing import sign

logger = logging.getLogger("marketplace.webhooks")


DELIVER_TASK = "marketplace.webhooks.tasks.deliver_webhook"


def _deliver_later(delivery_id):
    """Queue the delivery task by its registered name (the tasks module calls these services)."""
    from celery import current_app

    current_app.tasks[DELIVER_TASK].delay(delivery_id)


_ACTIVE = None


def _subscriptions_snapshot():
    """Created at start-up (apps.py) so every process bumps it on a write."""
    global _ACTIVE
    if _ACTIVE is None:
        from marketplace.core.snapshots import Snapshot, connect

        snapshot = Snapshot("webhooks.subscriptions",
                            lambda: tuple(WebhookSubscription.objects.filter(is_active=True).order_by("pk")))
        connect(snapshot, WebhookSubscription)
        _ACTIVE = snapshot
    return _ACTIVE


def active_subscriptions():
    """The active subscriptions (read-only, shared by the process): re-read only after a
    subscription is written (marketplace.core.snapshots), not for every event."""
    return _subscriptions_snapshot().get()


def enqueue_deliveries(event):
    """Record one delivery per active subscription to the event and send each through
    Celery. Delivering the same event twice creates no second delivery."""
    subscriptions = [s for s in active_subscriptions() if event.name in (s.events or [])]
    ids = []
    for subscription in subscriptions:
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    subscription=subscription,
                    event_id=event.id,
                    event_name=event.name,
                    payload=event.as_dict(),
                )
        except IntegrityError:
            continue
        ids.append(delivery.pk)
    for delivery_id in ids:
        _deliver_later(delivery_id)
    return ids


@transaction.atomic
def attempt_delivery(delivery_id):
    """POST the delivery once. Returns True when done (delivered or given up). The row
    stays locked during the attempt: a concurrent attempt skips it."""
    delivery = (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("subscription").filter(pk=delivery_id).first()
    )
    if delivery is None or delivery.status != WebhookDelivery.PENDING:
        return True
    subscription = delivery.subscription
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "marketplace-webhooks/1",
        "X-Marketplace-Event": delivery.event_name,
        "X-Marketplace-Delivery": str(delivery.event_id),
        "X-Marketplace-Signature": sign(subscription.secret, body),
    }
    delivery.attempts += 1
    try:
        response = requests.post(
            subscription.target_url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        delivery.last_status_code = response.status_code
        ok = 200 <= response.status_code < 300
        delivery.last_error = "" if ok else response.text[:1000]
    except requests.RequestException as exc:
        ok = False
        delivery.last_status_code = None
        delivery.last_error = str(exc)[:1000]
    if ok:
        delivery.status = WebhookDelivery.SUCCESS
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.status = WebhookDelivery.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = timezone.now() + timezone.timedelta(seconds=retry_delay(delivery.attempts))
    delivery.save()
    return delivery.status != WebhookDelivery.PENDING


def retry_due(grace_seconds=300):
    cutoff = timezone.now() - timezone.timedelta(seconds=grace_seconds)
    from django.db.models import Q

    due = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.PENDING)
        .filter(Q(next_attempt_at__lte=cutoff) | Q(attempts=0, created_at__lte=cutoff))
        .values_list("pk", flat=True)[:500]
    )
    for delivery_id in due:
        _deliver_later(delivery_id)
    return len(due)


def retry_delay(attempts):
    """Exponential backoff: base, 2x base, 4x base, ..."""
    return settings.WEBHOOK_RETRY_BASE_SECONDS * (2 ** (attempts - 1))


def _clean_events(events):
    from marketplace.core.events import event_types

    known = event_types()
    unknown = sorted(set(events) - set(known))
    if unknown:
        raise ValidationError(f"Unknown event types: {', '.join(unknown)}.", code=ErrorCode.INVALID, field="events")
    return sorted(set(events))


def _clean_url(url):
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import URLValidator

    try:
        URLValidator(schemes=["http", "https"])(url)
    except DjangoValidationError:
        raise ValidationError("Enter a valid http(s) URL.", field="target_url") from None
    return url


def create_subscription(name, target_url, events, secret=None):
    if not (name or "").strip():
        raise ValidationError("A name is required.", code=ErrorCode.REQUIRED, field="name")
    subscription = WebhookSubscription(name=name.strip(), target_url=_clean_url(target_url), events=_clean_events(events))
    if secret:
        subscription.secret = secret
    subscription.save()
    return subscription


def update_subscription(subscription, **changes):
    if changes.get("target_url") is not None:
        subscription.target_url = _clean_url(changes["target_url"])
    if changes.get("events") is not None:
        subscription.events = _clean_events(changes["events"])
    if changes.get("name") is not None:
        subscription.name = changes["name"].strip()
    if changes.get("is_active") is not None:
        subscription.is_active = changes["is_active"]
    subscription.save()
    return subscription
