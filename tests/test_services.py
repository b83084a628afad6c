"""Each service the engine uses in production is the real one in the test run."""
import threading
import uuid

import pytest
from django.conf import settings
from django.db import connection

from marketplace.accounts.models import User

from tests.conftest import in_ci, unavailable

IN_CI = in_ci()


@pytest.mark.django_db
def test_database_round_trip():
    if IN_CI:
        assert connection.vendor == "postgresql"
    user = User.objects.create_user("roundtrip@example.com", "x", first_name="往返")
    assert User.objects.get(pk=user.pk).first_name == "往返"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            assert int(cursor.fetchone()[0].split(".")[0]) >= 13


@pytest.mark.django_db(transaction=True)
def test_task_goes_through_redis_to_a_worker(worker):
    from marketplace.core.tasks import ping

    if IN_CI:
        assert settings.CELERY_BROKER_URL.startswith("redis://")
        assert not settings.CELERY_TASK_ALWAYS_EAGER
    token = uuid.uuid4().hex
    result = ping.delay(token).get(timeout=20)
    assert result["value"] == token
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        assert result["eager"] is False
        assert result["hostname"]  # set by the worker that consumed the message
        assert result["thread"] != threading.current_thread().name


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_ends_with_the_worker_idle(worker):
    """Regression (a CI run of stop 22): a task queued at the end of a transactional test ran
    during the flush that follows it; the two deadlocked and the next test found the rows.
    The drain before the flush leaves nothing queued or running and revokes countdowns."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        unavailable("no Redis: tasks run eagerly", "CI runs a real worker")
    from celery.worker import state

    from conftest import _wait_until_worker_idle
    from marketplace.core.tasks import ping

    later = ping.apply_async(("later",), countdown=30)
    now = [ping.delay(index) for index in range(5)]
    _wait_until_worker_idle(timeout=20)
    assert all(result.ready() for result in now)
    assert not state.active_requests and not state.reserved_requests
    assert later.id in state.revoked  # dropped when its ETA comes


@pytest.fixture
def elasticsearch_url():
    url = settings.ELASTICSEARCH_URL
    if not url:
        unavailable("ELASTICSEARCH_URL not set (developer run without services)",
                    "ELASTICSEARCH_URL is not set under CI")
    return url


def test_document_indexed_and_found_with_the_dsl(elasticsearch_url):
    from elasticsearch import Elasticsearch
    from elasticsearch.dsl import Document, Keyword, Text, connections

    client = Elasticsearch(elasticsearch_url)
    assert client.info()["version"]["number"].startswith("8.")
    connections.add_connection("services-test", client)
    index = f"services-test-{uuid.uuid4().hex[:8]}"

    class Part(Document):
        name = Text(analyzer="standard")
        part_number = Keyword()

        class Index:
            name = index

    try:
        Part.init(using="services-test")
        Part(meta={"id": 1}, name="前刹车片 Front brake pads", part_number="04465-02220").save(
            using="services-test", refresh=True)
        hits = Part.search(using="services-test").query("match", name="brake").execute()
        assert [h.part_number for h in hits] == ["04465-02220"]
        hits = Part.search(using="services-test").query("match_phrase", name="刹车片").execute()
        assert len(hits) == 1
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)


def test_payment_intent_on_stripe_mock():
    import stripe

    api_base = settings.STRIPE_API_BASE
    if not api_base:
        unavailable("STRIPE_API_BASE not set (developer run without services)", "STRIPE_API_BASE is not set under CI")
    client = stripe.StripeClient("sk_test_123", base_addresses={"api": api_base})
    intent = client.v1.payment_intents.create(
        params={"amount": 16800, "currency": "cny", "capture_method": "manual"}
    )
    assert intent.id.startswith("pi_")
    assert intent.object == "payment_intent"
