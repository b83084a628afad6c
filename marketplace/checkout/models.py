import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class ShippingMethod(models.Model):
    """A vendor-defined way to ship: a flat rate, or a rate by weight."""

    FLAT = "flat"
    WEIGHT = "weight"
    KINDS = [(FLAT, "Flat rate"), (WEIGHT, "By weight")]

    vendor = models.ForeignKey("vendors.Vendor", related_name="shipping_methods", on_delete=models.CASCADE)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=10, choices=KINDS, default=FLAT)
    price = models.DecimalField(max_digits=10, decimal_places=2, help_text="Flat price, or the base of a weight rate.")
    price_per_kg = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    free_over = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
                                    help_text="Free when the vendor's subtotal reaches this.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(price__gte=0) & Q(price_per_kg__gte=0),
                                              name="shipping_prices_not_negative")]

    def __str__(self):
        return f"{self.vendor}: {self.name_zh}"


class Checkout(models.Model):
    """A cart. Anonymous carts are reached by their token; a member's by their account."""

    token = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="checkouts",
                             on_delete=models.CASCADE)
    email = models.EmailField(blank=True)
    shipping_address = models.JSONField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="CNY")
    metadata = models.JSONField(default=dict, blank=True,
                                help_text="Plugin data by plugin name, e.g. {\"membership\": {\"code\": \"JIAXIAO-A\"}}.")
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(completed_at__isnull=True) & Q(user__isnull=False),
                                    name="one_open_checkout_per_user"),
        ]


PRODUCT_LINE = "product"


class CheckoutLine(models.Model):
    """A cart line: a catalog variant (kind "product"), or a line a plugin sells (kind
    registered through `register_line_kinds`, identified by `reference`, e.g. a plan code).
    `vendor` is the seller; None means the platform itself. `metadata` holds plugin data by
    plugin name (a booking hold, a deal and share code): written by plugins, shown to the
    cart's owner, copied to the order line at completion."""

    checkout = models.ForeignKey(Checkout, related_name="lines", on_delete=models.CASCADE)
    kind = models.CharField(max_length=60, default=PRODUCT_LINE)
    variant = models.ForeignKey("catalog.ProductVariant", null=True, blank=True, related_name="+",
                                on_delete=models.CASCADE)
    reference = models.CharField(max_length=100, blank=True, default="")
    vendor = models.ForeignKey("vendors.Vendor", null=True, blank=True, related_name="+", on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField()
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["checkout", "variant"], condition=Q(variant__isnull=False),
                                    name="checkout_variant_once"),
            models.UniqueConstraint(fields=["checkout", "kind", "reference"], condition=Q(variant__isnull=True),
                                    name="checkout_plugin_line_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="checkout_line_quantity_positive"),
            models.CheckConstraint(condition=Q(kind=PRODUCT_LINE, variant__isnull=False)
                                   | (~Q(kind=PRODUCT_LINE) & Q(variant__isnull=True)),
                                   name="checkout_line_kind_matches_variant"),
        ]


class CheckoutShipping(models.Model):
    """The shipping method chosen for one vendor's part of a checkout."""

    checkout = models.ForeignKey(Checkout, related_name="shipping_choices", on_delete=models.CASCADE)
    vendor = models.ForeignKey("vendors.Vendor", related_name="+", on_delete=models.CASCADE)
    method = models.ForeignKey(ShippingMethod, related_name="+", on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["checkout", "vendor"], name="one_shipping_per_vendor")]
