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


def _wait_until_worker_idle(timeout=60.0):
    """Return once the session worker has nothing queued, reserved or running (polled until
    quiet twice in a row); tasks waiting for an ETA (a countdown) are revoked instead: the
    test that queued them is over. Raises AssertionError after `timeout` seconds."""
    import time

    from celery.worker import state
    from kombu.exceptions import ChannelError

    from marketplace.celery import app

    queue = app.conf.task_default_queue
    deadline = time.monotonic() + timeout
    quiet = 0
    while True:
        for request in list(state.scheduled_requests):
            state.revoked.add(request.id)
        with app.connection_for_read() as connection:
            try:
                queued = connection.default_channel.queue_declare(queue=queue, passive=True).message_count
            except ChannelError:  # Redis drops an emptied list: no queue is an empty queue
                queued = 0
        busy = queued or state.reserved_requests or state.active_requests
        quiet = 0 if busy else quiet + 1
        if quiet >= 2:
            return
        if time.monotonic() > deadline:
            running = sorted({request.name for request in state.active_requests})
            raise AssertionError(f"The test Celery worker was still busy {timeout:.0f} s after the test "
                                 f"(queued {queued}, running {running})")
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _worker_idle_before_flush(request):
    """A transactional test ends with a flush (TRUNCATE of every table). A task the test
    queued and did not wait for (an on-commit signal handler's, say) would run during it:
    its row locks and the flush's table locks deadlock, the flush fails and the next test
    finds the rows. So the worker is drained first. The transactional database is set up
    here, before this fixture's own setup ends, so that its teardown (the flush) runs after
    this fixture's."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames))  # (`worker` requests the former)
    if transactional:
        request.getfixturevalue("transactional_db")
    yield
    if transactional and _workers_started:  # (only a worker consuming from Redis is started)
        _wait_until_worker_idle()


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
