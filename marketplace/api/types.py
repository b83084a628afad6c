"""Helpers for global (Relay) IDs."""
from graphql_relay import from_global_id

from marketplace.core.errors import ErrorCode, ValidationError


def enum_value(value):
    """The plain value of a graphene enum argument (or of a Django choices member)."""
    return getattr(value, "value", value)


MAX_PK = 2**63 - 1  # the largest key a database column (bigint) holds


def valid_pk(pk):
    """True for a primary key the database can hold: ASCII digits, 1 to 2**63 - 1."""
    return bool(pk) and pk.isascii() and pk.isdigit() and 0 < int(pk) <= MAX_PK


def decode_id(global_id, expected_type, field="id"):
    """Return the primary key inside a global ID of `expected_type`, or raise a
    ValidationError naming the field."""
    type_name = expected_type._meta.name
    try:
        kind, pk = from_global_id(global_id)
    except Exception:
        kind, pk = None, None
    if kind != type_name or not valid_pk(pk):
        raise ValidationError(f"Expected the ID of a {type_name}.", code=ErrorCode.INVALID, field=field)
    return pk
