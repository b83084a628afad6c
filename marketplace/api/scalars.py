"""The parsing of this schema's own scalars at the API edge.

graphene makes one scalar instance per schema for `UUID`, `Decimal`, `DateTime` and
`JSONString` (the built-in `String`, `Int`, `Float`, `ID`, `Boolean` are shared by every
schema in the process and are left alone; `marketplace.api.inputs` checks their values).
`install_scalars` replaces how those instances parse: a value that does not parse becomes
an `InvalidInput` marker instead of a validation error, and the argument check of
`marketplace.api.inputs` refuses it with INVALID naming the field. A Decimal must also
be finite: `NaN`, `sNaN`, `Infinity` are refused the same way.
"""
import datetime
import json
import uuid
from decimal import Decimal, InvalidOperation

from graphql import GraphQLScalarType, Undefined
from graphql.language import StringValueNode


class InvalidInput:
    """What an edge scalar returns for a value it cannot read: the guard refuses it with
    the field's name (a validation error could not say which field)."""

    __slots__ = ("message",)

    def __init__(self, message):
        self.message = message

    def __repr__(self):
        return f"InvalidInput({self.message!r})"


# -- scalars: parse, or mark as invalid ---------------------------------------------------------
def _parse_uuid(value):
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str) and len(value) <= 64:
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    return InvalidInput("Not a valid UUID.")


def _parse_decimal(value):
    if isinstance(value, bool):
        return InvalidInput("Not a decimal number.")
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, (int, Decimal)):
        value = str(value)
    if not isinstance(value, str) or len(value) > 64:
        return InvalidInput("Not a decimal number.")
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return InvalidInput("Not a decimal number.")
    if not number.is_finite():
        return InvalidInput("Must be a finite number (not NaN or Infinity).")
    return number


def _parse_datetime(value):
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            pass
    return InvalidInput("Not an ISO 8601 date and time.")


def _parse_json_string(value):
    if not isinstance(value, str):
        return InvalidInput("Not a JSON string.")
    try:
        return json.loads(value, parse_constant=lambda name: InvalidInput(f"{name} is not JSON."))
    except (ValueError, RecursionError):
        return InvalidInput("Not valid JSON.")


def _literal(parse):
    def parse_literal(node, _variables=None):
        if isinstance(node, StringValueNode):
            return parse(node.value)
        return Undefined

    return parse_literal


def _decimal_literal(node, _variables=None):
    if node.kind in ("string_value", "int_value", "float_value"):
        return _parse_decimal(node.value)
    return Undefined


EDGE_SCALARS = {
    "UUID": (_parse_uuid, _literal(_parse_uuid)),
    "Decimal": (_parse_decimal, _decimal_literal),
    "DateTime": (_parse_datetime, _literal(_parse_datetime)),
    "JSONString": (_parse_json_string, _literal(_parse_json_string)),
}


def install_scalars(schema):
    """Replace the parsing of this schema's own scalar instances (graphene makes one per
    schema; the built-in String/Int/Float/ID/Boolean are shared and left alone)."""
    for name, (parse_value, parse_literal) in EDGE_SCALARS.items():
        scalar = schema.type_map.get(name)
        if not isinstance(scalar, GraphQLScalarType):
            continue
        scalar.parse_value = parse_value
        scalar.parse_literal = parse_literal
