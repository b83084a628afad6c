"""Which configured services are unreachable. Under CI all of them are required."""
import os
import socket
from urllib.parse import urlparse

from django.conf import settings


def _reachable(url, default_port):
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def problems(require_all):
    found = []
    database = settings.DATABASES["default"]
    if require_all and database["ENGINE"] != "django.db.backends.postgresql":
        found.append("PostgreSQL: DATABASE_URL must point at PostgreSQL under CI (got %s)" % database["ENGINE"])
    if database["ENGINE"] == "django.db.backends.postgresql":
        if not _reachable(f"//{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}", 5432):
            found.append(f"PostgreSQL: nothing answers at {database['HOST']}:{database['PORT']}")
    redis_url = os.environ.get("REDIS_URL")
    if require_all and not redis_url:
        found.append("Redis: REDIS_URL is not set under CI")
    if redis_url and not _reachable(redis_url, 6379):
        found.append(f"Redis: nothing answers at {redis_url}")
    return found
