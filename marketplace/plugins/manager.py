"""The plugin manager. pluggy registers plugins and calls hooks; this module adds three
things around it and nothing else:

- activation per scope: a call for a vendor leaves out the plugins switched off for that
  vendor (or for the platform), as a pluggy *subset hook caller*;
- failure policy: each implementation is wrapped once, at registration, in the policy its
  hook spec declares (`policy.py`): contained, or fail-closed, inside a savepoint or not;
- tracing: `MARKETPLACE_TRACE_HOOKS=1` registers pluggy's call monitor, which logs every
  hook call with its arguments and results (logger `marketplace.plugins.trace`).

Callers use `call(hook, **kwargs)` (pluggy's return value: a list, or one value for a
`firstresult` hook) and `call_each(hook, **kwargs)` when they must know which plugin
contributed what (`[(plugin_name, result), ...]`).
"""
from __future__ import annotations

import contextvars
import functools
import importlib
import inspect
import logging
import threading
from types import MappingProxyType

import pluggy
from django.apps import apps
from django.conf import settings
from django.db import transaction

from marketplace.core.errors import ErrorCode, MarketplaceError

from . import hookspecs
from .base import PluginAppConfig
from .policy import ENRICH, STARTUP

logger = logging.getLogger("marketplace.plugins")
trace_logger = logging.getLogger("marketplace.plugins.trace")

# Configuration rows cached for the current request or task (see `configuration_scope`).
_snapshot = contextvars.ContextVar("plugin_configuration_snapshot", default=None)
# Failures of plugins during the current request, reported in the GraphQL response.
_failures = contextvars.ContextVar("plugin_failures", default=None)
# Where wrapped implementations report (plugin, result) while `call_each` collects.
_collector = contextvars.ContextVar("plugin_result_collector", default=None)
# Plugins' per-request caches (marketplace.plugins.request_cache).
_scope_caches = contextvars.ContextVar("plugin_scope_caches", default=None)


class PluginFailed(MarketplaceError):
    """A plugin crashed in a hook whose policy is fail-closed: the operation stops."""

    code = ErrorCode.PLUGIN_FAILED

    def __init__(self, plugin, hook):
        super().__init__(f"The {plugin} plugin failed while checking this ({hook}); nothing was changed. "
                         "Try again later.")
        self.plugin, self.hook = plugin, hook


