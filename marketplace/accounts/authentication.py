"""Who is calling the API: a Bearer access token, or nobody.

The API never trusts the admin's session cookie (it is exempt from CSRF checks, so a
cookie would let other sites act for a signed-in user). The user is resolved lazily:
a bad token fails only the fields that need a user, with a clear code
(TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_REVOKED, ACCOUNT_INACTIVE).
"""
import uuid

from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from marketplace.core.errors import AuthenticationError, ErrorCode

from . import tokens


def user_for_access_token(token):
    from .models import AuthSession

    claims = tokens.decode(token, tokens.ACCESS)
    try:
        session_id = uuid.UUID(claims["sid"])
    except ValueError:
        raise AuthenticationError("The token is invalid.", code=ErrorCode.TOKEN_INVALID) from None
    session = AuthSession.objects.select_related("user").filter(pk=session_id).first()
    if session is None or str(session.user_id) != claims["sub"]:
        raise AuthenticationError("The token is invalid.", code=ErrorCode.TOKEN_INVALID)
    if session.is_revoked:
        raise AuthenticationError("The session was signed out.", code=ErrorCode.TOKEN_REVOKED)
    user = session.user
    if not user.is_active:
        raise AuthenticationError("The account is deactivated.", code=ErrorCode.ACCOUNT_INACTIVE)
    user.auth_session = session
    return user


class _Resolver:
    """Resolve once; remember the user or the failure."""

    def __init__(self, token):
        self.token = token
        self.result = None
        self.error = None

    def __call__(self):
        if self.error is not None:
            raise self.error
        if self.result is None:
            try:
                self.result = user_for_access_token(self.token)
            except AuthenticationError as exc:
                self.error = exc
                raise
        return self.result


def authenticate_request(request):
    header = request.META.get("HTTP_AUTHORIZATION", "").strip()
    if not header:
        request.user = AnonymousUser()
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        error = AuthenticationError("Use `Authorization: Bearer <access token>`.", code=ErrorCode.TOKEN_INVALID)

        def fail():
            raise error

        request.user = SimpleLazyObject(fail)
        return
    resolver = _Resolver(token.strip())
    request.user = SimpleLazyObject(resolver)
