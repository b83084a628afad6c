"""Group-buy data: deals, groups, members, vouchers, tracked refunds, staff alerts.

Every state change is a conditional update (`... WHERE status = <expected>`) or happens
under a row lock; the database itself refuses an oversubscribed group (a check
constraint on `paid_count + held_count <= size`).
"""
from django.conf import settings
from django.db import models
from django.db.models import F, Q


class DealKind(models.TextChoices):
    GOODS = "goods", "Goods (shipped or picked up)"
    SERVICE_VOUCHER = "service_voucher", "Service voucher (团购券, redeemed at the shop)"


class DealStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    REVIEW = "review", "Waiting for platform review"
    SCHEDULED = "scheduled", "Approved, starts later"
    LIVE = "live", "Live"
    SOLD_OUT = "sold_out", "Sold out (no new groups)"
    ENDED = "ended", "Ended"
    CANCELLED = "cancelled", "Cancelled"


OPEN_DEAL = (DealStatus.LIVE, DealStatus.SOLD_OUT)


class Deal(models.Model):
    """A vendor's group price for one variant, approved by platform staff. `max_units` caps
    the units sold through the deal (the stock set aside); `units_reserved` counts what
    forming groups hold (their size x `max_per_member`) and what succeeded groups sold."""

    vendor = models.ForeignKey("vendors.Vendor", related_name="group_deals", on_delete=models.PROTECT)
    variant = models.ForeignKey("catalog.ProductVariant", related_name="group_deals", on_delete=models.PROTECT)
    product = models.ForeignKey("catalog.Product", related_name="group_deals", on_delete=models.PROTECT)
    kind = models.CharField(max_length=20, choices=DealKind.choices, default=DealKind.GOODS)
    status = models.CharField(max_length=12, choices=DealStatus.choices, default=DealStatus.DRAFT, db_index=True)
    title_zh = models.CharField(max_length=120, blank=True)
    title_en = models.CharField(max_length=120, blank=True)
    deal_price = models.DecimalField(max_digits=12, decimal_places=2)
    list_price = models.DecimalField(max_digits=12, decimal_places=2, help_text="The variant's list price at submission.")
    currency = models.CharField(max_length=3, default="CNY")
    group_size = models.PositiveSmallIntegerField()
    window_hours = models.PositiveSmallIntegerField(default=24)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    max_units = models.PositiveIntegerField()
    units_reserved = models.PositiveIntegerField(default=0)
    max_per_member = models.PositiveSmallIntegerField(default=1, help_text="Units one member may buy in a group.")
    per_user_limit = models.PositiveSmallIntegerField(default=1, help_text="Groups one member may take part in.")
    new_customers_only = models.BooleanField(default=False, help_text="Only members who never bought at this shop.")
    voucher_valid_days = models.PositiveSmallIntegerField(null=True, blank=True)
    review_note = models.CharField(max_length=300, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                    on_delete=models.SET_NULL)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "ends_at"]), models.Index(fields=["product", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(units_reserved__lte=F("max_units")), name="group_deal_units_within_cap"),
            models.CheckConstraint(condition=Q(group_size__gte=1) & Q(group_size__lte=50), name="group_deal_size_range"),
            models.CheckConstraint(condition=Q(deal_price__gt=0), name="group_deal_price_positive"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="group_deal_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.title_zh or self.variant_id} ({self.group_size}人团 {self.deal_price})"

    @property
    def group_capacity(self):
        """Units a new group holds from the cap: every seat at the most a member may buy."""
        return self.group_size * self.max_per_member


class GroupStatus(models.TextChoices):
    FORMING = "forming", "Forming"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (not filled in time)"
    DISSOLVED = "dissolved", "Dissolved (deal cancelled or by staff)"


class Group(models.Model):
    """A group, created when its leader's payment arrives (never before). `held_count`:
    seats held by members' unpaid orders; `paid_count`: seats paid (captured or authorised).
    Settlement is one conditional update of `status`; `follow_up_done_at` is set when the
    winner's follow-up (release holds, capture, refunds requested) is complete."""

    deal = models.ForeignKey(Deal, related_name="groups", on_delete=models.PROTECT)
    leader = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="led_groups", on_delete=models.PROTECT)
    share_code = models.CharField(max_length=8, unique=True)
    status = models.CharField(max_length=10, choices=GroupStatus.choices, default=GroupStatus.FORMING)
    size = models.PositiveSmallIntegerField()
    capacity_units = models.PositiveIntegerField(help_text="Units of the deal's cap this group holds.")
    paid_count = models.PositiveSmallIntegerField(default=0)
    held_count = models.PositiveSmallIntegerField(default=0)
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)
    settle_reason = models.CharField(max_length=200, blank=True)
    follow_up_done_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "expires_at"]), models.Index(fields=["deal", "status"]),
                   models.Index(fields=["status", "follow_up_done_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(paid_count__lte=F("size") - F("held_count")),
                                   name="group_never_oversubscribed"),
        ]

    def __str__(self):
        return f"{self.share_code} ({self.paid_count}/{self.size}, {self.status})"

    @property
    def seats_left(self):
        return max(self.size - self.paid_count - self.held_count, 0)


