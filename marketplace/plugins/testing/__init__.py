"""A test kit for plugin authors (and the engine's own tests).

    from marketplace.plugins.testing import GraphQLClient, register_plugin, make_user, make_vendor

- `register_plugin(obj, name, ...)`: a context manager that registers an object (a class
  instance or module with `@hookimpl` methods) as a plugin for the duration of a block,
  with activation per scope, entitlement requirement and an activation guard like a real
  `PluginAppConfig`; its hooks run under their declared failure policies. (GraphQL
  contributions are collected when the schema is built, at start-up: install a real plugin
  app for those.)
- `GraphQLClient(django_test_client)`: `execute`, `data` (insists on no errors), `mutate`
  (returns the single payload), `login(email, password)`.
- Factories: `make_user`, `make_staff`, `make_vendor`, `make_product`, `taxonomy`.
- Stripe-style webhooks: `sign_stripe_event(event, secret)` and `post_stripe_event(client,
  event, secret)`.
- `StripeRecorder(upstream)`: a recording HTTP proxy in front of stripe-mock, to assert what
  a plugin sends to Stripe (point `STRIPE_API_BASE` at `recorder.url`).
- `celery_app()`: the engine's Celery application with every plugin's tasks discovered, to
  read the beat schedule or control the test session's workers.

Installed as a pytest plugin (entry point `pytest11`), it provides the fixtures `gql`,
`make_user`, `member`, `staff`, `member_gql`, `staff_gql`, `make_vendor`, `taxonomy`,
`make_product` and `plugin` (a `register_plugin` bound to the test). See
`marketplace/plugins/testing/pytest_plugin.py`.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time

PASSWORD = "Corolla-2026-brakes"


class RuntimePlugin:
    """The plugin metadata `register_plugin` registers (what a PluginAppConfig declares)."""

    def __init__(self, name, active=True, vendor_configurable=False, settings_schema=None,
                 requires_entitlement=None, check_activation=None, description=""):
        self.plugin_name = self.name = self.label = name
        self.plugin_description = description
        self.default_active = active
        self.vendor_configurable = vendor_configurable
        self.settings_schema = settings_schema
        self.requires_entitlement = requires_entitlement
        self.hooks_module = None
        self.hookspecs = None
        self.is_builtin = False
        self._guard = check_activation

    def check_activation(self, vendor_id):
        if self._guard is not None:
            self._guard(vendor_id)


def celery_app():
    """The engine's Celery application, its tasks discovered and its configuration final
    (what a worker does at start): `app.tasks`, `app.conf.beat_schedule`, `app.control`."""
    from marketplace.celery import app

    app.loader.import_default_modules()
    app.finalize()
    return app


def reset_registries():
    """Forget what was collected once from plugins (line kinds, entitlements, events), so
    plugins registered at run time take part."""
    from marketplace.checkout import kinds
    from marketplace.core import events
    from marketplace.plugins import entitlements

    kinds.reset_cache()
    entitlements._specs = None
    events._registry = None


@contextlib.contextmanager
def register_plugin(obj, name, *, active=True, vendor_configurable=False, settings_schema=None,
                    requires_entitlement=None, check_activation=None, hookspecs=None):
    """Register `obj` as the plugin `name` inside the block; unregister it afterwards.
    `hookspecs` (a module or class of `@hookspec` functions) publishes hooks first."""
    from marketplace.plugins.manager import get_manager, invalidate_configuration

    manager = get_manager()
    if hookspecs is not None:
        manager.pm.add_hookspecs(hookspecs)
    config = RuntimePlugin(name, active=active, vendor_configurable=vendor_configurable,
                           settings_schema=settings_schema, requires_entitlement=requires_entitlement,
                           check_activation=check_activation)
    manager.register(config, module=obj)
    reset_registries()
    invalidate_configuration()
    try:
        yield config
    finally:
        manager.unregister(name)
        reset_registries()
        invalidate_configuration()


class GraphQLClient:
    """Talk to the API as a client would: JSON over HTTP through Django's test client."""

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


def gid(type_name, pk):
    """The global ID of an object of the GraphQL type `type_name`."""
    from graphql_relay import to_global_id

    return to_global_id(type_name, pk)


# -- factories ---------------------------------------------------------------------------------------
def make_user(email="member@example.com", password=PASSWORD, confirmed=True, **extra):
    from marketplace.accounts.models import User
    from marketplace.core import clock

    return User.objects.create_user(email, password, email_confirmed_at=clock.now() if confirmed else None, **extra)


def make_staff(email="staff@example.com"):
    return make_user(email, is_staff=True)


def make_vendor(slug, kind="parts_vendor", owner_email=None, approve=True, **profile):
    """A vendor (approved unless `approve=False`) with an owner (`vendor.owner`)."""
    from marketplace.vendors import services as vendors

    owner = make_user(owner_email or f"owner@{slug}.example.com")
    vendor = vendors.apply(owner, kind, slug, {"name_zh": profile.pop("name_zh", slug), **profile})
    if approve:
        vendor = vendors.approve(vendor.pk)
    vendor.owner = owner
    return vendor


