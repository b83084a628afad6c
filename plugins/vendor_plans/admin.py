"""Admin pages for platform operators: plans (editable), subscriptions, invoices, overrides
and notices (read-mostly: their state comes from the billing gateway's events)."""
from django.contrib import admin

from .models import AccessOverride, BillingInvoice, Notice, Plan, SubscriptionEvent, VendorSubscription


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "amount", "currency", "interval", "trial_days", "max_products", "booking",
                    "vip_tiers", "group_buy", "commission_rate", "search_boost", "is_active")
    list_filter = ("is_active", "interval")
    search_fields = ("code", "name_zh", "name_en")
    readonly_fields = ("gateway_price_id", "gateway_price_terms", "created_at", "updated_at")


class InvoiceInline(admin.TabularInline):
    model = BillingInvoice
    fields = ("invoice_id", "amount_due", "amount_paid", "currency", "paid_at", "first_failed_at", "attempt_count",
              "period_end")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


class ObservationInline(admin.TabularInline):
    model = SubscriptionEvent
    fields = ("event_id", "kind", "created", "status", "plan", "applied")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(VendorSubscription)
class VendorSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("vendor", "plan", "entitled_plan", "status", "access", "payment_method", "trial_end",
                    "current_period_end", "paid_through", "grace_until", "cancel_at_period_end", "ended")
    list_filter = ("status", "access", "payment_method", "ended", "plan")
    list_select_related = ("vendor", "plan", "entitled_plan")
    search_fields = ("vendor__slug", "vendor__name_zh", "subscription_id", "customer_id")
    raw_id_fields = ("vendor",)
    readonly_fields = [f.name for f in VendorSubscription._meta.fields if f.name not in ("vendor",)]
    inlines = [InvoiceInline, ObservationInline]


@admin.register(BillingInvoice)
class BillingInvoiceAdmin(admin.ModelAdmin):
    list_display = ("invoice_id", "vendor", "amount_due", "amount_paid", "currency", "paid_at", "first_failed_at",
                    "attempt_count", "final_failure", "period_end")
    list_select_related = ("vendor",)
    search_fields = ("invoice_id", "number", "vendor__slug")
    readonly_fields = [f.name for f in BillingInvoice._meta.fields]


@admin.register(AccessOverride)
class AccessOverrideAdmin(admin.ModelAdmin):
    list_display = ("vendor", "access", "until", "reason", "created_by", "created_at")
    list_select_related = ("vendor",)
    raw_id_fields = ("vendor",)


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "subject", "created_at", "sent_at")
    list_filter = ("kind",)
    search_fields = ("key", "subject")
    readonly_fields = [f.name for f in Notice._meta.fields]
