from django.contrib import admin

from .models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "starts_at", "ends_at", "discount_percent", "exempt_from_floor", "is_active")
    list_filter = ("is_active", "exempt_from_floor")
    filter_horizontal = ("categories", "vendors")
