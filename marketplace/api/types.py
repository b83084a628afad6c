"""Helpers for global (Relay) IDs and enum arguments."""
from marketplace.core.ids import MAX_PK, decode_id_of, valid_pk  # noqa: F401 (public here too)


def enum_value(value):
    """The plain value of a graphene enum argument (or of a Django choices member)."""
    return getattr(value, "value", value)


def decode_id(global_id, expected_type, field="id"):
    """Return the primary key inside a global ID of `expected_type` (a graphene type, or
    its GraphQL name such as "GarageVehicle" for a type another plugin owns), or raise a
    ValidationError naming the field."""
    name = expected_type if isinstance(expected_type, str) else expected_type._meta.name
    return decode_id_of(global_id, name, field)


def decode_ids(global_ids, expected_type, field):
    """[int primary key] for a list of global IDs of `expected_type`; a ValidationError
    naming `field` on the first one that is not such an ID."""
    return [int(decode_id(g, expected_type, field=field)) for g in global_ids]
