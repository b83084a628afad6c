"""Issue 15, items 1-8: abusive documents, unreadable bodies and bad input values at the
API edge. Each item has its regression test (the issue's own example) and a test of
the whole kind (walking the schema: every string input, every Decimal, ...)."""
import json
import time

import jwt
import pytest
from django.conf import settings as django_settings
from graphql import get_introspection_query

from marketplace.api import limits
from marketplace.api.schema import schema
from tests import schema_walk
from tests.conftest import GraphQLClient, gid

pytestmark = pytest.mark.django_db


def codes(result):
    return [(e.get("extensions") or {}).get("code") for e in result.get("errors", [])]


def post(client, body, content_type="application/json", **headers):
    response = client.post("/graphql/", body, content_type=content_type, **headers)
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    return response.status_code, response.json()


def fan_out(levels):
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return "{ ...F0 } " + fragments + f" fragment F{levels} on Query {{ __typename }}"


# -- 1. limits in linear time, and a time budget ------------------------------------------------
def test_issue_fragment_fan_out_is_refused_at_once(gql):
    """Issue 15.1: 22 levels took 25 s before QUERY_TOO_COMPLEX; 30 levels pinned a thread."""
    for levels in (22, 30, 60):
        started = time.perf_counter()
        result = gql.execute(fan_out(levels), status=400)
        elapsed = time.perf_counter() - started
        assert codes(result) == ["QUERY_TOO_COMPLEX"], result
        assert elapsed < 5, f"{levels} levels took {elapsed:.1f} s: a limit is not linear"


def test_every_limit_counts_fragments_once(gql, settings):
    """The whole kind: depth, field repeats, cost and page sizes are computed per fragment
    and reused, so wide fragment fan-out costs what its text costs."""
    chain = "{ me { ...U0 } } " + " ".join(
        f"fragment U{i} on User {{ addresses {{ __typename }} ...U{i + 1} ...U{i + 1} }}" for i in range(40)
    ) + " fragment U40 on User { id }"
    started = time.perf_counter()
    assert codes(gql.execute(chain, status=400)) == ["QUERY_TOO_COMPLEX"]  # `addresses` repeated 2**40 times
    assert time.perf_counter() - started < 5
    deep = "{ me { ...D0 } } " + " ".join(f"fragment D{i} on User {{ addresses {{ ...A }} ...D{i + 1} }}"
                                          for i in range(30)) + " fragment D30 on User { id } fragment A on Address { city }"
    assert codes(gql.execute(deep, status=400)) == ["QUERY_TOO_COMPLEX"]  # `addresses` 30 times in one selection
    repeats = "{ " + "me { id } " * 21 + "}"
    assert codes(gql.execute(repeats, status=400)) == ["QUERY_TOO_COMPLEX"]
    assert "errors" not in gql.execute("{ " + "me { id } " * 20 + "}")


def test_time_budget_answers_request_timeout(gql, make_vendor, make_product, monkeypatch, settings):
    """The whole request has a budget: a query still running when it is spent is stopped
    with one clear error (an injected clock, no sleeping)."""
    vendor = make_vendor("budget-shop")
    for i in range(5):
        make_product(vendor, f"p{i}")
    ticks = iter(range(0, 10_000, 3))
    monkeypatch.setattr(limits, "clock", lambda: next(ticks))
    settings.GRAPHQL_REQUEST_BUDGET_SECONDS = 10
    result = gql.execute("{ products(first: 5) { edges { node { slug vendor { slug } } } } }", status=400)
    assert codes(result) == ["REQUEST_TIMEOUT"]
    assert "data" not in result and len(result["errors"]) == 1
    assert result["errors"][0]["extensions"]["budgetSeconds"] == 10
    monkeypatch.setattr(limits, "clock", time.monotonic)
    assert gql.data("{ products(first: 5) { edges { node { slug } } } }")["products"]["edges"]


def test_time_budget_also_bounds_validation(gql, monkeypatch, settings):
    clock = iter([0] + [1_000] * 10_000)
    monkeypatch.setattr(limits, "clock", lambda: next(clock))
    settings.GRAPHQL_REQUEST_BUDGET_SECONDS = 5
    query = "{ a: __typename b: __typename me { id email addresses { city street } } } # budget"
    assert codes(gql.execute(query, status=400)) == ["REQUEST_TIMEOUT"]


