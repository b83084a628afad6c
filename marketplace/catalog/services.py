"""Catalog state changes. Vendor-scoped functions take the vendor explicitly; callers
check permission first (marketplace.vendors.permissions)."""
import csv
import io
import re
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef

from marketplace.core.errors import ErrorCode, MarketplaceError, NotFound, ValidationError
from marketplace.core.events import emit
from marketplace.vendors.models import VendorStatus, Warehouse

from .events import ProductCreated, ProductDeleted, ProductUpdated

from .models import (
    Attribute, AttributeType, Brand, Category, Product, ProductAttributeValue, ProductStatus, ProductType,
    ProductVariant, Stock,
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_PRICE = Decimal("9999999999.99")


def _slug(value, model, field="slug"):
    """A slug for `model`: lowercase letters, digits and hyphens, at most the length of
    the model's own `slug` column."""
    value = (value or "").strip().lower()
    if not SLUG_RE.match(value):
        raise ValidationError("Use lowercase letters, digits and hyphens.", field=field)
    max_length = model._meta.get_field("slug").max_length
    if len(value) > max_length:
        raise ValidationError(f"At most {max_length} characters.", field=field)
    return value


def _whole(text, maximum=2**31 - 1):
    """A CSV cell as a whole number within an integer column, or None."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or int(text) > maximum:
        return None
    return int(text)


def _price(value, field, required=True):
    if value is None or value == "":
        if required:
            raise ValidationError("A price is required.", code=ErrorCode.REQUIRED, field=field)
        return None
    if isinstance(value, float):
        value = str(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError("Enter an amount such as 129.00.", field=field) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_PRICE or amount.as_tuple().exponent < -2:
        raise ValidationError("Enter a non-negative amount with at most 2 decimals.", field=field)
    return amount


def _text(data, name, model, required=False):
    value = data.get(name)
    if value is None:
        if required:
            raise ValidationError("This field is required.", code=ErrorCode.REQUIRED, field=name)
        return None
    value = str(value).strip()
    max_length = model._meta.get_field(name).max_length
    if max_length and len(value) > max_length:
        raise ValidationError(f"At most {max_length} characters.", field=name)
    if required and not value:
        raise ValidationError("This field is required.", code=ErrorCode.REQUIRED, field=name)
    return value


def _collect(*checks):
    """Run field checks, gathering every error instead of stopping at the first."""
    errors = []
    results = []
    for check in checks:
        try:
            results.append(check())
        except ValidationError as exc:
            errors.extend(exc.as_list())
            results.append(None)
    if errors:
        raise ValidationError(errors=errors)
    return results


# -- platform taxonomy (platform staff) --------------------------------------------------------
def _apply_names(obj, data, extra_text=()):
    """Set the zh/en names (zh required on create), other text fields, and a unique slug."""
    model = type(obj)
    fields = ("name_zh", "name_en", *extra_text)
    values = _collect(*[
        (lambda name=name: _text(data, name, model, required=name == "name_zh" and obj.pk is None)) for name in fields
    ])
    for name, value in zip(fields, values):
        if value is not None:
            setattr(obj, name, value)
    if data.get("slug") is not None or obj.pk is None:
        slug = _slug(data.get("slug"), model)
        if model.objects.filter(slug=slug).exclude(pk=obj.pk).exists():
            raise ValidationError("This slug is taken.", code=ErrorCode.UNIQUE, field="slug")
        obj.slug = slug
    return obj


@transaction.atomic
def save_category(data, category=None):
    category = _apply_names(category or Category(), data)
    if "parent_id" in data:
        parent_id = data["parent_id"]
        if parent_id is not None:
            parent = Category.objects.filter(pk=parent_id).first()
            if parent is None:
                raise NotFound("Parent category not found.", field="parent")
            node = parent
            while node is not None:  # no cycles
                if category.pk and node.pk == category.pk:
                    raise ValidationError("A category cannot be inside itself.", field="parent")
                node = node.parent
        category.parent_id = parent_id
    if data.get("position") is not None:
        category.position = int(data["position"])
    category.save()
    return category


@transaction.atomic
def delete_category(category):
    if category.children.exists() or category.products.exists():
        raise ValidationError("Move its subcategories and products first.", code=ErrorCode.INVALID_STATE)
    category.delete()


@transaction.atomic
def save_brand(data, brand=None):
    brand = _apply_names(brand or Brand(), data, extra_text=("logo_url",))
    brand.save()
    return brand


@transaction.atomic
def save_product_type(data, product_type=None):
    product_type = _apply_names(product_type or ProductType(), data)
    if data.get("requires_shipping") is not None:
        product_type.requires_shipping = bool(data["requires_shipping"])
    product_type.save()
    if data.get("attribute_ids") is not None:
        attributes = list(Attribute.objects.filter(pk__in=data["attribute_ids"]))
        if len(attributes) != len(set(map(int, data["attribute_ids"]))):
            raise NotFound("An attribute was not found.", field="attributes")
        product_type.attributes.set(attributes)
    return product_type


@transaction.atomic
def save_attribute(data, attribute=None):
    attribute = _apply_names(attribute or Attribute(), data, extra_text=("unit",))
    if data.get("input_type") is not None:
        if data["input_type"] not in AttributeType.values:
            raise ValidationError("Unknown input type.", field="input_type")
        attribute.input_type = data["input_type"]
    if data.get("choices") is not None:
        attribute.choices = [str(c).strip() for c in data["choices"] if str(c).strip()]
    if attribute.input_type == AttributeType.CHOICE and not attribute.choices:
        raise ValidationError("A choice attribute needs choices.", code=ErrorCode.REQUIRED, field="choices")
    attribute.save()
    return attribute


# -- products (vendor staff) -----------------------------------------------------------
def _resolve_taxonomy(data, product):
    errors = []
    if "category_id" in data and data["category_id"] is not None:
        product.category = Category.objects.filter(pk=data["category_id"]).first()
        if product.category is None:
            errors.append(MarketplaceError("Category not found.", code=ErrorCode.NOT_FOUND, field="category"))
    if "product_type_id" in data and data["product_type_id"] is not None:
        product.product_type = ProductType.objects.filter(pk=data["product_type_id"]).first()
        if product.product_type is None:
            errors.append(MarketplaceError("Product type not found.", code=ErrorCode.NOT_FOUND, field="product_type"))
    if "brand_id" in data:
        product.brand = Brand.objects.filter(pk=data["brand_id"]).first() if data["brand_id"] else None
        if data["brand_id"] and product.brand is None:
            errors.append(MarketplaceError("Brand not found.", code=ErrorCode.NOT_FOUND, field="brand"))
    return errors


def _check_vendor_open(vendor):
    if vendor.status in (VendorStatus.CLOSED, VendorStatus.REJECTED):
        raise ValidationError("This vendor is closed.", code=ErrorCode.INVALID_STATE)


@transaction.atomic
def save_product(vendor, data, product=None):
    _check_vendor_open(vendor)
    creating = product is None
    product = product or Product(vendor=vendor)
    errors = _resolve_taxonomy(data, product)
    if creating:
        for name, attr in (("category_id", "category"), ("product_type_id", "product_type")):
            if data.get(name) is None:
                errors.append(MarketplaceError("This field is required.", code=ErrorCode.REQUIRED, field=attr))
    for name in ("name_zh", "name_en", "description_zh", "description_en"):
        try:
            value = _text(data, name, Product, required=creating and name == "name_zh")
        except ValidationError as exc:
            errors.extend(exc.as_list())
            continue
        if value is not None:
            setattr(product, name, value)
    if data.get("slug") is not None or creating:
        try:
            slug = _slug(data.get("slug"), Product)
            if Product.objects.filter(vendor=vendor, slug=slug).exclude(pk=product.pk).exists():
                raise ValidationError("This slug is taken in your store.", code=ErrorCode.UNIQUE, field="slug")
            product.slug = slug
        except ValidationError as exc:
            errors.extend(exc.as_list())
    if data.get("images") is not None:
        images = [str(url).strip() for url in data["images"] if str(url).strip()]
        if any(not url.startswith(("http://", "https://")) for url in images) or len(images) > 20:
            errors.append(MarketplaceError("Up to 20 http(s) image URLs.", field="images"))
        product.images = images
    if data.get("status") is not None:
        if data["status"] not in ProductStatus.values:
            errors.append(MarketplaceError("Unknown status.", field="status"))
        else:
            product.status = data["status"]
    if errors:
        raise ValidationError(errors=errors)
    _check_quota(vendor, product, creating)
    product.save()
    event_class = ProductCreated if creating else ProductUpdated
    emit(event_class(product_id=product.pk, vendor_id=vendor.pk))
    return product


def _check_quota(vendor, product, creating):
    """The vendor's `max_products` entitlement: refuse a new product, or publishing one,
    beyond it (LIMIT_EXCEEDED). Never unpublishes anything."""
    from marketplace.plugins.entitlements import check_limit

    if creating:
        check_limit(vendor.pk, "max_products", lambda: Product.objects.filter(vendor=vendor).count())
    publishing = product.status == ProductStatus.PUBLISHED and (
        creating or not Product.objects.filter(pk=product.pk, status=ProductStatus.PUBLISHED).exists())
    if publishing:
        check_limit(vendor.pk, "max_products",
                    lambda: Product.objects.filter(vendor=vendor, status=ProductStatus.PUBLISHED).count(),
                    field="status")


def _delete_or_refuse(obj):
    from django.db.models import ProtectedError

    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError:
        raise ValidationError("It has been ordered, so it cannot be deleted: unpublish or deactivate it instead.",
                              code=ErrorCode.INVALID_STATE, field="id") from None


@transaction.atomic
def delete_product(product):
    payload = {"product_id": product.pk, "vendor_id": product.vendor_id}
    _delete_or_refuse(product)
    emit(ProductDeleted(product_id=payload["product_id"], vendor_id=payload["vendor_id"]))


def _coerce_attribute_value(attribute, value):
    if attribute.input_type == AttributeType.NUMBER:
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise ValidationError(f"{attribute.slug} must be a number.", field="attributes") from None
        return str(number)
    if attribute.input_type == AttributeType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes"):
            return True
        if str(value).lower() in ("false", "0", "no"):
            return False
        raise ValidationError(f"{attribute.slug} must be true or false.", field="attributes")
    value = str(value).strip()
    if attribute.input_type == AttributeType.CHOICE and value not in attribute.choices:
        raise ValidationError(f"{attribute.slug} must be one of: {', '.join(attribute.choices)}.", field="attributes")
    return value


@transaction.atomic
def set_attribute_values(product, values):
    """`values`: {attribute_slug: value}; None removes the value."""
    allowed = {a.slug: a for a in product.product_type.attributes.all()}
    errors = []
    for slug, value in values.items():
        attribute = allowed.get(slug)
        if attribute is None:
            errors.append(MarketplaceError(f"{slug} is not an attribute of this product type.", field="attributes"))
            continue
        if value is None:
            ProductAttributeValue.objects.filter(product=product, attribute=attribute).delete()
            continue
        try:
            coerced = _coerce_attribute_value(attribute, value)
        except ValidationError as exc:
            errors.extend(exc.as_list())
            continue
        ProductAttributeValue.objects.update_or_create(product=product, attribute=attribute, defaults={"value": coerced})
    if errors:
        raise ValidationError(errors=errors)
    _touch(product)
    return product


@transaction.atomic
def save_variant(product, data, variant=None):
    _check_vendor_open(product.vendor)
    creating = variant is None
    variant = variant or ProductVariant(product=product, vendor_id=product.vendor_id)
    errors = []
    if data.get("sku") is not None or creating:
        sku = (data.get("sku") or "").strip()
        if not sku or len(sku) > 64:
            errors.append(MarketplaceError("A SKU of 1-64 characters is required.", code=ErrorCode.REQUIRED, field="sku"))
        elif ProductVariant.objects.filter(vendor_id=product.vendor_id, sku=sku).exclude(pk=variant.pk).exists():
            errors.append(MarketplaceError("This SKU is already used in your store.", code=ErrorCode.UNIQUE, field="sku"))
        variant.sku = sku
    for name, required in (("list_price", creating), ("sale_price", False), ("cost_price", False)):
        if name in data and (data[name] is not None or name != "list_price"):
            try:
                setattr(variant, name, _price(data[name], name, required=name == "list_price"))
            except ValidationError as exc:
                errors.extend(exc.as_list())
        elif required:
            errors.append(MarketplaceError("A price is required.", code=ErrorCode.REQUIRED, field=name))
    if not errors and variant.sale_price is not None and variant.sale_price > variant.list_price:
        errors.append(MarketplaceError("The sale price cannot exceed the list price.", field="sale_price"))
    if data.get("name") is not None:
        variant.name = str(data["name"]).strip()[:255]
    if data.get("weight_grams") is not None:
        if int(data["weight_grams"]) < 0:
            errors.append(MarketplaceError("Weight cannot be negative.", field="weight_grams"))
        else:
            variant.weight_grams = int(data["weight_grams"])
    if data.get("is_active") is not None:
        variant.is_active = bool(data["is_active"])
    if data.get("track_inventory") is not None:
        variant.track_inventory = bool(data["track_inventory"])
    if errors:
        raise ValidationError(errors=errors)
    try:
        with transaction.atomic():
            variant.save()
    except IntegrityError:
        raise ValidationError("This SKU is already used in your store.", code=ErrorCode.UNIQUE, field="sku") from None
    refresh_summaries([product.pk])
    _touch(product)
    return variant


@transaction.atomic
def delete_variant(variant):
    product = variant.product
    _delete_or_refuse(variant)
    refresh_summaries([product.pk])
    _touch(product)


@transaction.atomic
def set_stock(variant, warehouse_id, quantity):
    warehouse = Warehouse.objects.filter(pk=warehouse_id, vendor_id=variant.vendor_id).first()
    if warehouse is None:
        raise NotFound("Warehouse not found in this store.", field="warehouse")
    if quantity is None or int(quantity) < 0:
        raise ValidationError("Quantity cannot be negative.", field="quantity")
    stock, _ = Stock.objects.select_for_update().get_or_create(variant=variant, warehouse=warehouse)
    if int(quantity) < stock.reserved:
        raise ValidationError(f"{stock.reserved} units are reserved by orders; the quantity cannot go below that.",
                              code=ErrorCode.INVALID_STATE, field="quantity")
    stock.quantity = int(quantity)
    stock.save(update_fields=["quantity"])
    refresh_summaries([variant.product_id])
    _touch(variant.product)
    return stock


def _touch(product):
    emit(ProductUpdated(product_id=product.pk, vendor_id=product.vendor_id))


def refresh_summaries(product_ids):
    """Recompute the denormalised listing columns (lowest vendor price, in stock)."""
    from .cache import bump

    bump()
    from django.db.models import Min, Subquery
    from django.db.models.functions import Coalesce

    product_ids = list(product_ids)
    if not product_ids:
        return
    in_stock = Stock.objects.filter(
        variant__product_id=OuterRef("pk"), variant__is_active=True, warehouse__is_active=True, quantity__gt=0
    ).exclude(reserved__gte=F("quantity"))
    lowest = (ProductVariant.objects.filter(product_id=OuterRef("pk"), is_active=True).order_by()
              .values("product_id").annotate(lowest=Min(Coalesce("sale_price", "list_price"))).values("lowest"))
    # One statement for every product, whatever their number.
    Product.objects.filter(pk__in=product_ids).update(min_price=Subquery(lowest), in_stock=Exists(in_stock))


def visible_products():
    """Published products of approved vendors (the rule lives in catalog.selectors)."""
    from .selectors import visible_products as rule

    return rule()


# -- CSV import -------------------------------------------------------------------------
CSV_COLUMNS = ["product_slug", "name_zh", "name_en", "description_zh", "description_en", "category", "brand",
               "product_type", "status", "sku", "variant_name", "list_price", "sale_price", "cost_price",
               "weight_grams", "warehouse", "quantity"]
REQUIRED_COLUMNS = {"product_slug", "sku", "list_price"}


def import_products_csv(vendor, text, progress=None):
    """Create or update products from CSV (one row per variant, rows of a product share
    `product_slug`). Each product is written in its own transaction: a bad row rejects
    its whole product and nothing of it is written; other products still import.
    Idempotent: importing the same file twice changes nothing the second time.

    Returns {"created": n, "updated": n, "errors": [{"row", "field", "code", "message"}]}.
    """
    _check_vendor_open(vendor)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = REQUIRED_COLUMNS - set(reader.fieldnames or [])
    if missing:
        raise ValidationError(f"Missing columns: {', '.join(sorted(missing))}.", field="csv")
    groups = {}
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        slug = (row.get("product_slug") or "").strip().lower()
        groups.setdefault(slug, []).append((number, {k: (v or "").strip() for k, v in row.items() if k}))
    categories = {c.slug: c.pk for c in Category.objects.all()}
    brands = {b.slug: b.pk for b in Brand.objects.all()}
    types = {t.slug: t.pk for t in ProductType.objects.all()}
    warehouses = {w.name: w.pk for w in vendor.warehouses.all()}
    result = {"created": 0, "updated": 0, "errors": []}
    for index, (slug, rows) in enumerate(groups.items()):
        try:
            created = _import_product(vendor, slug, rows, categories, brands, types, warehouses)
            result["created" if created else "updated"] += 1
        except _RowError as exc:
            result["errors"].extend(exc.errors)
        if progress:
            progress(index + 1, len(groups))
    return result


class _RowError(Exception):
    def __init__(self, errors):
        self.errors = errors


def _import_product(vendor, slug, rows, categories, brands, types, warehouses):
    first_row, head = rows[0]
    errors = []

    def fail(row, exc):
        for err in exc.as_list():
            errors.append({"row": row, "field": err.field, "code": err.code.value, "message": err.message})

    with transaction.atomic():
        product = Product.objects.filter(vendor=vendor, slug=slug).first()
        created = product is None
        data = {"slug": slug, "name_zh": head.get("name_zh") or None, "name_en": head.get("name_en") or None,
                "description_zh": head.get("description_zh") or None,
                "description_en": head.get("description_en") or None, "status": head.get("status") or None}
        for column, lookup, key in (("category", categories, "category_id"), ("brand", brands, "brand_id"),
                                    ("product_type", types, "product_type_id")):
            if head.get(column):
                if head[column] not in lookup:
                    fail(first_row, ValidationError(f"Unknown {column} {head[column]!r}.", code=ErrorCode.NOT_FOUND,
                                                    field=column))
                data[key] = lookup.get(head[column])
        if errors:
            raise _RowError(errors)
        try:
            product = save_product(vendor, {k: v for k, v in data.items() if v is not None}, product)
        except ValidationError as exc:
            fail(first_row, exc)
            raise _RowError(errors) from None
        for number, row in rows:
            variant = ProductVariant.objects.filter(vendor=vendor, sku=row.get("sku")).first()
            if variant is not None and variant.product_id != product.pk:
                fail(number, ValidationError("This SKU belongs to another product.", code=ErrorCode.UNIQUE, field="sku"))
                continue
            variant_data = {"sku": row.get("sku"), "list_price": row.get("list_price") or None,
                            "sale_price": row.get("sale_price") or None, "cost_price": row.get("cost_price") or None,
                            "name": row.get("variant_name") or None}
            if row.get("weight_grams"):
                if _whole(row["weight_grams"]) is None:
                    fail(number, ValidationError("Weight must be a whole number of grams.", field="weight_grams"))
                    continue
                variant_data["weight_grams"] = _whole(row["weight_grams"])
            try:
                variant = save_variant(product, variant_data, variant)
            except ValidationError as exc:
                fail(number, exc)
                continue
            if row.get("quantity"):
                warehouse_id = warehouses.get(row.get("warehouse")) if row.get("warehouse") else next(iter(warehouses.values()), None)
                if warehouse_id is None or _whole(row["quantity"]) is None:
                    fail(number, ValidationError("Give a known warehouse and a whole quantity.", field="quantity"))
                    continue
                try:
                    set_stock(variant, warehouse_id, _whole(row["quantity"]))
                except ValidationError as exc:
                    fail(number, exc)
        if errors:
            raise _RowError(errors)  # rolls back the whole product
        return created
