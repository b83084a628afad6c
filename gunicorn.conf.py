"""gunicorn settings of every app server. `gunicorn` reads this file from its working
directory (the repository root), so the Procfile's `web`, `make serve` and a production
unit all serve the same way. Every value comes from the environment (docs/deploy.md)."""
import os


def _int(name, default):
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT') or 8000}"
workers = _int("WEB_CONCURRENCY", 2)  # per app server: about one per core
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or "gthread"
threads = _int("GUNICORN_THREADS", 4)  # requests wait on PostgreSQL/Redis/Elasticsearch: a few threads each
keepalive = _int("GUNICORN_KEEPALIVE", 30)  # the proxy keeps upstream connections open
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)  # >0 recycles workers (with jitter) if memory grows
max_requests_jitter = max_requests // 10
# Trust X-Forwarded-* only from the proxy in front (its address; "*" behind a private network).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # "-" for stdout
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL") or "info"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
