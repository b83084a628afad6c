"""Changing plugin configuration (activation and settings) per scope."""
import pydantic
from django.db import transaction

from marketplace.core.errors import ErrorCode, MarketplaceError, NotFound, ValidationError
from marketplace.core.events import emit

from .manager import get_manager, invalidate_configuration
from .models import PluginConfiguration


def _plugin(name):
    plugin = get_manager().plugins.get(name)
    if plugin is None:
        raise NotFound(f"No plugin named {name!r}.", field="plugin")
    return plugin


def validate_settings(plugin, data):
    """Validate settings against the plugin's schema; returns the JSON to store."""
    if plugin.settings_schema is None:
        if data:
            raise ValidationError("This plugin has no settings.", field="settings")
        return {}
    if not isinstance(data, dict):
        raise ValidationError("Settings must be an object.", field="settings")
    try:
        model = plugin.settings_schema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            errors=[
                MarketplaceError(err["msg"], code=ErrorCode.INVALID,
                                 field="settings." + ".".join(str(part) for part in err["loc"]))
                for err in exc.errors()
            ]
        ) from None
    return model.model_dump(mode="json", exclude_unset=True)


@transaction.atomic
def update_plugin(name, vendor_id=None, active=None, settings=None):
    plugin = _plugin(name)
    if vendor_id is not None and not plugin.vendor_configurable:
        raise ValidationError("This plugin is configured for the whole platform only.", field="vendor_id")
    config = PluginConfiguration.objects.select_for_update().filter(plugin=name, vendor_id=vendor_id).first()
    if config is None:
        config = PluginConfiguration(plugin=name, vendor_id=vendor_id, active=plugin.default_active, settings={})
    if settings is not None:
        merged = {**config.settings, **settings}
        config.settings = validate_settings(plugin, merged)
    if active is not None:
        config.active = active
    config.save()
    invalidate_configuration()
    emit("plugin_updated", {"plugin": name, "vendor_id": vendor_id, "active": config.active})
    return config
