"""The GraphQL core: limits, malformed input, errors, schema contract, operations."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from marketplace.api.mutations import BaseMutation
from marketplace.api.schema import schema

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def codes(result):
    return [e.get("extensions", {}).get("code") for e in result.get("errors", [])]


def test_typename(gql):
    assert gql.data("{ __typename }") == {"__typename": "Query"}


def test_depth_50_query_is_rejected(gql):
    deep = "{ " + "me { " * 50 + "id" + " }" * 50 + " }"
    result = gql.execute(deep, status=400)
    assert "QUERY_TOO_DEEP" in codes(result)
    assert gql.execute("{ me { addresses { city } } }")["data"] == {"me": None}


def test_depth_counts_fields_through_fragments(gql, settings):
    settings.GRAPHQL_MAX_DEPTH = 3
    query = """
    query { webhooks { edges { node { deliveries { edges { node { eventName } } } } } } }
    """
    assert "QUERY_TOO_DEEP" in codes(gql.execute(query, status=400))
    fragment = """
    fragment F on Webhook { deliveries { edges { node { ...G } } } }
    fragment G on WebhookDelivery { eventName }
    query { webhooks { edges { node { ...F } } } }
    """
    assert "QUERY_TOO_DEEP" in codes(gql.execute(fragment, status=400))


def test_three_thousand_aliases_are_rejected(gql):
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(3_000)) + " }"
    result = gql.execute(query, status=400)
    assert codes(result) == ["TOO_MANY_ALIASES"]
    assert "aliases" in result["errors"][0]["message"]


def test_huge_page_is_rejected_before_execution(staff_gql):
    result = staff_gql.execute("{ users(first: 100000) { totalCount edges { node { email } } } }", status=400)
    assert codes(result) == ["PAGE_SIZE_EXCEEDED"]
    assert result["errors"][0]["extensions"]["maxPageSize"] == 100


def test_huge_page_in_variables_is_rejected(staff_gql):
    query = "query($n: Int) { users(first: $n) { totalCount } }"
    result = staff_gql.execute(query, {"n": 100000}, status=400)
    assert codes(result) == ["PAGE_SIZE_EXCEEDED"]
    ok = staff_gql.data(query, {"n": 100})
    assert ok["users"]["totalCount"] == 1


def test_negative_page_is_an_error(staff_gql):
    result = staff_gql.execute("{ users(first: -1) { totalCount } }")
    assert codes(result) == ["INVALID"]


def test_query_cost_limit(staff_gql, settings):
    settings.GRAPHQL_MAX_COST = 500
    query = "{ webhooks(first: 100) { edges { node { name deliveries(first: 100) { edges { node { eventName } } } } } } }"
    result = staff_gql.execute(query, status=400)
    assert codes(result) == ["QUERY_TOO_COMPLEX"]


def test_document_size_limit(gql, settings):
    settings.GRAPHQL_MAX_QUERY_BYTES = 1000
    result = gql.execute("{ " + "__typename " * 200 + "}", status=400)
    assert codes(result) == ["QUERY_TOO_LARGE"]


@pytest.mark.parametrize(
    "body, content_type",
    [
        ("not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('{"query": 5}', "application/json"),
        ('{"query": "{ me { "}', "application/json"),
        ('{"query": "{ nope }"}', "application/json"),
        ('{"query": "{ __typename }", "variables": [1]}', "application/json"),
        ('{"query": "{ __typename }", "variables": "{bad"}', "application/json"),
        ('{"query": "query A { __typename } query B { __typename }"}', "application/json"),
        ('{"query": "{ __typename }", "operationName": 7}', "application/json"),
        ('{}', "application/json"),
        ("\xff\xfe", "application/json"),
        ("{ me { id } }", "application/graphql"),
        ('{"query": "mutation { tokenCreate(email: 1, password: 2) { errors { code } } }"}', "application/json"),
        ('{"query": "{ users(first: \\"ten\\") { totalCount } }"}', "application/json"),
        ('{"query": "{ node(id: \\"%%%\\") { id } }"}', "application/json"),
    ],
)
def test_malformed_requests_never_500(client, body, content_type):
    response = client.post("/graphql/", body, content_type=content_type)
    assert response.status_code in (200, 400), response.content[:500]
    payload = response.json()
    if "errors" in payload:
        for error in payload["errors"]:
            assert error["message"]
            assert error["extensions"]["code"]


def test_get_cannot_run_mutations(client):
    response = client.get("/graphql/", {"query": 'mutation { logout { ok } }'}, HTTP_ACCEPT="application/json")
    assert response.status_code == 405


def test_graphiql_is_served(client):
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()


def test_every_mutation_declares_a_permission():
    mutation_type = schema.graphql_schema.mutation_type
    assert len(mutation_type.fields) >= 15
    for name, field in mutation_type.fields.items():
        payload = field.type.graphene_type
        assert issubclass(payload, BaseMutation), name
        assert callable(payload.permission), name
        assert "errors" in field.type.fields, f"{name} payload lacks errors"


def test_schema_file_is_current(tmp_path):
    """graphql/schema.graphql must match the schema the engine serves (without test
    plugins). Regenerate with `make schema`."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH"}}
    env["DJANGO_SETTINGS_MODULE"] = "marketplace.settings"
    out = tmp_path / "schema.graphql"
    subprocess.run(
        [sys.executable, "manage.py", "graphql_schema", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )
    produced = out.read_text()
    committed = (ROOT / "graphql" / "schema.graphql").read_text()
    assert produced.strip() == committed.strip(), "graphql/schema.graphql is stale: run `make schema`"


def test_example_operations_run(gql, member):
    """Every document in graphql/operations/ is valid and runs as a client would send it."""
    operations = sorted((ROOT / "graphql" / "operations").glob("*.graphql"))
    assert {p.stem for p in operations} >= {"login", "me"}
    login = (ROOT / "graphql" / "operations" / "login.graphql").read_text()
    payload = gql.mutate(login, {"email": member.email, "password": "Corolla-2026-brakes"})
    assert payload["errors"] == []
    token = payload["accessToken"]
    me = gql.data((ROOT / "graphql" / "operations" / "me.graphql").read_text(), token=token)
    assert me["me"]["email"] == member.email
    for path in operations:
        document = path.read_text()
        from graphql import parse, validate

        assert validate(schema.graphql_schema, parse(document)) == [], path.name


def test_internal_errors_are_masked(gql, settings, monkeypatch):
    settings.DEBUG = False
    from marketplace.accounts import schema as accounts_schema

    def boom(root, info):
        raise RuntimeError("secret database detail")

    field = schema.graphql_schema.query_type.fields["me"]
    monkeypatch.setattr(field, "resolve", boom)
    result = gql.execute("{ me { id } }")
    assert result["errors"][0]["message"] == "Internal server error."
    assert codes(result) == ["INTERNAL_ERROR"]
    assert "secret" not in json.dumps(result)
    assert accounts_schema  # imported for the monkeypatch target's module


def test_node_ids_are_checked(gql, member, make_user):
    other = make_user("other@example.com")
    from graphql_relay import to_global_id

    gql.login(member.email)
    own = gql.data('query($id: ID!) { node(id: $id) { ... on User { email } } }', {"id": to_global_id("User", member.pk)})
    assert own["node"]["email"] == member.email
    foreign = gql.data('query($id: ID!) { node(id: $id) { ... on User { email } } }', {"id": to_global_id("User", other.pk)})
    assert foreign["node"] is None


def test_garbage_node_ids_are_invalid_not_internal(gql):
    for bad in ["garbage", "%%%", "VXNlcjo=", "Tm9wZTox"]:
        result = gql.execute('query($id: ID!) { node(id: $id) { id } }', {"id": bad})
        assert codes(result) == ["INVALID"], bad


def test_standard_introspection_fits_the_limits_and_deep_introspection_does_not(gql):
    from graphql import get_introspection_query

    assert gql.data(get_introspection_query())["__schema"]["queryType"]["name"] == "Query"
    deep = "{ __schema { types { " + "fields { type { " * 10 + "name" + " } }" * 10 + " } } }"
    assert "QUERY_TOO_DEEP" in codes(gql.execute(deep, status=400))


@pytest.mark.unit
@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "x" * 40, "DEBUG": "1"}, "DEBUG must be off"),
        ({"SECRET_KEY": "x" * 40, "ALLOWED_HOSTS": "api.example.com", "DATABASE_URL": "sqlite:///x.db"},
         "DATABASE_URL must point at PostgreSQL"),
    ],
)
def test_production_refuses_insecure_defaults(env, message):
    clean = {k: v for k, v in os.environ.items()
             if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "JWT_SECRET"}}
    result = subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; settings.INSTALLED_APPS"],
        cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "marketplace.settings", "MARKETPLACE_ENV": "production", **env},
        capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "Refusing to start with MARKETPLACE_ENV=production" in result.stderr
    assert message in result.stderr