# -- 2. cheap documents that were slow -----------------------------------------------------------
def test_issue_many_operations_and_schema_walks(gql):
    """Issue 15.2: 5,000 named operations (10 s) and 50 aliased `__schema` walks (3.3 s)."""
    many = " ".join(f"query Q{i} {{ __typename }}" for i in range(1000))
    result = gql.execute(many, operation_name="Q0", status=400)
    assert codes(result) == ["TOO_MANY_OPERATIONS"]
    walks = "{ " + " ".join(f"s{i}: __schema {{ types {{ name fields {{ name type {{ name }} }} }} }}"
                            for i in range(50)) + " }"
    assert codes(gql.execute(walks, status=400)) == ["QUERY_TOO_COMPLEX"]
    five_thousand = " ".join(f"query Q{i} {{ __typename }}" for i in range(5000))
    assert codes(gql.execute(five_thousand, operation_name="Q0", status=400)) == ["GRAPHQL_PARSE_FAILED"]


def test_introspection_counts_in_the_cost(gql, settings):
    assert gql.data(get_introspection_query())["__schema"]["queryType"]["name"] == "Query"
    allowed = settings.GRAPHQL_MAX_COST // settings.GRAPHQL_INTROSPECTION_COST
    ok = "{ " + " ".join(f"s{i}: __schema {{ queryType {{ name }} }}" for i in range(allowed)) + " }"
    assert "errors" not in gql.execute(ok)
    too_many = "{ " + " ".join(f"s{i}: __schema {{ queryType {{ name }} }}" for i in range(allowed + 1)) + " }"
    assert codes(gql.execute(too_many, status=400)) == ["QUERY_TOO_COMPLEX"]
    types = "{ " + " ".join(f"t{i}: __type(name: \"Query\") {{ name }}" for i in range(40)) + " }"
    assert "errors" not in gql.execute(types)


def test_overlapping_fields_beyond_what_can_be_validated(gql, settings):
    """graphql-core meters its pairwise field comparisons (GRAPHQL_MAX_OVERLAP_BUDGET):
    pathological overlap is a coded refusal in milliseconds, not 'Validation aborted.'
    after half a second."""
    query = "{ " + ("me { " + ("addresses { " + "city " * 20 + "} ") * 20 + "} ") * 20 + "}"
    result = gql.execute(query, status=400)
    assert codes(result) == ["QUERY_TOO_COMPLEX"]
    moderate = "{ " + ("me { " + ("addresses { " + "city " * 3 + "} ") * 3 + "} ") * 3 + "}"
    assert "errors" not in gql.execute(moderate)  # realistic overlap stays far below the budget
    settings.GRAPHQL_MAX_OVERLAP_BUDGET = 10
    assert codes(gql.execute(moderate + " # again", status=400)) == ["QUERY_TOO_COMPLEX"]


def test_variables_per_operation_are_limited(gql, settings):
    declared = ", ".join(f"$v{i}: Int" for i in range(settings.GRAPHQL_MAX_VARIABLES + 1))
    result = gql.execute(f"query({declared}) {{ __typename }}", status=400)
    assert codes(result) == ["QUERY_TOO_COMPLEX"]
    assert result["errors"][0]["extensions"]["maxVariables"] == settings.GRAPHQL_MAX_VARIABLES


# -- 3. bodies the server cannot handle ----------------------------------------------------------
def test_issue_deeply_nested_variables(client):
    """Issue 15.3: `[` x 10,000 in variables gave an HTML 500 (RecursionError)."""
    body = '{"query": "query($x: [Int]) { __typename }", "variables": {"x": ' + "[" * 10000 + "]" * 10000 + "}}"
    status, payload = post(client, body)
    assert status == 400 and codes(payload) == ["BAD_REQUEST"]


