import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q


class VendorKind(models.TextChoices):
    PARTS_VENDOR = "parts_vendor", "Parts vendor"
    REPAIR_SHOP = "repair_shop", "Repair shop"
    DEALER = "dealer", "Dealer"


class VendorStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUSPENDED = "suspended", "Suspended"
    CLOSED = "closed", "Closed"


class Vendor(models.Model):
    """A shop on the marketplace: a parts vendor, a repair shop or a dealer."""

    kind = models.CharField(max_length=20, choices=VendorKind.choices)
    status = models.CharField(max_length=20, choices=VendorStatus.choices, default=VendorStatus.APPLIED, db_index=True)
    status_reason = models.CharField(max_length=500, blank=True)
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    slug = models.SlugField(max_length=100, unique=True)
    logo_url = models.URLField(max_length=500, blank=True)
    description_zh = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    province = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    district = models.CharField(max_length=100, blank=True)
    street = models.CharField(max_length=255, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # {"mon": [["09:00", "18:00"]], ...} in the business time zone; missing day = closed.
    opening_hours = models.JSONField(default=dict, blank=True)
    commission_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True,
                                          help_text="Platform commission; empty = the plan's or platform default.")
    storefront_hidden = models.BooleanField(
        default=False, help_text="Kept by StorefrontHold rows: hidden from listings and search while any hold exists.")
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="vendor_applications")
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.name_zh

    @property
    def is_visible(self):
        return self.status == VendorStatus.APPROVED


class StorefrontHold(models.Model):
    """A reason, owned by a plugin (e.g. vendor_plans: "subscription cancelled"), to keep a
    vendor's storefront out of listings and search. Independent of the vendor's status:
    a plugin lifting its hold never undoes a suspension by platform staff."""

    vendor = models.ForeignKey(Vendor, related_name="storefront_holds", on_delete=models.CASCADE)
    owner = models.CharField(max_length=60, help_text="The plugin that placed the hold.")
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["vendor", "owner"], name="one_storefront_hold_per_owner")]


class StaffRole(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    STAFF = "staff", "Staff"


class VendorStaff(models.Model):
    vendor = models.ForeignKey(Vendor, related_name="staff", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="vendor_memberships", on_delete=models.CASCADE)
    role = models.CharField(max_length=10, choices=StaffRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "user"], name="vendor_staff_once"),
            models.UniqueConstraint(fields=["vendor"], condition=Q(role="owner"), name="vendor_one_owner"),
        ]

    def __str__(self):
        return f"{self.user} ({self.role}) at {self.vendor}"


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


class VendorInvitation(models.Model):
    vendor = models.ForeignKey(Vendor, related_name="invitations", on_delete=models.CASCADE)
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=StaffRole.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]


class Warehouse(models.Model):
    vendor = models.ForeignKey(Vendor, related_name="warehouses", on_delete=models.CASCADE)
    name = models.CharField(max_length=200)
    province = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    street = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["vendor", "name"], name="warehouse_name_per_vendor")]

    def __str__(self):
        return f"{self.vendor}: {self.name}"
