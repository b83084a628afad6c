from django.contrib import admin

from .models import PluginConfiguration


@admin.register(PluginConfiguration)
class PluginConfigurationAdmin(admin.ModelAdmin):
    list_display = ("plugin", "vendor_id", "active", "updated_at")
    list_filter = ("active", "plugin")
    search_fields = ("plugin",)

    def save_model(self, request, obj, form, change):
        from . import services

        services.update_plugin(obj.plugin, vendor_id=obj.vendor_id, active=obj.active, settings=obj.settings)
