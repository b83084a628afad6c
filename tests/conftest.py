"""Shared fixtures. Tests talk to the API as a client would: JSON over HTTP."""
import json
import os
import time

import pytest
from django.conf import settings

from fixtures import demo

PASSWORD = "Corolla-2026-brakes"


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


class GraphQLClient:
    def __init__(self, client):
        self.client = client
        self.token = None

    def execute(self, query, variables=None, token=None, status=200, operation_name=None, headers=None):
        body = {"query": query, "variables": variables or {}}
        if operation_name:
            body["operationName"] = operation_name
        extra = dict(headers or {})
        token = token or self.token
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        response = self.client.post("/graphql/", json.dumps(body), content_type="application/json", **extra)
        assert response.status_code == status, response.content[:2000]
        return response.json()

    def data(self, query, variables=None, **kwargs):
        """Execute and insist on no errors; returns `data`."""
        result = self.execute(query, variables, **kwargs)
        assert "errors" not in result, result["errors"]
        return result["data"]

    def mutate(self, query, variables=None, **kwargs):
        """Execute a single mutation; returns its payload (errors included)."""
        data = self.data(query, variables, **kwargs)
        (payload,) = data.values()
        return payload

    def login(self, email, password=PASSWORD):
        payload = self.mutate(LOGIN, {"email": email, "password": password})
        assert payload["errors"] == [], payload["errors"]
        self.token = payload["accessToken"]
        return payload


LOGIN = """
mutation Login($email: String!, $password: String!) {
  tokenCreate(email: $email, password: $password) {
    accessToken refreshToken user { id email }
    errors { field code message }
  }
}
"""


@pytest.fixture
def gql(client):
    return GraphQLClient(client)


@pytest.fixture
def make_user(db):
    from django.utils import timezone

    from marketplace.accounts.models import User

    def make(email="member@example.com", password=PASSWORD, confirmed=True, **extra):
        return User.objects.create_user(
            email, password, email_confirmed_at=timezone.now() if confirmed else None, **extra
        )

    return make


@pytest.fixture
def member(make_user):
    return make_user("member@example.com")


@pytest.fixture
def staff(make_user):
    return make_user("staff@example.com", is_staff=True)


@pytest.fixture
def member_gql(gql, member):
    gql.login(member.email)
    return gql


@pytest.fixture
def staff_gql(client, staff):
    api = GraphQLClient(client)
    api.login(staff.email)
    return api


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

    with django_db_blocker.unblock():
        with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False,
                          shutdown_timeout=10.0, loglevel="WARNING") as worker:
            yield worker


@pytest.fixture
def worker(celery_worker_thread, transactional_db):
    """Use in tests whose effects happen in Celery tasks: data must be committed for
    the worker to see it, hence a transactional database."""
    return celery_worker_thread


__all__ = ["wait_for", "demo"]


# -- catalog fixtures (built with the real services) ----------------------------------
@pytest.fixture
def taxonomy(db):
    from marketplace.catalog import services as catalog

    maintenance = catalog.save_category({"name_zh": "保养", "name_en": "Maintenance", "slug": "maintenance"})
    brakes = catalog.save_category({"name_zh": "制动", "name_en": "Brakes", "slug": "brakes"})
    pads = catalog.save_category({"name_zh": "刹车片", "name_en": "Brake pads", "slug": "brake-pads",
                                  "parent_id": brakes.pk})
    oil = catalog.save_category({"name_zh": "机油", "name_en": "Engine oil", "slug": "engine-oil",
                                 "parent_id": maintenance.pk})
    bosch = catalog.save_brand({"name_zh": "博世", "name_en": "Bosch", "slug": "bosch"})
    mobil = catalog.save_brand({"name_zh": "美孚", "name_en": "Mobil", "slug": "mobil"})
    viscosity = catalog.save_attribute({"name_zh": "粘度", "name_en": "Viscosity", "slug": "viscosity",
                                        "input_type": "choice", "choices": ["0W-20", "5W-30", "5W-40"]})
    volume = catalog.save_attribute({"name_zh": "容量", "name_en": "Volume", "slug": "volume",
                                     "input_type": "number", "unit": "L"})
    part = catalog.save_product_type({"name_zh": "配件", "name_en": "Part", "slug": "part"})
    oil_type = catalog.save_product_type({"name_zh": "机油", "name_en": "Oil", "slug": "oil",
                                          "attribute_ids": [viscosity.pk, volume.pk]})

    class Taxonomy:
        pass

    t = Taxonomy()
    t.maintenance, t.brakes, t.pads, t.oil = maintenance, brakes, pads, oil
    t.bosch, t.mobil, t.part, t.oil_type = bosch, mobil, part, oil_type
    return t


@pytest.fixture
def make_vendor(make_user):
    from marketplace.vendors import services as vendors

    def make(slug, kind="parts_vendor", owner_email=None, approve=True, **profile):
        owner = make_user(owner_email or f"owner@{slug}.example.com")
        vendor = vendors.apply(owner, kind, slug, {"name_zh": profile.pop("name_zh", slug), **profile})
        if approve:
            vendor = vendors.approve(vendor.pk)
        vendor.owner = owner
        return vendor

    return make


@pytest.fixture
def make_product(taxonomy):
    from marketplace.catalog import services as catalog

    def make(vendor, slug, name_zh="商品", price="100.00", sale_price=None, stock=10, category=None, brand=None,
             status="published", skus=None, name_en=""):
        product = catalog.save_product(vendor, {
            "slug": slug, "name_zh": name_zh, "name_en": name_en, "status": status,
            "category_id": (category or taxonomy.pads).pk, "product_type_id": taxonomy.part.pk,
            "brand_id": (brand or taxonomy.bosch).pk,
        })
        for sku in skus or [f"{slug}-1"]:
            variant = catalog.save_variant(product, {"sku": sku, "list_price": price, "sale_price": sale_price})
            if stock is not None:
                catalog.set_stock(variant, vendor.warehouses.first().pk, stock)
        product.refresh_from_db()
        return product

    return make


def gid(type_name, pk):
    from graphql_relay import to_global_id

    return to_global_id(type_name, pk)


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
    import hashlib
    import hmac

    payload = json.dumps(event)
    timestamp = int(time.time() if timestamp is None else timestamp)
    signature = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return client.post("/webhooks/payments/stripe/", payload, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=f"t={timestamp},v1={signature}")
