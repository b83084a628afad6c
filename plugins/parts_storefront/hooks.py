"""Hook implementations. Imports are lazy: this module loads while the engine starts."""
from marketplace.plugins import hookimpl


@hookimpl
def graphql_queries():
    from .schema import Query

    return Query


@hookimpl
def graphql_mutations():
    from .schema import Mutation

    return Mutation


@hookimpl
def graphql_type_fields():
    from .schema import type_fields

    return type_fields()


@hookimpl
def filter_products(previous_value, filters):
    from .schema import filter_products

    return filter_products(previous_value, filters)
