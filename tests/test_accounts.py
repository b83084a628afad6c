"""Account flows through GraphQL, as a storefront would drive them."""
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.accounts.models import AuthSession, User
from tests.conftest import LOGIN, PASSWORD, wait_for

REGISTER = """
mutation($input: AccountRegisterInput!) {
  accountRegister(input: $input) { requiresConfirmation user { email } errors { field code message } }
}"""
CONFIRM = "mutation($t: String!) { accountConfirm(token: $t) { user { email emailConfirmed } errors { field code } } }"
REFRESH = "mutation($r: String!) { tokenRefresh(refreshToken: $r) { accessToken refreshToken errors { field code } } }"
LOGOUT = "mutation($r: String) { logout(refreshToken: $r) { ok errors { field code } } }"
ME = "{ me { email roles emailConfirmed addresses { id city isDefault } } }"


def link_params(message):
    url = re.search(r"https?://\S+", message.body).group(0)
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def codes(result):
    return [e["extensions"]["code"] for e in result.get("errors", [])]


@pytest.mark.django_db(transaction=True)
def test_register_confirm_login_refresh_logout(gql, worker):
    payload = gql.mutate(REGISTER, {"input": {"email": "Li.Wei@Example.com", "password": PASSWORD, "firstName": "Wei"}})
    assert payload["errors"] == []
    assert payload["requiresConfirmation"] is True
    assert payload["user"]["email"] == "li.wei@example.com"

    # Unconfirmed accounts cannot sign in yet.
    denied = gql.mutate(LOGIN, {"email": "li.wei@example.com", "password": PASSWORD})
    assert [e["code"] for e in denied["errors"]] == ["EMAIL_NOT_CONFIRMED"]

    # The confirmation e-mail is sent by a Celery task.
    message = wait_for(lambda: next((m for m in mail.outbox if m.to == ["li.wei@example.com"]), None),
                       message="the confirmation e-mail")
    token = link_params(message)["token"]
    confirmed = gql.mutate(CONFIRM, {"t": token})
    assert confirmed["errors"] == [] and confirmed["user"]["emailConfirmed"] is True
    assert gql.mutate(CONFIRM, {"t": token + "x"})["errors"][0]["code"] == "TOKEN_INVALID"

    login = gql.mutate(LOGIN, {"email": "LI.WEI@example.com", "password": PASSWORD})
    assert login["errors"] == []
    access, refresh = login["accessToken"], login["refreshToken"]
    me = gql.data(ME, token=access)["me"]
    assert me["email"] == "li.wei@example.com" and me["roles"] == ["MEMBER"]

    rotated = gql.mutate(REFRESH, {"r": refresh})
    assert rotated["errors"] == []
    assert gql.data(ME, token=rotated["accessToken"])["me"]["email"] == "li.wei@example.com"

    # Presenting the old refresh token again is theft: the whole session is revoked.
    reused = gql.mutate(REFRESH, {"r": refresh})
    assert [e["code"] for e in reused["errors"]] == ["TOKEN_REVOKED"]
    assert codes(gql.execute(ME, token=rotated["accessToken"])) == ["TOKEN_REVOKED"]
    assert gql.mutate(REFRESH, {"r": rotated["refreshToken"]})["errors"][0]["code"] == "TOKEN_REVOKED"

    # A fresh sign-in, then logout revokes it.
    login = gql.mutate(LOGIN, {"email": "li.wei@example.com", "password": PASSWORD})
    assert gql.mutate(LOGOUT, {}, token=login["accessToken"]) == {"ok": True, "errors": []}
    result = gql.execute(ME, token=login["accessToken"])
    assert codes(result) == ["TOKEN_REVOKED"]
    assert result["data"] == {"me": None}
    assert gql.mutate(REFRESH, {"r": login["refreshToken"]})["errors"][0]["code"] == "TOKEN_REVOKED"


