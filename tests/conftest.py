"""Shared fixtures. Tests talk to the API as a client would: JSON over HTTP."""
import json
import os
import time

import pytest
from django.conf import settings

from fixtures import demo

from marketplace.plugins.testing import PASSWORD  # noqa: E402


def in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_configure(config):
    """Under CI every configured service must be real and reachable: fail, never skip.
    A run of only the unit tests (`-m unit`) needs no service."""
    from tests import services_check

    if (config.option.markexpr or "").strip() == "unit":
        return
    problems = services_check.problems(require_all=in_ci())
    if problems:
        pytest.exit("Required services are unavailable:\n  " + "\n  ".join(problems), returncode=3)


def pytest_collection_modifyitems(config, items):
    """Every test not marked `unit` talks to a service: mark it `integration`."""
    for item in items:
        if item.get_closest_marker("unit") is None:
            item.add_marker(pytest.mark.integration)


# The plugin test kit (marketplace.plugins.testing, loaded as a pytest plugin) provides the
# fixtures gql, make_user, member, staff, member_gql, staff_gql, taxonomy, make_vendor,
# make_product, plugin and frozen_clock; these names stay importable from here.
from marketplace.plugins.testing import GraphQLClient, LOGIN, gid, post_stripe_event  # noqa: E402,F401


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


def wait_for(condition, timeout=15.0, interval=0.05, message="condition"):
    """Poll until `condition()` is truthy (tasks run on a real Celery worker)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def celery_worker_thread(django_db_setup, django_db_blocker):
    """A real Celery worker consuming from Redis in a thread of the test process (when
    Redis is configured; otherwise tasks run eagerly and this is a no-op)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        yield None
        return
    from celery.contrib.testing.worker import start_worker

    from marketplace.celery import app

    import warnings

    from celery.worker import state

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


__all__ = ["wait_for", "demo"]


# -- payments ---------------------------------------------------------------------------
STRIPE_WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def stripe_mock(settings):
    """Point the Stripe plugin at stripe-mock (Stripe's own API simulator)."""
    if not settings.STRIPE_API_BASE:
        if in_ci():
            pytest.fail("STRIPE_API_BASE is not set under CI: stripe-mock must run")
        pytest.skip("stripe-mock not running (developer run without services)")
    settings.STRIPE_API_KEY = "sk_test_123"
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET
    return settings.STRIPE_API_BASE


def stripe_event(event_type, intent_id, amount_minor, event_id=None, currency="cny"):
    import uuid as _uuid

    return {
        "id": event_id or f"evt_{_uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": {"id": intent_id, "object": "payment_intent", "amount": amount_minor,
                            "amount_received": amount_minor if event_type == "payment_intent.succeeded" else 0,
                            "currency": currency, "status": "succeeded"}},
    }


def signed_post(client, event, secret=STRIPE_WEBHOOK_SECRET, timestamp=None):
    """Deliver an event as Stripe does: `Stripe-Signature: t=...,v1=HMAC-SHA256(secret, "t.payload")`."""
    return post_stripe_event(client, event, secret, timestamp)
