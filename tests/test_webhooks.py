"""Outgoing webhooks: subscribed through the API, signed, retried, recorded."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from marketplace.webhooks.models import WebhookDelivery
from marketplace.webhooks.signing import verify
from tests.conftest import PASSWORD, wait_for

CREATE = """
mutation($input: WebhookCreateInput!) {
  webhookCreate(input: $input) { webhook { id name events secret isActive } errors { field code message } }
}"""
REGISTER = "mutation($e: String!) { accountRegister(input: {email: $e, password: \"%s\"}) { errors { code } } }" % PASSWORD


def sweep():
    """Without a broker, pending retries are sent by the beat task; run it now."""
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        from marketplace.webhooks.services import retry_due

        retry_due(grace_seconds=0)
    return None


class Receiver:
    """A real HTTP endpoint on loopback that fails the first `failures` requests."""

    def __init__(self, failures=0):
        self.requests = []
        self.failures = failures
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = 500 if len(receiver.requests) <= receiver.failures else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"try later")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    made = []

    def make(failures=0):
        made.append(Receiver(failures))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.mark.django_db(transaction=True)
def test_signed_delivery_of_subscribed_events(staff_gql, gql, receiver, worker):
    endpoint = receiver()
    created = staff_gql.mutate(CREATE, {"input": {"name": "CRM", "targetUrl": endpoint.url, "events": ["user_registered"]}})
    assert created["errors"] == []
    secret = created["webhook"]["secret"]

    gql.mutate(REGISTER, {"e": "hook@example.com"})
    wait_for(lambda: endpoint.requests, message="the webhook delivery")
    headers, body = endpoint.requests[0]
    assert verify(secret, body, headers["X-Marketplace-Signature"])
    assert not verify("wrong-secret", body, headers["X-Marketplace-Signature"])
    event = json.loads(body)
    assert event["name"] == "user_registered" and event["payload"]["email"] == "hook@example.com"
    assert headers["X-Marketplace-Event"] == "user_registered"
    assert headers["X-Marketplace-Delivery"] == event["id"]
    delivery = wait_for(lambda: WebhookDelivery.objects.filter(status="success").first(), message="success recorded")
    assert delivery.attempts == 1 and delivery.last_status_code == 200


@pytest.mark.django_db(transaction=True)
def test_failed_deliveries_are_retried_with_backoff(staff_gql, gql, receiver, worker, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.05
    flaky = receiver(failures=2)
    staff_gql.mutate(CREATE, {"input": {"name": "Flaky", "targetUrl": flaky.url, "events": ["user_registered"]}})
    gql.mutate(REGISTER, {"e": "retry@example.com"})
    delivery = wait_for(lambda: sweep() or WebhookDelivery.objects.filter(status="success").first(), message="eventual success")
    assert delivery.attempts == 3
    assert len(flaky.requests) == 3
    # Retries carry the same delivery id, so receivers can de-duplicate.
    assert len({headers["X-Marketplace-Delivery"] for headers, _ in flaky.requests}) == 1


@pytest.mark.django_db(transaction=True)
def test_deliveries_give_up_after_max_attempts(staff_gql, gql, receiver, worker, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.01
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    down = receiver(failures=100)
    staff_gql.mutate(CREATE, {"input": {"name": "Down", "targetUrl": down.url, "events": ["user_registered"]}})
    gql.mutate(REGISTER, {"e": "fail@example.com"})
    delivery = wait_for(lambda: sweep() or WebhookDelivery.objects.filter(status="failed").first(), message="given up")
    assert delivery.attempts == 3 and delivery.last_status_code == 500 and "try later" in delivery.last_error
    deliveries = staff_gql.data("{ webhooks { edges { node { deliveries { totalCount edges { node { status attempts } } } } } } }")
    node = deliveries["webhooks"]["edges"][0]["node"]["deliveries"]
    assert node["totalCount"] == 1 and node["edges"][0]["node"] == {"status": "failed", "attempts": 3}


@pytest.mark.django_db
def test_webhook_input_is_validated_and_staff_only(staff_gql, member_gql):
    bad = staff_gql.mutate(CREATE, {"input": {"name": "X", "targetUrl": "ftp://nope", "events": ["order_teleported"]}})
    assert {e["field"] for e in bad["errors"]} <= {"targetUrl", "events"} and bad["errors"]
    bad_events = staff_gql.mutate(CREATE, {"input": {"name": "X", "targetUrl": "http://127.0.0.1:9/x", "events": ["nope"]}})
    assert bad_events["errors"] == [{"field": "events", "code": "INVALID", "message": "Unknown event types: nope."}]
    denied = member_gql.mutate(CREATE, {"input": {"name": "X", "targetUrl": "http://127.0.0.1:9/x", "events": []}})
    assert denied["errors"][0]["code"] == "PERMISSION_DENIED"
    assert member_gql.execute("{ webhooks { totalCount } }")["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transactions_emit_nothing(staff_gql, gql, receiver, worker):
    endpoint = receiver()
    staff_gql.mutate(CREATE, {"input": {"name": "CRM", "targetUrl": endpoint.url, "events": ["user_registered"]}})
    # A registration that fails validation must not announce anything.
    gql.mutate(REGISTER.replace(PASSWORD, "1"), {"e": "weak@example.com"})
    gql.mutate(REGISTER, {"e": "ok@example.com"})
    wait_for(lambda: endpoint.requests, message="delivery")
    emails = [json.loads(body)["payload"]["email"] for _, body in endpoint.requests]
    assert emails == ["ok@example.com"]


@pytest.mark.unit
def test_signature_scheme():
    body = b'{"a":1}'
    from marketplace.webhooks.signing import sign

    header = sign("s3cret", body, timestamp=1_700_000_000)
    assert verify("s3cret", body, header, now=1_700_000_100)
    assert not verify("s3cret", body, header, now=1_700_001_000)  # too old: replay
    assert not verify("s3cret", body + b" ", header, now=1_700_000_100)
    assert not verify("s3cret", body, "garbage")
