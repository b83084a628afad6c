"""Backend selection: `settings.SEARCH_BACKEND` is "database" (default) or "elasticsearch"."""
import threading

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import SearchBackend

BACKENDS = ("database", "elasticsearch")
_cache = {}
_lock = threading.Lock()


def backend_key():
    return (settings.SEARCH_BACKEND, settings.ELASTICSEARCH_URL, settings.SEARCH_INDEX_PREFIX)


def get_backend() -> SearchBackend:
    """The configured backend (one instance per configuration; tests switch settings)."""
    key = backend_key()
    backend = _cache.get(key)
    if backend is None:
        with _lock:
            backend = _cache.get(key)
            if backend is None:
                backend = _cache[key] = _create(*key)
    return backend


def _create(name, url, prefix):
    if name == "database":
        from .database import DatabaseBackend

        return DatabaseBackend()
    if name == "elasticsearch":
        if not url:
            raise ImproperlyConfigured("SEARCH_BACKEND=elasticsearch needs ELASTICSEARCH_URL.")
        from .elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend(url, prefix)
    raise ImproperlyConfigured(f"Unknown SEARCH_BACKEND {name!r}; use one of {', '.join(BACKENDS)}.")


__all__ = ["BACKENDS", "SearchBackend", "get_backend"]
