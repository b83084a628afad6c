from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    label = "search"
    verbose_name = "Search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        import logging

        from django.core import checks
        from django.db.backends.signals import connection_created

        from marketplace.core.events import subscribe

        from . import indexing
        from .backends.dbtext import set_similarity_threshold
        from .checks import search_cluster, search_settings

        checks.register(search_settings)
        checks.register(search_cluster, "search", deploy=True)
        connection_created.connect(set_similarity_threshold, dispatch_uid="search.pg_trgm_threshold")

        subscribe(indexing.on_event)
        indexing.connect_batching_signals()
        indexing.connect_model_signals()
        # The Elasticsearch client logs every request at INFO; keep that out of the
        # application's INFO logs unless LOGGING configures the logger explicitly.
        transport = logging.getLogger("elastic_transport.transport")
        if transport.level == logging.NOTSET:
            transport.setLevel(logging.WARNING)
