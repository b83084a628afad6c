"""Relay connections with keyset cursors, `totalCount`, a page-size cap, and two speed-ups.

Cursors are keysets, not offsets: a cursor holds the sort key of its row plus the row's
id (the ordering of every connection ends with the primary key), and the next page is
"the rows after that key" in the same ordering. Rows added or removed between two
requests therefore never make a page repeat or skip a row that was already there. A
cursor also records which ordering it belongs to: reusing it under another `sortBy`
answers INVALID on `after`/`before`. Sort columns that may be NULL sort last in both
directions, on every database.

Arguments: `first` (default GRAPHQL_DEFAULT_PAGE_SIZE) with `after`, or `last` with
`before`; `offset` skips that many rows after the cursor (forward pages only, at most
GRAPHQL_MAX_OFFSET). Both `first` and `last`, or `offset` with `before`/`last`, are
refused with INVALID.

Speed-ups:
- a connection under each object of a list (`NestedConnectionField`, e.g. a webhook's
  deliveries) reads the pages of every parent in one windowed query, and their totals in
  one grouped count: the query count does not grow with the number of parents;
- the total is counted only when `totalCount` is selected (and a node type may cache
  it: `count_cache_key(queryset)`), otherwise a page is one query for `first + 1` rows;
- a node type may load what a whole page needs at once: `prefetch_page(info, nodes)`,
  so its resolvers return plain values instead of one dataloader future per field.
"""
import base64
import datetime
import decimal
import hashlib
import json
import uuid

import graphene
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, F, OrderBy, Q, Window
from django.db.models.functions import RowNumber
from graphene.relay import PageInfo
from graphene_django.fields import DjangoConnectionField

from marketplace.core.errors import ErrorCode

from .dataloaders import DataLoader, then
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


def _check_arguments(args):
    check_page_size(args)
    offset = args.get("offset")
    if offset is not None:
        if offset < 0:
            raise graphql_error("`offset` must not be negative.", ErrorCode.INVALID, field="offset")
        if offset > settings.GRAPHQL_MAX_OFFSET:
            raise graphql_error(f"`offset` is at most {settings.GRAPHQL_MAX_OFFSET}; page on with `after`.",
                                ErrorCode.INVALID, field="offset")
        if args.get("before") is not None or args.get("last") is not None:
            raise graphql_error("`offset` pages forward only: use it with `first`/`after`.",
                                ErrorCode.INVALID, field="offset")
    if args.get("first") is not None and args.get("last") is not None:
        raise graphql_error("Give either `first` or `last`, not both.", ErrorCode.INVALID, field="last")


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


# -- keysets ------------------------------------------------------------------------------------
class _Term:
    __slots__ = ("name", "attribute", "descending", "field")

    def __init__(self, name, attribute, descending, field):
        self.name = name
        self.attribute = attribute
        self.descending = descending
        self.field = field  # the model field, or None for an annotation

    @property
    def nullable(self):
        return self.field is None or self.field.null

    def order(self, reverse=False):
        descending = self.descending != reverse
        nulls_last = not reverse  # NULLs last going forward, hence first going back
        expression = F(self.name)
        if not self.nullable:
            return expression.desc() if descending else expression.asc()
        if descending:
            return expression.desc(nulls_last=True) if nulls_last else expression.desc(nulls_first=True)
        return expression.asc(nulls_last=True) if nulls_last else expression.asc(nulls_first=True)


