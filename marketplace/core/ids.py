"""Global (Relay) IDs: "<GraphQL type name>:<primary key>", base64-encoded."""
from graphql_relay import from_global_id, to_global_id  # noqa: F401

from .errors import ErrorCode, ValidationError


def decode_id_of(global_id, type_name, field="id"):
    """The primary key (a digit string) inside a global ID of the GraphQL type `type_name`
    (e.g. "Vendor"), or ValidationError (INVALID) naming `field`."""
    try:
        kind, pk = from_global_id(global_id)
    except Exception:
        kind, pk = None, None
    if kind != type_name or not pk or not pk.isdigit() or len(pk) > 18:
        raise ValidationError(f"Expected the ID of a {type_name}.", code=ErrorCode.INVALID, field=field)
    return pk
