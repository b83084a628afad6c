"""Relay connections with `totalCount` and a page-size cap."""
import graphene
from django.conf import settings
from graphene_django.fields import DjangoConnectionField

from marketplace.core.errors import ErrorCode

from .errors import graphql_error


class CountableConnection(graphene.relay.Connection):
    class Meta:
        abstract = True

    total_count = graphene.Int(required=True, description="Number of items across all pages.")

    @staticmethod
    def resolve_total_count(root, info):
        return root.length


def check_page_size(args):
    limit = settings.GRAPHQL_MAX_PAGE_SIZE
    for name in ("first", "last"):
        value = args.get(name)
        if value is None:
            continue
        if value < 0:
            raise graphql_error(f"`{name}` must not be negative.", ErrorCode.INVALID, field=name)
        if value > limit:
            raise graphql_error(
                f"`{name}: {value}` exceeds the maximum page size of {limit}.",
                ErrorCode.PAGE_SIZE_EXCEEDED,
                field=name,
                maxPageSize=limit,
            )


class ConnectionField(DjangoConnectionField):
    """A Django connection with a page-size cap (GRAPHQL_MAX_PAGE_SIZE) and a default
    page size when neither `first` nor `last` is given."""

    @classmethod
    def connection_resolver(cls, resolver, connection, default_manager, queryset_resolver, max_limit,
                            enforce_first_or_last, root, info, **args):
        check_page_size(args)
        if args.get("first") is None and args.get("last") is None:
            args["first"] = settings.GRAPHQL_DEFAULT_PAGE_SIZE
        return super().connection_resolver(
            resolver, connection, default_manager, queryset_resolver, settings.GRAPHQL_MAX_PAGE_SIZE,
            enforce_first_or_last, root, info, **args
        )
