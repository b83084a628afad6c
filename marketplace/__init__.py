"""The marketplace engine: a Django project with a plugin framework."""
from .celery import app as celery_app

__all__ = ["celery_app"]
