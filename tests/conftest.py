"""Shared fixtures. Tests talk to the API as a client would: JSON over HTTP."""
import json
import os
import time

import pytest

from fixtures import demo

from marketplace.plugins.testing import PASSWORD  # noqa: E402


def in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason, ci_reason=None):
    """What a test needs (a service, PostgreSQL, Chromium) is missing: under CI that fails
    the run (`ci_reason`), on a developer's machine the test is skipped (`reason`)."""
    if in_ci():
        pytest.fail(ci_reason or f"{reason}: CI must run this test")
    pytest.skip(reason)


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


__all__ = ["wait_for", "demo"]


# -- payments ---------------------------------------------------------------------------
STRIPE_WEBHOOK_SECRET = "whsec_test_secret"


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