@pytest.mark.parametrize("body, content_type, code, status", [
    (b'{"query": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json", "BAD_REQUEST", 400),
    (b'{"query": "{ __typename }", "variables": {"x": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}}",
     "application/json", "BAD_REQUEST", 400),
    (b'{"query": "{ __typename }", "x": "\xff\xfe"}', "application/json", "BAD_REQUEST", 400),
    (b"\xff{ __typename }", "application/graphql", "BAD_REQUEST", 400),
    (b'{"query": "query($x: Float) { __typename }", "variables": {"x": NaN}}', "application/json", "BAD_REQUEST", 400),
    (b'{"query": "query($x: Float) { __typename }", "variables": {"x": -Infinity}}', "application/json",
     "BAD_REQUEST", 400),
    (b'{"query": "query($x: Float) { __typename }", "variables": {"x": 1e999}}', "application/json",
     "BAD_REQUEST", 400),
    (b'{"query": "query($x: Int) { __typename }", "variables": {"x": ' + b"9" * 5000 + b"}}", "application/json",
     "BAD_REQUEST", 400),
    (b'{"query": "{ __typename }", "variables": "' + b"[" * 5000 + b'"}', "application/json", "BAD_REQUEST", 400),
    (b'{"query": "{ __typename }", "pad": "' + b"x" * 3_000_000 + b'"}', "application/json", "QUERY_TOO_LARGE", 413),
    (b"query=%7B__typename%7D&variables=" + b"%5B" * 5000, "application/x-www-form-urlencoded", "BAD_REQUEST", 400),
    (b'{"query": "{ ' + b"me { " * 300 + b"id" + b" }" * 300 + b' }"}', "application/json",
     "QUERY_TOO_DEEP", 400),
    (b'{"query": "{ partNumberLookup(number: ' + b"[" * 3000 + b"1" + b"]" * 3000 + b') { __typename } }"}',
     "application/json", "QUERY_TOO_DEEP", 400),
])
def test_every_unreadable_body_gets_a_coded_json_error(client, body, content_type, code, status):
    got_status, payload = post(client, body, content_type)
    assert (got_status, codes(payload)) == (status, [code]), payload


def test_bodies_within_the_limits_still_work(client):
    nested = '{"query": "{ __typename }", "variables": {"x": ' + '{"a": ' * 20 + "1" + "}" * 20 + "}}"
    assert post(client, nested) == (200, {"data": {"__typename": "Query"}})
    form = client.post("/graphql/", "query=%7B__typename%7D", content_type="application/x-www-form-urlencoded")
    assert form.json() == {"data": {"__typename": "Query"}}


# -- 4. control characters in every string input --------------------------------------------------
def test_issue_nul_in_part_number_lookup(gql):
    """Issue 15.4: NUL reached PostgreSQL and gave INTERNAL_ERROR."""
    result = gql.execute('{ partNumberLookup(number: "04465\\u0000") { variant { sku } } }')
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in result["errors"]] == [("INVALID", "number")]


@pytest.mark.parametrize("bad", ["a\x00b", "\x07bell", "esc\x1b[0m", "del\x7f"])
def test_every_string_input_refuses_control_characters(client, staff, bad):
    """The whole kind: every String and ID position of every root field, nested input
    fields and lists included, answers INVALID naming that position."""
    api = GraphQLClient(client)
    api.login(staff.email)
    seen = 0
    for operation, name, field, arg, path, _scalar in schema_walk.cases({"String", "ID"}):
        document, variables = schema_walk.request_for(operation, name, field, arg, path, bad)
        result = api.execute(document, variables)
        found = schema_walk.errors_of(result, operation, name)
        assert ("INVALID" in {c for _, c in found}) and schema_walk.field_path(arg, path) in {f for f, _ in found}, (
            name, arg, path, result)
        assert "INTERNAL_ERROR" not in {c for _, c in found}
        seen += 1
    assert seen > 150


def test_whitespace_controls_are_text(member_gql):
    payload = member_gql.mutate("mutation($i: AccountUpdateInput!) { accountUpdate(input: $i) { user { firstName } "
                                "errors { field code } } }", {"i": {"firstName": "张\t三"}})
    assert payload["errors"] == [] and payload["user"]["firstName"] == "张\t三"


def test_nul_inside_generic_json_values(staff_gql):
    result = staff_gql.mutate('mutation($s: GenericScalar) { pluginUpdate(name: "guestbook", input: {settings: $s}) '
                              '{ errors { field code } } }', {"s": {"greeting": "hi\x00"}})
    assert result["errors"] == [{"field": "settings.greeting", "code": "INVALID"}]