class Keyset:
    """The ordering of a queryset as terms on local columns, ending with the primary key,
    or None when the ordering cannot be keyed (an expression, a related column)."""

    def __init__(self, terms):
        self.terms = terms
        self.signature = hashlib.sha1(
            ",".join(f"{t.name}:{'d' if t.descending else 'a'}" for t in terms).encode()).hexdigest()[:10]

    @classmethod
    def of(cls, queryset):
        model = queryset.model
        ordering = list(queryset.query.order_by or model._meta.ordering or ())
        terms = []
        for item in ordering:
            if isinstance(item, str):
                if item == "?":
                    return None
                name, descending = item.lstrip("-+"), item.startswith("-")
            elif isinstance(item, OrderBy) and isinstance(item.expression, F):
                name, descending = item.expression.name, item.descending
            elif isinstance(item, F):
                name, descending = item.name, False
            else:
                return None
            term = cls._term(queryset, name, descending)
            if term is None:
                return None
            terms.append(term)
            if term.field is not None and term.field.primary_key:
                break  # the key is unique from here on
        else:
            terms.append(cls._term(queryset, "pk", terms[-1].descending if terms else False))
        return cls(terms)

    @staticmethod
    def _term(queryset, name, descending):
        model = queryset.model
        if name == "pk":
            name = model._meta.pk.name
        if name in queryset.query.annotations:
            return _Term(name, name, descending, None)
        if "__" in name:
            return None
        try:
            field = model._meta.get_field(name)
        except Exception:
            return None
        if not getattr(field, "concrete", False) or field.is_relation and not field.many_to_one:
            return None
        return _Term(field.attname if field.is_relation else name, field.attname, descending, field)

    def ordered(self, queryset, reverse=False):
        return queryset.order_by(*(t.order(reverse) for t in self.terms))

    # cursors
    def cursor(self, row):
        values = [_plain(getattr(row, t.attribute)) for t in self.terms]
        raw = json.dumps({"k": self.signature, "v": values}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def values(self, cursor, argument):
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
            values = data["v"]
            if data["k"] != self.signature or len(values) != len(self.terms):
                raise ValueError("another ordering")
            return [None if v is None else (t.field.to_python(v) if t.field is not None else v)
                    for t, v in zip(self.terms, values)]
        except Exception:
            raise graphql_error(f"`{argument}` is not a cursor of this connection and ordering.",
                                ErrorCode.INVALID, field=argument) from None

    # "rows after/before these key values", NULLs last going forward
    def beyond(self, values, forward):
        condition = Q(pk__in=[])  # false
        equal = Q()
        for term, value in zip(self.terms, values):
            step = _step(term, value, forward)
            if step is not None:
                condition |= equal & step
            equal &= Q(**{f"{term.name}__isnull": True}) if value is None else Q(**{term.name: value})
        return condition


def _step(term, value, forward):
    """Rows strictly beyond `value` in this term's direction (None: no such rows)."""
    if value is None:  # NULLs are last: nothing follows them, every non-NULL precedes them
        return None if forward else Q(**{f"{term.name}__isnull": False})
    lookup = "gt" if forward != term.descending else "lt"  # forward on an ascending term: greater values
    step = Q(**{f"{term.name}__{lookup}": value})
    if term.nullable and forward:
        step |= Q(**{f"{term.name}__isnull": True})
    return step


def _plain(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    return value


class ConnectionField(DjangoConnectionField):
    """A Django connection with keyset cursors, a page-size cap (GRAPHQL_MAX_PAGE_SIZE)
    and a default page size when neither `first` nor `last` is given."""

    @classmethod
    def connection_resolver(cls, resolver, connection, default_manager, queryset_resolver, max_limit,
                            enforce_first_or_last, root, info, **args):
        _check_arguments(args)
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
        keyset = Keyset.of(iterable) if hasattr(iterable, "query") else None
        if keyset is None:
            built = super().resolve_connection(connection, args, iterable, max_limit)
            prefetch = getattr(node_type, "prefetch_page", None)
            if prefetch:
                prefetch(info, [edge.node for edge in built.edges])
            built._node_type = node_type
            return built
        return cls._keyset_page(connection, args, iterable, info, node_type, keyset)

    @classmethod
    def _keyset_page(cls, connection, args, queryset, info, node_type, keyset):
        forward = args.get("last") is None
        size = args["first"] if forward else args["last"]
        start = args.get("offset") or 0
        page = _narrowed(queryset, keyset, args)
        rows = list(keyset.ordered(page, reverse=not forward)[start:start + size + 1])
        return _build(connection, args, queryset, info, node_type, keyset, rows,
                      _count(queryset, node_type) if _selects_total_count(info) else None)


def _narrowed(queryset, keyset, args):
    if args.get("after"):
        queryset = queryset.filter(keyset.beyond(keyset.values(args["after"], "after"), forward=True))
    if args.get("before"):
        queryset = queryset.filter(keyset.beyond(keyset.values(args["before"], "before"), forward=False))
    return queryset


def _build(connection, args, queryset, info, node_type, keyset, rows, length):
    """A page from `rows` (page size + 1 rows read, in reading order)."""
    forward = args.get("last") is None
    size = args["first"] if forward else args["last"]
    start = args.get("offset") or 0
    more = len(rows) > size
    nodes = rows[:size]
    if not forward:
        nodes.reverse()
    prefetch = getattr(node_type, "prefetch_page", None)
    if prefetch:
        prefetch(info, nodes)
    edges = [connection.Edge(node=node, cursor=keyset.cursor(node)) for node in nodes]
    built = connection(
        edges=edges,
        page_info=PageInfo(
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
            has_previous_page=more if not forward else bool(args.get("after") or start),
            has_next_page=more if forward else bool(args.get("before")),
        ),
    )
    built.iterable = queryset
    built.length = length
    built._node_type = node_type
    return built


class _NestedPages(DataLoader):
    """The pages of one nested connection field (with one set of arguments) for many
    parents: one windowed query, plus one grouped count when totals are wanted."""

    def __init__(self, context, queryset, keyset, parent_field, args, counted):
        super().__init__(context)
        self.queryset, self.keyset, self.parent_field = queryset, keyset, parent_field
        self.args, self.counted = args, counted

    def batch_load(self, keys):
        forward = self.args.get("last") is None
        size = self.args["first"] if forward else self.args["last"]
        start = self.args.get("offset") or 0
        mine = self.queryset.filter(**{f"{self.parent_field}__in": keys})
        ordering = [t.order(reverse=not forward) for t in self.keyset.terms]
        rows = (_narrowed(mine, self.keyset, self.args)
                .annotate(_page_row=Window(RowNumber(), partition_by=[F(self.parent_field)], order_by=ordering))
                .filter(_page_row__gt=start, _page_row__lte=start + size + 1)
                .order_by(self.parent_field, "_page_row"))
        pages = {key: [] for key in keys}
        for row in rows:
            pages[getattr(row, self.parent_field)].append(row)
        counts = {}
        if self.counted:
            counts = dict(mine.order_by().values_list(self.parent_field).annotate(n=Count("pk")))
        return [(pages[key], counts.get(key, 0) if self.counted else None) for key in keys]


class NestedConnectionField(ConnectionField):
    """A connection under each object of a list, batched across the parents.

    `parent_field` is the node model's column naming the parent (e.g. "subscription_id");
    the resolver returns the node queryset for *all* parents (ordering included) and the
    field narrows it to each parent."""

    def __init__(self, type_, parent_field, *args, **kwargs):
        self.parent_field = parent_field
        super().__init__(type_, *args, **kwargs)

    def wrap_resolve(self, parent_resolver):
        resolver = self.resolver or parent_resolver
        field = self

        def resolve(root, info, **args):
            _check_arguments(args)
            if args.get("first") is None and args.get("last") is None:
                args["first"] = settings.GRAPHQL_DEFAULT_PAGE_SIZE
            connection = field.connection_type
            node_type = connection._meta.node
            queryset = node_type.get_queryset(resolver(root, info, **args), info)
            keyset = Keyset.of(queryset)
            counted = _selects_total_count(info)
            key = (id(field), tuple(sorted((k, v) for k, v in args.items())), counted)
            loaders = getattr(info.context, "_nested_pages", None)
            if loaders is None:
                loaders = info.context._nested_pages = {}
            loader = loaders.get(key)
            if loader is None:
                loader = loaders[key] = _NestedPages(info.context, queryset, keyset, field.parent_field, args, counted)
            mine = queryset.filter(**{field.parent_field: root.pk})
            return then(loader.load(root.pk), lambda page: _build(
                connection, args, mine, info, node_type, keyset, page[0], page[1]))

        return resolve
