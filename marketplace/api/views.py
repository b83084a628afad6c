"""The GraphQL endpoint: authentication, cached parsing and validation, limits,
dataloader-aware execution and error formatting."""
import json
import logging
from functools import lru_cache

from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView as BaseGraphQLView
from graphene_django.views import HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, get_operation_ast, parse, validate
from graphql.validation import specified_rules
from .execution import ExecutionContext, execute_with_fallback
from django.http import HttpResponseBadRequest, HttpResponseNotAllowed

from marketplace.accounts.authentication import authenticate_request
from marketplace.core.errors import ErrorCode, MarketplaceError
from marketplace.plugins.manager import configuration_scope, current_failures

from .limits import LIMIT_RULES, check_cost

logger = logging.getLogger("marketplace.api")
VALIDATION_RULES = (*specified_rules, *LIMIT_RULES)


@lru_cache(maxsize=1024)
def _parse_and_validate(schema, query):
    """Parse and validate once per distinct document (clients send the same few)."""
    try:
        document = parse(query, max_tokens=settings.GRAPHQL_MAX_TOKENS)
    except GraphQLError as error:
        error.extensions = {**(error.extensions or {}), "code": ErrorCode.GRAPHQL_PARSE_FAILED.value}
        return None, (error,)
    errors = validate(schema, document, VALIDATION_RULES, max_errors=50)
    return document, tuple(errors)


def _is_staff(request):
    try:
        return bool(request.user.is_staff)
    except MarketplaceError:
        return False


def _client_error(message, code):
    return GraphQLError(message, extensions={"code": code.value})


GRAPHIQL_ASSET = "graphiql/vendor/graphiql.min.js"


@method_decorator(csrf_exempt, name="dispatch")
class GraphQLView(BaseGraphQLView):
    graphiql = settings.GRAPHQL_GRAPHIQL
    # Our own page: GraphiQL's scripts come from the engine's static files
    # (scripts/graphiql_assets.py), never from a CDN, so it works offline.
    graphiql_template = "api/graphiql.html"
    execution_context_class = ExecutionContext

    def render_graphiql(self, request, **data):
        from django.contrib.staticfiles import finders
        from django.shortcuts import render

        return render(request, self.graphiql_template, {"assets_missing": finders.find(GRAPHIQL_ASSET) is None})

    def dispatch(self, request, *args, **kwargs):
        authenticate_request(request)
        with configuration_scope():
            return super().dispatch(request, *args, **kwargs)

    def get_response(self, request, data, show_graphiql=False):
        if not isinstance(data, dict):
            raise HttpError(HttpResponseBadRequest("The request body must be a JSON object."))
        query, variables, operation_name, _id = self.get_graphql_params(request, data)
        result = self.execute_graphql_request(request, data, query, variables, operation_name, show_graphiql)
        if result is None:
            return None, 200
        response = {}
        status = 200
        if result.errors:
            response["errors"] = [self.format_error(e) for e in result.errors]
            if any(not getattr(e, "path", None) for e in result.errors):
                status = 400
        if status == 200:
            response["data"] = result.data
        failures = current_failures()
        if failures and (settings.DEBUG or _is_staff(request)):
            response["extensions"] = {"pluginFailures": failures}
        return self.json_encode(request, response, pretty=show_graphiql), status

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        if not query:
            if show_graphiql:
                return None
            return ExecutionResult(errors=[_client_error("Must provide a query string.", ErrorCode.BAD_REQUEST)])
        if not isinstance(query, str):
            return ExecutionResult(errors=[_client_error("`query` must be a string.", ErrorCode.BAD_REQUEST)])
        if variables is not None and not isinstance(variables, dict):
            return ExecutionResult(errors=[_client_error("`variables` must be an object.", ErrorCode.BAD_REQUEST)])
        if operation_name is not None and not isinstance(operation_name, str):
            return ExecutionResult(errors=[_client_error("`operationName` must be a string.", ErrorCode.BAD_REQUEST)])
        try:
            size = len(query.encode())
            if variables:
                json.dumps(variables, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            return ExecutionResult(errors=[_client_error("The request contains invalid Unicode.", ErrorCode.BAD_REQUEST)])
        if size > settings.GRAPHQL_MAX_QUERY_BYTES:
            return ExecutionResult(
                errors=[
                    _client_error(
                        f"The document is larger than {settings.GRAPHQL_MAX_QUERY_BYTES} bytes.",
                        ErrorCode.QUERY_TOO_LARGE,
                    )
                ]
            )
        schema = self.schema.graphql_schema
        document, errors = _parse_and_validate(schema, query)
        if errors:
            return ExecutionResult(errors=list(errors))
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return ExecutionResult(
                errors=[_client_error("Unknown or ambiguous operation name.", ErrorCode.GRAPHQL_VALIDATION_FAILED)]
            )
        if request.method.lower() == "get" and operation.operation != OperationType.QUERY:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseNotAllowed(["POST"], "Mutations must be sent with POST."))
        try:
            check_cost(document, operation, variables)
        except GraphQLError as error:
            return ExecutionResult(errors=[error])
        options = dict(
            root_value=None,
            context_value=request,
            variable_values=variables,
            operation_name=operation_name,
            middleware=self.get_middleware(request),
            execution_context_class=self.execution_context_class,
        )
        # Each mutation field is its own transaction (BaseMutation), committed before the
        # next one runs; work after commit (a gateway call, events) holds no row locks.
        return execute_with_fallback(schema, document, operation, **options)

    @staticmethod
    def format_error(error):
        if isinstance(error, HttpError):
            return {"message": error.message, "extensions": {"code": ErrorCode.BAD_REQUEST.value}}
        if not isinstance(error, GraphQLError):
            logger.error("GraphQL request failed: %r", error)
            return {"message": "Internal server error.", "extensions": {"code": ErrorCode.INTERNAL_ERROR.value}}
        formatted = error.formatted
        original = error.original_error
        extensions = dict(formatted.get("extensions") or {})
        if isinstance(original, MarketplaceError):
            extensions["code"] = original.code.value
            if original.field:
                from .errors import camel

                extensions["field"] = camel(original.field)
            formatted["message"] = original.message
        elif original is not None and not isinstance(original, GraphQLError):
            logger.error("Unhandled error in resolver", exc_info=original)
            if not settings.DEBUG:
                formatted["message"] = "Internal server error."
            extensions["code"] = ErrorCode.INTERNAL_ERROR.value
        extensions.setdefault("code", ErrorCode.GRAPHQL_VALIDATION_FAILED.value)
        formatted["extensions"] = extensions
        return formatted