# -- 5. NaN and Infinity in every Decimal and Float input -------------------------------------------
def test_issue_nan_price_filter(gql):
    """Issue 15.5: NaN in a Decimal filter gave INTERNAL_ERROR."""
    result = gql.execute("query($x: Decimal) { products(first: 1, filter: {price: {min: $x}}) { totalCount } }",
                         {"x": "NaN"})
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in result["errors"]] == [
        ("INVALID", "filter.price.min")]


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "sNaN", "1e999999", "abc"])
def test_every_decimal_input_refuses_non_finite_values(client, staff, bad):
    api = GraphQLClient(client)
    api.login(staff.email)
    seen = 0
    for operation, name, field, arg, path, _scalar in schema_walk.cases({"Decimal"}):
        document, variables = schema_walk.request_for(operation, name, field, arg, path, bad)
        found = schema_walk.errors_of(api.execute(document, variables), operation, name)
        assert ("INVALID" in {c for _, c in found}) and schema_walk.field_path(arg, path) in {f for f, _ in found}, (
            name, arg, path, found)
        seen += 1
    assert seen >= 8


def test_every_float_input_refuses_non_finite_values(client, staff):
    """JSON cannot carry NaN or 1e400 (such bodies are refused whole); a GraphQL float
    literal can overflow to infinity: every Float position refuses it on its field."""
    api = GraphQLClient(client)
    api.login(staff.email)
    seen = 0
    for operation, name, field, arg, path, _scalar in schema_walk.cases({"Float"}):
        document = schema_walk.literal_request_for(operation, name, field, arg, path, schema_walk.Raw("1e400"))
        found = schema_walk.errors_of(api.execute(document), operation, name)
        assert ("INVALID", schema_walk.field_path(arg, path)) in {(c, f) for f, c in found}, (name, arg, path, found)
        seen += 1
    assert seen >= 3
    for operation, name, field, arg, path, _scalar in schema_walk.cases({"Decimal"}):
        document = schema_walk.literal_request_for(operation, name, field, arg, path, schema_walk.Raw('"NaN"'))
        found = schema_walk.errors_of(api.execute(document), operation, name)
        assert ("INVALID", schema_walk.field_path(arg, path)) in {(c, f) for f, c in found}, (name, arg, path, found)


# -- 6. every scalar and argument validates range and format ---------------------------------------
def test_issue_negative_offset_and_invalid_uuid(gql):
    """Issue 15.6: both gave INTERNAL_ERROR."""
    result = gql.execute("{ products(offset: -1, first: 5) { edges { node { id } } } }")
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in result["errors"]] == [("INVALID", "offset")]
    result = gql.execute('{ checkout(token: "zzz") { token } }')
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in result["errors"]] == [("INVALID", "token")]


@pytest.mark.parametrize("bad", ["zzz", "", "00000000-0000-0000-0000-00000000000g", "1" * 100])
def test_every_uuid_input_refuses_malformed_values(client, bad):
    api = GraphQLClient(client)
    seen = 0
    for operation, name, field, arg, path, _scalar in schema_walk.cases({"UUID"}):
        document, variables = schema_walk.request_for(operation, name, field, arg, path, bad)
        found = schema_walk.errors_of(api.execute(document, variables), operation, name)
        assert ("INVALID", schema_walk.field_path(arg, path)) in {(c, f) for f, c in found}, (name, found)
        document = schema_walk.literal_request_for(operation, name, field, arg, path, bad)
        found = schema_walk.errors_of(api.execute(document), operation, name)
        assert ("INVALID", schema_walk.field_path(arg, path)) in {(c, f) for f, c in found}, (name, found)
        seen += 1
    assert seen >= 8


