"""The loyalty plugin's tables. Everything is per store (vendor).

- `VipProgram` (one per store): switched on by the vendor, the platform's product gate
  (`eligible`, `below_since` for the grace period), stacking with member prices, earning
  rates and cashback rules.
- `VipTier`: rank, name, threshold (rolling 12-month net spend at the store), benefits
  (`percent_off` the store's products, `points_multiplier`).
- `VipAccount` (customer x store): tier, tier since, protected until, 12-month spend, and
  the cached balances (`points_*`, `cashback_*`; available may be negative: a debt).
- `VipEntry`: the append-only ledger of points and cashback; every row has a unique `key`
  (idempotency) and the cached balances always equal the sums of the entries.
- `VipLot`: available credit with its expiry, consumed first-in first-out
  (`VipLotUse` records what a redemption took from which lot, to give it back).
- `VipOrder` / `VipRedemption`: what a paid sub-order earned and what an order redeemed,
  with what refunds reversed or returned so far.
- `Segment`, `SegmentMember`, `SegmentExport`, `Campaign`, `CampaignDelivery`.
"""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

ZERO = Decimal("0.00")


class Stacking(models.TextChoices):
    STACK = "stack", "Stack with the member price"
    BEST_OF = "best_of", "Best of VIP and member price"


class Asset(models.TextChoices):
    POINTS = "points", "Points (积分)"
    CASHBACK = "cashback", "Cashback (返现, CNY)"


class Bucket(models.TextChoices):
    PENDING = "pending", "Pending"
    AVAILABLE = "available", "Available"


class EntryKind(models.TextChoices):
    EARN_PENDING = "earn_pending", "Earned (pending)"
    MATURE = "mature", "Pending became available"
    EARN_AVAILABLE = "earn_available", "Earned (available)"
    REDEEM = "redeem", "Redeemed at checkout"
    REDEEM_RETURN = "redeem_return", "Redemption returned"
    REVERSE = "reverse", "Reversed by a refund"
    EXPIRE = "expire", "Expired"
    ADJUST = "adjust", "Adjusted"


class VipProgram(models.Model):
    vendor = models.OneToOneField("vendors.Vendor", related_name="+", on_delete=models.CASCADE)
    enabled = models.BooleanField(default=False, help_text="The store runs its programme (needs min_products).")
    stacking = models.CharField(max_length=10, choices=Stacking.choices, default=Stacking.STACK)
    points_enabled = models.BooleanField(default=True)
    earn_points_per_cny = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1.00"),
                                              help_text="Points per 1 CNY of goods spend, before the tier multiplier.")
    cashback_enabled = models.BooleanField(default=False)
    cashback_percent = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO,
                                           help_text="Cashback in percent of goods spend.")
    cashback_fixed = models.DecimalField(max_digits=10, decimal_places=2, default=ZERO,
                                         help_text="Fixed cashback per sub-order from cashback_threshold on.")
    cashback_threshold = models.DecimalField(max_digits=10, decimal_places=2, default=ZERO)
    cashback_cap = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True,
                                       help_text="Most cashback per sub-order (empty: no cap).")
    protection_days = models.PositiveIntegerField(default=90, help_text="A reached tier is kept at least this long.")
    product_count = models.PositiveIntegerField(default=0, help_text="Active published products at the last count.")
    eligible = models.BooleanField(default=False, help_text="product_count >= the platform's min_products.")
    below_since = models.DateTimeField(null=True, blank=True, help_text="When the store fell below min_products.")
    counted_at = models.DateTimeField(null=True, blank=True)
    enabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "VIP programme"
        constraints = [
            models.CheckConstraint(condition=Q(cashback_percent__gte=0) & Q(cashback_percent__lte=100)
                                   & Q(cashback_fixed__gte=0) & Q(cashback_threshold__gte=0)
                                   & Q(earn_points_per_cny__gte=0), name="vip_program_rates_sane"),
        ]

    def __str__(self):
        return f"VIP programme of vendor {self.vendor_id}"


