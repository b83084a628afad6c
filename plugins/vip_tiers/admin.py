"""Admin pages for platform operators: programmes with their tiers, accounts with their
(read-only, append-only) ledger, segments, exports and campaigns."""
from django.contrib import admin

from .models import (
    Campaign, CampaignDelivery, Segment, SegmentExport, VipAccount, VipEntry, VipLot, VipOrder, VipProgram,
    VipRedemption, VipTier,
)


class TierInline(admin.TabularInline):
    model = VipTier
    extra = 0


@admin.register(VipProgram)
class VipProgramAdmin(admin.ModelAdmin):
    list_display = ("vendor", "enabled", "eligible", "product_count", "below_since", "stacking", "points_enabled",
                    "cashback_enabled")
    list_filter = ("enabled", "eligible", "stacking")
    search_fields = ("vendor__name_zh", "vendor__slug")
    readonly_fields = ("product_count", "eligible", "below_since", "counted_at", "enabled_at", "created_at",
                       "updated_at")
    inlines = [TierInline]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EntryInline(ReadOnlyInline):
    model = VipEntry
    fields = ("created_at", "asset", "bucket", "kind", "amount", "key", "order", "memo")
    readonly_fields = fields
    ordering = ("-created_at", "-pk")


class LotInline(ReadOnlyInline):
    model = VipLot
    fields = ("asset", "key", "amount", "remaining", "available_at", "expires_at", "expired_at")
    readonly_fields = fields


@admin.register(VipAccount)
class VipAccountAdmin(admin.ModelAdmin):
    list_display = ("id", "vendor", "user", "tier", "net_spend", "points_available", "points_pending",
                    "cashback_available", "cashback_pending")
    list_filter = ("tier",)
    search_fields = ("user__email", "vendor__slug")
    raw_id_fields = ("user", "vendor", "tier")
    readonly_fields = ("points_available", "points_pending", "cashback_available", "cashback_pending", "net_spend",
                       "spend_at", "created_at", "updated_at")
    inlines = [LotInline, EntryInline]


@admin.register(VipEntry)
class VipEntryAdmin(admin.ModelAdmin):
    """The ledger is append-only: rows are shown, never changed or deleted here."""

    list_display = ("created_at", "account", "asset", "bucket", "kind", "amount", "key")
    list_filter = ("asset", "bucket", "kind")
    search_fields = ("key", "account__user__email")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VipOrder)
class VipOrderAdmin(admin.ModelAdmin):
    list_display = ("vendor_order_id", "account", "status", "base", "points_earned", "points_reversed",
                    "cashback_earned", "cashback_reversed", "matures_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in VipOrder._meta.fields]


@admin.register(VipRedemption)
class VipRedemptionAdmin(admin.ModelAdmin):
    list_display = ("vendor_order_id", "account", "asset", "amount", "value", "returned", "created_at")
    readonly_fields = [f.name for f in VipRedemption._meta.fields]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ("name", "vendor", "member_count", "computed_at")
    search_fields = ("name", "vendor__slug")
    readonly_fields = ("member_count", "computed_at", "created_at", "updated_at")


@admin.register(SegmentExport)
class SegmentExportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "vendor", "segment_name", "user", "rows")
    readonly_fields = [f.name for f in SegmentExport._meta.fields]

    def has_add_permission(self, request):
        return False


class DeliveryInline(ReadOnlyInline):
    model = CampaignDelivery
    fields = ("user", "status", "error", "created_at")
    readonly_fields = fields


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "vendor", "segment", "channel", "status", "recipients", "sent_count", "failed_count",
                    "sent_at")
    list_filter = ("status", "channel")
    inlines = [DeliveryInline]
