from django.contrib import admin

from .models import (
    FeaturedProduct, Fitment, GarageVehicle, PartNumber, StorefrontPage, Vehicle, VehicleMake, VehicleModel,
)


class VehicleModelInline(admin.TabularInline):
    model = VehicleModel
    extra = 0


@admin.register(VehicleMake)
class VehicleMakeAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "name_en", "slug")
    search_fields = ("name_zh", "name_en", "slug")
    inlines = [VehicleModelInline]


class VehicleInline(admin.TabularInline):
    model = Vehicle
    extra = 0


@admin.register(VehicleModel)
class VehicleModelAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "name_en", "make", "slug")
    list_filter = ("make",)
    search_fields = ("name_zh", "name_en", "slug")
    inlines = [VehicleInline]


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "year_from", "year_to", "engine", "fuel", "body")
    list_filter = ("fuel", "body", "model__make")
    list_select_related = ("model__make",)
    search_fields = ("engine", "model__name_zh", "model__name_en", "model__make__name_en")


@admin.register(Fitment)
class FitmentAdmin(admin.ModelAdmin):
    list_display = ("variant", "vehicle", "note")
    list_select_related = ("variant", "vehicle__model__make")
    raw_id_fields = ("variant", "vehicle")
    search_fields = ("variant__sku",)


@admin.register(PartNumber)
class PartNumberAdmin(admin.ModelAdmin):
    list_display = ("number", "normalized", "kind", "variant")
    list_filter = ("kind",)
    list_select_related = ("variant",)
    raw_id_fields = ("variant",)
    search_fields = ("normalized", "number", "variant__sku")


@admin.register(GarageVehicle)
class GarageVehicleAdmin(admin.ModelAdmin):
    list_display = ("user", "vehicle", "year", "nickname", "is_default")
    list_select_related = ("user", "vehicle__model__make")
    raw_id_fields = ("user", "vehicle")
    search_fields = ("user__email",)


class FeaturedProductInline(admin.TabularInline):
    model = FeaturedProduct
    raw_id_fields = ("product",)
    extra = 0


@admin.register(StorefrontPage)
class StorefrontPageAdmin(admin.ModelAdmin):
    list_display = ("vendor", "headline_zh", "updated_at")
    list_select_related = ("vendor",)
    raw_id_fields = ("vendor",)
    inlines = [FeaturedProductInline]