@pytest.mark.unit
def test_production_starts_with_a_proper_environment():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings", "MARKETPLACE_ENV": "production",
           "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "api.example.com",
           "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/db", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    env.pop("DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.DEBUG, settings.GRAPHQL_GRAPHIQL)"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_unicode_and_id_edge_cases_are_client_errors(client, member_gql):
    body = '{"query": "{ __typename }", "variables": {"x": "\\ud800"}}'
    response = client.post("/graphql/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    response = client.post("/graphql/", '{"query": "{ __typename } # \\ud800"}', content_type="application/json")
    assert response.status_code == 400
    from graphql_relay import to_global_id

    result = member_gql.execute('query($id: ID!) { node(id: $id) { id } }', {"id": to_global_id("Address", "abc")})
    assert codes(result) == ["INVALID"]
    payload = member_gql.mutate('mutation($id: ID!) { addressDelete(id: $id) { errors { field code } } }',
                                {"id": to_global_id("Address", "abc")})
    assert payload["errors"] == [{"field": "id", "code": "INVALID"}]


def test_plugin_settings_must_be_an_object(staff_gql):
    result = staff_gql.mutate('mutation { pluginUpdate(name: "guestbook", input: {settings: "x"}) { errors { field code } } }')
    assert result["errors"] == [{"field": "settings", "code": "INVALID"}]
