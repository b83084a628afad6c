"""Repair-booking data. Times are stored in UTC (aware datetimes); a shop's opening hours
are local wall-clock times in the shop's own time zone (`RepairShop.timezone`).

A booking occupies `[start, end)` on one bay. On PostgreSQL an exclusion constraint
(btree_gist, `tstzrange(start, end)`, per bay, for the statuses in `OCCUPYING`) makes a
double booking impossible even if the application's lock were skipped (migration 0001).
"""
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

ZERO = Decimal("0")


class BayType(models.TextChoices):
    GENERAL = "general", "General lift 通用工位"
    ALIGNMENT = "alignment", "Alignment 四轮定位"
    TYRE = "tyre", "Tyre 轮胎"
    PAINT = "paint", "Paint 钣喷"
    EV = "ev", "EV 新能源"


class ServiceCategory(models.TextChoices):
    MAINTENANCE = "maintenance", "Maintenance 保养"
    BRAKES = "brakes", "Brakes 制动"
    TYRES = "tyres", "Tyres 轮胎"
    ALIGNMENT = "alignment", "Alignment 定位"
    AIR_CONDITIONING = "air_conditioning", "Air conditioning 空调"
    ELECTRICAL = "electrical", "Electrical 电气"
    BODYWORK = "bodywork", "Bodywork 钣喷"
    DIAGNOSTICS = "diagnostics", "Diagnostics 检测"


class RepairShop(models.Model):
    """Booking set-up of a vendor of kind repair shop or dealer."""

    vendor = models.OneToOneField("vendors.Vendor", related_name="+", on_delete=models.CASCADE)
    timezone = models.CharField(max_length=64, default="Asia/Shanghai")
    labour_rate = models.DecimalField(max_digits=8, decimal_places=2, default=ZERO,
                                      validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("99999"))],
                                      help_text="CNY per labour hour.")
    slot_minutes = models.PositiveSmallIntegerField(default=30, validators=[MinValueValidator(5),
                                                                             MaxValueValidator(240)])
    min_notice_minutes = models.PositiveIntegerField(default=120, validators=[MaxValueValidator(60 * 24 * 14)])
    max_advance_days = models.PositiveSmallIntegerField(default=30, validators=[MinValueValidator(1),
                                                                                 MaxValueValidator(365)])
    hold_minutes = models.PositiveSmallIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(60)])
    cancel_notice_minutes = models.PositiveIntegerField(default=240, validators=[MaxValueValidator(60 * 24 * 14)])
    reschedule_notice_minutes = models.PositiveIntegerField(default=240, validators=[MaxValueValidator(60 * 24 * 14)])
    no_show_after_minutes = models.PositiveSmallIntegerField(default=30, validators=[MaxValueValidator(24 * 60)])
    allow_overrun_minutes = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(240)],
                                                             help_text="A service may run this long past closing.")
    late_cancel_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO,
                                                  validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal(100))],
                                                  help_text="Kept of the labour on a late cancellation (0: full refund).")
    no_show_fee_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("20"),
                                              validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal(100))],
                                              help_text="Kept of the labour when the customer does not come.")
    parts_margin_hours = models.PositiveSmallIntegerField(default=24, validators=[MaxValueValidator(24 * 14)],
                                                          help_text="Parts must arrive this long before the slot.")
    accepting = models.BooleanField(default=True, help_text="Off: no new bookings (existing ones stay).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Repair shop {self.vendor_id}"


class RepairCategoryRate(models.Model):
    """A labour rate for one category of services, instead of the shop's rate."""

    shop = models.ForeignKey(RepairShop, related_name="category_rates", on_delete=models.CASCADE)
    category = models.CharField(max_length=30, choices=ServiceCategory.choices)
    labour_rate = models.DecimalField(max_digits=8, decimal_places=2,
                                      validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("99999"))])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "category"], name="repair_rate_once_per_category")]


class RepairOpeningRule(models.Model):
    """One opening interval on a weekday (0 = Monday), local wall-clock time in minutes
    after midnight (1440 = midnight at the end of the day). Several per day make a lunch
    break."""

    shop = models.ForeignKey(RepairShop, related_name="opening_rules", on_delete=models.CASCADE)
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)])
    opens = models.PositiveSmallIntegerField(validators=[MaxValueValidator(1439)])
    closes = models.PositiveSmallIntegerField(validators=[MaxValueValidator(1440)])

    class Meta:
        ordering = ["weekday", "opens"]
        constraints = [models.CheckConstraint(condition=Q(closes__gt=F("opens")), name="repair_rule_opens_before")]


