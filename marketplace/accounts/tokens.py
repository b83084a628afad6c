"""JWT access and refresh tokens (PyJWT, HS256).

A token's claims are checked whole, not only its signature: every claim the engine reads
has its type and format checked (a pydantic model, strict), so a token whose `sid` is a
number, whose `sub` is not a user id or whose `typ` is unknown answers TOKEN_INVALID,
never an internal error further on.
"""
import uuid
from typing import Annotated, Literal, Optional

import jwt
from django.conf import settings
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from marketplace.core.errors import AuthenticationError, ErrorCode

ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"


def _encode(claims):
    return jwt.encode(claims, settings.JWT_SECRET, algorithm=ALGORITHM)


def new_jti():
    return uuid.uuid4().hex


def issue(user, session, token_type, jti=None):
    now = timezone.now()
    ttl = settings.JWT_ACCESS_TTL if token_type == ACCESS else settings.JWT_REFRESH_TTL
    claims = {
        "typ": token_type,
        "sub": str(user.pk),
        "sid": str(session.pk),
        "jti": jti or new_jti(),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if token_type == ACCESS:
        claims["staff"] = bool(user.is_staff)
    return _encode(claims)


UUID_TEXT = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"


class Claims(BaseModel):
    """The claims of an engine token, strictly typed (no coercion: `"sid": 5` fails)."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    typ: Literal["access", "refresh"]
    sub: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,17}$")]  # a user's primary key
    sid: Annotated[str, StringConstraints(pattern=UUID_TEXT)]  # the AuthSession's id
    jti: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_-]{1,64}$")]
    iat: Optional[int] = None
    exp: int
    staff: Optional[bool] = None


def decode(token, token_type):
    """Verify a token and return its claims as a dict: typ, sub (user id, str), sid
    (session UUID, canonical str), jti, iat, exp, staff. Raises AuthenticationError with
    TOKEN_EXPIRED, or TOKEN_INVALID for a bad signature, a wrong type or any malformed
    claim."""
    if not isinstance(token, str) or not token:
        raise AuthenticationError("A token is required.", code=ErrorCode.TOKEN_INVALID)
    try:
        raw = jwt.decode(
            token, settings.JWT_SECRET, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "sid", "typ"]}
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("The token has expired.", code=ErrorCode.TOKEN_EXPIRED) from None
    except jwt.PyJWTError:
        raise AuthenticationError("The token is invalid.", code=ErrorCode.TOKEN_INVALID) from None
    try:
        claims = Claims.model_validate(raw)
    except ValidationError:
        raise AuthenticationError("The token is invalid.", code=ErrorCode.TOKEN_INVALID) from None
    if claims.typ != token_type:
        raise AuthenticationError(f"An {token_type} token is required.", code=ErrorCode.TOKEN_INVALID)
    return {**claims.model_dump(), "sid": str(uuid.UUID(claims.sid))}