def test_every_connection_checks_its_paging_arguments(staff_gql, make_vendor):
    vendor = make_vendor("paging-shop")
    connections = [name for name, field in schema.graphql_schema.query_type.fields.items()
                   if {"offset", "first", "last", "before", "after"} <= set(field.args)]
    assert len(connections) >= 8
    for name in connections:
        field = schema.graphql_schema.query_type.fields[name]
        required = {a: gid("Vendor", vendor.pk) if a == "vendorId" else schema_walk.dummy(arg.type)
                    for a, arg in field.args.items() if str(arg.type).endswith("!")}
        declared = "".join(f", ${a}: {field.args[a].type}" for a in required)
        used = "".join(f", {a}: ${a}" for a in required)
        for args, argument in (("offset: -1", "offset"), ("first: -1", "first"), ("last: -5", "last"),
                               ("offset: 2, before: \"x\"", "offset"), ("first: 1, last: 1", "last"),
                               ("after: \"garbage\"", "after"), ("before: \"garbage\"", "before"),
                               ("offset: 100001", "offset")):
            head = f"query({declared[2:]})" if declared else "query"
            document = f"{head} {{ {name}({args}{used}) {{ totalCount }} }}"
            result = staff_gql.execute(document, required)
            found = [(e["extensions"].get("code"), e["extensions"].get("field")) for e in result.get("errors", [])]
            assert found and all(code != "INTERNAL_ERROR" for code, _ in found), (name, args, result)
            if found[0][0] == "INVALID":
                assert found[0][1] == argument, (name, args, found)
            else:  # a connection its caller may not read answers that first
                assert found[0][0] in ("PERMISSION_DENIED", "NOT_AUTHENTICATED", "INVALID", "NOT_FOUND"), found


# -- 7. text limits from the model fields ------------------------------------------------------------
def test_issue_category_slug_longer_than_its_column(staff_gql):
    """Issue 15.7: a 120-character slug passed validation (150) but not the column (100)."""
    payload = staff_gql.mutate('mutation($i: CategoryInput!) { categoryCreate(input: $i) { category { slug } '
                               'errors { field code message } } }', {"i": {"nameZh": "类", "slug": "a" * 120}})
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("slug", "INVALID")]
    assert "100" in payload["errors"][0]["message"]
    ok = staff_gql.mutate('mutation($i: CategoryInput!) { categoryCreate(input: $i) { category { slug } '
                          'errors { field code } } }', {"i": {"nameZh": "类", "slug": "a" * 100}})
    assert ok["errors"] == [] and ok["category"]["slug"] == "a" * 100


def test_every_text_input_has_a_limit_from_its_model(client, staff):
    """The whole kind: every String input of a mutation that is stored in a model field is
    refused one character past that column's max_length, with INVALID on the field; every
    other text input is bounded by GRAPHQL_MAX_STRING_LENGTH."""
    api = GraphQLClient(client)
    api.login(staff.email)
    derived = 0
    for operation, name, field, arg, path, scalar in schema_walk.cases({"String"}):
        guard = field.resolve.guard
        owner, leaf = schema_walk.owner_and_leaf(field.args[arg].type, path)
        rule = guard.rule(owner, leaf or arg)
        limit = rule.max_length if rule is not None and rule.max_length else django_settings.GRAPHQL_MAX_STRING_LENGTH
        if operation == "mutation" and rule is not None and rule.max_length:
            derived += 1
        document, variables = schema_walk.request_for(operation, name, field, arg, path, "a" * (limit + 1))
        if limit >= django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE:  # the body limit answers first
            assert codes(api.execute(document, variables, status=413)) == ["QUERY_TOO_LARGE"]
            continue
        found = schema_walk.errors_of(api.execute(document, variables), operation, name)
        assert ("INVALID", schema_walk.field_path(arg, path)) in {(c, f) for f, c in found}, (name, arg, path, found)
    assert derived >= 60, derived