class MemberStatus(models.TextChoices):
    OPENING = "opening", "Leader paying (no group yet)"
    PAYING = "paying", "Seat held, paying"
    JOINED = "joined", "Paid (or authorised), waiting for the group"
    WON = "won", "Group succeeded"
    LATE = "late", "Paid after the group closed: refunded"
    REFUNDING = "refunding", "Refund requested, not confirmed"
    REFUNDED = "refunded", "Refunded (the gateway confirmed it)"
    VOIDED = "voided", "Authorisation released; nothing was charged"
    ABANDONED = "abandoned", "Did not pay in time; seat released"
    CAPTURE_FAILED = "capture_failed", "The authorised payment could not be captured"


ACTIVE_MEMBER = (MemberStatus.OPENING, MemberStatus.PAYING, MemberStatus.JOINED, MemberStatus.WON)


class PaidBy(models.TextChoices):
    NONE = "", "Not paid"
    CAPTURE = "capture", "Captured at once"
    AUTHORIZATION = "authorization", "Authorised, captured on success"


class Member(models.Model):
    """One member's order in a group (the leader's too). `group` is empty while the leader
    is still paying (status OPENING)."""

    deal = models.ForeignKey(Deal, related_name="members", on_delete=models.PROTECT)
    group = models.ForeignKey(Group, null=True, blank=True, related_name="members", on_delete=models.PROTECT)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="group_memberships", on_delete=models.PROTECT)
    is_leader = models.BooleanField(default=False)
    order = models.OneToOneField("orders.Order", related_name="group_member", on_delete=models.PROTECT)
    vendor_order = models.ForeignKey("orders.VendorOrder", related_name="+", on_delete=models.PROTECT)
    order_line = models.ForeignKey("orders.OrderLine", related_name="+", on_delete=models.PROTECT)
    quantity = models.PositiveSmallIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="The sub-order's total (what is refunded).")
    status = models.CharField(max_length=16, choices=MemberStatus.choices, db_index=True)
    paid_by = models.CharField(max_length=16, choices=PaidBy.choices, blank=True, default="")
    payment_id = models.IntegerField(null=True, blank=True, help_text="The authorised payment (captured on success).")
    joined_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    capture_requested_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["deal", "user", "status"]), models.Index(fields=["group", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="group_member_once",
                                    condition=Q(status__in=["paying", "joined", "won"])),
            models.UniqueConstraint(fields=["deal", "user"], name="group_one_opening_per_leader",
                                    condition=Q(status="opening")),
        ]


class VoucherStatus(models.TextChoices):
    UNUSED = "unused", "Unused"
    REDEEMED = "redeemed", "Redeemed at the shop"
    EXPIRED = "expired", "Expired (being refunded)"
    REFUNDING = "refunding", "Refund requested"
    REFUNDED = "refunded", "Refunded (the gateway confirmed it)"


