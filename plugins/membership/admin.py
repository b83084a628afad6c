"""Admin pages for platform operators: plans, memberships, partners and their codes, code
redemptions, and the partner report as a CSV download (an action on partners)."""
from django.contrib import admin, messages
from django.http import HttpResponse

from marketplace.plugins import clock

from .models import BenefitUse, CodeRedemption, Membership, MembershipPlan, MembershipRefund, Partner, PartnerCode


@admin.register(MembershipPlan)
class MembershipPlanAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "price", "term_months", "parts_discount_percent", "labour_discount_percent",
                    "free_towing_per_term", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name_zh", "name_en")

    def save_model(self, request, obj, form, change):
        from . import lookups

        super().save_model(request, obj, form, change)
        lookups.forget()


class BenefitUseInline(admin.TabularInline):
    model = BenefitUse
    extra = 0
    fields = ("kind", "reference", "value", "used_at", "released_at")
    readonly_fields = fields
    can_delete = False


class MembershipRefundInline(admin.TabularInline):
    model = MembershipRefund
    extra = 0
    fields = ("amount", "status", "reason", "created_at")
    readonly_fields = fields
    can_delete = False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Read-mostly: memberships change through their services (GraphQL staff mutations:
    membershipGrant, membershipRevoke, membershipRefund), never by editing rows."""

    list_display = ("pk", "user", "plan", "status", "source", "starts_at", "ends_at", "price_paid", "partner_code")
    list_filter = ("status", "source", "plan")
    list_select_related = ("user", "plan", "partner_code")
    search_fields = ("user__email", "order__number")
    readonly_fields = ("user", "plan", "status", "source", "starts_at", "ends_at", "order", "order_line",
                       "partner_code", "list_price", "price_paid", "refunded_amount", "reason", "created_at",
                       "activated_at", "ended_at")
    inlines = [BenefitUseInline, MembershipRefundInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # orders, codes and the ledger refer to it


class PartnerCodeInline(admin.TabularInline):
    model = PartnerCode
    extra = 0
    fields = ("code", "discount_percent", "discount_amount", "valid_from", "valid_until", "max_redemptions",
              "held_count", "redeemed_count", "first_term_only", "is_active")
    readonly_fields = ("held_count", "redeemed_count")


@admin.action(description="Download last month's partner report (CSV)")
def partner_report_csv(modeladmin, request, queryset):
    from .services import reports
    from .terms import add_months

    first = add_months(clock.today().replace(day=1), -1)
    month = f"{first.year:04d}-{first.month:02d}"
    chosen = set(queryset.values_list("pk", flat=True))
    rows = [row for row in reports.partner_report(month) if row.partner_id in chosen]
    response = HttpResponse(reports.as_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="partner-report-{month}.csv"'
    messages.info(request, f"Partner report for {month}")
    return response


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "kind", "contact_name", "contact_phone", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name_zh", "name_en", "contact_name")
    inlines = [PartnerCodeInline]
    actions = [partner_report_csv]


@admin.register(PartnerCode)
class PartnerCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "partner", "discount_percent", "discount_amount", "valid_from", "valid_until",
                    "max_redemptions", "held_count", "redeemed_count", "is_active")
    list_filter = ("is_active", "partner")
    list_select_related = ("partner",)
    search_fields = ("code", "partner__name_zh")
    readonly_fields = ("held_count", "redeemed_count")


@admin.register(CodeRedemption)
class CodeRedemptionAdmin(admin.ModelAdmin):
    list_display = ("code", "user", "order", "status", "discount", "paid_amount", "refunded_amount", "redeemed_at")
    list_filter = ("status",)
    list_select_related = ("code", "user", "order")
    search_fields = ("code__code", "user__email", "order__number")
    readonly_fields = [f.name for f in CodeRedemption._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the code's counters and the partner report count it
