"""Plans, memberships (one row per member per period), partners and their codes, code
redemptions, benefit uses, renewal reminders and vendors' member-price exclusions.

Times are stored in UTC; terms and months are computed in the business zone
(Asia/Shanghai). Money is Decimal with 2 places, CNY.
"""
from django.conf import settings
from django.db import models
from django.db.models import F, Q


class MembershipPlan(models.Model):
    """What a member buys: a price for a term and the benefits of that term."""

    code = models.SlugField(max_length=40, unique=True, help_text='The checkout line\'s reference, e.g. "annual".')
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    term_months = models.PositiveSmallIntegerField(default=12)
    parts_discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=5)
    labour_discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=20)
    free_towing_per_term = models.PositiveSmallIntegerField(default=2)
    free_towing_km = models.PositiveSmallIntegerField(default=30, help_text="Kilometres covered per free tow.")
    is_active = models.BooleanField(default=True, help_text="Only active plans are sold.")
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="membership_plan_price_not_negative"),
            models.CheckConstraint(condition=Q(term_months__gte=1) & Q(term_months__lte=60),
                                   name="membership_plan_term_range"),
            models.CheckConstraint(condition=Q(parts_discount_percent__gte=0) & Q(parts_discount_percent__lte=100)
                                   & Q(labour_discount_percent__gte=0) & Q(labour_discount_percent__lte=100),
                                   name="membership_plan_percent_range"),
        ]

    def __str__(self):
        return f"{self.name_zh} ({self.code}, {self.price} {self.currency})"


class MembershipStatus(models.TextChoices):
    PENDING = "pending", "Pending payment"
    ACTIVE = "active", "Active"
    SCHEDULED = "scheduled", "Scheduled renewal"
    EXPIRED = "expired", "Expired"
    REFUNDED = "refunded", "Refunded"
    REVOKED = "revoked", "Revoked"
    VOID = "void", "Void (order not paid)"


# Paid periods that give benefits while their dates cover the moment asked about.
EFFECTIVE = (MembershipStatus.ACTIVE, MembershipStatus.SCHEDULED, MembershipStatus.EXPIRED)


class MembershipSource(models.TextChoices):
    ORDER = "order", "Bought in a checkout"
    GRANT = "grant", "Granted by platform staff"


