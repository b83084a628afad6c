from django.contrib import admin

from .models import WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("name", "target_url", "is_active", "created_at")
    list_filter = ("is_active",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_name", "subscription", "status", "attempts", "last_status_code", "created_at", "delivered_at")
    list_filter = ("status", "event_name")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["retry"]

    @admin.action(description="Retry the selected failed deliveries")
    def retry(self, request, queryset):
        from .tasks import deliver_webhook

        for delivery in queryset.filter(status=WebhookDelivery.FAILED):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.PENDING, attempts=0)
            deliver_webhook.delay(delivery.pk)
