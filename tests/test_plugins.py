"""The plugin framework, proven with a throw-away third-party plugin (tests/thirdparty/
guestbook) that is installed through an entry point and not listed in settings."""
import logging
from importlib.metadata import entry_points

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from marketplace.celery import app as celery_app
from marketplace.plugins.manager import get_manager
from tests.conftest import PASSWORD, wait_for

ENTRIES = "{ guestbookEntries { authorEmail message } }"
SIGN = "mutation($m: String!) { guestbookSign(message: $m) { entry { message } errors { field code message } } }"
UPDATE = """
mutation($name: String!, $input: PluginUpdateInput!) {
  pluginUpdate(name: $name, input: $input) { plugin { name active settings } errors { field code message } }
}"""
REGISTER = "mutation($e: String!) { accountRegister(input: {email: $e, password: \"%s\"}) { errors { code } } }" % PASSWORD


def codes(result):
    return [e["extensions"]["code"] for e in result.get("errors", [])]


def test_guestbook_is_found_through_its_entry_point_only():
    names = [ep.name for ep in entry_points(group="marketplace.plugins")]
    assert "guestbook" in names
    assert "guestbook" not in settings.MARKETPLACE_BUILTIN_PLUGINS
    assert apps.get_app_config("guestbook").plugin_name == "guestbook"
    assert "guestbook" in get_manager().plugins


@pytest.mark.django_db
def test_plugin_model_has_its_migrated_table():
    from guestbook.models import Entry

    assert Entry._meta.db_table in connection.introspection.table_names()


def test_hook_celery_beat_schedule():
    celery_app.finalize()
    assert "guestbook-prune" in celery_app.conf.beat_schedule
    assert "guestbook.tasks.welcome" in celery_app.tasks


@pytest.mark.django_db
def test_hook_graphql_queries(member_gql):
    assert member_gql.data(ENTRIES) == {"guestbookEntries": []}
    payload = member_gql.mutate(SIGN, {"m": "  Great brake pads!  "})
    assert payload == {"entry": {"message": "Great brake pads!"}, "errors": []}
    assert member_gql.data(ENTRIES)["guestbookEntries"] == [
        {"authorEmail": "member@example.com", "message": "Great brake pads!"}]
    assert member_gql.mutate(SIGN, {"m": "  "})["errors"][0]["code"] == "REQUIRED"


@pytest.mark.django_db
def test_hook_graphql_mutations(gql):
    payload = gql.mutate(SIGN, {"m": "hello"})
    assert payload["errors"][0]["code"] == "NOT_AUTHENTICATED"


@pytest.mark.django_db(transaction=True)
def test_hook_handle_event(gql, worker):
    from guestbook.models import Entry

    assert gql.mutate(REGISTER, {"e": "new.member@example.com"}) == {"errors": []}
    entry = wait_for(lambda: Entry.objects.filter(author_email="new.member@example.com").first(),
                     message="the guestbook welcome task")
    assert entry.message == "Welcome, new.member@example.com!"


@pytest.mark.django_db(transaction=True)
def test_settings_are_validated_typed_and_used(staff_gql, gql, worker):
    bad = staff_gql.mutate(UPDATE, {"name": "guestbook", "input": {"settings": {"maxLength": 5, "max_length": -1}}})
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [("settings.maxLength", "INVALID")]
    bad = staff_gql.mutate(UPDATE, {"name": "guestbook", "input": {"settings": {"max_length": "lots"}}})
    assert bad["errors"][0]["field"] == "settings.maxLength"
    ok = staff_gql.mutate(UPDATE, {"name": "guestbook", "input": {"settings": {"greeting": "欢迎", "max_length": 10}}})
    assert ok["errors"] == [] and ok["plugin"]["settings"]["greeting"] == "欢迎"

    from guestbook.models import Entry

    gql.mutate(REGISTER, {"e": "zhang@example.com"})
    entry = wait_for(lambda: Entry.objects.filter(author_email="zhang@example.com").first(), message="welcome entry")
    assert entry.message == "欢迎, zhang@example.com!"
    too_long = staff_gql.mutate(SIGN, {"m": "x" * 11})
    assert too_long["errors"][0] == {"field": "message", "code": "INVALID", "message": "At most 10 characters."}


@pytest.mark.django_db(transaction=True)
def test_disabling_at_run_time_removes_every_effect(staff_gql, gql, member, worker):
    from guestbook.models import Entry

    off = staff_gql.mutate(UPDATE, {"name": "guestbook", "input": {"active": False}})
    assert off["errors"] == [] and off["plugin"]["active"] is False

    assert codes(staff_gql.execute(ENTRIES)) == ["PLUGIN_DISABLED"]
    result = staff_gql.execute(SIGN, {"m": "hi"})
    assert codes(result) == ["PLUGIN_DISABLED"] and result["data"] == {"guestbookSign": None}
    gql.mutate(REGISTER, {"e": "quiet@example.com"})
    # The core still works, the subscriber no longer fires, queued tasks do nothing.
    from guestbook.tasks import welcome

    assert welcome.delay("queued@example.com").get(timeout=10) is None
    assert not Entry.objects.exists()

    on = staff_gql.mutate(UPDATE, {"name": "guestbook", "input": {"active": True}})
    assert on["plugin"]["active"] is True
    assert staff_gql.data(ENTRIES) == {"guestbookEntries": []}
    gql.mutate(REGISTER, {"e": "loud@example.com"})
    wait_for(lambda: Entry.objects.filter(author_email="loud@example.com").exists(), message="welcome entry")