class Taxonomy:
    """Categories, brands and product types for tests (attributes: maintenance, brakes,
    pads, oil, bosch, mobil, part, oil_type)."""


def taxonomy():
    from marketplace.catalog import services as catalog

    t = Taxonomy()
    t.maintenance = catalog.save_category({"name_zh": "保养", "name_en": "Maintenance", "slug": "maintenance"})
    t.brakes = catalog.save_category({"name_zh": "制动", "name_en": "Brakes", "slug": "brakes"})
    t.pads = catalog.save_category({"name_zh": "刹车片", "name_en": "Brake pads", "slug": "brake-pads",
                                    "parent_id": t.brakes.pk})
    t.oil = catalog.save_category({"name_zh": "机油", "name_en": "Engine oil", "slug": "engine-oil",
                                   "parent_id": t.maintenance.pk})
    t.bosch = catalog.save_brand({"name_zh": "博世", "name_en": "Bosch", "slug": "bosch"})
    t.mobil = catalog.save_brand({"name_zh": "美孚", "name_en": "Mobil", "slug": "mobil"})
    viscosity = catalog.save_attribute({"name_zh": "粘度", "name_en": "Viscosity", "slug": "viscosity",
                                        "input_type": "choice", "choices": ["0W-20", "5W-30", "5W-40"]})
    volume = catalog.save_attribute({"name_zh": "容量", "name_en": "Volume", "slug": "volume",
                                     "input_type": "number", "unit": "L"})
    t.part = catalog.save_product_type({"name_zh": "配件", "name_en": "Part", "slug": "part"})
    t.oil_type = catalog.save_product_type({"name_zh": "机油", "name_en": "Oil", "slug": "oil",
                                            "attribute_ids": [viscosity.pk, volume.pk]})
    return t


def make_product(vendor, slug, taxonomy, name_zh="商品", price="100.00", sale_price=None, stock=10, category=None,
                 brand=None, status="published", skus=None, name_en=""):
    """A product with one variant per SKU (default `<slug>-1`) and `stock` units each in the
    vendor's first warehouse."""
    from marketplace.catalog import services as catalog

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


# -- Stripe-style signed webhooks ----------------------------------------------------------------------
def sign_stripe_event(payload: str, secret: str, timestamp=None) -> str:
    """The `Stripe-Signature` header value for a JSON body: t=..., v1=HMAC-SHA256(secret, "t.body")."""
    timestamp = int(time.time() if timestamp is None else timestamp)
    signature = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def post_stripe_event(client, event, secret, timestamp=None, path="/webhooks/payments/stripe/"):
    payload = event if isinstance(event, str) else json.dumps(event)
    return client.post(path, payload, content_type="application/json",
                       HTTP_STRIPE_SIGNATURE=sign_stripe_event(payload, secret, timestamp))


# -- what a plugin sends to Stripe ------------------------------------------------------------------
class StripeRecorder:
    """A real HTTP proxy on loopback in front of `upstream` (stripe-mock) that records every
    request: `requests` is a list of `(method, path, params)` with the form body (or query)
    parsed into a flat dict of Stripe's bracketed keys (`{"items[0][price]": "price_1"}`).
    stripe-mock still validates each request and answers it. Use as a context manager, and
    point the Stripe plugin at `url` (e.g. `settings.STRIPE_API_BASE = recorder.url`)."""

    def __init__(self, upstream):
        self.upstream = upstream.rstrip("/")
        self.requests = []

    def __enter__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qsl, urlsplit

        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                import urllib.error
                import urllib.request

                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                params = dict(parse_qsl(body.decode() if body else split.query, keep_blank_values=True))
                recorder.requests.append((self.command, split.path, params))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                request = urllib.request.Request(recorder.upstream + self.path, data=body or None, headers=headers,
                                                 method=self.command)
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:
                        status, payload, answer_headers = answer.status, answer.read(), answer.headers
                except urllib.error.HTTPError as exc:
                    status, payload, answer_headers = exc.code, exc.read(), exc.headers
                self.send_response(status)
                for key in ("Content-Type", "Request-Id", "Stripe-Version"):
                    if answer_headers.get(key):
                        self.send_header(key, answer_headers[key])
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def calls(self, method=None, path=None):
        """The recorded `(method, path, params)` matching `method` and a `path` prefix."""
        return [r for r in self.requests if (method is None or r[0] == method)
                and (path is None or r[1].startswith(path))]

    def clear(self):
        self.requests.clear()


def mutation_classes(graphql_schema=None):
    """{mutation field name: its BaseMutation class} for every mutation of the schema (the
    engine's and the plugins'), for tests that check what every mutation declares."""
    from graphql import get_named_type

    from marketplace.api.mutations import BaseMutation

    if graphql_schema is None:
        from marketplace.api.schema import schema

        graphql_schema = schema.graphql_schema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    by_payload = {cls._meta.name: cls for cls in subclasses(BaseMutation) if hasattr(cls, "_meta")}
    return {name: by_payload.get(get_named_type(field.type).name)
            for name, field in graphql_schema.mutation_type.fields.items()}