class VipTier(models.Model):
    program = models.ForeignKey(VipProgram, related_name="tiers", on_delete=models.CASCADE)
    rank = models.PositiveSmallIntegerField(help_text="1 = the first tier; higher ranks need more spend.")
    name_zh = models.CharField(max_length=40)
    name_en = models.CharField(max_length=40, blank=True)
    threshold = models.DecimalField(max_digits=12, decimal_places=2,
                                    help_text="Rolling 12-month net spend at the store (CNY) to reach it.")
    percent_off = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO,
                                      help_text="Off the store's products (the platform floor still applies).")
    points_multiplier = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("1.00"))

    class Meta:
        ordering = ["program", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["program", "rank"], name="vip_tier_rank_once"),
            models.CheckConstraint(condition=Q(percent_off__gte=0) & Q(percent_off__lte=90) & Q(threshold__gte=0)
                                   & Q(points_multiplier__gte=0), name="vip_tier_values_sane"),
        ]

    def __str__(self):
        return f"{self.name_zh} (rank {self.rank})"


class VipAccount(models.Model):
    vendor = models.ForeignKey("vendors.Vendor", related_name="+", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", null=True, on_delete=models.SET_NULL,
                             help_text="Empty once the customer deleted their account (ledger kept, anonymised).")
    tier = models.ForeignKey(VipTier, related_name="accounts", null=True, blank=True, on_delete=models.SET_NULL)
    tier_since = models.DateTimeField(null=True, blank=True)
    protected_until = models.DateTimeField(null=True, blank=True)
    net_spend = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO,
                                    help_text="Rolling 12-month net spend at the store, as of spend_at.")
    spend_at = models.DateTimeField(null=True, blank=True)
    points_available = models.BigIntegerField(default=0, help_text="Negative: a debt new earnings pay first.")
    points_pending = models.BigIntegerField(default=0)
    cashback_available = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    cashback_pending = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "VIP account"
        constraints = [
            models.UniqueConstraint(fields=["vendor", "user"], condition=Q(user__isnull=False),
                                    name="vip_account_once_per_store"),
            models.CheckConstraint(condition=Q(points_pending__gte=0) & Q(cashback_pending__gte=0),
                                   name="vip_account_pending_not_negative"),
        ]
        indexes = [models.Index(fields=["user", "vendor"], name="vip_account_user")]

    def __str__(self):
        return f"VIP account {self.pk} (vendor {self.vendor_id}, user {self.user_id})"

    def available(self, asset):
        return Decimal(self.points_available) if asset == Asset.POINTS else self.cashback_available

    def pending(self, asset):
        return Decimal(self.points_pending) if asset == Asset.POINTS else self.cashback_pending


class VipLot(models.Model):
    """Available credit from one source, consumed first-in first-out by expiry."""

    account = models.ForeignKey(VipAccount, related_name="lots", on_delete=models.PROTECT)
    asset = models.CharField(max_length=10, choices=Asset.choices)
    key = models.CharField(max_length=120, unique=True, help_text='e.g. "earn:points:<sub-order id>".')
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    remaining = models.DecimalField(max_digits=14, decimal_places=2)
    available_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expires_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(remaining__gte=0) & Q(remaining__lte=F("amount")),
                                              name="vip_lot_remaining_within_amount")]
        indexes = [models.Index(fields=["account", "asset", "expires_at"], name="vip_lot_fifo")]


class VipOrder(models.Model):
    """What one paid sub-order of a store earned, and what refunds reversed of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (not yet available)"
        MATURED = "matured", "Available"
        CANCELLED = "cancelled", "Refunded before it matured"

    account = models.ForeignKey(VipAccount, related_name="orders", on_delete=models.PROTECT)
    order = models.ForeignKey("orders.Order", related_name="+", null=True, on_delete=models.SET_NULL)
    vendor_order_id = models.BigIntegerField(unique=True)
    paid_at = models.DateTimeField()
    base = models.DecimalField(max_digits=12, decimal_places=2, help_text="Goods paid in money (the earning base).")
    tier_name = models.CharField(max_length=40, blank=True)
    multiplier = models.DecimalField(max_digits=4, decimal_places=2, default=Decimal("1.00"))
    points_earned = models.BigIntegerField(default=0)
    points_reversed = models.BigIntegerField(default=0)
    points_value = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO,
                                       help_text="CNY booked in the engine ledger for the points.")
    points_value_reversed = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    cashback_earned = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    cashback_reversed = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    refunded = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    completed_at = models.DateTimeField(null=True, blank=True)
    matures_at = models.DateTimeField(null=True, blank=True)
    matured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-paid_at", "-pk"]
        indexes = [models.Index(fields=["status", "matures_at"], name="vip_order_maturing")]


class VipRedemption(models.Model):
    """Points or cashback an order's sub-order paid with (a tender), and what came back."""

    account = models.ForeignKey(VipAccount, related_name="redemptions", on_delete=models.PROTECT)
    asset = models.CharField(max_length=10, choices=Asset.choices)
    order = models.ForeignKey("orders.Order", related_name="+", null=True, on_delete=models.SET_NULL)
    vendor_order_id = models.BigIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Points (whole) or cashback (CNY).")
    value = models.DecimalField(max_digits=12, decimal_places=2, help_text="CNY it paid.")
    returned = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    returned_value = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["asset", "vendor_order_id"], name="vip_redemption_once"),
            models.CheckConstraint(condition=Q(returned__lte=F("amount")) & Q(returned__gte=0),
                                   name="vip_redemption_returned_within_amount"),
        ]


