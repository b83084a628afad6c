from django.db import models
from django.db.models import Q


class PluginConfiguration(models.Model):
    """Stored settings of one plugin in one scope.

    The platform scope has ``vendor_id`` NULL; a vendor scope overrides it for one
    vendor. (The vendors app makes ``vendor_id`` reference a vendor.)
    """

    plugin = models.CharField(max_length=100, db_index=True)
    vendor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    active = models.BooleanField(null=True, blank=True, help_text="Empty: inherit (the platform's switch, or the plugin's default).")
    settings = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["plugin"], condition=Q(vendor_id__isnull=True), name="plugin_config_platform_unique"
            ),
            models.UniqueConstraint(
                fields=["plugin", "vendor_id"],
                condition=Q(vendor_id__isnull=False),
                name="plugin_config_vendor_unique",
            ),
        ]

    def __str__(self):
        scope = "platform" if self.vendor_id is None else f"vendor {self.vendor_id}"
        return f"{self.plugin} ({scope})"
