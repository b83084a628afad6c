import secrets

from django.db import models


def new_secret():
    return secrets.token_urlsafe(32)


class WebhookSubscription(models.Model):
    """An external app's endpoint that receives signed deliveries of domain events."""

    name = models.CharField(max_length=100)
    target_url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, default=new_secret, help_text="HMAC-SHA256 key for signatures.")
    events = models.JSONField(default=list, help_text="Event names; an empty list receives nothing.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.name} -> {self.target_url}"


class WebhookDelivery(models.Model):
    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"
    STATUSES = [(PENDING, "Pending"), (SUCCESS, "Delivered"), (FAILED, "Failed")]

    subscription = models.ForeignKey(WebhookSubscription, related_name="deliveries", on_delete=models.CASCADE)
    event_id = models.UUIDField()
    event_name = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhook_delivery_once_per_event")
        ]

    def __str__(self):
        return f"{self.event_name} to {self.subscription_id} ({self.status})"
