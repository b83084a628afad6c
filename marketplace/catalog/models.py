from django.db import models
from django.db.models import F, Q

from marketplace.vendors.models import Vendor, Warehouse


class Category(models.Model):
    """A node in the platform's category tree (managed by platform staff)."""

    parent = models.ForeignKey("self", null=True, blank=True, related_name="children", on_delete=models.PROTECT)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    slug = models.SlugField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name_zh


class Brand(models.Model):
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    slug = models.SlugField(max_length=100, unique=True)
    logo_url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.name_en or self.name_zh


class AttributeType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    BOOLEAN = "boolean", "Yes/no"
    CHOICE = "choice", "Choice"


class Attribute(models.Model):
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    slug = models.SlugField(max_length=100, unique=True)
    input_type = models.CharField(max_length=10, choices=AttributeType.choices)
    unit = models.CharField(max_length=20, blank=True)
    choices = models.JSONField(default=list, blank=True, help_text="Allowed values for choice attributes.")

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class ProductType(models.Model):
    """What kind of product (brake pad, engine oil...) and which attributes it has."""

    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    slug = models.SlugField(max_length=100, unique=True)
    attributes = models.ManyToManyField(Attribute, blank=True, related_name="product_types")
    requires_shipping = models.BooleanField(
        default=True, help_text="False for services (labour, vouchers): no shipping method, no address needed.")

    class Meta:
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class ProductStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Product(models.Model):
    vendor = models.ForeignKey(Vendor, related_name="products", on_delete=models.CASCADE)
    product_type = models.ForeignKey(ProductType, related_name="products", on_delete=models.PROTECT)
    category = models.ForeignKey(Category, related_name="products", on_delete=models.PROTECT)
    brand = models.ForeignKey(Brand, null=True, blank=True, related_name="products", on_delete=models.SET_NULL)
    name_zh = models.CharField(max_length=255)
    name_en = models.CharField(max_length=255, blank=True)
    slug = models.SlugField(max_length=150)
    description_zh = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    images = models.JSONField(default=list, blank=True, help_text="Image URLs, first is the main image.")
    status = models.CharField(max_length=10, choices=ProductStatus.choices, default=ProductStatus.DRAFT)
    # Denormalised for listing filters and sorting; kept by catalog.services.
    min_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    in_stock = models.BooleanField(default=False)
    sales_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["vendor", "slug"], name="product_slug_per_vendor")]
        indexes = [
            models.Index(fields=["status", "category"]),
            models.Index(fields=["status", "min_price"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["vendor", "status"]),
        ]

    def __str__(self):
        return self.name_zh


class ProductAttributeValue(models.Model):
    product = models.ForeignKey(Product, related_name="attribute_values", on_delete=models.CASCADE)
    attribute = models.ForeignKey(Attribute, related_name="+", on_delete=models.CASCADE)
    value = models.JSONField()

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["product", "attribute"], name="one_value_per_attribute")]


class ProductVariant(models.Model):
    product = models.ForeignKey(Product, related_name="variants", on_delete=models.CASCADE)
    vendor = models.ForeignKey(Vendor, related_name="+", on_delete=models.CASCADE)  # = product.vendor, for the SKU rule
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    list_price = models.DecimalField(max_digits=12, decimal_places=2)
    sale_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True,
                                     help_text="The vendor's own sale price, before platform rules.")
    cost_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="CNY")
    weight_grams = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    track_inventory = models.BooleanField(
        default=True, help_text="False for services: always available, no stock reserved.")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "sku"], name="sku_unique_per_vendor"),
            models.CheckConstraint(condition=Q(list_price__gte=0), name="variant_list_price_not_negative"),
            models.CheckConstraint(condition=Q(sale_price__isnull=True) | Q(sale_price__gte=0),
                                   name="variant_sale_price_not_negative"),
        ]

    def __str__(self):
        return self.sku


class Stock(models.Model):
    """Units of one variant in one warehouse. `reserved` units are held by checkouts."""

    variant = models.ForeignKey(ProductVariant, related_name="stocks", on_delete=models.CASCADE)
    warehouse = models.ForeignKey(Warehouse, related_name="stocks", on_delete=models.CASCADE)
    quantity = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "warehouse"], name="stock_once_per_warehouse"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_quantity_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0) & Q(reserved__lte=F("quantity")),
                                   name="stock_reserved_within_quantity"),
        ]

    @property
    def available(self):
        return self.quantity - self.reserved