class PluginManager:
    def __init__(self, app_configs=None):
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.plugins = {}
        self._subsets = {}
        self._untrace = None
        configs = [c for c in (app_configs if app_configs is not None else apps.get_app_configs())
                   if isinstance(c, PluginAppConfig)]
        # Hooks published by plugins first, so every implementation finds its spec.
        for app_config in configs:
            if app_config.hookspecs:
                self.pm.add_hookspecs(importlib.import_module(app_config.hookspecs))
        for app_config in configs:
            self.register(app_config)
        self.pm.check_pending()
        if settings.MARKETPLACE_TRACE_HOOKS:
            self.enable_tracing()

    # -- registration ---------------------------------------------------------------------
    def register(self, app_config, module=None):
        """Register a plugin: its app config (for activation and settings) and its hooks
        module (or `module`, any object with @hookimpl functions)."""
        name = app_config.plugin_name
        if name in self.plugins:
            raise RuntimeError(f"Two plugins are named {name!r}")
        if module is None:
            try:
                module = importlib.import_module(app_config.hooks_module)
            except ModuleNotFoundError as exc:
                if exc.name != app_config.hooks_module:
                    raise
                module = None
        self.plugins[name] = app_config
        if module is not None:
            self.pm.register(module, name=name)
            self._wrap(name)
        self._subsets.clear()

    def unregister(self, name):
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin, name=name)
        self.plugins.pop(name, None)
        self._subsets.clear()

    def _wrap(self, plugin_name):
        """Wrap each of the plugin's implementations in its hook's failure policy."""
        for hook_name in dir(self.pm.hook):
            caller = getattr(self.pm.hook, hook_name)
            if not isinstance(caller, pluggy.HookCaller):
                continue
            policy = hookspecs.policy_of(caller.spec.function) if caller.spec else ENRICH
            for impl in caller.get_hookimpls():
                if impl.plugin_name != plugin_name or impl.wrapper or impl.hookwrapper:
                    continue
                if getattr(impl.function, "_marketplace_wrapped", False):
                    continue
                impl.function = _isolated(impl.function, plugin_name, hook_name, policy)

    # -- activation -----------------------------------------------------------------------
    def is_active(self, name, vendor_id=None):
        """Whether a plugin takes part in calls for this scope: its platform switch, then
        (for a vendor-configurable plugin) the vendor's switch, then the vendor's
        entitlement when the plugin requires one."""
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
        if active and vendor_id is not None and plugin.requires_entitlement and _gate is not None:
            active = _gate(vendor_id, plugin.requires_entitlement)
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

    # -- calling hooks ----------------------------------------------------------------------
    def hookimpls(self, hook_name):
        """The implementations of a hook in pluggy's call order (for introspection only)."""
        return list(reversed(getattr(self.pm.hook, hook_name).get_hookimpls()))

    def caller(self, hook_name, vendor_id=None, include_inactive=False):
        """The pluggy hook caller for a scope: every implementation, or a subset caller
        without the plugins that are off for `vendor_id` (None = the platform scope)."""
        hook = getattr(self.pm.hook, hook_name)
        if include_inactive:
            return hook
        implementers = {impl.plugin_name for impl in hook.get_hookimpls()}
        inactive = tuple(sorted(n for n in implementers if n in self.plugins and not self.is_active(n, vendor_id)))
        if not inactive:
            return hook
        key = (hook_name, inactive)
        subset = self._subsets.get(key)
        if subset is None:
            subset = self.pm.subset_hook_caller(hook_name, [self.pm.get_plugin(n) for n in inactive])
            self._subsets[key] = subset
        return subset

    def call(self, hook_name, *, vendor_id=None, include_inactive=False, **kwargs):
        """Call a hook through pluggy for a scope; returns pluggy's result (the list of
        non-None results, or the first one for a `firstresult` hook)."""
        return self.caller(hook_name, vendor_id, include_inactive)(**kwargs)

    call_all = call  # the older name of `call`

    def call_each(self, hook_name, *, vendor_id=None, include_inactive=False, **kwargs):
        """Like `call`, but returns `[(plugin_name, result), ...]` for the non-None results,
        in pluggy's call order: for callers that must know who contributed what."""
        collected = []
        token = _collector.set(collected)
        try:
            self.call(hook_name, vendor_id=vendor_id, include_inactive=include_inactive, **kwargs)
        finally:
            _collector.reset(token)
        return collected

    def call_fold(self, hook_name, previous_value, vendor_id=None, **kwargs):
        """Thread a value through the active implementations of a fold hook (each receives
        the previous result as `previous_value`), each called through pluggy as a
        one-plugin subset. A contained failure passes its input through unchanged."""
        value = previous_value
        hook = getattr(self.pm.hook, hook_name)
        names = [impl.plugin_name for impl in reversed(hook.get_hookimpls())]
        for name in names:
            if not self.is_active(name, vendor_id):
                continue
            others = [self.pm.get_plugin(n) for n in names if n != name]
            results = self.pm.subset_hook_caller(hook_name, others)(previous_value=value, **kwargs)
            if results:
                value = results[0]
        return value

    # -- tracing ------------------------------------------------------------------------------
    def enable_tracing(self):
        """Log every hook call (name, plugins, arguments) and its results. Returns a
        function that turns tracing off again."""
        if self._untrace is not None:
            return self._untrace

        def before(hook_name, impls, kwargs):
            trace_logger.debug("%s[%s](%r)", hook_name, ",".join(i.plugin_name for i in impls), kwargs)

        def after(outcome, hook_name, impls, kwargs):
            try:
                result = outcome.get_result()
            except BaseException as exc:  # noqa: BLE001 - only reported
                result = exc
            trace_logger.debug("%s -> %r", hook_name, result)

        undo = self.pm.add_hookcall_monitoring(before, after)

        def untrace():
            undo()
            self._untrace = None

        self._untrace = untrace
        return untrace


class _Opening(threading.local):
    active = False


_opening = _Opening()


def _in_savepoint_if_used(function, args):
    """Call `function` so that whatever SQL it runs is undone if it fails, inside the
    caller's transaction: a savepoint taken just before its first statement (most hook
    implementations read nothing or only cached values, and a savepoint is two round
    trips), rolled back on an exception, released otherwise."""
    connection = transaction.get_connection()
    state = {"sid": None}

    def first_statement_opens_savepoint(execute, sql, params, many, context):
        # Nested calls (a hook implementation calling a hook) each have a wrapper, the
        # outermost first: while one opens its savepoint, the others let that SAVEPOINT
        # statement through, so the savepoints nest as the calls do.
        if state["sid"] is None and not _opening.active:
            state["sid"] = "opening"
            _opening.active = True
            try:
                state["sid"] = transaction.savepoint()
            finally:
                _opening.active = False
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(first_statement_opens_savepoint):
            result = function(*args)
    except BaseException:
        if state["sid"] not in (None, "opening"):
            transaction.savepoint_rollback(state["sid"])
        raise
    if state["sid"] not in (None, "opening"):
        transaction.savepoint_commit(state["sid"])
    return result


