"""JWT access and refresh tokens (PyJWT, HS256)."""
import uuid

import jwt
from django.conf import settings
from django.utils import timezone

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


def decode(token, token_type):
    if not isinstance(token, str) or not token:
        raise AuthenticationError("A token is required.", code=ErrorCode.TOKEN_INVALID)
    try:
        claims = jwt.decode(
            token, settings.JWT_SECRET, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "sid", "typ"]}
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationError("The token has expired.", code=ErrorCode.TOKEN_EXPIRED) from None
    except jwt.PyJWTError:
        raise AuthenticationError("The token is invalid.", code=ErrorCode.TOKEN_INVALID) from None
    if claims.get("typ") != token_type:
        raise AuthenticationError(f"An {token_type} token is required.", code=ErrorCode.TOKEN_INVALID)
    return claims
