"""Limits that refuse abusive documents before execution, and the request's time budget.

Every check here runs in time linear in the document: what a fragment contributes
(depth, field counts, cost) is computed once per fragment and reused wherever it is
spread, so a fragment that spreads the next one twice, 30 levels deep, costs 31 steps,
not 2**30.

Before the standard validation rules run (`check_document`, cached with the parsed
document):
- nesting: braces and brackets at most GRAPHQL_MAX_NESTING deep (anything deeper is
  refused before any recursive code sees it) - QUERY_TOO_DEEP;
- operations: at most GRAPHQL_MAX_OPERATIONS per document - TOO_MANY_OPERATIONS;
  fragments: at most GRAPHQL_MAX_FRAGMENTS, variables: at most GRAPHQL_MAX_VARIABLES per
  operation - QUERY_TOO_COMPLEX;
- depth: nesting of selections through fragments, introspection included (the standard
  introspection query fits within the default) - QUERY_TOO_DEEP;
- repeats: one response name selected more than GRAPHQL_MAX_FIELD_REPEATS times in one
  selection set, counted through fragments (graphql-core compares such fields pairwise) -
  QUERY_TOO_COMPLEX;
- aliases: at most GRAPHQL_MAX_ALIASES aliased fields - TOO_MANY_ALIASES.

During validation graphql-core's own meter of the pairwise field comparisons is set to
GRAPHQL_MAX_OVERLAP_BUDGET (`overlap_budget`): realistic documents use none of it, and a
document that exhausts it is refused (QUERY_TOO_COMPLEX) in milliseconds.

After validation, with the request's variables (`check_cost`):
- cost: every field costs 1, multiplied by the page size (`first`/`last`) of each
  enclosing connection; introspection counts too: a `__schema` walk costs
  GRAPHQL_INTROSPECTION_COST (what resolving that many fields takes), `__type` a
  hundredth of it, so fifty aliased `__schema` walks are refused - QUERY_TOO_COMPLEX;
- page size: `first`/`last` above GRAPHQL_MAX_PAGE_SIZE - PAGE_SIZE_EXCEEDED.

The budget (`request_budget`, GRAPHQL_REQUEST_BUDGET_SECONDS) bounds the whole request:
parsing, validation and the execution of queries check it and answer REQUEST_TIMEOUT
once it is spent. A mutation already running is not interrupted (its service owns its
transaction); the budget is checked before each mutation field starts.
"""
import contextvars
import time
from contextlib import contextmanager

from django.conf import settings
from graphql import GraphQLError, ValidationRule
from graphql.language import (
    FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode, VariableNode,
)
from graphql.utilities import value_from_ast_untyped

from marketplace.core.errors import ErrorCode

INTROSPECTION_ROOTS = {"__schema", "__type"}

# The clock of the budget; tests replace it (never sleep).
clock = time.monotonic


# -- the time budget ----------------------------------------------------------------------
class RequestTimeout(GraphQLError):
    """The request spent its time budget."""

    def __init__(self, seconds):
        super().__init__(
            f"The request took longer than its budget of {seconds:g} s and was stopped; simplify the document.",
            extensions={"code": ErrorCode.REQUEST_TIMEOUT.value, "budgetSeconds": seconds},
        )


class Budget:
    def __init__(self, seconds):
        self.seconds = seconds
        self.deadline = clock() + seconds if seconds and seconds > 0 else None

    def check(self):
        if self.deadline is not None and clock() > self.deadline:
            raise RequestTimeout(self.seconds)


_budget = contextvars.ContextVar("marketplace_graphql_budget", default=None)


@contextmanager
def request_budget(seconds=None):
    """Run a request within a time budget (default GRAPHQL_REQUEST_BUDGET_SECONDS)."""
    token = _budget.set(Budget(settings.GRAPHQL_REQUEST_BUDGET_SECONDS if seconds is None else seconds))
    try:
        yield
    finally:
        _budget.reset(token)


def check_budget():
    """Raise RequestTimeout when the current request's budget is spent (no-op outside one)."""
    budget = _budget.get()
    if budget is not None:
        budget.check()


def is_timeout(error):
    return isinstance(error, RequestTimeout) or isinstance(getattr(error, "original_error", None), RequestTimeout)


class BudgetRule(ValidationRule):
    """Checks the budget while the standard rules walk the document."""

    EVERY = 512

    def __init__(self, context):
        super().__init__(context)
        self.seen = 0

    def enter(self, *_):
        self.seen += 1
        if self.seen % self.EVERY == 0:
            check_budget()


# -- the structural pass (before validation) ---------------------------------------------
def _error(message, code, node=None, **extensions):
    return GraphQLError(message, node, extensions={"code": code.value, **extensions})


