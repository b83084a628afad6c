"""The public plugin API. Plugins import from here and from its submodules
`marketplace.plugins.graphql` (GraphQL building blocks), `marketplace.plugins.domain`
(the core models and helpers they may use) and `marketplace.plugins.payments` (the
gateway interface), and from nothing else in the engine.

    from marketplace.plugins import PluginAppConfig, hookimpl, emit, get_settings

See docs/plugins.md for every hook and a worked example.
"""
from marketplace.core.errors import (  # noqa: F401 (public API: errors plugins raise)
    ErrorCode, MarketplaceError, NotFound, PermissionDenied, ValidationError,
)

from .base import PluginAppConfig
from .hookspecs import hookimpl


def emit(name, payload, vendor_id=None):
    """Emit a domain event after the current transaction commits."""
    from marketplace.core.events import emit as _emit

    return _emit(name, payload, vendor_id=vendor_id)


def is_active(plugin_name, vendor_id=None):
    """Whether a plugin is enabled (for one vendor, when vendor_id is given)."""
    from .manager import get_manager

    return get_manager().is_active(plugin_name, vendor_id)


def get_settings(plugin_name, vendor_id=None):
    """The plugin's validated settings (an instance of its settings_schema)."""
    from .manager import get_manager

    return get_manager().get_settings(plugin_name, vendor_id)


def plugin_task(plugin_name, vendor_id_arg=None):
    """Decorate a Celery task function so that it does nothing (returns None) while
    the plugin is disabled; scheduled work of a switched-off plugin has no effect."""
    import functools

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            vendor_id = kwargs.get(vendor_id_arg) if vendor_id_arg else None
            if not is_active(plugin_name, vendor_id):
                return None
            return func(*args, **kwargs)

        return wrapper

    return decorator


def __getattr__(name):
    if name == "Event":
        from marketplace.core.events import Event

        return Event
    raise AttributeError(name)


__all__ = ["PluginAppConfig", "hookimpl", "emit", "is_active", "get_settings", "plugin_task", "Event", "ErrorCode",
           "MarketplaceError", "NotFound", "PermissionDenied", "ValidationError"]