class Membership(models.Model):
    """One period of one member. A renewal bought while a period runs is a second row,
    SCHEDULED from the first one's end. At most one ACTIVE row per member (a partial
    unique index)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="memberships",
                             on_delete=models.SET_NULL, help_text="Null once the account is deleted (ended).")
    plan = models.ForeignKey(MembershipPlan, related_name="memberships", on_delete=models.PROTECT)
    status = models.CharField(max_length=12, choices=MembershipStatus.choices, default=MembershipStatus.PENDING)
    source = models.CharField(max_length=8, choices=MembershipSource.choices, default=MembershipSource.ORDER)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="23:59:59 local time of the last day.")
    order = models.ForeignKey("orders.Order", null=True, blank=True, related_name="+", on_delete=models.PROTECT)
    order_line = models.ForeignKey("orders.OrderLine", null=True, blank=True, related_name="+",
                                   on_delete=models.PROTECT)
    partner_code = models.ForeignKey("PartnerCode", null=True, blank=True, related_name="memberships",
                                     on_delete=models.PROTECT)
    list_price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    price_paid = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    refunded_amount = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    reason = models.CharField(max_length=255, blank=True, help_text="Why it was granted, revoked or refunded.")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When a refund or revocation ended it.")

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["user", "status"]), models.Index(fields=["status", "ends_at"])]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(status="active"), name="membership_one_active"),
            models.UniqueConstraint(fields=["order_line"], condition=Q(order_line__isnull=False),
                                    name="membership_one_per_order_line"),
            models.CheckConstraint(condition=Q(starts_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                                   name="membership_ends_after_start"),
            models.CheckConstraint(condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("price_paid")),
                                   name="membership_refund_within_price"),
        ]

    def __str__(self):
        return f"Membership {self.pk} ({self.status})"


class Partner(models.Model):
    """A partner that hands out codes, e.g. a driving school."""

    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=30, default="driving_school")
    contact_name = models.CharField(max_length=60, blank=True)
    contact_phone = models.CharField(max_length=30, blank=True)
    contact_email = models.EmailField(blank=True)
    settlement_terms = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.name_zh


class PartnerCode(models.Model):
    """A discount on the membership fee. `code` is stored upper-case (matched case-
    insensitively). `held_count` = uses claimed by unpaid orders; `redeemed_count` = paid
    uses; together they never exceed `max_redemptions`."""

    partner = models.ForeignKey(Partner, related_name="codes", on_delete=models.PROTECT)
    code = models.CharField(max_length=40, unique=True)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    discount_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit.")
    held_count = models.PositiveIntegerField(default=0)
    redeemed_count = models.PositiveIntegerField(default=0)
    first_term_only = models.BooleanField(default=True, help_text="Only for members' first membership.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(discount_percent__isnull=False, discount_amount__isnull=True,
                             discount_percent__gt=0, discount_percent__lte=100)
                           | Q(discount_percent__isnull=True, discount_amount__isnull=False, discount_amount__gt=0)),
                name="partner_code_one_discount"),
            models.CheckConstraint(condition=Q(max_redemptions__isnull=True)
                                   | Q(max_redemptions__gte=F("held_count") + F("redeemed_count")),
                                   name="partner_code_within_cap"),
            models.CheckConstraint(condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                                   name="partner_code_window"),
        ]

    def __str__(self):
        return self.code


class RedemptionStatus(models.TextChoices):
    HELD = "held", "Held by an unpaid order"
    REDEEMED = "redeemed", "Redeemed (paid)"
    RELEASED = "released", "Released (order cancelled)"
    REFUNDED = "refunded", "Redeemed, membership refunded"


class CodeRedemption(models.Model):
    """One use of a partner code by one member for one order. A member uses a code once:
    a partial unique index over the uses that count."""

    code = models.ForeignKey(PartnerCode, related_name="redemptions", on_delete=models.PROTECT)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                             on_delete=models.SET_NULL)
    order = models.ForeignKey("orders.Order", related_name="+", on_delete=models.PROTECT)
    membership = models.OneToOneField(Membership, related_name="redemption", on_delete=models.PROTECT)
    status = models.CharField(max_length=10, choices=RedemptionStatus.choices, default=RedemptionStatus.HELD)
    list_price = models.DecimalField(max_digits=10, decimal_places=2)
    discount = models.DecimalField(max_digits=10, decimal_places=2)
    paid_amount = models.DecimalField(max_digits=10, decimal_places=2)
    refunded_amount = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    held_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["code", "redeemed_at"])]
        constraints = [
            models.UniqueConstraint(fields=["code", "user"], condition=Q(status__in=["held", "redeemed", "refunded"]),
                                    name="partner_code_once_per_user"),
        ]


class BenefitKind(models.TextChoices):
    MEMBER_PRICE = "member_price", "Member prices (saving)"
    TOWING = "towing", "Free tow"
    LABOUR = "labour", "Labour discount"


class BenefitUse(models.Model):
    """A benefit a member consumed in a term, valued in CNY: member-price savings of a paid
    sub-order (reduced by refund reversals, negative rows), a free tow at its list cost,
    a labour discount. Refund quotes subtract their sum. `reference` is unique per kind
    (an idempotency key: "vo:<id>", "booking:<id>", ...)."""

    membership = models.ForeignKey(Membership, related_name="benefit_uses", on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=BenefitKind.choices)
    reference = models.CharField(max_length=100)
    quantity = models.PositiveIntegerField(default=1)
    value = models.DecimalField(max_digits=10, decimal_places=2)
    km = models.PositiveIntegerField(null=True, blank=True)
    order_id = models.BigIntegerField(null=True, blank=True)
    vendor_order_id = models.BigIntegerField(null=True, blank=True)
    used_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True, help_text="Given back (a tow cancelled).")

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["kind", "reference"], name="benefit_use_reference_unique")]


class MembershipRefund(models.Model):
    """A refund platform staff made of a membership, with the quote it was based on."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested from the gateway"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (membership restored)"
        NOTHING_DUE = "nothing_due", "Nothing due (benefits used up the refund)"

    membership = models.ForeignKey(Membership, related_name="refunds", on_delete=models.PROTECT)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.REQUESTED)
    refund_ids = models.JSONField(default=list, blank=True, help_text="The engine's refund ids.")
    previous_status = models.CharField(max_length=12, choices=MembershipStatus.choices)
    quote = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=255)
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                              on_delete=models.SET_NULL)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="membership_refund_not_negative")]


class RenewalReminder(models.Model):
    """A renewal reminder `days` before a membership's end: created once, sent once."""

    membership = models.ForeignKey(Membership, related_name="reminders", on_delete=models.CASCADE)
    days = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    skipped = models.BooleanField(default=False, help_text="A closer reminder went out instead.")

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["membership", "days"], name="renewal_reminder_once")]


class MemberPriceExclusion(models.Model):
    """A vendor's product that never gets the member price (e.g. a loss leader)."""

    product = models.OneToOneField("catalog.Product", related_name="+", on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