def _isolated(function, plugin_name, hook_name, policy):
    """`function` wrapped in `policy`: a savepoint when the policy asks for one; failures
    contained (logged, reported, None returned) or raised as the policy says. While
    `call_each` collects, the (plugin, result) pair is reported to it."""
    if inspect.isgeneratorfunction(function):
        return function

    @functools.wraps(function)
    def call(*args):
        outer = _collector.get()
        token = _collector.set(None)  # hooks this implementation calls do not report here
        try:
            if policy.savepoint and transaction.get_connection().in_atomic_block:
                result = _in_savepoint_if_used(function, args)
            elif policy.savepoint:
                with transaction.atomic():
                    result = function(*args)
            else:
                result = function(*args)
        except MarketplaceError as exc:
            if not policy.contain_refusal:
                raise
            logger.warning("Plugin %r refused in hook %r: %s", plugin_name, hook_name, exc)
            record_failure(plugin_name, hook_name, exc)
            return None
        except Exception as exc:
            if policy is STARTUP:
                raise
            logger.exception("Plugin %r failed in hook %r", plugin_name, hook_name)
            record_failure(plugin_name, hook_name, exc)
            if not policy.contain_crash:
                raise PluginFailed(plugin_name, hook_name) from exc
            return None
        finally:
            _collector.reset(token)
        if outer is not None and result is not None:
            outer.append((plugin_name, result))
        return result

    call._marketplace_wrapped = True
    return call


_manager = None
_lock = threading.Lock()


def get_manager() -> PluginManager:
    global _manager
    if _manager is None:
        with _lock:
            if _manager is None:
                _manager = PluginManager()
    return _manager


# -- configuration snapshot -------------------------------------------------------------------
def _read_rows():
    from .models import PluginConfiguration

    return MappingProxyType({(row.plugin, row.vendor_id): row for row in PluginConfiguration.objects.all()})


_rows_snapshot = None


def configuration_snapshot():
    """The snapshot of the configuration rows (created at start-up, so that every process
    bumps it when it writes a row)."""
    global _rows_snapshot
    if _rows_snapshot is None:
        from marketplace.core.snapshots import Snapshot, connect

        from .models import PluginConfiguration

        snapshot = Snapshot("plugins.configuration", _read_rows)
        connect(snapshot, PluginConfiguration)
        _rows_snapshot = snapshot
    return _rows_snapshot


def _load_rows():
    """Every configuration row by (plugin, vendor_id): the process's copy, re-read only
    after a row is written (marketplace.core.snapshots; shared read-only)."""
    return configuration_snapshot().get()


_scope_open = contextvars.ContextVar("plugin_configuration_scope", default=False)


def configuration_rows():
    rows = _snapshot.get()
    if rows is None:
        rows = _load_rows()
        if _scope_open.get():
            _snapshot.set(rows)
    return rows


# Set by the plugins app at start-up (apps.py), so this module needs no entitlements import:
# `_gate(vendor_id, entitlement) -> bool`, and what else to open/close/drop per scope.
_gate = None
_scope_hooks = []  # [(open() -> token, close(token), invalidate())]


def configure(gate=None, scope_hooks=()):
    """Wire the entitlement gate of `is_active` and extra per-scope caches (plugins app)."""
    global _gate
    _gate = gate
    _scope_hooks[:] = list(scope_hooks)


class configuration_scope:
    """Within this block the plugin configuration (and vendor entitlements) are read
    once and reused (one request or one task). Outside any scope every lookup reads the
    database afresh."""

    def __enter__(self):
        self._tokens = (_scope_open.set(True), _snapshot.set(None), _failures.set([]), _scope_caches.set({}))
        self._extra = [(close, open_()) for open_, close, _invalidate in _scope_hooks]
        return self

    def __exit__(self, *exc):
        for close, token in reversed(self._extra):
            close(token)
        _scope_caches.reset(self._tokens[3])
        _scope_open.reset(self._tokens[0])
        _snapshot.reset(self._tokens[1])
        _failures.reset(self._tokens[2])


def scope_cache(namespace):
    caches = _scope_caches.get()
    if caches is None:
        return {}
    return caches.setdefault(namespace, {})


def invalidate_configuration():
    _snapshot.set(None)
    for _open, _close, invalidate in _scope_hooks:
        invalidate()


def record_failure(plugin, hook, exc):
    failures = _failures.get()
    if failures is not None:
        failures.append({"plugin": plugin, "hook": hook, "message": str(exc) or type(exc).__name__})


def current_failures():
    return list(_failures.get() or [])
