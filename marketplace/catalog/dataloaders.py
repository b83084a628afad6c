from django.db.models import Sum

from marketplace.api.dataloaders import DataLoader, group_by

from .models import Brand, Category, ProductAttributeValue, ProductType, ProductVariant, Stock


class _InBulk(DataLoader):
    model = None

    def batch_load(self, keys):
        found = self.model.objects.in_bulk([k for k in keys if k is not None])
        return [found.get(key) for key in keys]


class CategoryByIdLoader(_InBulk):
    model = Category


class BrandByIdLoader(_InBulk):
    model = Brand


class ProductTypeByIdLoader(_InBulk):
    model = ProductType


class ProductByIdLoader(DataLoader):
    def batch_load(self, keys):
        from .models import Product

        found = Product.objects.select_related("vendor").in_bulk(keys)  # the visibility rule reads the vendor
        return [found.get(key) for key in keys]


class VariantsByProductIdLoader(DataLoader):
    """Active variants of each product (inactive ones are hidden from shoppers)."""

    def batch_load(self, keys):
        variants = ProductVariant.objects.filter(product_id__in=keys, is_active=True).order_by("position", "pk")
        grouped = group_by(variants, lambda v: v.product_id)
        return [grouped.get(key, []) for key in keys]


def available_units(variant_ids):
    """{variant_id: units that can still be sold} (quantity minus reserved, active warehouses)."""
    rows = (
        Stock.objects.filter(variant_id__in=variant_ids, warehouse__is_active=True)
        .values("variant_id").annotate(quantity=Sum("quantity"), reserved=Sum("reserved"))
    )
    found = {r["variant_id"]: max(r["quantity"] - r["reserved"], 0) for r in rows}
    return {pk: found.get(pk, 0) for pk in variant_ids}


def explained_prices(variants, user):
    """{variant_id: PriceExplanation} for variants whose `product` is loaded: one pipeline batch."""
    from marketplace.pricing.pipeline import PriceContext, compute_prices, line_for_variant

    return compute_prices([line_for_variant(v, v.product) for v in variants], PriceContext(user=user))


class StocksByVariantIdLoader(DataLoader):
    def batch_load(self, keys):
        stocks = Stock.objects.filter(variant_id__in=keys).select_related("warehouse").order_by("pk")
        grouped = group_by(stocks, lambda s: s.variant_id)
        return [grouped.get(key, []) for key in keys]


class AttributesByProductTypeIdLoader(DataLoader):
    def batch_load(self, keys):
        links = (ProductType.attributes.through.objects.filter(producttype_id__in=keys)
                 .select_related("attribute").order_by("attribute__slug", "pk"))
        grouped = group_by(links, lambda link: link.producttype_id)
        return [[link.attribute for link in grouped.get(key, [])] for key in keys]


class AvailableByVariantIdLoader(DataLoader):
    def batch_load(self, keys):
        available = available_units(keys)
        return [available[key] for key in keys]


class AttributeValuesByProductIdLoader(DataLoader):
    def batch_load(self, keys):
        values = ProductAttributeValue.objects.filter(product_id__in=keys).select_related("attribute")
        grouped = group_by(values, lambda v: v.product_id)
        return [grouped.get(key, []) for key in keys]


class PriceByVariantLoader(DataLoader):
    """Explained prices for variants, computed by the price pipeline once per batch.
    Keys are (variant, product) pairs (no extra query)."""

    def batch_load(self, keys):
        for variant, product in keys:
            variant.product = product
        prices = explained_prices([variant for variant, _product in keys], getattr(self.context, "user", None))
        return [prices[variant.pk] for variant, _product in keys]
