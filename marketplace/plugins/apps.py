from django.apps import AppConfig


class PluginsConfig(AppConfig):
    name = "marketplace.plugins"
    label = "plugins"
    verbose_name = "Plugins"

    def ready(self):
        from celery.signals import task_postrun, task_prerun

        from marketplace.core import events, snapshots

        from . import entitlements, manager
        from .manager import configuration_scope

        # The composition root of the plugin framework: the manager gates activation by
        # entitlements, and core events reach plugins, without core or the manager
        # importing the layers above them.
        manager.configure(gate=entitlements.has_entitlement,
                          scope_hooks=[(entitlements.open_scope, entitlements.close_scope, entitlements.invalidate),
                                       (snapshots.open_scope, snapshots.close_scope, snapshots.invalidate)])
        manager.configuration_snapshot()  # invalidation on write, in every process
        events.add_source(plugin_event_classes)
        events.subscribe(dispatch_to_plugins)

        scopes = {}

        @task_prerun.connect(weak=False)
        def _open_scope(task_id=None, **kwargs):
            scope = configuration_scope()
            scope.__enter__()
            scopes[task_id] = scope

        @task_postrun.connect(weak=False)
        def _close_scope(task_id=None, **kwargs):
            scope = scopes.pop(task_id, None)
            if scope is not None:
                try:
                    scope.__exit__(None, None, None)
                except ValueError:  # token from another context (eager tasks nested in a request)
                    pass


def plugin_event_classes():
    """[(plugin name, [Event classes])] from the `register_events` hook."""
    from .manager import get_manager

    return get_manager().call_each("register_events", include_inactive=True)


def dispatch_to_plugins(event):
    """Deliver a committed event to the plugins active in its scope (`handle_event`)."""
    from .manager import get_manager

    get_manager().call("handle_event", vendor_id=event.vendor_id, event=event)