class VipLotUse(models.Model):
    lot = models.ForeignKey(VipLot, related_name="uses", on_delete=models.PROTECT)
    redemption = models.ForeignKey(VipRedemption, related_name="uses", on_delete=models.PROTECT)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    returned = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)

    class Meta:
        ordering = ["pk"]


class VipEntry(models.Model):
    """One append-only ledger row. Balances are sums of these (per account, asset and
    bucket); `key` makes every write idempotent."""

    account = models.ForeignKey(VipAccount, related_name="entries", on_delete=models.PROTECT)
    asset = models.CharField(max_length=10, choices=Asset.choices)
    bucket = models.CharField(max_length=10, choices=Bucket.choices)
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Points (whole) or CNY; signed.")
    key = models.CharField(max_length=140, unique=True)
    order = models.ForeignKey("orders.Order", related_name="+", null=True, blank=True, on_delete=models.SET_NULL)
    vendor_order_id = models.BigIntegerField(null=True, blank=True)
    lot = models.ForeignKey(VipLot, related_name="+", null=True, blank=True, on_delete=models.PROTECT)
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "VIP entries"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["account", "asset", "bucket"], name="vip_entry_balance")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("VIP ledger entries are append-only")
        super().save(*args, **kwargs)


# -- segments and campaigns ------------------------------------------------------------------
class Segment(models.Model):
    vendor = models.ForeignKey("vendors.Vendor", related_name="+", on_delete=models.CASCADE)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    rule = models.JSONField(help_text="A rule tree over customer facts (see docs/loyalty.md).")
    member_count = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", null=True, blank=True,
                                   on_delete=models.SET_NULL)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["vendor", "name", "pk"]
        constraints = [models.UniqueConstraint(fields=["vendor", "name"], name="vip_segment_name_once")]

    def __str__(self):
        return self.name


class SegmentMember(models.Model):
    segment = models.ForeignKey(Segment, related_name="members", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "user"], name="vip_segment_member_once")]


class SegmentExport(models.Model):
    """A CSV export of a segment (personal data: who took it and when is kept)."""

    segment = models.ForeignKey(Segment, related_name="exports", null=True, on_delete=models.SET_NULL)
    segment_name = models.CharField(max_length=80)
    vendor = models.ForeignKey("vendors.Vendor", related_name="+", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", null=True, on_delete=models.SET_NULL)
    rows = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-pk"]


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"

    vendor = models.ForeignKey("vendors.Vendor", related_name="+", on_delete=models.CASCADE)
    segment = models.ForeignKey(Segment, related_name="campaigns", null=True, on_delete=models.SET_NULL)
    name = models.CharField(max_length=80)
    channel = models.CharField(max_length=20, default="email")
    subject = models.CharField(max_length=150)
    body = models.TextField(max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    recipients = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", null=True, blank=True,
                                   on_delete=models.SET_NULL)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.name


class CampaignDelivery(models.Model):
    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        NO_CHANNEL = "no_channel", "No plugin delivers this channel"

    campaign = models.ForeignKey(Campaign, related_name="deliveries", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", null=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=12, choices=Status.choices)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="vip_campaign_delivery_once")]
