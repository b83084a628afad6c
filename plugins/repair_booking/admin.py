"""Django admin for platform operators: shops with their rules, bays, hours and
exceptions inline; services; bookings (read-mostly: changes go through the API so
refunds and events happen); tows; holds."""
from django.contrib import admin

from .models import (
    PartsLeadTime, RepairBay, RepairBayBlock, RepairBooking, RepairCategoryRate, RepairDateException, RepairExtraWork,
    RepairHold, RepairOpeningRule, RepairService, RepairShop, TowRequest,
)


class OpeningRuleInline(admin.TabularInline):
    model = RepairOpeningRule
    extra = 0


class DateExceptionInline(admin.TabularInline):
    model = RepairDateException
    extra = 0


class BayInline(admin.TabularInline):
    model = RepairBay
    extra = 0


class CategoryRateInline(admin.TabularInline):
    model = RepairCategoryRate
    extra = 0


@admin.register(RepairShop)
class RepairShopAdmin(admin.ModelAdmin):
    list_display = ("vendor", "timezone", "labour_rate", "slot_minutes", "min_notice_minutes", "accepting")
    list_filter = ("accepting", "timezone")
    search_fields = ("vendor__name_zh", "vendor__slug")
    raw_id_fields = ("vendor",)
    inlines = [BayInline, OpeningRuleInline, DateExceptionInline, CategoryRateInline]


@admin.register(RepairService)
class RepairServiceAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "code", "shop", "category", "labour_hours", "bay_type", "is_active")
    list_filter = ("category", "bay_type", "is_active")
    search_fields = ("name_zh", "name_en", "code")
    raw_id_fields = ("shop", "variant")


class ExtraWorkInline(admin.TabularInline):
    model = RepairExtraWork
    extra = 0
    readonly_fields = ("status", "order_id", "decided_at")


@admin.register(RepairBooking)
class RepairBookingAdmin(admin.ModelAdmin):
    list_display = ("pk", "shop", "bay", "start", "end", "status", "order_number", "email", "labour_amount",
                    "refund_due")
    list_filter = ("status", "shop")
    search_fields = ("order_number", "email", "vehicle_label")
    date_hierarchy = "start"
    raw_id_fields = ("shop", "bay", "user", "rescheduled_from")
    readonly_fields = ("status", "order_id", "vendor_order_id", "service_line_ids", "part_line_ids", "labour_amount",
                       "refund_due", "refund_fee", "refund_ids", "refund_error", "reminded_24h_at", "reminded_2h_at")
    inlines = [ExtraWorkInline]


@admin.register(RepairBayBlock)
class RepairBayBlockAdmin(admin.ModelAdmin):
    list_display = ("bay", "start", "end", "reason")
    raw_id_fields = ("bay",)


@admin.register(RepairHold)
class RepairHoldAdmin(admin.ModelAdmin):
    list_display = ("shop", "bay", "start", "expires_at", "checkout_token", "user")
    raw_id_fields = ("shop", "bay", "user")


@admin.register(TowRequest)
class TowRequestAdmin(admin.ModelAdmin):
    list_display = ("pk", "user", "shop", "status", "distance_km", "free_amount", "paid_amount", "requested_at")
    list_filter = ("status",)
    raw_id_fields = ("user", "shop")
    readonly_fields = ("benefit_recorded", "payment_id", "paid_at")


@admin.register(PartsLeadTime)
class PartsLeadTimeAdmin(admin.ModelAdmin):
    list_display = ("vendor", "lead_days", "shipping_days")
    raw_id_fields = ("vendor",)
