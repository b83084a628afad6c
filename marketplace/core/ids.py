"""Global (Relay) IDs: "<GraphQL type name>:<primary key>", base64-encoded."""
from graphql_relay import from_global_id, to_global_id  # noqa: F401

from .errors import ErrorCode, ValidationError


MAX_PK = 2**63 - 1  # the largest key a database column (bigint) holds


def valid_pk(pk):
    """True for a primary key the database can hold: ASCII digits, 1 to 2**63 - 1."""
    return bool(pk) and pk.isascii() and pk.isdigit() and 0 < int(pk) <= MAX_PK


def decode_id_of(global_id, type_name, field="id"):
    """The primary key (a digit string) inside a global ID of the GraphQL type `type_name`
    (e.g. "Vendor"), or ValidationError (INVALID) naming `field`."""
    try:
        kind, pk = from_global_id(global_id)
    except Exception:
        kind, pk = None, None
    if kind != type_name or not valid_pk(pk):
        raise ValidationError(f"Expected the ID of a {type_name}.", code=ErrorCode.INVALID, field=field)
    return pk
