from django.db import models

from marketplace.catalog.models import Category
from marketplace.vendors.models import Vendor


class Campaign(models.Model):
    """A platform campaign (e.g. Double 11): an optional discount, and optionally an
    exemption from the price floor, for the items it covers while it runs."""

    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    exempt_from_floor = models.BooleanField(default=False)
    categories = models.ManyToManyField(Category, blank=True, help_text="Empty: every category.")
    vendors = models.ManyToManyField(Vendor, blank=True, help_text="Empty: every vendor.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="campaign_ends_after_start"),
            models.CheckConstraint(
                condition=models.Q(discount_percent__isnull=True)
                | (models.Q(discount_percent__gt=0) & models.Q(discount_percent__lt=100)),
                name="campaign_discount_in_range",
            ),
        ]

    def __str__(self):
        return self.name_zh
