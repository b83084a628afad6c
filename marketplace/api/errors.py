"""How errors reach clients.

Mutations return `errors: [Error!]!` in their payload. Queries raise GraphQL errors
whose `extensions.code` is one of `ErrorCode`.
"""
import graphene
from graphql import GraphQLError

from marketplace.core.errors import ErrorCode as CoreErrorCode

ErrorCode = graphene.Enum.from_enum(CoreErrorCode, description="Stable, machine-readable error codes.")


class Error(graphene.ObjectType):
    field = graphene.String(description="The input field at fault (camelCase), or null for the whole input.")
    code = graphene.Field(ErrorCode, required=True)
    message = graphene.String(required=True)


def camel(name):
    if not name:
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_error_list(exc):
    return [
        Error(field=camel(err.field) if err.field else None, code=err.code.value, message=err.message)
        for err in exc.as_list()
    ]


def graphql_error(message, code, **extensions):
    code = code.value if hasattr(code, "value") else code
    return GraphQLError(message, extensions={"code": code, **extensions})
