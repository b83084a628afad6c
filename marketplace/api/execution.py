"""Execution: graphql-sync-dataloaders' deferred execution (batched dataloaders in
synchronous Django), adapted to graphql-core 3.2.14, whose `handle_field_error` also
takes the field's path (the library predates that).

The library cannot propagate an error of a non-null field that completes inside a
deferred callback (its callback raises and the operation never finishes). When that
happens to a query, `execute_with_fallback` runs it again with graphql-core's standard
executor and unbatched loaders: slower, but with exactly the null propagation the spec
demands. It only happens on an error path; mutations are never run twice.
"""
import logging

from graphql import ExecutionContext as StandardExecutionContext
from graphql import ExecutionResult, GraphQLError, OperationType, execute
from graphql.pyutils import Path
from graphql_sync_dataloaders import DeferredExecutionContext

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


class ExecutionContext(_BudgetMixin, DeferredExecutionContext):
    def handle_field_error(self, error, return_type, path=None):
        return super().handle_field_error(error, return_type, path if path is not None else _path_of(error))


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
