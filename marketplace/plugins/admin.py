from django import forms
from django.contrib import admin

from marketplace.core.errors import MarketplaceError

from .models import PluginConfiguration


class PluginConfigurationForm(forms.ModelForm):
    class Meta:
        model = PluginConfiguration
        fields = ("plugin", "vendor_id", "active", "settings")

    def clean(self):
        from . import services

        cleaned = super().clean()
        plugin = cleaned.get("plugin") or getattr(self.instance, "plugin", None)
        try:
            config = services._plugin(plugin)
            if cleaned.get("vendor_id") is not None:
                from marketplace.vendors.models import Vendor

                if not config.vendor_configurable:
                    raise MarketplaceError("This plugin is configured for the whole platform only.", field="vendor_id")
                if not Vendor.objects.filter(pk=cleaned["vendor_id"]).exists():
                    raise MarketplaceError("No such vendor.", field="vendor_id")
            services.validate_settings(config, cleaned.get("settings") or {})
        except MarketplaceError as exc:
            for error in exc.as_list():
                self.add_error(None, f"{error.field or 'plugin'}: {error.message}")
        return cleaned


@admin.register(PluginConfiguration)
class PluginConfigurationAdmin(admin.ModelAdmin):
    form = PluginConfigurationForm
    list_display = ("plugin", "vendor_id", "active", "updated_at")
    list_filter = ("active", "plugin")
    search_fields = ("plugin",)

    def get_readonly_fields(self, request, obj=None):
        return ("plugin", "vendor_id") if obj else ()

    def save_model(self, request, obj, form, change):
        from . import services

        services.update_plugin(obj.plugin, vendor_id=obj.vendor_id, active=obj.active,
                               settings=obj.settings or {}, replace_settings=True)
