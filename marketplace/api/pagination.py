"""Relay connections with `totalCount`, a page-size cap, and two speed-ups:

- the total is counted only when `totalCount` is selected (and a node type may cache
  it: `count_cache_key(queryset)`), otherwise a page is one query for `first + 1` rows;
- a node type may load what a whole page needs at once: `prefetch_page(info, nodes)`,
  so its resolvers return plain values instead of one dataloader future per field.
"""
import graphene
from django.conf import settings
from django.core.cache import cache
from graphene.relay import PageInfo
from graphene_django.fields import DjangoConnectionField
from graphql_relay import cursor_to_offset, offset_to_cursor

from marketplace.core.errors import ErrorCode

from .errors import graphql_error


class CountableConnection(graphene.relay.Connection):
    class Meta:
        abstract = True

    total_count = graphene.Int(required=True, description="Number of items across all pages.")

    @staticmethod
    def resolve_total_count(root, info):
        if root.length is None:  # not counted while paging: count now
            root.length = _count(root.iterable, root._node_type)
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


def _selects_total_count(info):
    for field in info.field_nodes:
        for selection in (field.selection_set.selections if field.selection_set else ()):
            if getattr(getattr(selection, "name", None), "value", None) == "totalCount":
                return True
    return False


def _count(queryset, node_type):
    key_for = getattr(node_type, "count_cache_key", None)
    key = key_for(queryset) if key_for else None
    if key is None:
        return queryset.count()
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        cache.set(key, count, timeout=300)
    return count


class ConnectionField(DjangoConnectionField):
    """A Django connection with a page-size cap (GRAPHQL_MAX_PAGE_SIZE) and a default
    page size when neither `first` nor `last` is given."""

    @classmethod
    def connection_resolver(cls, resolver, connection, default_manager, queryset_resolver, max_limit,
                            enforce_first_or_last, root, info, **args):
        check_page_size(args)
        if args.get("first") is None and args.get("last") is None:
            args["first"] = settings.GRAPHQL_DEFAULT_PAGE_SIZE
        args["_info"] = info
        return super().connection_resolver(
            resolver, connection, default_manager, queryset_resolver, settings.GRAPHQL_MAX_PAGE_SIZE,
            enforce_first_or_last, root, info, **args
        )

    @classmethod
    def resolve_connection(cls, connection, args, iterable, max_limit=None):
        info = args.pop("_info")
        node_type = connection._meta.node
        forward_only = args.get("last") is None and args.get("before") is None and not args.get("offset")
        if forward_only and hasattr(iterable, "query"):
            built = cls._forward_page(connection, args, iterable, info, node_type)
        else:
            built = super().resolve_connection(connection, args, iterable, max_limit)
            prefetch = getattr(node_type, "prefetch_page", None)
            if prefetch:
                prefetch(info, [edge.node for edge in built.edges])
        built._node_type = node_type
        return built

    @classmethod
    def _forward_page(cls, connection, args, queryset, info, node_type):
        first = args["first"]
        start = 0
        if args.get("after"):
            offset = cursor_to_offset(args["after"])
            if offset is None:
                raise graphql_error("`after` is not a valid cursor.", ErrorCode.INVALID, field="after")
            start = offset + 1
        rows = list(queryset[start:start + first + 1])
        nodes = rows[:first]
        prefetch = getattr(node_type, "prefetch_page", None)
        if prefetch:
            prefetch(info, nodes)
        edges = [connection.Edge(node=node, cursor=offset_to_cursor(start + i)) for i, node in enumerate(nodes)]
        built = connection(
            edges=edges,
            page_info=PageInfo(
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
                has_previous_page=start > 0,
                has_next_page=len(rows) > first,
            ),
        )
        built.iterable = queryset
        built.length = _count(queryset, node_type) if _selects_total_count(info) else None
        return built