# Mutation text inputs with no column of their own, and why (anything else must get its
# limit from a model field: a new input lands here only by decision).
UNSTORED_TEXT = {
    ("searchSynonymSet", "terms"): "JSON list",
    ("webhookCreate", "events"): "JSON list of event names",
    ("webhookUpdate", "events"): "JSON list of event names",
    ("attributeCreate", "choices"): "JSON list",
    ("productCreate", "images"): "JSON list of URLs",
    ("productUpdate", "images"): "JSON list of URLs",
    ("productCreate", "descriptionZh"): "TextField", ("productCreate", "descriptionEn"): "TextField",
    ("productUpdate", "descriptionZh"): "TextField", ("productUpdate", "descriptionEn"): "TextField",
    ("vendorApply", "descriptionZh"): "TextField", ("vendorApply", "descriptionEn"): "TextField",
    ("vendorUpdate", "descriptionZh"): "TextField", ("vendorUpdate", "descriptionEn"): "TextField",
    ("productVariantCreate", "listPrice"): "parsed as a decimal", ("productVariantCreate", "salePrice"): "decimal",
    ("productVariantCreate", "costPrice"): "decimal", ("productVariantUpdate", "listPrice"): "decimal",
    ("productVariantUpdate", "salePrice"): "decimal", ("productVariantUpdate", "costPrice"): "decimal",
    ("checkoutShippingAddressUpdate", "fullName"): "JSON address, checked by the address rules",
    ("checkoutShippingAddressUpdate", "phone"): "JSON address", ("checkoutShippingAddressUpdate", "country"): "JSON",
    ("checkoutShippingAddressUpdate", "province"): "JSON", ("checkoutShippingAddressUpdate", "city"): "JSON",
    ("checkoutShippingAddressUpdate", "district"): "JSON", ("checkoutShippingAddressUpdate", "street"): "JSON",
    ("checkoutShippingAddressUpdate", "postalCode"): "JSON",
    ("pluginUpdate", "name"): "a lookup", ("orderPaymentCreate", "orderNumber"): "a lookup",
    ("accountResendConfirmation", "email"): "a lookup", ("passwordResetRequest", "email"): "a lookup",
    ("accountRegister", "password"): "hashed", ("tokenCreate", "password"): "checked",
    ("passwordChange", "newPassword"): "hashed", ("passwordChange", "oldPassword"): "checked",
    ("passwordReset", "password"): "hashed", ("passwordReset", "token"): "checked",
    ("accountConfirm", "token"): "checked", ("vendorInvitationAccept", "token"): "checked",
    ("tokenRefresh", "refreshToken"): "checked", ("logout", "refreshToken"): "checked",
}


def test_every_stored_text_input_takes_its_limit_from_a_column():
    """A text argument is stored in a column (whose max_length applies), or its mutation
    says why not (`BaseMutation.text_not_stored`, or the table above for the core's)."""
    from marketplace.plugins.testing import mutation_classes

    classes = mutation_classes()
    unclassified = []
    for operation, name, field, arg, path, _scalar in schema_walk.cases({"String"}):
        if operation != "mutation":
            continue
        owner, leaf = schema_walk.owner_and_leaf(field.args[arg].type, path)
        rule = field.resolve.guard.rule(owner, leaf or arg)
        declared = getattr(classes.get(name), "text_not_stored", {})
        if not (rule and rule.max_length) and (name, leaf or arg) not in UNSTORED_TEXT and (leaf or arg) not in declared:
            unclassified.append((name, leaf or arg))
    assert not unclassified, f"text inputs with no column limit: {unclassified}"


def test_model_derived_limits_name_the_right_columns():
    mutation = schema.graphql_schema.mutation_type
    guard = mutation.fields["categoryCreate"].resolve.guard
    category_input = schema.graphql_schema.type_map["CategoryInput"]
    assert guard.rule(category_input, "slug").max_length == 100
    assert mutation.fields["productCreate"].resolve.guard.rule(
        schema.graphql_schema.type_map["ProductInput"], "slug").max_length == 150
    assert mutation.fields["addressCreate"].resolve.guard.rule(
        schema.graphql_schema.type_map["AddressInput"], "country").max_length == 2
    assert mutation.fields["vendorOrderFulfil"].resolve.guard.rule(None, "trackingNumber").max_length == 100
    assert mutation.fields["tokenCreate"].resolve.guard.rule(None, "password") is None  # hashed, never stored as is
    assert mutation.fields["orderCancel"].resolve.guard.rule(None, "reason").max_length == 200  # Order.cancel_reason
    assert mutation.fields["productImportCsv"].resolve.guard.rule(None, "csv").max_length == 5_000_000


def test_every_field_with_arguments_is_guarded():
    for type_name, graphql_type in schema.graphql_schema.type_map.items():
        for field_name, field in (getattr(graphql_type, "fields", None) or {}).items():
            if type_name.startswith("__") or not hasattr(field, "args") or not field.args:
                continue
            assert getattr(field.resolve, "guard", None) is not None, f"{type_name}.{field_name}"


