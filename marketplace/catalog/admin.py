from django.contrib import admin

from .models import Attribute, Brand, Category, Product, ProductType, ProductVariant, Stock


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "name_en", "slug", "parent", "position")
    search_fields = ("name_zh", "name_en", "slug")


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "name_en", "slug")
    search_fields = ("name_zh", "name_en", "slug")


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_zh", "input_type", "unit")


@admin.register(ProductType)
class ProductTypeAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_zh", "name_en")
    filter_horizontal = ("attributes",)


class VariantInline(admin.TabularInline):
    model = ProductVariant
    extra = 0
    fields = ("sku", "name", "list_price", "sale_price", "cost_price", "weight_grams", "is_active")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "vendor", "category", "brand", "status", "min_price", "in_stock", "updated_at")
    list_filter = ("status", "in_stock", "category")
    search_fields = ("name_zh", "name_en", "slug", "variants__sku")
    list_select_related = ("vendor", "category", "brand")
    raw_id_fields = ("vendor",)
    inlines = [VariantInline]


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = ("variant", "warehouse", "quantity", "reserved")
    raw_id_fields = ("variant", "warehouse")
