"""Errors shared by services and the API.

Services raise these; the GraphQL layer turns them into `errors { field code message }`
in mutation payloads, or into top-level errors with `extensions.code` for queries.
"""
from enum import Enum


class ErrorCode(str, Enum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    UNIQUE = "UNIQUE"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    EMAIL_NOT_CONFIRMED = "EMAIL_NOT_CONFIRMED"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    RATE_LIMITED = "RATE_LIMITED"
    INVALID_STATE = "INVALID_STATE"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    OVERLAPS = "OVERLAPS"
    PLUGIN_DISABLED = "PLUGIN_DISABLED"
    PLUGIN_FAILED = "PLUGIN_FAILED"
    ENTITLEMENT_REQUIRED = "ENTITLEMENT_REQUIRED"
    PRICE_CHANGED = "PRICE_CHANGED"
    SLOT_TAKEN = "SLOT_TAKEN"
    GROUP_FULL = "GROUP_FULL"
    GROUP_CLOSED = "GROUP_CLOSED"
    SOLD_OUT = "SOLD_OUT"
    PAGE_SIZE_EXCEEDED = "PAGE_SIZE_EXCEEDED"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_OPERATIONS = "TOO_MANY_OPERATIONS"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    QUERY_TOO_LARGE = "QUERY_TOO_LARGE"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_REQUEST = "BAD_REQUEST"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class MarketplaceError(Exception):
    """Base for errors a client should see, with a stable code."""

    code = ErrorCode.INVALID

    def __init__(self, message, code=None, field=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = ErrorCode(code)
        self.field = field

    def as_list(self):
        return [self]


class ValidationError(MarketplaceError):
    """Input that a service refuses. Can carry several field errors at once."""

    def __init__(self, message=None, code=ErrorCode.INVALID, field=None, errors=None):
        self.errors = list(errors or [])
        if message is not None:
            self.errors.insert(0, MarketplaceError(message, code=code, field=field))
        first = self.errors[0] if self.errors else MarketplaceError("Invalid input.")
        super().__init__(first.message, code=first.code, field=first.field)

    def as_list(self):
        return self.errors or [self]

    @classmethod
    def from_django(cls, exc, field=None):
        """Convert django.core.exceptions.ValidationError (e.g. password validators)."""
        errors = []
        if hasattr(exc, "error_dict"):
            for name, items in exc.error_dict.items():
                for item in items:
                    errors.append(MarketplaceError(" ".join(item.messages), field=name))
        else:
            for message in exc.messages:
                errors.append(MarketplaceError(message, field=field))
        return cls(errors=errors)


class PermissionDenied(MarketplaceError):
    code = ErrorCode.PERMISSION_DENIED

    def __init__(self, message="You do not have permission to perform this action.", code=None, field=None):
        super().__init__(message, code=code, field=field)


class AuthenticationError(MarketplaceError):
    """A credential (token, password) was presented and is not acceptable."""

    code = ErrorCode.NOT_AUTHENTICATED


class NotFound(MarketplaceError):
    code = ErrorCode.NOT_FOUND


class RateLimited(MarketplaceError):
    code = ErrorCode.RATE_LIMITED

    def __init__(self, message, retry_after=None, field=None):
        super().__init__(message, field=field)
        self.retry_after = retry_after