class Voucher(models.Model):
    """A service voucher (团购券): one per unit bought in a succeeded SERVICE_VOUCHER group."""

    code = models.CharField(max_length=13, unique=True)
    deal = models.ForeignKey(Deal, related_name="vouchers", on_delete=models.PROTECT)
    member = models.ForeignKey(Member, related_name="vouchers", on_delete=models.PROTECT)
    vendor = models.ForeignKey("vendors.Vendor", related_name="group_vouchers", on_delete=models.PROTECT)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="group_vouchers", on_delete=models.PROTECT)
    amount = models.DecimalField(max_digits=12, decimal_places=2, help_text="What a refund of this voucher returns.")
    status = models.CharField(max_length=10, choices=VoucherStatus.choices, default=VoucherStatus.UNUSED,
                              db_index=True)
    issued_at = models.DateTimeField()
    valid_until = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                    on_delete=models.SET_NULL)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["status", "valid_until"])]


class RefundPurpose(models.TextChoices):
    GROUP_FAILED = "group_failed", "Group failed or dissolved"
    LATE = "late", "Paid after the group closed"
    STRAY = "stray", "Captured after the order was cancelled"
    VOUCHER = "voucher", "Voucher refund"


class TrackStatus(models.TextChoices):
    REQUESTED = "requested", "Being requested"
    PENDING = "pending", "Pending at the gateway"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed; retried later"
    MANUAL = "manual", "Needs staff (retries used up)"


class RefundTrack(models.Model):
    """A refund the plugin owes, followed until the gateway confirms it. Each attempt uses
    the idempotency key `<key>-a<attempt>`; a failed attempt is retried with the next
    number, so a retry never repeats money that already went back."""

    key = models.CharField(max_length=80, unique=True, help_text="e.g. group-12-member-40")
    purpose = models.CharField(max_length=16, choices=RefundPurpose.choices)
    member = models.ForeignKey(Member, null=True, blank=True, related_name="refunds", on_delete=models.PROTECT)
    voucher = models.OneToOneField(Voucher, null=True, blank=True, related_name="refund", on_delete=models.PROTECT)
    order_id = models.IntegerField()
    vendor_order_id = models.IntegerField(null=True, blank=True)
    payment_id = models.IntegerField(null=True, blank=True, help_text="For a payment refunded without its order.")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=TrackStatus.choices, default=TrackStatus.REQUESTED,
                              db_index=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    refund_id = models.IntegerField(null=True, blank=True, db_index=True, help_text="The current attempt's Refund.")
    requested_at = models.DateTimeField()
    attempted_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["pk"]

    @property
    def idempotency_key(self):
        return f"{self.key}-a{self.attempt}"


class AlertKind(models.TextChoices):
    REFUND_PENDING = "refund_pending", "Refund pending too long"
    REFUND_FAILED = "refund_failed", "Refund failed"
    REFUND_MANUAL = "refund_manual", "Refund needs staff"
    CAPTURE_FAILED = "capture_failed", "Capture failed"


class Alert(models.Model):
    """Something platform staff must look at. Raised once per `key`."""

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    message = models.CharField(max_length=500)
    group = models.ForeignKey(Group, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    member = models.ForeignKey(Member, null=True, blank=True, related_name="+", on_delete=models.SET_NULL)
    refund_track = models.ForeignKey(RefundTrack, null=True, blank=True, related_name="alerts",
                                     on_delete=models.SET_NULL)
    created_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                    on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-pk"]


class GroupLog(models.Model):
    """Each state change of a group, written by the transaction that made it (an audit
    trail; the benchmark counts settlements per group from it)."""

    group = models.ForeignKey(Group, related_name="log", on_delete=models.CASCADE)
    status = models.CharField(max_length=10, choices=GroupStatus.choices)
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
