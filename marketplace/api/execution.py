"""Execution: graphql-sync-dataloaders' deferred execution (batched dataloaders in
synchronous Django), adapted to graphql-core 3.2.14, whose `handle_field_error` also
takes the field's path (the library predates that).

The library cannot propagate an error of a non-null field that completes inside a
deferred callback (its callback raises and the operation never finishes). When that
happens to a query, `execute_with_fallback` runs it again with graphql-core's standard
executor and unbatched loaders: slower, but with exactly the null propagation the spec
demands. It only happens on an error path; mutations are never run twice.
"""
import functools
import logging

from graphene.types.resolver import dict_or_attr_resolver
from graphql import ExecutionContext as StandardExecutionContext
from graphql import (
    ExecutionResult, GraphQLEnumType, GraphQLError, GraphQLNonNull, GraphQLScalarType, OperationType, execute,
)
from graphql.execution.execute import get_field_def
from graphql.pyutils import Path, Undefined
from graphql_sync_dataloaders import DeferredExecutionContext, SyncFuture

from marketplace.core.errors import ErrorCode

from .limits import check_budget

logger = logging.getLogger("marketplace.api")


def _path_of(error):
    path = None
    for key in error.path or ():
        path = Path(path, key, None)
    # An error without a path must not hide later errors: give it a unique position.
    return path if path is not None else Path(None, f"#{id(error)}", None)


class _BudgetMixin:
    """Checks the request's time budget where a query's work multiplies: before each list
    is completed (a query without lists is bounded by the depth and cost limits). Mutation
    fields check it before they start (marketplace.api.inputs); a running mutation is
    never cut short, its service owns its transaction."""

    def complete_list_value(self, return_type, field_nodes, info, path, result):
        if self.operation.operation == OperationType.QUERY:
            check_budget()
        return super().complete_list_value(return_type, field_nodes, info, path, result)


_SLOW = object()


def _leaf_plan(field_def):
    """(attribute, default, serialize, non_null) when a field can be completed without
    graphql-core's per-field machinery: graphene's default resolver (an attribute or
    dict key of the parent), a scalar or enum type, no arguments. Otherwise _SLOW."""
    resolve = field_def.resolve
    if (field_def.args or not isinstance(resolve, functools.partial) or resolve.keywords
            or resolve.func is not dict_or_attr_resolver or len(resolve.args) != 2):
        return _SLOW
    return_type = field_def.type
    non_null = isinstance(return_type, GraphQLNonNull)
    if non_null:
        return_type = return_type.of_type
    if not isinstance(return_type, (GraphQLScalarType, GraphQLEnumType)):
        return _SLOW
    attribute, default = resolve.args
    return attribute, default, return_type.serialize, non_null


class ExecutionContext(_BudgetMixin, DeferredExecutionContext):
    """Deferred (dataloader-batching) execution with a fast path for the commonest
    field: a scalar read from an attribute of its parent by graphene's default resolver
    (`nameZh`, `sku`, `amount`...). Such a field is completed directly (read, serialize)
    without building its resolve info, coercing arguments or checking for futures: in a
    50-product listing that is about two thirds of the fields. Anything unusual (no value
    for a non-null field, a value that does not serialize, middleware) takes the standard
    path, which reports errors exactly as before."""

    def execute_field(self, parent_type, source, field_nodes, path):
        manager = self.middleware_manager
        if manager is None or not manager.middlewares:
            plans = _plans_of(self.schema)
            key = (parent_type.name, field_nodes[0].name.value)
            plan = plans.get(key)
            if plan is None:
                field_def = get_field_def(self.schema, parent_type, field_nodes[0])
                plan = plans[key] = _leaf_plan(field_def) if field_def is not None else _SLOW
            if plan is not _SLOW:
                attribute, default, serialize, non_null = plan
                try:
                    value = source.get(attribute, default) if isinstance(source, dict) else getattr(
                        source, attribute, default)
                except Exception:  # e.g. a property that raises: the standard path reports it
                    value = _SLOW
                if value is None and not non_null:
                    return None
                if value is not None and value is not _SLOW and not isinstance(value, (Exception, SyncFuture)):
                    try:
                        serialized = serialize(value)
                    except Exception:
                        serialized = None
                    if serialized is not None and serialized is not Undefined:
                        return serialized
        return super().execute_field(parent_type, source, field_nodes, path)

    def handle_field_error(self, error, return_type, path=None):
        return super().handle_field_error(error, return_type, path if path is not None else _path_of(error))


def _plans_of(schema):
    plans = getattr(schema, "_marketplace_field_plans", None)
    if plans is None:
        plans = schema._marketplace_field_plans = {}
    return plans


class FallbackExecutionContext(_BudgetMixin, StandardExecutionContext):
    pass


def execute_with_fallback(schema, document, operation, **options):
    is_query = operation.operation == OperationType.QUERY
    try:
        result = execute(schema, document, **options)
        # A field error that escaped the deferred callbacks nulls the whole response;
        # the spec nulls only up to the nearest nullable parent: recompute.
        if not (is_query and result.data is None and result.errors and any(e.path for e in result.errors)):
            return result
    except Exception as exc:  # e.g. "GraphQL deferred execution failed to complete."
        if not is_query:
            logger.error("Deferred execution failed for a mutation: %s", exc)
            return ExecutionResult(data=None, errors=[GraphQLError(
                "The mutation failed; see the other errors. Earlier mutations in this document were committed.", extensions={"code": ErrorCode.INTERNAL_ERROR.value})])
    context = options["context_value"]
    context._dataloaders = {}
    context._immediate_loaders = True
    try:
        return execute(schema, document, **{**options, "execution_context_class": FallbackExecutionContext})
    finally:
        context._immediate_loaders = False