def _nesting(node, limit):
    """The deepest chain of nodes below `node` (iterative: safe for any input); stops
    counting past `limit`."""
    deepest = 0
    stack = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        for key in current.keys:
            value = getattr(current, key, None)
            if isinstance(value, (list, tuple)):
                stack.extend((child, depth + 1) for child in value if hasattr(child, "keys"))
            elif hasattr(value, "keys") and key != "loc":
                stack.append((value, depth + 1))
    return deepest


def _spreads(selection_set):
    """Names of the fragments spread anywhere inside a selection set."""
    names = []
    stack = [selection_set]
    while stack:
        current = stack.pop()
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif getattr(selection, "selection_set", None) is not None:
                stack.append(selection.selection_set)
    return names


def fragment_order(fragments):
    """Fragment names, each after every fragment it spreads (iterative depth-first
    search; a cycle is cut where it closes - the standard rules report it)."""
    order, state = [], {}
    for root in fragments:
        if root in state:
            continue
        stack = [(root, iter(_spreads(fragments[root].selection_set)))]
        state[root] = "open"
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[name] = "done"
                order.append(name)
            elif child in fragments and child not in state:
                state[child] = "open"
                stack.append((child, iter(_spreads(fragments[child].selection_set))))
    return order


class _Shape:
    """Per-document facts, computed once per fragment (fragments first, in dependency
    order, so no computation ever recurses through a chain of fragments)."""

    def __init__(self, document):
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.depths = {}
        self.counts = {}

    def prepare(self):
        for name in fragment_order(self.fragments):
            selection_set = self.fragments[name].selection_set
            self.depths[name] = self.depth(selection_set)
            self.counts[name] = self.response_names(selection_set)

    def depth(self, selection_set):
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                depth = 1 + self.depth(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                depth = self.depth(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                depth = self.depths.get(selection.name.value, 0)  # unknown or cyclic: the standard rules report it
            else:
                continue
            deepest = max(deepest, depth)
        return deepest

    def response_names(self, selection_set):
        """{response name: how many fields give it} in one selection set, through
        inline fragments and fragment spreads."""
        counts = {}
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = (selection.alias or selection.name).value
                counts[name] = counts.get(name, 0) + 1
                continue
            if isinstance(selection, InlineFragmentNode):
                inner = self.response_names(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.counts.get(selection.name.value, {})
            else:
                continue
            for name, count in inner.items():
                counts[name] = counts.get(name, 0) + count
        return counts


def _selection_sets(document):
    stack = [d.selection_set for d in document.definitions if getattr(d, "selection_set", None) is not None]
    while stack:
        selection_set = stack.pop()
        yield selection_set
        for selection in selection_set.selections:
            if getattr(selection, "selection_set", None) is not None:
                stack.append(selection.selection_set)


def check_document(document):
    """Structural limits of a parsed document, before the standard validation rules run.
    Returns a list of GraphQLErrors (empty when the document is within every limit)."""
    limit = settings.GRAPHQL_MAX_NESTING
    nesting = _nesting(document, limit * 2 + 4)  # a field adds two levels (field, selection set)
    if nesting > limit * 2 + 4:
        return [_error(f"The document nests deeper than {limit} levels.", ErrorCode.QUERY_TOO_DEEP,
                       maxDepth=limit)]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) > settings.GRAPHQL_MAX_OPERATIONS:
        return [_error(f"The document has {len(operations)} operations; at most {settings.GRAPHQL_MAX_OPERATIONS} "
                       "are allowed (send them as separate requests).", ErrorCode.TOO_MANY_OPERATIONS,
                       maxOperations=settings.GRAPHQL_MAX_OPERATIONS)]
    for operation in operations:
        if len(operation.variable_definitions or ()) > settings.GRAPHQL_MAX_VARIABLES:
            return [_error(f"An operation declares more than {settings.GRAPHQL_MAX_VARIABLES} variables.",
                           ErrorCode.QUERY_TOO_COMPLEX, operation, maxVariables=settings.GRAPHQL_MAX_VARIABLES)]
    shape = _Shape(document)
    if len(shape.fragments) > settings.GRAPHQL_MAX_FRAGMENTS:
        return [_error(f"The document defines {len(shape.fragments)} fragments; at most "
                       f"{settings.GRAPHQL_MAX_FRAGMENTS} are allowed.", ErrorCode.QUERY_TOO_COMPLEX,
                       maxFragments=settings.GRAPHQL_MAX_FRAGMENTS)]
    shape.prepare()
    max_depth = settings.GRAPHQL_MAX_DEPTH
    for operation in operations:
        depth = shape.depth(operation.selection_set)
        if depth > max_depth:
            return [_error(f"Query depth {depth} exceeds the maximum of {max_depth}.", ErrorCode.QUERY_TOO_DEEP,
                           operation, maxDepth=max_depth)]
    repeats = settings.GRAPHQL_MAX_FIELD_REPEATS
    aliases = 0
    for selection_set in _selection_sets(document):
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode) and selection.alias is not None:
                aliases += 1
        counts = shape.response_names(selection_set)
        name, count = max(counts.items(), key=lambda item: item[1], default=(None, 0))
        if count > repeats:
            return [_error(f"`{name}` is selected {count} times in one selection set (through fragments "
                           f"included); at most {repeats} are allowed.", ErrorCode.QUERY_TOO_COMPLEX,
                           selection_set, maxFieldRepeats=repeats)]
    if aliases > settings.GRAPHQL_MAX_ALIASES:
        return [_error(f"The document uses more than {settings.GRAPHQL_MAX_ALIASES} aliases.",
                       ErrorCode.TOO_MANY_ALIASES, maxAliases=settings.GRAPHQL_MAX_ALIASES)]
    return []


LIMIT_RULES = (BudgetRule,)


def overlap_budget():
    """Set graphql-core's meter of the OverlappingFieldsCanBeMerged comparisons (a module
    attribute it documents for this, read when the rule starts) to our setting."""
    from graphql.validation.rules import overlapping_fields_can_be_merged

    overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = settings.GRAPHQL_MAX_OVERLAP_BUDGET


# -- cost (after validation, with the variables) ------------------------------------------
def _argument(field, name, variables):
    for argument in field.arguments or ():
        if argument.name.value == name:
            if isinstance(argument.value, VariableNode):
                return variables.get(argument.value.name.value)
            return value_from_ast_untyped(argument.value, variables)
    return None


def _page_size(field, variables):
    sizes = []
    for name in ("first", "last"):
        value = _argument(field, name, variables)
        if value is None:
            continue
        if isinstance(value, int) and value > settings.GRAPHQL_MAX_PAGE_SIZE:
            raise GraphQLError(
                f"`{name}: {value}` on `{field.name.value}` exceeds the maximum page size of "
                f"{settings.GRAPHQL_MAX_PAGE_SIZE}.",
                field,
                extensions={
                    "code": ErrorCode.PAGE_SIZE_EXCEEDED.value,
                    "field": name,
                    "maxPageSize": settings.GRAPHQL_MAX_PAGE_SIZE,
                },
            )
        if isinstance(value, int):
            sizes.append(max(value, 0))
    return max(sizes) if sizes else None


def _is_connection(field):
    selections = field.selection_set.selections if field.selection_set else ()
    return any(isinstance(s, FieldNode) and s.name.value == "edges" for s in selections)


class _Cost:
    def __init__(self, fragments, variables):
        self.fragments = fragments
        self.variables = variables
        self.memo = {}
        for name in fragment_order(fragments):  # dependencies first: no recursion through fragment chains
            self.memo[name] = self.selection_set(fragments[name].selection_set)

    def selection_set(self, selection_set):
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name in INTROSPECTION_ROOTS:
                    total += introspection_cost(name)
                    continue
                children = self.selection_set(selection.selection_set)
                size = _page_size(selection, self.variables)
                if size is None and _is_connection(selection):
                    size = settings.GRAPHQL_DEFAULT_PAGE_SIZE
                multiplier = 1 if size is None else size
                total += 1 + multiplier * children
            elif isinstance(selection, InlineFragmentNode):
                total += self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.memo.get(selection.name.value, 0)
        return total


def introspection_cost(root):
    """`__schema` walks the whole schema (as long as resolving about
    GRAPHQL_INTROSPECTION_COST fields, whatever is selected below it); `__type` reads one
    type, a hundredth of that."""
    full = settings.GRAPHQL_INTROSPECTION_COST
    return full if root == "__schema" else max(1, full // 100)


def check_cost(document, operation, variables):
    """Raise a GraphQLError when the operation is too expensive or asks for too big a
    page. Runs after validation, with the request's variables; returns the cost."""
    defined = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    fragments, pending = {}, _spreads(operation.selection_set)
    while pending:  # only the fragments this operation reaches
        name = pending.pop()
        if name in defined and name not in fragments:
            fragments[name] = defined[name]
            pending.extend(_spreads(defined[name].selection_set))
    cost = _Cost(fragments, variables or {}).selection_set(operation.selection_set)
    limit = settings.GRAPHQL_MAX_COST
    if cost > limit:
        raise GraphQLError(
            f"Query cost {cost} exceeds the maximum of {limit}.",
            operation,
            extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value, "cost": cost, "maxCost": limit},
        )
    return cost
