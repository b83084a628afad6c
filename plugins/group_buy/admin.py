"""Admin pages for platform operators: deals (approve/reject), groups with their members
(settle, dissolve), vouchers, tracked refunds and alerts (resolve). Actions go through the
same services as the API."""
from django.contrib import admin, messages

from marketplace.plugins import MarketplaceError

from . import deals, refunds, settlement
from .models import Alert, Deal, Group, GroupLog, Member, RefundTrack, Voucher


def _run(modeladmin, request, queryset, action, done):
    count = 0
    for obj in queryset:
        try:
            action(obj)
            count += 1
        except MarketplaceError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{count} {done}.")


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = ("__str__", "vendor", "kind", "status", "deal_price", "list_price", "group_size", "units_reserved",
                    "max_units", "starts_at", "ends_at")
    list_filter = ("status", "kind")
    list_select_related = ("vendor", "variant")
    search_fields = ("title_zh", "title_en", "vendor__name_zh", "variant__sku")
    raw_id_fields = ("vendor", "variant", "product", "approved_by")
    readonly_fields = ("units_reserved", "submitted_at", "approved_at", "approved_by", "cancelled_at", "created_at",
                       "updated_at")
    actions = ["approve", "cancel"]

    @admin.action(description="Approve the selected deals (after review)")
    def approve(self, request, queryset):
        _run(self, request, queryset, lambda deal: deals.approve_deal(deal.pk, request.user.pk), "approved")

    @admin.action(description="Cancel the selected deals (forming groups are refunded)")
    def cancel(self, request, queryset):
        _run(self, request, queryset, lambda deal: settlement.cancel_deal(deal.pk, "Cancelled by platform staff."),
             "cancelled")


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0
    can_delete = False
    fields = ("user", "is_leader", "status", "paid_by", "quantity", "amount", "order", "paid_at", "settled_at", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class GroupLogInline(admin.TabularInline):
    model = GroupLog
    extra = 0
    can_delete = False
    readonly_fields = ("status", "reason", "at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("share_code", "deal", "status", "paid_count", "held_count", "size", "opened_at", "expires_at",
                    "settled_at", "follow_up_done_at")
    list_filter = ("status",)
    list_select_related = ("deal",)
    search_fields = ("share_code",)
    readonly_fields = [f.name for f in Group._meta.fields]
    inlines = [MemberInline, GroupLogInline]
    actions = ["settle", "dissolve"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Settle now by the paid seats (or resume the follow-up)")
    def settle(self, request, queryset):
        _run(self, request, queryset, lambda group: settlement.force_settle(group.pk), "settled")

    @admin.action(description="Dissolve (members are refunded)")
    def dissolve(self, request, queryset):
        _run(self, request, queryset, lambda group: settlement.dissolve(group.pk, "Dissolved by platform staff."),
             "dissolved")


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    list_display = ("code", "deal", "vendor", "user", "status", "amount", "valid_until", "redeemed_at")
    list_filter = ("status",)
    search_fields = ("code", "user__email")
    readonly_fields = [f.name for f in Voucher._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(RefundTrack)
class RefundTrackAdmin(admin.ModelAdmin):
    list_display = ("key", "purpose", "status", "amount", "attempt", "refund_id", "requested_at", "settled_at",
                    "failure_reason")
    list_filter = ("status", "purpose")
    search_fields = ("key",)
    readonly_fields = [f.name for f in RefundTrack._meta.fields]
    actions = ["process"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Move the selected refunds on now (retry, resend, check)")
    def process(self, request, queryset):
        _run(self, request, queryset, lambda track: refunds.process(track.pk), "processed")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "message", "resolved_at")
    list_filter = ("kind", ("resolved_at", admin.EmptyFieldListFilter))
    readonly_fields = ("key", "kind", "message", "group", "member", "refund_track", "created_at", "resolved_at",
                       "resolved_by")
    actions = ["resolve"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Mark resolved")
    def resolve(self, request, queryset):
        _run(self, request, queryset, lambda item: refunds.resolve_alert(item.pk, request.user.pk), "resolved")
