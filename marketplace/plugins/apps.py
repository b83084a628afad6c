from django.apps import AppConfig


class PluginsConfig(AppConfig):
    name = "marketplace.plugins"
    label = "plugins"
    verbose_name = "Plugins"

    def ready(self):
        from celery.signals import task_postrun, task_prerun

        from .manager import configuration_scope

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
