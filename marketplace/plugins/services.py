"""Changing plugin configuration (activation and settings) per scope."""
import pydantic
from django.db import transaction

from marketplace.core.errors import ErrorCode, MarketplaceError, NotFound, ValidationError
from marketplace.core.events import PluginUpdated, emit

from .manager import get_manager, invalidate_configuration
from .models import PluginConfiguration


def _plugin(name):
    plugin = get_manager().plugins.get(name)
    if plugin is None:
        raise NotFound(f"No plugin named {name!r}.", field="plugin")
    return plugin


def _stored(model, keys):
    """JSON to store for the given keys, with secrets in clear (SecretStr masks them)."""
    dumped = model.model_dump(mode="json")
    for key in keys:
        value = getattr(model, key)
        if isinstance(value, (pydantic.SecretStr, pydantic.SecretBytes)):
            value = value.get_secret_value()
            dumped[key] = value.decode() if isinstance(value, bytes) else value
    return {key: dumped[key] for key in keys}


def validate_settings(plugin, data, inherited=None):
    """Validate `data` (over `inherited` values from the wider scope) against the plugin's
    schema; returns the JSON to store for the keys in `data`."""
    if plugin.settings_schema is None:
        if data:
            raise ValidationError("This plugin has no settings.", field="settings")
        return {}
    if not isinstance(data, dict):
        raise ValidationError("Settings must be an object.", field="settings")
    known = plugin.settings_schema.model_fields
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValidationError(
            errors=[MarketplaceError(f"Unknown setting (known: {', '.join(known)}).", field=f"settings.{key}")
                    for key in unknown]
        )
    try:
        model = plugin.settings_schema.model_validate({**(inherited or {}), **data})
    except pydantic.ValidationError as exc:
        raise ValidationError(
            errors=[
                MarketplaceError(err["msg"], code=ErrorCode.INVALID,
                                 field="settings." + ".".join(str(part) for part in err["loc"]))
                for err in exc.errors()
            ]
        ) from None
    return _stored(model, data.keys())


def check_activation(plugin, vendor_id):
    """Refuse to switch a plugin on for a scope: without the vendor entitlement it requires
    (ENTITLEMENT_REQUIRED), or when the plugin's own guard refuses (its ValidationError)."""
    if vendor_id is not None and plugin.requires_entitlement:
        from .entitlements import require

        require(vendor_id, plugin.requires_entitlement, field="active")
    try:
        plugin.check_activation(vendor_id)
    except MarketplaceError as exc:
        for error in exc.as_list():
            error.field = error.field or "active"
        raise


@transaction.atomic
def update_plugin(name, vendor_id=None, active=None, settings=None, replace_settings=False, inherit=False):
    """Change a plugin's switch and/or settings in one scope. `active=None` leaves the
    switch as it is (a new vendor row inherits the platform's)."""
    plugin = _plugin(name)
    if vendor_id is not None and not plugin.vendor_configurable:
        raise ValidationError("This plugin is configured for the whole platform only.", field="vendor_id")
    if vendor_id is not None:
        from marketplace.vendors.models import Vendor

        if not Vendor.objects.filter(pk=vendor_id).exists():
            raise NotFound("Vendor not found.", field="vendor_id")
    config = PluginConfiguration.objects.select_for_update().filter(plugin=name, vendor_id=vendor_id).first()
    if config is None:
        config = PluginConfiguration(plugin=name, vendor_id=vendor_id, active=None, settings={})
    if settings is not None and not isinstance(settings, dict):
        raise ValidationError("Settings must be an object.", field="settings")
    if settings is not None:
        inherited = {}
        if vendor_id is not None:
            platform = PluginConfiguration.objects.filter(plugin=name, vendor_id__isnull=True).first()
            inherited = platform.settings if platform else {}
        merged = dict(settings) if replace_settings else {**config.settings, **settings}
        config.settings = validate_settings(plugin, merged, inherited)
    switching_on = bool(active) and not inherit
    if inherit:
        config.active = None
    elif active is not None:
        config.active = active
    if switching_on:
        check_activation(plugin, vendor_id)
    config.save()
    invalidate_configuration()
    emit(PluginUpdated(plugin=name, vendor_id=vendor_id, active=get_manager().is_active(name, vendor_id)))
    return config