class RepairDateException(models.Model):
    """A dated exception to the weekly hours: `closed` (a holiday, the Spring Festival),
    or other `intervals` that day (a short day, or a make-up working day (调休) on a
    weekend: [["09:00", "18:00"]]). Replaces the weekday's rules for that date."""

    shop = models.ForeignKey(RepairShop, related_name="date_exceptions", on_delete=models.CASCADE)
    date = models.DateField()
    closed = models.BooleanField(default=False)
    intervals = models.JSONField(default=list, blank=True, help_text='[["09:00", "18:00"], ...] local time.')
    label = models.CharField(max_length=100, blank=True, help_text='e.g. "春节 Spring Festival", "调休上班".')

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["shop", "date"], name="repair_exception_once_per_date")]


class RepairBay(models.Model):
    """A bay does one car at a time."""

    shop = models.ForeignKey(RepairShop, related_name="bays", on_delete=models.CASCADE)
    name = models.CharField(max_length=60)
    bay_type = models.CharField(max_length=20, choices=BayType.choices, default=BayType.GENERAL)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="repair_bay_name_per_shop")]

    def __str__(self):
        return self.name


class RepairBayBlock(models.Model):
    """Staff keep a bay free for a while (maintenance, a walk-in)."""

    bay = models.ForeignKey(RepairBay, related_name="blocks", on_delete=models.CASCADE)
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="repair_block_ordered")]


class RepairService(models.Model):
    """A service on a shop's menu, sold as a catalog variant of the shop (product type
    `repair-service`: no shipping, no stock). Its variant's list price is
    `labour_hours x rate` (the category's rate, else the shop's)."""

    shop = models.ForeignKey(RepairShop, related_name="services", on_delete=models.CASCADE)
    variant = models.OneToOneField("catalog.ProductVariant", related_name="+", on_delete=models.CASCADE)
    code = models.SlugField(max_length=60, help_text='e.g. "brake-pads" (search filter and demo key).')
    name_zh = models.CharField(max_length=150)
    name_en = models.CharField(max_length=150, blank=True)
    category = models.CharField(max_length=30, choices=ServiceCategory.choices, default=ServiceCategory.MAINTENANCE)
    labour_hours = models.DecimalField(max_digits=5, decimal_places=2,
                                       validators=[MinValueValidator(Decimal("0.05")), MaxValueValidator(Decimal("24"))])
    bay_type = models.CharField(max_length=20, choices=BayType.choices, default=BayType.GENERAL)
    buffer_minutes = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(240)])
    required_part_categories = models.JSONField(default=list, blank=True,
                                                help_text="Category ids: the cart must hold a part of one of them.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="repair_service_code_per_shop")]

    def __str__(self):
        return self.name_zh


class RepairHold(models.Model):
    """A slot kept for a cart for `hold_minutes` while its owner checks out. Never hides
    the slot from its owner (the cart `checkout_token`, or the signed-in `user`)."""

    shop = models.ForeignKey(RepairShop, related_name="holds", on_delete=models.CASCADE)
    bay = models.ForeignKey(RepairBay, related_name="holds", on_delete=models.CASCADE)
    start = models.DateTimeField()
    end = models.DateTimeField()
    checkout_token = models.UUIDField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                             on_delete=models.CASCADE)
    garage_vehicle_id = models.PositiveIntegerField(null=True, blank=True)
    install_parts = models.BooleanField(default=False)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["bay", "start"])]
        constraints = [models.UniqueConstraint(fields=["checkout_token"], name="repair_one_hold_per_cart")]


class BookingStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    IN_SERVICE = "in_service", "In service"
    COMPLETED = "completed", "Completed"
    CANCELLED_BY_CUSTOMER = "cancelled_by_customer", "Cancelled by the customer"
    CANCELLED_LATE = "cancelled_late", "Cancelled late"
    CANCELLED_BY_SHOP = "cancelled_by_shop", "Cancelled by the shop"
    RESCHEDULED = "rescheduled", "Rescheduled"
    NO_SHOW = "no_show", "No show"
    BLOCKED_PARTS = "blocked_parts", "Waiting for parts"
    RELEASED = "released", "Released (order not paid)"


OCCUPYING = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN, BookingStatus.IN_SERVICE)
CANCELLED = (BookingStatus.CANCELLED_BY_CUSTOMER, BookingStatus.CANCELLED_LATE, BookingStatus.CANCELLED_BY_SHOP)


