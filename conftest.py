"""Fixtures shared by the engine's suite (tests/) and the first-party plugins' suites
(plugins/<name>/tests/), defined once here at the root so that each exists once per
session: a fixture defined (or imported) in two conftest files is two fixtures to pytest,
and a session fixture such as the Celery worker would start twice in one process (two
consumers of one queue in one process stop taking tasks).

The plugin test kit (marketplace.plugins.testing, a pytest plugin) adds gql, make_user,
member, staff, make_vendor, make_product, plugin, frozen_clock and the others."""
import warnings

import pytest
from django.conf import settings

from tests.conftest import STRIPE_WEBHOOK_SECRET, unavailable


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


_workers_started = []


@pytest.fixture(scope="session")
def celery_worker_thread(django_db_setup, django_db_blocker):
    """The session's one real Celery worker, consuming from Redis in a thread of the test
    process (when Redis is configured; otherwise tasks run eagerly and this is None)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield None
        return
    if _workers_started:
        pytest.fail("A second session Celery worker was asked for: `celery_worker_thread` must be defined "
                    "once, in this file (importing it into another conftest makes it a second fixture).")
    _workers_started.append(True)
    from celery.contrib.testing.worker import start_worker
    from celery.worker import state

    from marketplace.celery import app

    with django_db_blocker.unblock():
        try:
            with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False,
                              shutdown_timeout=120.0, loglevel="WARNING") as worker:
                yield worker
                # The session is over: what is still queued (e.g. re-indexing that tests queued
                # and never waited for) would only delay the worker's stop.
                app.control.purge()
        except RuntimeError as exc:
            if "failed to exit" not in str(exc):
                raise
            # Every test's outcome is already decided; a task still running after two minutes
            # (on a loaded machine) is reported, not turned into a failure of the last test.
            busy = sorted({request.name for request in state.active_requests})
            warnings.warn(f"The test Celery worker was still running {busy or 'tasks'} at the end of the "
                          "session; it is a daemon thread and ends with the process.", stacklevel=1)


@pytest.fixture
def worker(celery_worker_thread, transactional_db):
    """Use in tests whose effects happen in Celery tasks: data must be committed for
    the worker to see it, hence a transactional database."""
    return celery_worker_thread


@pytest.fixture
def stripe_mock(settings):
    """Point the Stripe plugin at stripe-mock (Stripe's own API simulator)."""
    if not settings.STRIPE_API_BASE:
        unavailable("stripe-mock not running (developer run without services)",
                    "STRIPE_API_BASE is not set under CI: stripe-mock must run")
    settings.STRIPE_API_KEY = "sk_test_123"
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET
    return settings.STRIPE_API_BASE
