"""Shared pieces of the search GraphQL (search.schema and its parts): capability notes,
offset cursors and page checks, query text parsing."""
import base64

import graphene
from django.conf import settings
from graphene import relay

from marketplace.api.pagination import check_page_size
from marketplace.core.errors import ErrorCode, MarketplaceError, ValidationError

from . import synonyms
from .query import MAX_WINDOW, Capability
from .text import MAX_QUERY_LENGTH, clean_query, parse_query

SearchCapability = graphene.Enum("SearchCapability", [(c.name, c.value) for c in Capability])


def _value(enum_value):
    return getattr(enum_value, "value", enum_value)


class SearchUnsupported(graphene.ObjectType):
    """Something the backend cannot do for this query, said plainly."""

    capability = graphene.Field(SearchCapability, required=True)
    message = graphene.String(required=True)

    @staticmethod
    def resolve_capability(root, info):
        return root.capability.value


def _unsupported(notes):
    return list(notes)


def _cursor(offset):
    return base64.b64encode(f"search:{offset}".encode()).decode()


def _offset(after):
    if not after:
        return 0
    try:
        kind, _, value = base64.b64decode(after.encode(), validate=True).decode().partition(":")
        offset = int(value)
    except Exception:
        offset, kind = -1, None
    if kind != "search" or offset < 0:
        raise ValidationError("Not a cursor of this search.", field="after")
    return offset + 1


def _page(first, after):
    check_page_size({"first": first})
    limit = settings.GRAPHQL_DEFAULT_PAGE_SIZE if first is None else first
    offset = _offset(after)
    if offset + limit > MAX_WINDOW:
        raise MarketplaceError(f"Search pages reach the first {MAX_WINDOW} results only; narrow the search.",
                               code=ErrorCode.LIMIT_EXCEEDED, field="after")
    return offset, limit


def _text(query, synonyms_apply=True):
    text = clean_query(query)
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationError(f"At most {MAX_QUERY_LENGTH} characters.", field="query")
    return parse_query(text, synonyms.synonym_sets() if (text and synonyms_apply) else ())


class PageInfoMixin:
    @staticmethod
    def page_info(offset, count, total):
        return relay.PageInfo(
            has_previous_page=offset > 0, has_next_page=offset + count < total,
            start_cursor=_cursor(offset) if count else None, end_cursor=_cursor(offset + count - 1) if count else None)
