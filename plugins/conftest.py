"""First-party plugins keep their tests in plugins/<name>/tests/. They get the plugin test
kit's fixtures (marketplace.plugins.testing, a pytest plugin) and, from the root conftest.py,
the real-service fixtures shared with the engine's suite: the session's one Celery worker on
Redis (`worker`), stripe-mock (`stripe_mock`). Helpers stay importable from here."""
from tests.conftest import signed_post, stripe_event, wait_for  # noqa: F401
