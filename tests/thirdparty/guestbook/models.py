from django.conf import settings
from django.db import models


class Entry(models.Model):
    author_email = models.EmailField()
    message = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]


class Edition(models.Model):
    """The sticker edition: `claimed` copies of `size` are taken by orders (a capacity)."""

    size = models.PositiveIntegerField()
    claimed = models.PositiveIntegerField(default=0)


class StickerClaim(models.Model):
    """Copies one order took (released when the order is cancelled unpaid)."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    line = models.ForeignKey("orders.OrderLine", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    message = models.CharField(max_length=200, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)


class Credit(models.Model):
    """Guestbook credit a member can pay with (a tender)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    balance = models.DecimalField(max_digits=10, decimal_places=2, default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(balance__gte=0), name="guestbook_credit_not_negative")]


class Donation(models.Model):
    """A standalone charge: money given to the guestbook, with no order."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    payment_id = models.PositiveIntegerField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
