"""A bounded fuzz run over the whole schema (issue 15.9), as an anonymous visitor, a
member and a vendor's owner: queries and mutations generated from the served schema by
hypothesis-graphql (valid documents, and documents with one schema violation), with
real object IDs and tokens mixed with garbage, and strings drawn from all of Unicode
(NUL included). Every answer must be JSON, never a 5xx, and never INTERNAL_ERROR.

Deterministic (derandomized, no example database) and bounded: FUZZ_EXAMPLES documents
per role (default 500; about 80 s in all on a quiet 2-core machine), and never more
than FUZZ_SECONDS (default 35) per role on a busy one (the examples left are generated
but not sent).
A deeper run: `FUZZ_EXAMPLES=3000 FUZZ_SECONDS=1000 pytest tests/test_fuzz.py -s` (9,000
documents, about 10 minutes; found nothing at the time of writing).
"""
import collections
import json
import os
import time
from decimal import Decimal

import pytest
from graphql import NameNode, ObjectFieldNode
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from marketplace.api.schema import schema
from tests.conftest import GraphQLClient, gid

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
SECONDS = float(os.environ.get("FUZZ_SECONDS", "35"))


@pytest.fixture
def world(client, make_vendor, make_product, member, taxonomy):
    """A small marketplace with one of everything the API can name."""
    from marketplace.checkout.models import ShippingMethod
    from marketplace.webhooks.models import WebhookSubscription

    vendor = make_vendor("fuzz-parts", name_zh="模糊汽配")
    published = make_product(vendor, "fuzz-pads", skus=["FZ-1", "FZ-2"])
    draft = make_product(vendor, "fuzz-draft", status="draft")
    method = ShippingMethod.objects.create(vendor=vendor, name_zh="顺丰", price=Decimal("10.00"))
    hook = WebhookSubscription.objects.create(name="fuzz", target_url="https://example.com/hook")
    buyer = GraphQLClient(client)
    buyer.login(member.email)
    variant = published.variants.first()
    token = buyer.mutate("mutation($l: [CheckoutLineInput!]) { checkoutCreate(lines: $l) { checkout { token } "
                         "errors { code } } }",
                         {"l": [{"variantId": gid("ProductVariant", variant.pk), "quantity": 1}]})["checkout"]["token"]
    address = buyer.mutate('mutation { addressCreate(input: {fullName: "张三", phone: "13800000000", province: "北京",'
                           ' city: "北京", street: "建国路1号"}) { address { id } errors { code } } }')["address"]["id"]
    ids = [gid("Product", published.pk), gid("Product", draft.pk), gid("ProductVariant", variant.pk),
           gid("Vendor", vendor.pk), gid("User", member.pk), gid("User", vendor.owner.pk),
           gid("Category", taxonomy.pads.pk), gid("Brand", taxonomy.bosch.pk), gid("ProductType", taxonomy.part.pk),
           gid("Warehouse", vendor.warehouses.first().pk), gid("ShippingMethod", method.pk), gid("Webhook", hook.pk),
           address, "x", "", "VXNlcjow", "UHJvZHVjdDotMQ==", "T3JkZXI6MQ==", "%%%"]
    uuids = [token, "00000000-0000-0000-0000-000000000000", "zzz", "", "1" * 40]
    return {"vendor": vendor, "member": member, "ids": ids, "uuids": uuids}


def _scalars(world):
    decimals = ["1.50", "0", "-1", "NaN", "Infinity", "-Infinity", "1e30", "1e-30", "abc", "99999999999.999"]
    return {
        "ID": st.sampled_from(world["ids"]).map(nodes.String),
        "UUID": st.sampled_from(world["uuids"]).map(nodes.String),
        "Decimal": st.one_of(st.sampled_from(decimals).map(nodes.String), st.integers(-10**20, 10**20).map(nodes.Int)),
        "DateTime": st.sampled_from(["2026-01-01T00:00:00+08:00", "yesterday", ""]).map(nodes.String),
        "JSONString": st.sampled_from(['{"a": 1}', "[", "null", "NaN"]).map(nodes.String),
        "GenericScalar": st.one_of(
            st.sampled_from([nodes.String("x"), nodes.String("\x00"), nodes.Int(1), nodes.Float(1e300), nodes.Null]),
            st.dictionaries(st.sampled_from(["mon", "greeting", "a"]),
                            st.sampled_from(["09:00", "\x00", "", "1e999"]).map(nodes.String), max_size=3)
            .map(_object_literal)),
    }


def _object_literal(fields):
    return nodes.Object([ObjectFieldNode(name=NameNode(value=k), value=v) for k, v in fields.items()])


def _client(client, role, world):
    api = GraphQLClient(client)
    if role == "member":
        api.login(world["member"].email)
    elif role == "vendor":
        api.login(world["vendor"].owner.email)
    return api


@pytest.mark.parametrize("role", ["anonymous", "member", "vendor"])
def test_fuzz_the_whole_schema(client, world, role):
    api = _client(client, role, world)
    scalars = _scalars(world)
    graphql_schema = schema.graphql_schema
    documents = st.one_of(
        queries(graphql_schema, custom_scalars=scalars),
        mutations(graphql_schema, custom_scalars=scalars),
        queries(graphql_schema, custom_scalars=scalars, mode=Mode.NEGATIVE),
        mutations(graphql_schema, custom_scalars=scalars, mode=Mode.NEGATIVE),
    )
    answers = collections.Counter()
    stop_at = time.monotonic() + SECONDS

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
    @given(documents)
    def run(document):
        if time.monotonic() > stop_at:  # the time bound: the examples left are generated, not sent
            return
        headers = {"HTTP_AUTHORIZATION": f"Bearer {api.token}"} if api.token else {}
        response = api.client.post("/graphql/", json.dumps({"query": document}), content_type="application/json",
                                   **headers)
        assert response.status_code < 500, (response.status_code, document, response.content[:500])
        assert response["Content-Type"].startswith("application/json"), (document, response.content[:300])
        payload = response.json()
        codes = [(e.get("extensions") or {}).get("code") for e in payload.get("errors") or []]
        assert "INTERNAL_ERROR" not in codes, (document, payload["errors"][:3])
        for value in (payload.get("data") or {}).values():
            if isinstance(value, dict) and value.get("errors"):
                codes += [e.get("code", "payload error") for e in value["errors"]]
        answers.update(codes or ["data"])
        if "TOKEN_REVOKED" in codes and role != "anonymous":  # a generated `logout` signed us out
            api.login(world["member"].email if role == "member" else world["vendor"].owner.email)

    run()
    print(f"fuzz as {role}: {sum(answers.values())} answers, {dict(answers.most_common(8))}")
    assert sum(answers.values()) >= min(EXAMPLES // 2, 100)
