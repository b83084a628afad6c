import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
application = get_wsgi_application()


def _warm_and_freeze():
    """Build the GraphQL schema now and move everything loaded at start-up out of the
    garbage collector's reach: request-time collections then scan only request garbage
    (long GC pauses were the listing's p95 tail)."""
    import marketplace.api.schema  # noqa: F401

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


_warm_and_freeze()
