"""The public plugin API. Plugins import from here and from its submodules, and from
nothing else in the engine:

- `marketplace.plugins`: `PluginAppConfig`, `hookimpl`, `hookspec` and the policies
  (`STARTUP`, `ENRICH`, `NOTIFY`, `GUARD`) for hooks a plugin publishes, `call_hook`,
  `emit`, `Event`, `is_active`, `get_settings`, `plugin_task`, `request_cache`, the errors;
- `.errors`, `.events`, `.clock`;
- `.graphql` (mutations with declared policies, loaders, connections, core types);
- `.catalog`, `.vendors`, `.accounts`, `.orders` (read-only selectors and the services a
  plugin may call), `.checkout` (line kinds, line metadata, order-level adjustments),
  `.pricing`, `.payments` (gateway interface and the payments facade), `.billing` (the
  recurring-billing contract of gateways with `SUBSCRIPTIONS`), `.ledger`, `.entitlements`;
- `.testing` (a test kit, also a pytest plugin).

    from marketplace.plugins import PluginAppConfig, hookimpl, emit, get_settings

Modules that touch models (catalog, orders, ...) must be imported once Django's app
registry is ready: in hooks.py, schema.py, services.py, or inside functions.
See docs/plugins.md for every hook and function, with examples.
"""
import functools

from marketplace.core.errors import (  # noqa: F401 (public API: errors plugins raise)
    ErrorCode, MarketplaceError, NotFound, PermissionDenied, ValidationError,
)
from marketplace.core.events import Event, emit  # noqa: F401

from .base import PluginAppConfig
from .hookspecs import hookimpl, hookspec
from .policy import ENRICH, GUARD, NOTIFY, STARTUP, Policy


def is_active(plugin_name, vendor_id=None):
    """Whether a plugin is on (for one vendor, when vendor_id is given: the vendor's own
    switch and entitlement count too)."""
    from .manager import get_manager

    return get_manager().is_active(plugin_name, vendor_id)


def get_settings(plugin_name, vendor_id=None):
    """The plugin's validated settings (an instance of its settings_schema), the vendor's
    values over the platform's when vendor_id is given."""
    from .manager import get_manager

    return get_manager().get_settings(plugin_name, vendor_id)


def call_hook(hook_name, vendor_id=None, **kwargs):
    """Call a hook (typically one another plugin published through
    `PluginAppConfig.hookspecs`) for a scope; pluggy's result: a list, or one value for a
    `firstresult` hook. Raises AttributeError for an unknown hook name."""
    from .manager import get_manager

    return get_manager().call(hook_name, vendor_id=vendor_id, **kwargs)


def has_hook(hook_name):
    """Whether some plugin declared the hook `hook_name` (so `call_hook` can be used)."""
    from .manager import get_manager

    caller = getattr(get_manager().pm.hook, hook_name, None)
    return caller is not None and caller.spec is not None


def plugin_task(plugin_name, vendor_id_arg=None):
    """Decorate a Celery task function so that it does nothing (returns None) while the
    plugin is disabled (for the vendor named by the `vendor_id_arg` keyword argument)."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            from .manager import configuration_scope

            with configuration_scope():
                vendor_id = kwargs.get(vendor_id_arg) if vendor_id_arg else None
                if not is_active(plugin_name, vendor_id):
                    return None
                return func(*args, **kwargs)

        return wrapper

    return decorator


def request_cache(namespace):
    """A dict that lives for the current request or task (the configuration scope) and is
    shared by every call in it, e.g. to look the member up once per request instead of once
    per product. Outside a scope, a fresh dict each call."""
    from .manager import scope_cache

    return scope_cache(namespace)


__all__ = ["PluginAppConfig", "hookimpl", "hookspec", "STARTUP", "ENRICH", "NOTIFY", "GUARD", "Policy", "emit",
           "Event", "is_active", "get_settings", "call_hook", "has_hook", "plugin_task", "request_cache", "ErrorCode",
           "MarketplaceError", "NotFound", "PermissionDenied", "ValidationError"]
