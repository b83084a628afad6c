"""The plugin manager: pluggy for specs, registration and ordering; this module for
per-scope activation, failure isolation and tracing."""
import contextvars
import importlib
import logging
import sys
import threading

import pluggy
from django.apps import apps
from django.conf import settings

from marketplace.core.errors import MarketplaceError

from . import hookspecs
from .base import PluginAppConfig

logger = logging.getLogger("marketplace.plugins")
trace_logger = logging.getLogger("marketplace.plugins.trace")

# Configuration rows cached for the current request or task (see `configuration_scope`).
_snapshot = contextvars.ContextVar("plugin_configuration_snapshot", default=None)
# Failures of plugins during the current request, reported in the GraphQL response.
_failures = contextvars.ContextVar("plugin_failures", default=None)


class PluginManager:
    def __init__(self):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins = {}
        for app_config in apps.get_app_configs():
            if isinstance(app_config, PluginAppConfig):
                self.register(app_config)

    def register(self, app_config):
        name = app_config.plugin_name
        if name in self.plugins:
            raise RuntimeError(f"Two plugins are named {name!r}")
        self.plugins[name] = app_config
        try:
            module = importlib.import_module(app_config.hooks_module)
        except ModuleNotFoundError as exc:
            if exc.name != app_config.hooks_module:
                raise
            return
        self.pm.register(module, name=name)
        self.pm.check_pending()

    # -- activation ---------------------------------------------------------------
    def is_active(self, name, vendor_id=None):
        plugin = self.plugins.get(name)
        if plugin is None:
            return False
        rows = configuration_rows()
        platform = rows.get((name, None))
        active = plugin.default_active if platform is None or platform.active is None else platform.active
        if active and vendor_id is not None and plugin.vendor_configurable:
            vendor = rows.get((name, int(vendor_id)))
            if vendor is not None and vendor.active is not None:
                active = vendor.active
        return active

    def get_settings(self, name, vendor_id=None):
        """The validated, typed settings of a plugin in a scope (platform values
        overridden by the vendor's), or None if it declares no schema."""
        plugin = self.plugins[name]
        if plugin.settings_schema is None:
            return None
        rows = configuration_rows()
        data = {}
        platform = rows.get((name, None))
        if platform is not None:
            data.update(platform.settings)
        if vendor_id is not None and plugin.vendor_configurable:
            vendor = rows.get((name, int(vendor_id)))
            if vendor is not None:
                data.update(vendor.settings)
        return plugin.settings_schema.model_validate(data)

    # -- calling hooks ------------------------------------------------------------
    def hookimpls(self, hook_name):
        """Implementations in call order (pluggy's: LIFO, honouring tryfirst/trylast)."""
        caller = getattr(self.pm.hook, hook_name)
        return list(reversed(caller.get_hookimpls()))

    def _invoke(self, impl, hook_name, kwargs, contain_all=False):
        args = [kwargs[name] for name in impl.argnames]
        try:
            result = impl.function(*args)
        except MarketplaceError:
            if not contain_all:
                raise
            logger.exception("Plugin %r refused in notification hook %r", impl.plugin_name, hook_name)
            record_failure(impl.plugin_name, hook_name, sys.exc_info()[1])
            return _FAILED
        except Exception as exc:  # a failing plugin must not break the core
            logger.exception("Plugin %r failed in hook %r", impl.plugin_name, hook_name)
            record_failure(impl.plugin_name, hook_name, exc)
            return _FAILED
        if settings.MARKETPLACE_TRACE_HOOKS:
            trace_logger.debug("%s[%s](%r) -> %r", hook_name, impl.plugin_name, kwargs, result)
        return result

    def call_all(self, hook_name, vendor_id=None, include_inactive=False, notify=False, **kwargs):
        """Call every active implementation; return the non-None results in order.
        `notify=True` (event delivery) contains every error, MarketplaceError included,
        so one subscriber can never stop the others."""
        results = []
        for impl in self.hookimpls(hook_name):
            if not include_inactive and not self.is_active(impl.plugin_name, vendor_id):
                continue
            result = self._invoke(impl, hook_name, kwargs, contain_all=notify)
            if result is not None and result is not _FAILED:
                results.append(result)
        return results

    def call_each(self, hook_name, include_inactive=True, **kwargs):
        """Like call_all, but yields (plugin_name, result) pairs: used where the engine
        must know which plugin contributed what (e.g. GraphQL fields)."""
        for impl in self.hookimpls(hook_name):
            if not include_inactive and not self.is_active(impl.plugin_name):
                continue
            result = self._invoke(impl, hook_name, kwargs)
            if result is not None and result is not _FAILED:
                yield impl.plugin_name, result

    def call_fold(self, hook_name, previous_value, vendor_id=None, **kwargs):
        """Thread a value through every active implementation: each receives the
        previous plugin's result as `previous_value` and returns the new one. A plugin
        that fails is skipped (its input passes through unchanged)."""
        value = previous_value
        for impl in self.hookimpls(hook_name):
            if not self.is_active(impl.plugin_name, vendor_id):
                continue
            result = self._invoke(impl, hook_name, {**kwargs, "previous_value": value})
            if result is not _FAILED and result is not None:
                value = result
        return value


class _Failed:
    def __repr__(self):
        return "<plugin failed>"


_FAILED = _Failed()
_manager = None
_lock = threading.Lock()


def get_manager():
    global _manager
    if _manager is None:
        with _lock:
            if _manager is None:
                _manager = PluginManager()
    return _manager


def reset_manager():
    """Forget the registered plugins (tests that install plugins at run time)."""
    global _manager
    _manager = None


# -- configuration snapshot -------------------------------------------------------
def _load_rows():
    from .models import PluginConfiguration

    return {(row.plugin, row.vendor_id): row for row in PluginConfiguration.objects.all()}


def configuration_rows():
    rows = _snapshot.get()
    if rows is None:
        rows = _load_rows()
        if _scope_open.get():
            _snapshot.set(rows)
    return rows


_scope_open = contextvars.ContextVar("plugin_configuration_scope", default=False)


class configuration_scope:
    """Within this block the plugin configuration is read once and reused (one request
    or one task). Outside any scope every lookup reads the database afresh."""

    def __enter__(self):
        self._tokens = (_scope_open.set(True), _snapshot.set(None), _failures.set([]))
        return self

    def __exit__(self, *exc):
        _scope_open.reset(self._tokens[0])
        _snapshot.reset(self._tokens[1])
        _failures.reset(self._tokens[2])


def invalidate_configuration():
    _snapshot.set(None)


def record_failure(plugin, hook, exc):
    failures = _failures.get()
    if failures is not None:
        failures.append({"plugin": plugin, "hook": hook, "message": str(exc) or type(exc).__name__})


def current_failures():
    return list(_failures.get() or [])