@pytest.mark.django_db(transaction=True)
def test_a_failing_plugin_does_not_break_the_core(staff_gql, gql, caplog):
    staff_gql.mutate(UPDATE, {"name": "guestbook", "input": {"settings": {"fail_on_events": True}}})
    with caplog.at_level(logging.ERROR, logger="marketplace.plugins"):
        result = staff_gql.execute(REGISTER, {"e": "unlucky@example.com"})
    assert result["data"]["accountRegister"] == {"errors": []}
    from marketplace.accounts.models import User

    assert User.objects.filter(email="unlucky@example.com").exists()
    assert any("guestbook" in r.getMessage() for r in caplog.records)
    # Staff see the failure reported in the response.
    assert result["extensions"]["pluginFailures"][0]["plugin"] == "guestbook"
    assert result["extensions"]["pluginFailures"][0]["hook"] == "handle_event"


@pytest.mark.django_db
def test_plugin_configuration_is_staff_only(member_gql, client):
    from tests.conftest import GraphQLClient

    anonymous = GraphQLClient(client)
    assert member_gql.mutate(UPDATE, {"name": "guestbook", "input": {"active": False}})["errors"][0]["code"] == "PERMISSION_DENIED"
    assert anonymous.mutate(UPDATE, {"name": "guestbook", "input": {"active": False}})["errors"][0]["code"] == "NOT_AUTHENTICATED"
    assert codes(member_gql.execute("{ plugins { name } }")) == ["PERMISSION_DENIED"]


@pytest.mark.django_db
def test_plugins_query_and_unknown_plugin(staff_gql):
    plugins = staff_gql.data("{ plugins { name description builtin active settingsSchema settings } }")["plugins"]
    guestbook = next(p for p in plugins if p["name"] == "guestbook")
    assert guestbook["builtin"] is False and guestbook["active"] is True
    assert guestbook["settingsSchema"]["properties"]["max_length"]["maximum"] == 1000
    assert {k: guestbook["settings"][k] for k in ("greeting", "max_length", "moderation_api_key", "fail_on_events",
                                                  "refuse_events")} == {
        "greeting": "Welcome", "max_length": 200, "moderation_api_key": None, "fail_on_events": False,
        "refuse_events": False}
    missing = staff_gql.mutate(UPDATE, {"name": "nope", "input": {"active": True}})
    assert missing["errors"][0]["code"] == "NOT_FOUND"
    vendor_scope = staff_gql.mutate(
        "mutation { pluginUpdate(name: \"stripe\", vendorId: \"VmVuZG9yOjE=\", input: {active: false}) { errors { field code } } }")
    assert vendor_scope["errors"][0]["code"] in ("INVALID", "NOT_FOUND")


@pytest.mark.django_db
def test_hook_calls_can_be_traced(caplog, member_gql):
    untrace = get_manager().enable_tracing()
    try:
        with caplog.at_level(logging.DEBUG, logger="marketplace.plugins.trace"):
            get_manager().call("register_events", include_inactive=True)
    finally:
        untrace()
    assert any("register_events[" in r.getMessage() and "guestbook" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_hook_register_events(gql):
    names = [e["name"] for e in gql.data("{ eventTypes { name description } }")["eventTypes"]]
    assert "user_registered" in names and "guestbook_signed" in names


@pytest.mark.django_db
def test_secret_settings_are_stored_and_masked(staff_gql):
    from marketplace.plugins import get_settings

    result = staff_gql.mutate(UPDATE, {"name": "guestbook", "input": {"settings": {"moderation_api_key": "sk-123"}}})
    assert result["errors"] == []
    assert result["plugin"]["settings"]["moderation_api_key"] == "**********"
    assert get_settings("guestbook").moderation_api_key.get_secret_value() == "sk-123"
    # Changing another setting keeps the secret.
    staff_gql.mutate(UPDATE, {"name": "guestbook", "input": {"settings": {"greeting": "Hi"}}})
    assert get_settings("guestbook").moderation_api_key.get_secret_value() == "sk-123"


@pytest.mark.django_db
def test_unknown_settings_are_refused(staff_gql):
    result = staff_gql.mutate(UPDATE, {"name": "guestbook", "input": {"settings": {"maxLength": 5}}})
    assert [(e["field"], e["code"]) for e in result["errors"]] == [("settings.maxLength", "INVALID")]


@pytest.mark.django_db(transaction=True)
def test_a_refusing_subscriber_does_not_stop_other_deliveries(staff_gql, gql, worker):
    from marketplace.webhooks.models import WebhookDelivery

    staff_gql.mutate(UPDATE, {"name": "guestbook", "input": {"settings": {"refuse_events": True}}})
    staff_gql.mutate("""mutation { webhookCreate(input: {name: "x", targetUrl: "http://127.0.0.1:9/x",
                        events: ["user_registered"]}) { errors { code } } }""")
    result = gql.execute(REGISTER, {"e": "after-refusal@example.com"})
    assert result["data"]["accountRegister"] == {"errors": []}
    assert WebhookDelivery.objects.filter(event_name="user_registered").count() == 1