@pytest.mark.django_db
def test_registration_errors(gql, member):
    cases = [
        ({"email": "not-an-email", "password": PASSWORD}, "email", "INVALID"),
        ({"email": member.email.upper(), "password": PASSWORD}, "email", "UNIQUE"),
        ({"email": "new@example.com", "password": "123"}, "password", "PASSWORD_TOO_WEAK"),
        ({"email": "new@example.com", "password": ""}, "password", "REQUIRED"),
    ]
    for data, field, code in cases:
        errors = gql.mutate(REGISTER, {"input": data})["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], data
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
def test_bad_and_expired_tokens_are_rejected_with_codes(gql, member, settings):
    assert codes(gql.execute(ME, token="not-a-jwt")) == ["TOKEN_INVALID"]
    assert codes(gql.execute(ME, headers={"HTTP_AUTHORIZATION": "Basic abc"})) == ["TOKEN_INVALID"]
    login = gql.mutate(LOGIN, {"email": member.email, "password": PASSWORD})
    # A refresh token is not an access token.
    assert codes(gql.execute(ME, token=login["refreshToken"])) == ["TOKEN_INVALID"]
    settings.JWT_ACCESS_TTL = settings.JWT_ACCESS_TTL * -1
    expired = gql.mutate(LOGIN, {"email": member.email, "password": PASSWORD})["accessToken"]
    assert codes(gql.execute(ME, token=expired)) == ["TOKEN_EXPIRED"]
    # Public fields still work for a caller with a bad token.
    assert gql.data("{ __typename }", token=expired) == {"__typename": "Query"}
    member.is_active = False
    member.save()
    assert codes(gql.execute(ME, token=login["accessToken"])) == ["ACCOUNT_INACTIVE"]


@pytest.mark.django_db
def test_login_errors_and_rate_limits(gql, member, settings, client):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = 3
    for _ in range(3):
        errors = gql.mutate(LOGIN, {"email": member.email, "password": "wrong"})["errors"]
        assert errors[0]["code"] == "INVALID_CREDENTIALS"
    # Locked now, even with the right password.
    errors = gql.mutate(LOGIN, {"email": member.email, "password": PASSWORD})["errors"]
    assert errors[0]["code"] == "RATE_LIMITED" and errors[0]["field"] == "email"
    # Unknown accounts look the same as wrong passwords.
    errors = gql.mutate(LOGIN, {"email": "ghost@example.com", "password": "x"})["errors"]
    assert errors[0]["code"] == "INVALID_CREDENTIALS"

    settings.LOGIN_MAX_ATTEMPTS_PER_IP = 6
    results = [gql.mutate(LOGIN, {"email": f"u{i}@example.com", "password": "x"}) for i in range(4)]
    assert results[-1]["errors"][0]["code"] == "RATE_LIMITED"


@pytest.mark.django_db(transaction=True)
def test_password_reset_and_change(gql, member, worker):
    other_device = gql.mutate(LOGIN, {"email": member.email, "password": PASSWORD})
    reset_request = "mutation($e: String!) { passwordResetRequest(email: $e) { errors { code } } }"
    assert gql.mutate(reset_request, {"e": member.email}) == {"errors": []}
    assert gql.mutate(reset_request, {"e": "ghost@example.com"}) == {"errors": []}  # no enumeration
    message = wait_for(lambda: next((m for m in mail.outbox if m.to == [member.email]), None), message="reset e-mail")
    params = link_params(message)
    reset = "mutation($e: String!, $t: String!, $p: String!) { passwordReset(email: $e, token: $t, password: $p) { errors { field code } } }"
    assert gql.mutate(reset, {"e": member.email, "t": "bad-token", "p": "New-pass-2026!"})["errors"][0]["code"] == "TOKEN_INVALID"
    assert gql.mutate(reset, {"e": member.email, "t": params["token"], "p": "short"})["errors"][0]["code"] == "PASSWORD_TOO_WEAK"
    assert gql.mutate(reset, {"e": member.email, "t": params["token"], "p": "New-pass-2026!"}) == {"errors": []}
    # The reset signed out every session and the token is single-use.
    assert codes(gql.execute(ME, token=other_device["accessToken"])) == ["TOKEN_REVOKED"]
    assert gql.mutate(reset, {"e": member.email, "t": params["token"], "p": "Other-pass-2026!"})["errors"][0]["code"] == "TOKEN_INVALID"

    first = gql.mutate(LOGIN, {"email": member.email, "password": "New-pass-2026!"})
    second = gql.mutate(LOGIN, {"email": member.email, "password": "New-pass-2026!"})
    change = "mutation($o: String!, $n: String!) { passwordChange(oldPassword: $o, newPassword: $n) { errors { field code } } }"
    wrong = gql.mutate(change, {"o": "nope", "n": "Third-pass-2026!"}, token=first["accessToken"])
    assert wrong["errors"] == [{"field": "oldPassword", "code": "INVALID_CREDENTIALS"}]
    assert gql.mutate(change, {"o": "New-pass-2026!", "n": "Third-pass-2026!"}, token=first["accessToken"]) == {"errors": []}
    assert gql.data(ME, token=first["accessToken"])["me"]["email"] == member.email  # this device stays in
    assert codes(gql.execute(ME, token=second["accessToken"])) == ["TOKEN_REVOKED"]
    assert gql.mutate(change, {"o": "x", "n": "y"})["errors"][0]["code"] == "NOT_AUTHENTICATED"


ADDRESS = {"fullName": "王小明", "phone": "13800138000", "province": "北京市", "city": "北京市", "street": "建国路88号"}


@pytest.mark.django_db
def test_addresses(member_gql, make_user, client):
    create = "mutation($i: AddressInput!, $d: Boolean) { addressCreate(input: $i, setDefault: $d) { address { id city isDefault country } errors { field code } } }"
    first = member_gql.mutate(create, {"i": ADDRESS})
    assert first["errors"] == [] and first["address"]["isDefault"] is True and first["address"]["country"] == "CN"
    second = member_gql.mutate(create, {"i": {**ADDRESS, "city": "天津市"}, "d": True})["address"]
    me = member_gql.data(ME)["me"]
    assert [(a["city"], a["isDefault"]) for a in me["addresses"]] == [("北京市", False), ("天津市", True)]

    invalid = member_gql.mutate(create, {"i": {"fullName": "", "phone": "abc", "country": "C1"}})
    assert {(e["field"], e["code"]) for e in invalid["errors"]} >= {
        ("fullName", "REQUIRED"), ("phone", "INVALID"), ("country", "INVALID"), ("street", "REQUIRED")}
    # Longer than the column: refused at the API edge (the limit comes from Address.country).
    too_long = member_gql.mutate(create, {"i": {**ADDRESS, "country": "China"}})
    assert too_long["errors"] == [{"field": "country", "code": "INVALID"}]

    update = "mutation($id: ID!, $i: AddressInput!) { addressUpdate(id: $id, input: $i) { address { street } errors { field code } } }"
    assert member_gql.mutate(update, {"id": second["id"], "i": {"street": "南京路1号"}})["address"]["street"] == "南京路1号"
    assert member_gql.mutate(update, {"id": "bogus", "i": {}})["errors"] == [{"field": "id", "code": "INVALID"}]

    # Another member can neither see nor change these addresses.
    intruder = make_user("intruder@example.com")
    from tests.conftest import GraphQLClient

    other = GraphQLClient(client)
    other.login(intruder.email)
    assert other.mutate(update, {"id": second["id"], "i": {"street": "x"}})["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    delete = "mutation($id: ID!) { addressDelete(id: $id) { ok errors { code } } }"
    assert other.mutate(delete, {"id": second["id"]})["errors"][0]["code"] == "NOT_FOUND"
    assert other.data('query($id: ID!) { node(id: $id) { id } }', {"id": second["id"]})["node"] is None

    # Deleting the default promotes the remaining address.
    assert member_gql.mutate(delete, {"id": second["id"]}) == {"ok": True, "errors": []}
    assert [a["isDefault"] for a in member_gql.data(ME)["me"]["addresses"]] == [True]
    anonymous = GraphQLClient(client)
    assert anonymous.mutate(create, {"i": ADDRESS})["errors"][0]["code"] == "NOT_AUTHENTICATED"


@pytest.mark.django_db
def test_users_listing_runs_constant_queries(staff_gql, make_user):
    from marketplace.accounts import services

    query = "{ users(first: 50) { totalCount edges { node { email roles addresses { city } } } } }"

    def run():
        with CaptureQueriesContext(connection) as ctx:
            data = staff_gql.data(query)
        return data, len(ctx.captured_queries)

    address = {"full_name": "王小明", "phone": "13800138000", "province": "北京市", "city": "北京市", "street": "建国路88号"}
    for i in range(3):
        user = make_user(f"u{i}@example.com")
        services.create_address(user, address)
    small, small_count = run()
    for i in range(3, 30):
        user = make_user(f"u{i}@example.com")
        services.create_address(user, address)
    big, big_count = run()
    assert big["users"]["totalCount"] == 31
    assert small_count == big_count <= 5


@pytest.mark.django_db
def test_users_listing_is_staff_only(member_gql):
    result = member_gql.execute("{ users { totalCount } }")
    assert codes(result) == ["PERMISSION_DENIED"]


@pytest.mark.django_db
def test_sessions_are_recorded(gql, member):
    gql.login(member.email)
    session = AuthSession.objects.get(user=member)
    assert session.revoked_at is None and session.expires_at > session.created_at