# -- 8. every JWT claim validated -----------------------------------------------------------------
def _token(**claims):
    now = int(time.time())
    base = {"typ": "access", "sub": "1", "sid": "00000000-0000-0000-0000-000000000000", "jti": "a" * 32,
            "iat": now, "exp": now + 600}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not Ellipsis}, django_settings.JWT_SECRET,
                      algorithm="HS256")


def test_issue_session_claim_of_the_wrong_type(gql):
    """Issue 15.8: `"sid": 5` gave INTERNAL_ERROR on { me }."""
    result = gql.execute("{ me { id } }", token=_token(sid=5))
    assert codes(result) == ["TOKEN_INVALID"]


@pytest.mark.parametrize("claims", [
    {"sid": 5}, {"sid": "not-a-uuid"}, {"sid": None}, {"sid": ["x"]}, {"sub": 1}, {"sub": "abc"}, {"sub": "0"},
    {"sub": "1" * 40}, {"typ": "refresh"}, {"typ": 1}, {"typ": "admin"}, {"jti": 5}, {"jti": "x" * 200},
    {"exp": "soon"}, {"iat": "yesterday"}, {"iat": 1.5}, {"staff": "yes"}, {"exp": Ellipsis}, {"sid": Ellipsis},
    {"exp": 1},
])
def test_every_claim_is_validated(gql, member, claims):
    access = _token(**{"sub": str(member.pk), **claims})
    result = gql.execute("{ me { id } }", token=access)
    assert codes(result) in (["TOKEN_INVALID"], ["TOKEN_EXPIRED"]), (claims, result)
    refresh_claims = {"typ": "refresh", "sub": str(member.pk), **claims}
    if claims.get("typ") == "refresh":
        refresh_claims["typ"] = "access"
    payload = gql.mutate("mutation($t: String!) { tokenRefresh(refreshToken: $t) { errors { field code } } }",
                         {"t": _token(**refresh_claims)})
    assert payload["errors"] and payload["errors"][0]["code"] in ("TOKEN_INVALID", "TOKEN_EXPIRED"), payload
    payload = gql.mutate("mutation($t: String) { logout(refreshToken: $t) { errors { field code } } }",
                         {"t": _token(**refresh_claims)})
    assert payload["errors"] and payload["errors"][0]["code"] in ("TOKEN_INVALID", "TOKEN_EXPIRED"), payload


def test_a_well_formed_token_still_works(member_gql, member):
    assert member_gql.data("{ me { email } }")["me"]["email"] == member.email


def test_forwarded_client_address_and_agent_are_cleaned(client, member, settings):
    """A spoofed X-Forwarded-For (not an IP) or control characters in the User-Agent must
    not reach the database columns."""
    settings.TRUST_X_FORWARDED_FOR = True
    api = GraphQLClient(client)
    payload = api.mutate("mutation($e: String!, $p: String!) { tokenCreate(email: $e, password: $p) "
                         "{ accessToken errors { code } } }", {"e": member.email, "p": "Corolla-2026-brakes"},
                         headers={"HTTP_X_FORWARDED_FOR": "not-an-ip, 10.0.0.1", "HTTP_USER_AGENT": "bot\x00\x01"})
    assert payload["errors"] == [] and payload["accessToken"]
    from marketplace.accounts.models import AuthSession

    session = AuthSession.objects.get(user=member)
    assert session.ip_address is None and session.user_agent == "bot"


def test_vendor_ids_and_products_reach_the_edge_checks(staff_gql, make_vendor, make_product):
    """Values that pass the edge still reach the services (the check refuses, never alters)."""
    vendor = make_vendor("edge-shop")
    product = make_product(vendor, "edge-pad")
    payload = staff_gql.mutate("mutation($id: ID!, $i: ProductInput!) { productUpdate(id: $id, input: $i) "
                               "{ product { nameZh } errors { field code } } }",
                               {"id": gid("Product", product.pk), "i": {"nameZh": "刹车片\n新款"}})
    assert payload["errors"] == [] and payload["product"]["nameZh"] == "刹车片\n新款"
