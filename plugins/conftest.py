"""First-party plugins keep their tests in plugins/<name>/tests/. They get the plugin test
kit's fixtures (marketplace.plugins.testing, a pytest plugin) and, from the engine's own
suite, the real-service fixtures: a Celery worker on Redis, stripe-mock, the services check."""
from tests.conftest import (  # noqa: F401
    _fast_passwords, _fresh_cache, celery_worker_thread, signed_post, stripe_event, stripe_mock, wait_for, worker,
)
