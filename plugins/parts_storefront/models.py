import re
import unicodedata

from django.conf import settings
from django.db import models
from django.db.models import F, Q

# Separators people type inside part numbers: spaces, hyphens and dashes, dots, slashes.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015./\\_]+")


def normalize_part_number(number):
    """The lookup form of a part number: "04465 02220", "04465-02220" and "0446502220"
    are the same number. Full-width characters (as typed with a Chinese IME) count as
    their ASCII forms."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", number or "")).upper()


class VehicleMake(models.Model):
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name_en", "pk"]

    def __str__(self):
        return self.name_en or self.name_zh


class VehicleModel(models.Model):
    make = models.ForeignKey(VehicleMake, related_name="models", on_delete=models.PROTECT)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    slug = models.SlugField(max_length=100)

    class Meta:
        ordering = ["name_en", "pk"]
        constraints = [models.UniqueConstraint(fields=["make", "slug"], name="parts_model_slug_per_make")]

    def __str__(self):
        return f"{self.make} {self.name_en or self.name_zh}"


class Fuel(models.TextChoices):
    PETROL = "petrol", "Petrol"
    DIESEL = "diesel", "Diesel"
    HYBRID = "hybrid", "Hybrid"
    PLUG_IN_HYBRID = "phev", "Plug-in hybrid"
    ELECTRIC = "electric", "Electric"


class Body(models.TextChoices):
    SEDAN = "sedan", "Sedan"
    HATCHBACK = "hatchback", "Hatchback"
    SUV = "suv", "SUV"
    MPV = "mpv", "MPV"
    WAGON = "wagon", "Wagon"
    PICKUP = "pickup", "Pickup"


class Vehicle(models.Model):
    """One fitment target: a model over a range of model years with one engine."""

    model = models.ForeignKey(VehicleModel, related_name="vehicles", on_delete=models.PROTECT)
    year_from = models.PositiveSmallIntegerField()
    year_to = models.PositiveSmallIntegerField()
    engine = models.CharField(max_length=100, help_text='e.g. "1.5L EA211"')
    fuel = models.CharField(max_length=10, choices=Fuel.choices, blank=True)
    body = models.CharField(max_length=10, choices=Body.choices, blank=True)

    class Meta:
        ordering = ["model", "year_from", "engine", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(year_to__gte=F("year_from")), name="parts_vehicle_years_ordered"),
            models.UniqueConstraint(fields=["model", "year_from", "year_to", "engine"], name="parts_vehicle_once"),
        ]

    def __str__(self):
        return f"{self.model} {self.year_from}-{self.year_to} {self.engine}"


class Fitment(models.Model):
    """A variant fits a vehicle."""

    variant = models.ForeignKey("catalog.ProductVariant", related_name="+", on_delete=models.CASCADE)
    vehicle = models.ForeignKey(Vehicle, related_name="fitments", on_delete=models.CASCADE)
    note = models.CharField(max_length=255, blank=True, help_text='e.g. "front axle"')

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["variant", "vehicle"], name="parts_fitment_once")]


class PartNumberKind(models.TextChoices):
    OE = "oe", "OE (original equipment)"
    MANUFACTURER = "manufacturer", "Manufacturer"


class PartNumber(models.Model):
    variant = models.ForeignKey("catalog.ProductVariant", related_name="+", on_delete=models.CASCADE)
    number = models.CharField(max_length=64, help_text="As entered, e.g. 04465-02220.")
    normalized = models.CharField(max_length=64, db_index=True, editable=False)
    kind = models.CharField(max_length=20, choices=PartNumberKind.choices, default=PartNumberKind.OE)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["variant", "normalized"], name="parts_number_once_per_variant")]

    def save(self, *args, **kwargs):
        self.normalized = normalize_part_number(self.number)  # also for admin edits
        super().save(*args, **kwargs)

    def __str__(self):
        return self.number


class GarageVehicle(models.Model):
    """A member's own car ("my garage")."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    vehicle = models.ForeignKey(Vehicle, related_name="+", on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField()
    nickname = models.CharField(max_length=50, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(is_default=True),
                                    name="parts_one_default_garage_vehicle"),
        ]


class StorefrontPage(models.Model):
    vendor = models.OneToOneField("vendors.Vendor", related_name="+", on_delete=models.CASCADE)
    banner_url = models.URLField(max_length=500, blank=True)
    headline_zh = models.CharField(max_length=200, blank=True)
    headline_en = models.CharField(max_length=200, blank=True)
    featured_products = models.ManyToManyField("catalog.Product", through="FeaturedProduct", related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Storefront of {self.vendor}"


class FeaturedProduct(models.Model):
    page = models.ForeignKey(StorefrontPage, related_name="featured", on_delete=models.CASCADE)
    product = models.ForeignKey("catalog.Product", related_name="+", on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["page", "product"], name="parts_featured_once")]


# -- listing filters (read side, used by the product fields' db_filter, hooks.py) -------------
def products_fitting(products, vehicle_id, year=None):
    """Products with an active variant that fits the vehicle (in `year`, when given)."""
    fits = Fitment.objects.filter(variant__product_id=models.OuterRef("pk"), variant__is_active=True,
                                  vehicle_id=vehicle_id)
    if year is not None:
        fits = fits.filter(vehicle__year_from__lte=year, vehicle__year_to__gte=year)
    return products.filter(models.Exists(fits))


def products_with_part_number(products, number):
    """Products with an active variant carrying this part number (normalised)."""
    numbers = PartNumber.objects.filter(variant__product_id=models.OuterRef("pk"), variant__is_active=True,
                                        normalized=normalize_part_number(number))
    return products.filter(models.Exists(numbers))
