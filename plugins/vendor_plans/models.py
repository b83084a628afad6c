"""Plans (data platform staff manage), vendors' subscriptions to them, and what the billing
gateway's events told us (subscription observations, invoices), plus the notices sent.

State is derived: a subscription's status comes from the newest subscription event that
passes the ordering guard, its invoices' effects are absolute and keyed by invoice id,
and `access` follows from both through `access.derive_access`. See docs/vendor-plans.md.
"""
from decimal import Decimal

from django.db import models
from django.db.models import Q


class Interval(models.TextChoices):
    MONTH = "month", "Month"
    YEAR = "year", "Year"


class Plan(models.Model):
    """A plan vendors subscribe to: price and interval, trial, which vendor kinds may choose
    it, and the entitlements it grants (`entitlements()`)."""

    code = models.SlugField(max_length=50, unique=True, help_text="Stable identifier, e.g. storefront_yearly.")
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    description_zh = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="Price per interval.")
    currency = models.CharField(max_length=3, default="CNY")
    interval = models.CharField(max_length=10, choices=Interval.choices, default=Interval.YEAR)
    interval_count = models.PositiveSmallIntegerField(default=1)
    trial_days = models.PositiveIntegerField(default=0, help_text="0: no trial. 365: first year free.")
    vendor_kinds = models.JSONField(default=list, help_text='Vendor kinds that may choose it, e.g. ["repair_shop"].')
    is_active = models.BooleanField(default=True, help_text="Offered to new subscribers.")
    sort_order = models.PositiveSmallIntegerField(default=0)
    highlight = models.BooleanField(default=False, help_text='Shown as "best choice".')
    # Entitlements (docs/vendor-plans.md): None = no limit / the platform's default.
    max_products = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit.")
    booking = models.BooleanField(default=False)
    vip_tiers = models.BooleanField(default=False)
    points_cashback = models.BooleanField(default=False)
    group_buy = models.BooleanField(default=False)
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True,
                                          help_text="Fraction (0.05 = 5%); empty: the platform's default.")
    search_boost = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("1.00"),
                                       help_text="Multiplier on the vendor's search ranking.")
    # At the gateway: the product is the plan (its id never changes); a price per terms.
    gateway_price_id = models.CharField(max_length=255, blank=True)
    gateway_price_terms = models.CharField(max_length=100, blank=True, help_text="The terms gateway_price_id bills.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    FLAGS = ("booking", "vip_tiers", "points_cashback", "group_buy")

    class Meta:
        ordering = ["sort_order", "amount", "code"]

    def __str__(self):
        return self.code

    @property
    def product_key(self):
        """The gateway product id of this plan (what events name it by)."""
        return f"vendor_plan_{self.code}"

    @property
    def terms(self):
        return f"{self.amount}:{self.currency}:{self.interval_count}:{self.interval}"

    @property
    def yearly_amount(self):
        """The price per year, to compare plans (an upgrade costs more per year)."""
        per_year = Decimal(12) / self.interval_count if self.interval == Interval.MONTH else \
            Decimal(1) / self.interval_count
        return self.amount * per_year

    def entitlements(self):
        """{entitlement: value} this plan grants at full access."""
        granted = {"max_products": self.max_products, "search_boost": float(self.search_boost)}
        granted.update({flag: getattr(self, flag) for flag in self.FLAGS})
        if self.commission_rate is not None:
            granted["commission_rate"] = self.commission_rate
        return granted


class Status(models.TextChoices):
    PENDING = "pending", "Pending (asked, no event yet)"
    FAILED = "failed", "Failed (the gateway refused to create it)"
    INCOMPLETE = "incomplete", "Incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired", "Incomplete, expired"
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"
    UNPAID = "unpaid", "Unpaid"
    PAUSED = "paused", "Paused"


class Access(models.TextChoices):
    FULL = "full", "Full"
    GRACE = "grace", "Grace (past due, full access for now)"
    LIMITED = "limited", "Limited (no new listings or plan features)"
    SUSPENDED = "suspended", "Suspended (storefront hidden)"


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card (renews automatically)"
    WALLET = "wallet", "Alipay / WeChat Pay (pays each invoice)"


class VendorSubscription(models.Model):
    """One subscription of a vendor at the gateway. A vendor has at most one open (not
    ended) subscription; ended ones are history."""

    vendor = models.ForeignKey("vendors.Vendor", related_name="+", on_delete=models.PROTECT)
    started_plan = models.ForeignKey(Plan, related_name="+", on_delete=models.PROTECT,
                                     help_text="The plan the vendor subscribed to.")
    plan = models.ForeignKey(Plan, related_name="+", on_delete=models.PROTECT,
                             help_text="The plan the gateway bills now (from the newest subscription event).")
    entitled_plan = models.ForeignKey(Plan, related_name="+", on_delete=models.PROTECT,
                                      help_text="The plan whose entitlements apply (an upgrade counts once paid).")
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.CARD)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    ended = models.BooleanField(default=False, help_text="Terminal: canceled, expired or never created.")
    previous_status = models.CharField(max_length=20, blank=True, help_text="The status of the vendor's previous "
                                       "subscription when this one began: its access until the gateway confirms.")
    access = models.CharField(max_length=10, choices=Access.choices, default=Access.LIMITED,
                              help_text="Stored for filtering; always recomputed from the state and the clock.")
    # Gateway ids and what we asked for.
    gateway = models.CharField(max_length=50, default="stripe")
    customer_id = models.CharField(max_length=255, blank=True)
    customer_currency = models.CharField(max_length=3, blank=True)
    subscription_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    item_id = models.CharField(max_length=255, blank=True)
    price_id = models.CharField(max_length=255, blank=True)
    schedule_id = models.CharField(max_length=255, blank=True)
    requested_plan = models.ForeignKey(Plan, null=True, blank=True, related_name="+", on_delete=models.PROTECT,
                                       help_text="A plan change asked for and not yet in effect.")
    requested_change = models.CharField(max_length=10, blank=True, help_text='"upgrade" (now) or "downgrade".')
    requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(null=True, blank=True, help_text="What the vendor last asked.")
    # From the newest subscription event (the ordering guard's key is last_event_*).
    collection = models.CharField(max_length=20, default="automatic")
    trial_end = models.DateTimeField(null=True, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    cancel_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    snapshot_status = models.CharField(max_length=20, blank=True, help_text="The status the newest event reported.")
    last_event_created = models.DateTimeField(null=True, blank=True)
    last_event_rank = models.SmallIntegerField(default=-1)
    last_event_id = models.CharField(max_length=255, blank=True)
    # Derived from the invoices.
    paid_through = models.DateTimeField(null=True, blank=True, help_text="End of the last paid period.")
    grace_until = models.DateTimeField(null=True, blank=True)
    over_quota_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [models.UniqueConstraint(fields=["vendor"], condition=Q(ended=False),
                                               name="vendor_plans_one_open_subscription")]
        indexes = [models.Index(fields=["vendor", "ended"]), models.Index(fields=["access"])]

    def __str__(self):
        return f"{self.vendor_id}: {self.plan_id} ({self.status})"


class SubscriptionEvent(models.Model):
    """Every subscription-level event received for a subscription (also the ignored ones):
    the ordering key (created, rank, event id) and the plan it named. The plan history is
    what entitlement changes are derived from, whatever order events arrived in."""

    subscription = models.ForeignKey(VendorSubscription, related_name="observations", on_delete=models.CASCADE)
    event_id = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=40)
    created = models.DateTimeField()
    rank = models.SmallIntegerField()
    status = models.CharField(max_length=20)
    plan = models.ForeignKey(Plan, null=True, blank=True, related_name="+", on_delete=models.PROTECT)
    applied = models.BooleanField(default=False)

    class Meta:
        ordering = ["created", "rank", "event_id"]


class InvoiceStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    VOID = "void", "Void"
    UNCOLLECTIBLE = "uncollectible", "Uncollectible"


class BillingInvoice(models.Model):
    """An invoice of a vendor subscription, keyed by the gateway's invoice id. Every field is
    set absolutely (earliest failure, latest period end, ...), so events apply in any order
    and any number of times with the same result."""

    invoice_id = models.CharField(max_length=255, unique=True)
    subscription = models.ForeignKey(VendorSubscription, related_name="invoices", on_delete=models.CASCADE)
    vendor = models.ForeignKey("vendors.Vendor", related_name="+", on_delete=models.PROTECT)
    number = models.CharField(max_length=100, blank=True)
    billing_reason = models.CharField(max_length=50, blank=True)
    currency = models.CharField(max_length=3, default="CNY")
    amount_due = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    credited = models.JSONField(default=dict, blank=True, help_text="{credit note id: amount} (refunds).")
    period_end = models.DateTimeField(null=True, blank=True, help_text="Latest period end among its lines.")
    plan_codes = models.JSONField(default=list, blank=True, help_text="Plans its lines bill.")
    hosted_invoice_url = models.CharField(max_length=500, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True, help_text="Time of the newest event about it (amounts and "
                                                                    "links come from that one).")
    due_date = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True, help_text="The gateway's time of the paid event.")
    first_failed_at = models.DateTimeField(null=True, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    next_payment_attempt = models.DateTimeField(null=True, blank=True)
    final_failure = models.BooleanField(default=False, help_text="The gateway will not retry.")
    action_required_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    uncollectible_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["subscription", "paid_at"])]

    def __str__(self):
        return self.invoice_id

    @property
    def status(self):
        if self.paid_at is not None:
            return InvoiceStatus.PAID
        if self.voided_at is not None:
            return InvoiceStatus.VOID
        if self.uncollectible_at is not None:
            return InvoiceStatus.UNCOLLECTIBLE
        return InvoiceStatus.OPEN

    @property
    def owed(self):
        """Open and with a failed payment: the invoice that makes a subscription past due."""
        return self.status == InvoiceStatus.OPEN and self.first_failed_at is not None

    @property
    def credited_total(self):
        return sum((Decimal(str(v)) for v in (self.credited or {}).values()), Decimal("0.00"))


class AccessOverride(models.Model):
    """Platform staff's override of a vendor's derived access (e.g. FULL for a partner shop
    without a plan, or SUSPENDED for a policy reason), until a time or for good."""

    vendor = models.OneToOneField("vendors.Vendor", related_name="+", on_delete=models.CASCADE)
    access = models.CharField(max_length=10, choices=Access.choices)
    until = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    created_by = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.vendor_id}: {self.access}"


class HeldStorefront(models.Model):
    """A vendor whose storefront this plugin holds hidden (`hide_storefront`), so holds are
    lifted exactly when access returns."""

    vendor = models.OneToOneField("vendors.Vendor", related_name="+", on_delete=models.CASCADE)
    since = models.DateTimeField()


class Notice(models.Model):
    """A message to a vendor's owner and managers, sent once per key (a reminder for a given
    date and lead time, a failed attempt of an invoice, ...)."""

    key = models.CharField(max_length=255, unique=True)
    subscription = models.ForeignKey(VendorSubscription, related_name="notices", on_delete=models.CASCADE)
    kind = models.CharField(max_length=40)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    recipients = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
