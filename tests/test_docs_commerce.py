"""docs/commerce.md's "A complete client journey", run as written (issue 16): every
document in it is valid, and each step, sent by the caller the doc names, answers without
errors and fills what it selects: a step must not select what its caller never sees (a
vendor manager selecting the whole `order` after `orderRefund` got null)."""
import re
from pathlib import Path

import pytest
from graphql import OperationType, get_operation_ast, parse, validate

from marketplace.api.schema import schema
from marketplace.payments.models import Payment
from tests.conftest import GraphQLClient, gid, signed_post, stripe_event
from tests.test_checkout import shop  # noqa: F401  (fixture: two vendors, products and shipping methods)

DOC = Path(__file__).resolve().parent.parent / "docs" / "commerce.md"


def journey_steps():
    """{step number: [documents]} from the graphql blocks of the journey section."""
    text = DOC.read_text()
    section = text.split("## A complete client journey", 1)[1].split("\n## ", 1)[0]
    steps, current = {}, None
    for block in re.findall(r"```graphql\n(.*?)```", section, re.S):
        for chunk in re.split(r"\n\s*\n", block.strip()):
            lines = [line for line in chunk.splitlines() if line.strip()]
            comment = next((line for line in lines if line.startswith("#")), None)
            if comment and re.match(r"#\s*(\d+)\.", comment):
                current = int(re.match(r"#\s*(\d+)\.", comment).group(1))
            body = "\n".join(line for line in lines if not line.startswith("#"))
            for document in re.split(r"\n(?=(?:query|mutation)\b)", body):
                if document.strip():
                    steps.setdefault(current, []).append(document.strip())
    return steps


def test_every_journey_document_is_valid():
    steps = journey_steps()
    assert sorted(steps) == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]  # step 6 is Stripe.js, in prose
    for number, documents in steps.items():
        for document in documents:
            assert validate(schema.graphql_schema, parse(document)) == [], (number, document)


def _nulls(value, path=""):
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _nulls(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _nulls(item, f"{path}[{i}]")]
    return []


def run(api, document, variables, filled=True):
    """Send a documented step: a mutation must answer without errors and with every
    object its payload selects (not null); with `filled`, a query must fill everything it
    selects."""
    operation = get_operation_ast(parse(document))
    data = api.data(document, variables)
    if operation.operation == OperationType.MUTATION:
        (payload,) = data.values()
        assert payload["errors"] == [], (document, payload["errors"])
        assert [k for k, v in payload.items() if v is None] == [], document
        return payload
    if filled:
        assert _nulls(data) == [], document
    return data


@pytest.mark.django_db(transaction=True)
def test_the_documented_journey_runs_as_written(client, member, shop, stripe_mock):  # noqa: F811
    vendor_a, vendor_b, pads, oil, flat_a, flat_b = shop
    steps = journey_steps()
    visitor = GraphQLClient(client)
    ids = iter([gid("ProductVariant", pads.pk), gid("ProductVariant", oil.pk)])
    (create,) = steps[1]
    create = re.sub(r'variantId: "[^"]+"', lambda _m: f'variantId: "{next(ids)}"', create)
    token = run(visitor, create, {})["checkout"]["token"]

    buyer = GraphQLClient(client)
    buyer.login(member.email)
    run(buyer, steps[2][0], {"t": token})
    address, view = steps[3]
    run(buyer, address, {"t": token})
    shown = run(buyer, view, {"t": token}, filled=False)["checkout"]
    assert [len(v["shippingOptions"]) for v in shown["vendors"]] == [1, 1]
    for part in shown["vendors"]:
        run(buyer, steps[4][0], {"t": token, "v": part["vendor"]["id"], "m": part["shippingOptions"][0]["method"]["id"]})
    placed = run(buyer, steps[5][0], {"t": token})
    order = placed["order"]

    payment = Payment.objects.get()
    amount = int(payment.amount * 100)
    assert signed_post(client, stripe_event("payment_intent.succeeded", payment.reference, amount)).status_code == 200
    assert run(buyer, steps[7][0], {"n": order["number"]}, filled=False)["order"]["status"] == "PAID"

    managers = {}
    for vendor in (vendor_a, vendor_b):
        managers[vendor.pk] = GraphQLClient(client)
        managers[vendor.pk].login(vendor.owner.email)
        listing, fulfil = steps[8]
        edges = run(managers[vendor.pk], listing, {"v": gid("Vendor", vendor.pk)})["vendorOrders"]["edges"]
        assert len(edges) == 1
        run(managers[vendor.pk], fulfil, {"id": edges[0]["node"]["id"]})
    run(buyer, steps[9][0], {"id": order["id"]})

    sub_order = next(v["id"] for v in order["vendorOrders"] if v["vendor"]["slug"] == vendor_a.slug)
    refunded = run(managers[vendor_a.pk], steps[10][0], {"o": order["id"], "vo": sub_order})
    assert refunded["vendorOrder"]["refunded"] == {"amount": "100.00"}
    seen = run(buyer, steps[11][0], {"n": order["number"]})["order"]
    assert seen["refundedTotal"] == {"amount": "100.00"}
    assert sorted(v["refunded"]["amount"] for v in seen["vendorOrders"]) == ["0.00", "100.00"]
