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
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                         help_text="Order-level discounts (e.g. a referral code), already out of total.")
    total = models.DecimalField(max_digits=12, decimal_places=2, help_text="Goods + shipping - order-level discounts.")
    tendered_total = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                         help_text="Paid by tenders (points, store credit), not by the gateway.")
    refunded_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipping_address = models.JSONField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
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
        constraints = [models.CheckConstraint(condition=Q(tendered_total__gte=0) & Q(tendered_total__lte=models.F("total")),
                                              name="order_tendered_within_total")]

    def __str__(self):
        return self.number

    @property
    def amount_due(self):
        """What the gateway must capture: the total less what tenders paid."""
        return self.total - self.tendered_total


class VendorOrder(models.Model):
    """One seller's part of an order (a sub-order): a vendor sees and fulfils only this.
    `vendor` None is the platform selling its own lines (e.g. a membership)."""

    order = models.ForeignKey(Order, related_name="vendor_orders", on_delete=models.CASCADE)
    vendor = models.ForeignKey("vendors.Vendor", null=True, blank=True, related_name="vendor_orders",
                               on_delete=models.PROTECT)
    status = models.CharField(max_length=12, choices=VendorOrderStatus.choices, default=VendorOrderStatus.UNPAID)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, help_text="Goods after every discount.")
    shipping = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                   help_text="Order-level discounts allocated here (already out of subtotal).")
    platform_funded = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                          help_text="Discounts the platform pays the vendor back (member prices...).")
    total = models.DecimalField(max_digits=12, decimal_places=2)
    tendered = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                   help_text="Part of total paid by tenders (points, store credit).")
    refunded = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4)
    revenue_account = models.CharField(max_length=60, blank=True,
                                       help_text="For the platform's own sub-orders: the ledger account of the sale.")
    on_hold = models.BooleanField(default=False, help_text="Paid but not fulfillable nor payable out (e.g. a forming group).")
    hold_reason = models.CharField(max_length=200, blank=True)
    shipping_method_name = models.CharField(max_length=200, blank=True)
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
    """A bought line, frozen at completion: what it was, its explained price, the order-level
    discount and tender allocated to it, and the plugin metadata it carried."""

    vendor_order = models.ForeignKey(VendorOrder, related_name="lines", on_delete=models.CASCADE)
    kind = models.CharField(max_length=60, default="product")
    reference = models.CharField(max_length=100, blank=True, default="")
    variant = models.ForeignKey("catalog.ProductVariant", null=True, related_name="+", on_delete=models.SET_NULL)
    product_name = models.CharField(max_length=255)
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    unit_list_price = models.DecimalField(max_digits=12, decimal_places=2)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                   help_text="Order-level discount allocated to this line.")
    total = models.DecimalField(max_digits=12, decimal_places=2, help_text="unit_price x quantity - discount.")
    tendered = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                   help_text="Tender allocated to this line (paid by points, store credit...).")
    platform_funded = models.DecimalField(max_digits=12, decimal_places=2, default=0,
                                          help_text="Platform-funded discount on this line, all units.")
    requires_shipping = models.BooleanField(default=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    price_explanation = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict, blank=True)

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
    """The core's accounts. Plugins book on their own accounts too (any lower-case name,
    e.g. "customer_credit_liability"); see orders/ledger.py."""

    CUSTOMER_PAYMENTS = "customer_payments", "Customer payments (clearing)"
    VENDOR_PAYABLE = "vendor_payable", "Owed to the vendor"
    PLATFORM_REVENUE = "platform_revenue", "Platform commission"
    PLATFORM_PROMOTIONS = "platform_promotions", "Platform-funded discounts"
    CUSTOMER_CREDIT = "customer_credit_liability", "Tenders owed to customers (points, store credit)"


class LedgerEntry(models.Model):
    """Double entry: every booking writes entries that sum to zero. `vendor` None is the
    platform's own business (its sales, a vendor's subscription fee has the vendor)."""

    booking = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=40)  # sale, refund, tender, subscription_fee, ...
    account = models.CharField(max_length=60)
    vendor = models.ForeignKey("vendors.Vendor", null=True, blank=True, related_name="ledger_entries",
                               on_delete=models.PROTECT)
    order = models.ForeignKey(Order, null=True, blank=True, related_name="ledger_entries", on_delete=models.PROTECT)
    vendor_order = models.ForeignKey(VendorOrder, null=True, blank=True, related_name="ledger_entries",
                                     on_delete=models.PROTECT)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["vendor", "account"]), models.Index(fields=["vendor_order", "kind"])]


class LedgerKey(models.Model):
    """An idempotency key for a booking (e.g. "invoice:in_123"): booking twice with the same
    key books once."""

    key = models.CharField(max_length=200, unique=True)
    booking = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)
