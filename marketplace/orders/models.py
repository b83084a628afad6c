from django.conf import settings
from django.db import models
from django.db.models import Q


class OrderStatus(models.TextChoices):
    UNPAID = "unpaid", "Unpaid"
    PAID = "paid", "Paid"
    PARTIALLY_FULFILLED = "partially_fulfilled", "Partially fulfilled"
    FULFILLED = "fulfilled", "Fulfilled"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


class VendorOrderStatus(models.TextChoices):
    UNPAID = "unpaid", "Unpaid"
    PAID = "paid", "Paid"
    FULFILLED = "fulfilled", "Fulfilled"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


class Order(models.Model):
    number = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="orders",
                             on_delete=models.SET_NULL)
    email = models.EmailField()
    status = models.CharField(max_length=24, choices=OrderStatus.choices, default=OrderStatus.UNPAID, db_index=True)
    currency = models.CharField(max_length=3, default="CNY")
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_address = models.JSONField()
    checkout_token = models.UUIDField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Unpaid orders are cancelled after this.")
    paid_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self):
        return self.number


class VendorOrder(models.Model):
    """One vendor's part of an order: it sees and fulfils only this."""

    order = models.ForeignKey(Order, related_name="vendor_orders", on_delete=models.CASCADE)
    vendor = models.ForeignKey("vendors.Vendor", related_name="vendor_orders", on_delete=models.PROTECT)
    status = models.CharField(max_length=12, choices=VendorOrderStatus.choices, default=VendorOrderStatus.UNPAID)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4)
    shipping_method_name = models.CharField(max_length=200)
    carrier = models.CharField(max_length=100, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "vendor"], name="one_vendor_order_per_vendor"),
            models.CheckConstraint(condition=Q(refunded__gte=0) & Q(refunded__lte=models.F("total")),
                                   name="vendor_order_refund_within_total"),
        ]


class OrderLine(models.Model):
    vendor_order = models.ForeignKey(VendorOrder, related_name="lines", on_delete=models.CASCADE)
    variant = models.ForeignKey("catalog.ProductVariant", null=True, related_name="+", on_delete=models.SET_NULL)
    product_name = models.CharField(max_length=255)
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    unit_list_price = models.DecimalField(max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    price_explanation = models.JSONField(default=dict)

    class Meta:
        ordering = ["pk"]


class Allocation(models.Model):
    """Units of a line held in one warehouse's stock (Stock.reserved) until shipped or released."""

    line = models.ForeignKey(OrderLine, related_name="allocations", on_delete=models.CASCADE)
    stock = models.ForeignKey("catalog.Stock", related_name="allocations", on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField()
    released_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)


class LedgerAccount(models.TextChoices):
    CUSTOMER_PAYMENTS = "customer_payments", "Customer payments (clearing)"
    VENDOR_PAYABLE = "vendor_payable", "Owed to the vendor"
    PLATFORM_REVENUE = "platform_revenue", "Platform commission"


class LedgerEntry(models.Model):
    """Double entry: every booking writes entries that sum to zero."""

    booking = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=20)  # sale, refund
    account = models.CharField(max_length=20, choices=LedgerAccount.choices)
    vendor = models.ForeignKey("vendors.Vendor", related_name="ledger_entries", on_delete=models.PROTECT)
    order = models.ForeignKey(Order, related_name="ledger_entries", on_delete=models.PROTECT)
    vendor_order = models.ForeignKey(VendorOrder, related_name="ledger_entries", on_delete=models.PROTECT)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["vendor", "account"])]
