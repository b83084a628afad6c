"""Walk the served schema to build requests for every argument of a kind (tests of a
whole fault kind: every string input, every Decimal, every UUID, ...)."""
import json

from graphql import (
    GraphQLEnumType, GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType,
    Undefined, get_named_type,
)

from marketplace.api.schema import schema

DUMMIES = {
    "String": "x",
    "ID": "VXNlcjox",  # User:1
    "Int": 1,
    "Float": 1.5,
    "Boolean": True,
    "UUID": "00000000-0000-0000-0000-000000000001",
    "Decimal": "1.00",
    "DateTime": "2026-01-01T00:00:00+00:00",
    "JSONString": "{}",
    "GenericScalar": {},
}


def unwrap(type_):
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def dummy(type_):
    """A valid value for a required input of this type (required fields only)."""
    type_ = unwrap(type_)
    if isinstance(type_, GraphQLList):
        return [dummy(type_.of_type)]
    if isinstance(type_, GraphQLInputObjectType):
        return {name: dummy(field.type) for name, field in type_.fields.items()
                if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined}
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    return DUMMIES.get(type_.name, "x")


def positions(type_, path=(), seen=()):
    """(path, scalar type name) of every scalar position inside an input type."""
    type_ = unwrap(type_)
    if isinstance(type_, GraphQLList):
        yield from positions(type_.of_type, (*path, 0), seen)
    elif isinstance(type_, GraphQLInputObjectType):
        if type_.name in seen:
            return
        for name, field in type_.fields.items():
            yield from positions(field.type, (*path, name), (*seen, type_.name))
    elif isinstance(type_, GraphQLScalarType):
        yield path, type_.name


def place(type_, path, leaf):
    """A value of `type_` with `leaf` at `path` and dummies for what is required."""
    type_ = unwrap(type_)
    if not path:
        return leaf
    if isinstance(type_, GraphQLList):
        return [place(type_.of_type, path[1:], leaf)]
    value = dummy(type_)
    value[path[0]] = place(type_.fields[path[0]].type, path[1:], leaf)
    return value


def selection(field):
    named = get_named_type(field.type)
    if isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
        return ""
    if isinstance(named, GraphQLObjectType) and "errors" in named.fields:
        return "{ errors { field code message } }"
    return "{ __typename }"


def root_fields():
    """(operation, field name, field) for every Query and Mutation field with arguments."""
    graphql_schema = schema.graphql_schema
    for operation, root in (("query", graphql_schema.query_type), ("mutation", graphql_schema.mutation_type)):
        for name, field in root.fields.items():
            if field.args:
                yield operation, name, field


def request_for(operation, name, field, target_arg, path, leaf):
    """(document, variables) calling `name` with `leaf` placed at `target_arg` + `path`."""
    declarations, uses, variables = [], [], {}
    for arg_name, arg in field.args.items():
        required = isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
        if arg_name != target_arg and not required:
            continue
        value = place(arg.type, path, leaf) if arg_name == target_arg else dummy(arg.type)
        declarations.append(f"${arg_name}: {arg.type}")
        uses.append(f"{arg_name}: ${arg_name}")
        variables[arg_name] = value
    head = f"{operation}({', '.join(declarations)})" if declarations else operation
    call = f"{name}({', '.join(uses)})" if uses else name
    return f"{head} {{ {call} {selection(field)} }}", variables


class Raw:
    """A literal written as is into a document (e.g. `1e400`, which JSON cannot carry)."""

    def __init__(self, text):
        self.text = text


def literal(value, type_):
    """`value` as a GraphQL literal of `type_`."""
    type_ = unwrap(type_)
    if isinstance(value, Raw):
        return value.text
    if isinstance(type_, GraphQLList):
        return "[" + ", ".join(literal(v, type_.of_type) for v in value) + "]"
    if isinstance(type_, GraphQLInputObjectType):
        return "{" + ", ".join(f"{k}: {literal(v, type_.fields[k].type)}" for k, v in value.items()) + "}"
    if isinstance(type_, GraphQLEnumType):
        return value
    if isinstance(value, (dict, list)):  # GenericScalar
        return json.dumps(json.dumps(value))
    return json.dumps(value)


def literal_request_for(operation, name, field, target_arg, path, leaf):
    """Like `request_for`, with every value written into the document (no variables)."""
    document, variables = request_for(operation, name, field, target_arg, path, leaf)
    uses = ", ".join(f"{arg}: {literal(value, field.args[arg].type)}" for arg, value in variables.items())
    call = f"{name}({uses})" if uses else name
    return f"{operation} {{ {call} {selection(field)} }}"


def owner_and_leaf(arg_type, path):
    """The input object type holding the position at `path` (None for the argument
    itself) and the position's own name."""
    owner, current, leaf = None, arg_type, None
    for step in path:
        while isinstance(current, (GraphQLNonNull, GraphQLList)):
            current = current.of_type
        if isinstance(step, int):
            continue
        owner, leaf = current, step
        current = current.fields[step].type
    return owner, leaf


def field_path(target_arg, path):
    """The `field` the API reports for a position (a mutation's `input` is left out)."""
    parts = [target_arg, *[str(p) for p in path]]
    if len(parts) > 1 and parts[0] == "input":
        parts = parts[1:]
    return ".".join(parts)


def cases(scalars):
    """Every (operation, field name, field, argument, path, scalar) whose scalar is one of
    `scalars`, across all root fields."""
    for operation, name, field in root_fields():
        for arg_name, arg in field.args.items():
            for path, scalar in positions(arg.type):
                if scalar in scalars:
                    yield operation, name, field, arg_name, path, scalar


def errors_of(result, operation, name):
    """[(field, code)] from a mutation payload or the top-level errors."""
    found = [((e.get("extensions") or {}).get("field"), (e.get("extensions") or {}).get("code"))
             for e in result.get("errors") or []]
    payload = (result.get("data") or {}).get(name) if operation == "mutation" else None
    if isinstance(payload, dict):
        found += [(e["field"], e["code"]) for e in payload.get("errors") or []]
    return found
