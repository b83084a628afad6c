from django.contrib import admin, messages

from marketplace.core.errors import MarketplaceError

from . import services
from .models import Vendor, VendorInvitation, VendorStaff, Warehouse


class StaffInline(admin.TabularInline):
    model = VendorStaff
    extra = 0
    raw_id_fields = ("user",)


class WarehouseInline(admin.TabularInline):
    model = Warehouse
    extra = 0


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "slug", "kind", "status", "city", "district", "approved_at")
    list_filter = ("status", "kind", "city")
    search_fields = ("name_zh", "name_en", "slug")
    readonly_fields = ("status", "status_reason", "approved_at", "applied_by", "created_at", "updated_at")
    inlines = [StaffInline, WarehouseInline]
    actions = ["approve", "suspend"]

    @admin.action(description="Approve (or reinstate) the selected vendors")
    def approve(self, request, queryset):
        for vendor in queryset:
            try:
                services.approve(vendor.pk)
            except MarketplaceError as exc:
                self.message_user(request, f"{vendor}: {exc.message}", messages.ERROR)

    @admin.action(description="Suspend the selected vendors (reason: admin action)")
    def suspend(self, request, queryset):
        for vendor in queryset:
            try:
                services.suspend(vendor.pk, f"Suspended by {request.user.email} in admin")
            except MarketplaceError as exc:
                self.message_user(request, f"{vendor}: {exc.message}", messages.ERROR)


@admin.register(VendorInvitation)
class VendorInvitationAdmin(admin.ModelAdmin):
    list_display = ("vendor", "email", "role", "created_at", "expires_at", "accepted_at", "revoked_at")
    exclude = ("token_hash",)
