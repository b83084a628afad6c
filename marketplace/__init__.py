"""The marketplace engine: a Django project with a plugin framework."""
__version__ = "1.0.0"

from .celery import app as celery_app  # noqa: E402

__all__ = ["celery_app", "__version__"]