class RepairBooking(models.Model):
    shop = models.ForeignKey(RepairShop, related_name="bookings", on_delete=models.PROTECT)
    bay = models.ForeignKey(RepairBay, related_name="bookings", on_delete=models.PROTECT)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                             on_delete=models.SET_NULL)
    email = models.EmailField(blank=True)
    garage_vehicle_id = models.PositiveIntegerField(null=True, blank=True)
    vehicle_label = models.CharField(max_length=200, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=24, choices=BookingStatus.choices, default=BookingStatus.CONFIRMED,
                              db_index=True)
    order_id = models.PositiveBigIntegerField(db_index=True)
    vendor_order_id = models.PositiveBigIntegerField()
    order_number = models.CharField(max_length=32, blank=True)
    service_line_ids = models.JSONField(default=list, help_text="Order lines of the shop's services.")
    part_line_ids = models.JSONField(default=list, help_text="Order lines of parts delivered to the shop.")
    labour_amount = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO,
                                        help_text="What the service lines cost the customer (refund basis).")
    parts_ready_at = models.DateTimeField(null=True, blank=True,
                                          help_text="Parts delivered to the shop can be there (ETA + margin).")
    rescheduled_from = models.OneToOneField("self", null=True, blank=True, related_name="rescheduled_to",
                                            on_delete=models.SET_NULL)
    notes = models.CharField(max_length=500, blank=True)
    installed_parts = models.JSONField(default=list, blank=True,
                                       help_text='[{"part_number": "...", "photo_id": "..."}] recorded at completion.')
    checked_in_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True)
    refund_due = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    refund_fee = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    refund_ids = models.JSONField(default=list, blank=True)
    refund_error = models.CharField(max_length=300, blank=True)
    reminded_24h_at = models.DateTimeField(null=True, blank=True)
    reminded_2h_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "pk"]
        indexes = [models.Index(fields=["bay", "start"]), models.Index(fields=["shop", "start"]),
                   models.Index(fields=["user", "start"])]
        constraints = [models.CheckConstraint(condition=Q(end__gt=F("start")), name="repair_booking_ordered")]

    @property
    def is_cancelled(self):
        return self.status in CANCELLED


class ExtraWorkStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved (to pay)"
    DECLINED = "declined", "Declined"
    PAID = "paid", "Paid"
    WITHDRAWN = "withdrawn", "Withdrawn"


class RepairExtraWork(models.Model):
    """Work the shop found during the service, or a part substitution: proposed by the
    shop, approved by the customer, and (when it costs something) paid separately as its
    own order line (kind `repair_extra_work`) - never added to what was captured."""

    booking = models.ForeignKey(RepairBooking, related_name="extra_work", on_delete=models.CASCADE)
    description = models.CharField(max_length=300)
    labour_hours = models.DecimalField(max_digits=5, decimal_places=2, default=ZERO,
                                       validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("24"))])
    parts_amount = models.DecimalField(max_digits=10, decimal_places=2, default=ZERO,
                                       validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("999999"))])
    labour_rate = models.DecimalField(max_digits=8, decimal_places=2, default=ZERO)
    replaces_part_number = models.CharField(max_length=64, blank=True,
                                            help_text="A substitution: the sold part number this replaces.")
    substitute_part_number = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=12, choices=ExtraWorkStatus.choices, default=ExtraWorkStatus.PROPOSED)
    order_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    @property
    def amount(self):
        from marketplace.plugins.pricing import quantize

        return quantize(self.labour_hours * self.labour_rate + self.parts_amount)


class PartsLeadTime(models.Model):
    """How fast a seller's parts reach an installer: days to dispatch + days in transit."""

    vendor = models.OneToOneField("vendors.Vendor", related_name="+", on_delete=models.CASCADE)
    lead_days = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(60)])
    shipping_days = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(60)])


class TowStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    DISPATCHED = "dispatched", "Dispatched"
    EN_ROUTE = "en_route", "En route"
    ON_SITE = "on_site", "On site"
    TOWING = "towing", "Towing"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


TOW_ACTIVE = (TowStatus.REQUESTED, TowStatus.DISPATCHED, TowStatus.EN_ROUTE, TowStatus.ON_SITE, TowStatus.TOWING)


class TowRequest(models.Model):
    """A member's tow to a partner shop. Coordinates are GCJ-02 (converted from WGS-84
    when the client says so)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    shop = models.ForeignKey(RepairShop, related_name="tows", on_delete=models.PROTECT)
    pickup_lat = models.DecimalField(max_digits=9, decimal_places=6)
    pickup_lon = models.DecimalField(max_digits=9, decimal_places=6)
    pickup_address = models.CharField(max_length=255, blank=True)
    garage_vehicle_id = models.PositiveIntegerField(null=True, blank=True)
    distance_km = models.DecimalField(max_digits=8, decimal_places=2)
    free_km = models.DecimalField(max_digits=8, decimal_places=2, default=ZERO)
    list_amount = models.DecimalField(max_digits=10, decimal_places=2, help_text="Base + per km x distance.")
    free_amount = models.DecimalField(max_digits=10, decimal_places=2, default=ZERO)
    paid_amount = models.DecimalField(max_digits=10, decimal_places=2, default=ZERO, help_text="What the member pays.")
    status = models.CharField(max_length=12, choices=TowStatus.choices, default=TowStatus.REQUESTED, db_index=True)
    driver = models.CharField(max_length=100, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    benefit_recorded = models.BooleanField(default=False)
    payment_id = models.PositiveBigIntegerField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [models.UniqueConstraint(fields=["user"], condition=Q(status__in=TOW_ACTIVE),
                                               name="repair_one_active_tow_per_member")]
