"""Limits that reject abusive documents before execution.

- depth: nesting of selections (through fragments), introspection included (the
  standard introspection query used by GraphiQL fits within the default);
- aliases: aliased fields in one document;
- cost: every field costs 1, multiplied by the page size (`first`/`last`) of each
  enclosing connection; checked with the request's variables, together with the
  page-size cap, so `first: 100000` is refused before anything runs.
"""
from django.conf import settings
from graphql import GraphQLError, ValidationRule
from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationDefinitionNode, VariableNode
from graphql.utilities import value_from_ast_untyped

from marketplace.core.errors import ErrorCode

INTROSPECTION_FIELDS = {"__schema", "__type"}


def _selection_depth(selection_set, fragments, visited):
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            depth = 1 + _selection_depth(selection.selection_set, fragments, visited)
        elif isinstance(selection, InlineFragmentNode):
            depth = _selection_depth(selection.selection_set, fragments, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visited:
                continue  # unknown or cyclic fragments are reported by the standard rules
            depth = _selection_depth(fragment.selection_set, fragments, visited | {name})
        else:
            continue
        deepest = max(deepest, depth)
    return deepest


class MaxDepthRule(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_):
        limit = settings.GRAPHQL_MAX_DEPTH
        fragments = {f.name.value: f for f in self.context.document.definitions if hasattr(f, "type_condition")}
        depth = _selection_depth(node.selection_set, fragments, frozenset())
        if depth > limit:
            self.report_error(
                GraphQLError(
                    f"Query depth {depth} exceeds the maximum of {limit}.",
                    node,
                    extensions={"code": ErrorCode.QUERY_TOO_DEEP.value, "maxDepth": limit},
                )
            )


class MaxAliasesRule(ValidationRule):
    def __init__(self, context):
        super().__init__(context)
        self.count = 0
        self.reported = False

    def enter_field(self, node: FieldNode, *_):
        if node.alias is None or self.reported:
            return
        self.count += 1
        limit = settings.GRAPHQL_MAX_ALIASES
        if self.count > limit:
            self.reported = True
            self.report_error(
                GraphQLError(
                    f"The document uses more than {limit} aliases.",
                    node,
                    extensions={"code": ErrorCode.TOO_MANY_ALIASES.value, "maxAliases": limit},
                )
            )


LIMIT_RULES = (MaxDepthRule, MaxAliasesRule)


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


def _cost(selection_set, fragments, variables, visited):
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value in INTROSPECTION_FIELDS:
                continue
            children = _cost(selection.selection_set, fragments, variables, visited)
            size = _page_size(selection, variables)
            if size is None and _is_connection(selection):
                size = settings.GRAPHQL_DEFAULT_PAGE_SIZE
            multiplier = 1 if size is None else size
            total += 1 + multiplier * children
        elif isinstance(selection, InlineFragmentNode):
            total += _cost(selection.selection_set, fragments, variables, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visited or name not in fragments:
                continue
            total += _cost(fragments[name].selection_set, fragments, variables, visited | {name})
    return total


def check_cost(document, operation, variables):
    """Raise a GraphQLError when the operation is too expensive or asks for too big a
    page. Runs after validation, with the request's variables."""
    fragments = {d.name.value: d for d in document.definitions if hasattr(d, "type_condition")}
    cost = _cost(operation.selection_set, fragments, variables or {}, frozenset())
    limit = settings.GRAPHQL_MAX_COST
    if cost > limit:
        raise GraphQLError(
            f"Query cost {cost} exceeds the maximum of {limit}.",
            operation,
            extensions={"code": ErrorCode.QUERY_TOO_COMPLEX.value, "cost": cost, "maxCost": limit},
        )
    return cost
