"""The catalog for plugins: read-only selectors (frozen `ProductInfo`/`VariantInfo`, or
querysets to narrow your own models with) and the catalog services a plugin may call.

Selectors:
- `visible_products()`: a queryset of the products listings show (published, vendor
  approved and not held hidden). Use it to filter, e.g.
  `MyModel.objects.filter(variant__product__in=visible_products())`; never write through it.
- `product_infos(ids)`, `variant_infos(ids=None, vendor_id=None, with_attributes=False)`.
- `product_count(vendor_id, published=True)`: how many products a vendor lists (active:
  published and visible when `published`).
- `available(variant_ids)`: {variant_id: units sellable now}.
- `vendor_product_ids(vendor_id, ids)`: the ids among `ids` that belong to the vendor.

Services (each owns its transaction, raises ValidationError/NotFound, emits the catalog
events): `save_product(vendor_id, data, product_id=None)`, `save_variant(product_id, data,
variant_id=None)`, `set_stock(variant_id, warehouse_id, quantity)`,
`save_product_type(data)`, `touch_product(product_id)` (re-index and re-price after your
data about it changed). Models are referenced by string in ForeignKeys:
"catalog.Product", "catalog.ProductVariant", "catalog.Category", "catalog.Brand".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Mapping

from django.db import transaction


@dataclass(frozen=True)
class ProductInfo:
    product_id: int
    vendor_id: int
    slug: str
    name_zh: str
    name_en: str
    status: str
    category_id: int
    category_slug: str
    brand_id: int | None
    brand_slug: str | None
    product_type_id: int
    product_type_slug: str
    requires_shipping: bool
    visible: bool


@dataclass(frozen=True)
class VariantInfo:
    variant_id: int
    product_id: int
    vendor_id: int
    sku: str
    name: str
    list_price: Decimal
    sale_price: Decimal | None
    currency: str
    is_active: bool
    track_inventory: bool
    weight_grams: int
    product: ProductInfo
    attributes: Mapping = field(default_factory=lambda: MappingProxyType({}))


def visible_products():
    from marketplace.catalog.services import visible_products as _visible

    return _visible()


def _product_info(product, visible_ids):
    return ProductInfo(
        product_id=product.pk, vendor_id=product.vendor_id, slug=product.slug, name_zh=product.name_zh,
        name_en=product.name_en, status=product.status, category_id=product.category_id,
        category_slug=product.category.slug, brand_id=product.brand_id,
        brand_slug=product.brand.slug if product.brand_id else None, product_type_id=product.product_type_id,
        product_type_slug=product.product_type.slug, requires_shipping=product.product_type.requires_shipping,
        visible=product.pk in visible_ids)


def product_infos(ids) -> dict[int, ProductInfo]:
    from marketplace.catalog.models import Product

    products = list(Product.objects.select_related("category", "brand", "product_type").filter(pk__in=list(ids)))
    visible = set(visible_products().filter(pk__in=[p.pk for p in products]).values_list("pk", flat=True))
    return {p.pk: _product_info(p, visible) for p in products}


def variant_infos(ids=None, vendor_id=None, with_attributes=False) -> list[VariantInfo]:
    """Variants (by id, or all of a vendor, or all), ordered by id, with their product."""
    from marketplace.catalog.models import ProductAttributeValue, ProductVariant

    qs = ProductVariant.objects.select_related("product__category", "product__brand", "product__product_type")
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if vendor_id is not None:
        qs = qs.filter(vendor_id=vendor_id)
    variants = list(qs.order_by("pk"))
    product_ids = {v.product_id for v in variants}
    visible = set(visible_products().filter(pk__in=product_ids).values_list("pk", flat=True))
    attributes = {}
    if with_attributes:
        for product_id, slug, value in ProductAttributeValue.objects.filter(product_id__in=product_ids) \
                .values_list("product_id", "attribute__slug", "value"):
            attributes.setdefault(product_id, {})[slug] = value
    return [VariantInfo(variant_id=v.pk, product_id=v.product_id, vendor_id=v.vendor_id, sku=v.sku, name=v.name,
                        list_price=v.list_price, sale_price=v.sale_price, currency=v.currency, is_active=v.is_active,
                        track_inventory=v.track_inventory, weight_grams=v.weight_grams,
                        product=_product_info(v.product, visible),
                        attributes=MappingProxyType(attributes.get(v.product_id, {}))) for v in variants]


def variant_info(variant_id) -> VariantInfo | None:
    found = variant_infos([variant_id])
    return found[0] if found else None


def product_count(vendor_id, published=True) -> int:
    from marketplace.catalog.models import Product, ProductStatus

    if published:
        return Product.objects.filter(vendor_id=vendor_id, status=ProductStatus.PUBLISHED).count()
    return Product.objects.filter(vendor_id=vendor_id).count()


def visible_product_count(vendor_id) -> int:
    """Products of the vendor that listings show now (published, vendor visible)."""
    return visible_products().filter(vendor_id=vendor_id).count()


def available(variant_ids) -> dict[int, int]:
    from marketplace.checkout.services import available as _available

    return _available(list(variant_ids))


def vendor_product_ids(vendor_id, ids) -> set[int]:
    from marketplace.catalog.models import Product

    return set(Product.objects.filter(vendor_id=vendor_id, pk__in=list(ids)).values_list("pk", flat=True))


# -- services ------------------------------------------------------------------------------------
def save_product(vendor_id, data, product_id=None):
    """Create (product_id None) or change a product of a vendor from `data` (the
    `productCreate` input: slug, name_zh, name_en, description_zh/en, category_id,
    product_type_id, brand_id, status "draft"/"published", images). Enforces the vendor's
    `max_products`. Returns the product id."""
    from marketplace.catalog import services
    from marketplace.catalog.models import Product
    from marketplace.vendors.models import Vendor

    with transaction.atomic():
        vendor = Vendor.objects.get(pk=vendor_id)
        product = Product.objects.get(pk=product_id, vendor=vendor) if product_id is not None else None
        return services.save_product(vendor, data, product).pk


def save_variant(product_id, data, variant_id=None):
    """Create or change a variant (sku, name, list_price, sale_price, weight_grams,
    is_active, track_inventory). Returns the variant id."""
    from marketplace.catalog import services
    from marketplace.catalog.models import Product, ProductVariant

    with transaction.atomic():
        product = Product.objects.get(pk=product_id)
        variant = ProductVariant.objects.get(pk=variant_id, product=product) if variant_id is not None else None
        return services.save_variant(product, data, variant).pk


def set_stock(variant_id, warehouse_id, quantity):
    from marketplace.catalog import services
    from marketplace.catalog.models import ProductVariant

    services.set_stock(ProductVariant.objects.get(pk=variant_id), warehouse_id, quantity)


def save_product_type(data):
    """Create a product type (slug, name_zh, name_en, requires_shipping) or return the one
    with that slug. Returns its id."""
    from marketplace.catalog import services
    from marketplace.catalog.models import ProductType

    with transaction.atomic():
        existing = ProductType.objects.filter(slug=data.get("slug")).first()
        if existing is not None:
            return existing.pk
        return services.save_product_type(data).pk


def touch_product(product_id):
    """Tell the engine a product's plugin data changed: it is re-indexed after commit."""
    from marketplace.catalog.events import ProductUpdated
    from marketplace.catalog.models import Product
    from marketplace.core.events import emit

    vendor_id = Product.objects.filter(pk=product_id).values_list("vendor_id", flat=True).first()
    if vendor_id is not None:
        emit(ProductUpdated(product_id=product_id, vendor_id=vendor_id))


def category_ids(slugs) -> dict[str, int]:
    from marketplace.catalog.models import Category

    return dict(Category.objects.filter(slug__in=list(slugs)).values_list("slug", "pk"))
