from django.db import models
from django.db.models import Q


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the customer"
    AUTHORIZED = "authorized", "Authorised, not captured"
    CAPTURED = "captured", "Captured"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


# How far each status is along; the state machine only moves forward.
STATUS_RANK = {"pending": 0, "failed": 1, "authorized": 2, "captured": 3, "cancelled": 3}


class Payment(models.Model):
    """Money asked of a customer at a gateway: for an order (`order`), or a standalone charge
    a plugin made (`order` None; `purpose` names it, e.g. "repair_booking:tow:12")."""

    order = models.ForeignKey("orders.Order", null=True, blank=True, related_name="payments", on_delete=models.PROTECT)
    purpose = models.CharField(max_length=100, default="order", db_index=True)
    customer = models.ForeignKey("accounts.User", null=True, blank=True, related_name="payments",
                                 on_delete=models.SET_NULL)
    description = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    gateway = models.CharField(max_length=50)
    reference = models.CharField(max_length=255, blank=True, db_index=True, help_text="The gateway's id (e.g. pi_...).")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    capture_method = models.CharField(max_length=10, default="automatic")
    status = models.CharField(max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    captured_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "reference"], condition=~Q(reference=""),
                                    name="payment_reference_once"),
            models.CheckConstraint(condition=Q(refunded_amount__lte=models.F("captured_amount")),
                                   name="payment_refund_within_captured"),
        ]


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Requested, not confirmed by the gateway"
    SUCCEEDED = "succeeded", "Money returned"
    FAILED = "failed", "The gateway could not return it"


class Refund(models.Model):
    """Money returned. Written (pending) before the gateway is called, so a crash never loses
    track of a refund in flight; `succeeded` only when the gateway confirms (at once for
    cards, later by webhook for asynchronous methods). `amount` is the value refunded on the
    sub-order; `cash` what the gateway returns, `tendered` what goes back to tenders."""

    payment = models.ForeignKey(Payment, null=True, blank=True, related_name="refunds", on_delete=models.PROTECT)
    vendor_order = models.ForeignKey("orders.VendorOrder", null=True, related_name="refunds", on_delete=models.PROTECT)
    status = models.CharField(max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING, db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    cash = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    tendered = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    idempotency_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["reference"])]


class GatewayEvent(models.Model):
    """Each webhook event a gateway delivered, stored once: the key to exactly-once processing."""

    gateway = models.CharField(max_length=50)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=255, blank=True)
    handled = models.BooleanField(default=True, help_text="False when neither the core nor a plugin handled the type.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["gateway", "event_id"], name="gateway_event_once")]
