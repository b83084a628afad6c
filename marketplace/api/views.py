"""The GraphQL endpoint: authentication, strict request parsing, cached parsing and
validation, limits, a time budget, dataloader-aware execution and error formatting.

Every answer is JSON with coded errors, whatever the body: bodies that are not UTF-8,
not JSON, nested too deeply, too large, or carry NaN/Infinity are refused with
BAD_REQUEST or QUERY_TOO_LARGE; anything unforeseen is INTERNAL_ERROR (logged), never
Django's HTML error page.
"""
import json
import logging
import math
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView as BaseGraphQLView
from graphene_django.views import HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, get_operation_ast, parse, validate
from graphql.validation import specified_rules
from graphql.validation.validate import ValidationAbortedError

from marketplace.accounts.authentication import authenticate_request
from marketplace.core.errors import ErrorCode, MarketplaceError
from marketplace.plugins.manager import configuration_scope, current_failures

from .errors import camel
from .execution import ExecutionContext, execute_with_fallback
from .limits import (
    LIMIT_RULES, RequestTimeout, check_budget, check_cost, check_document, is_timeout, overlap_budget, request_budget,
)

logger = logging.getLogger("marketplace.api")
VALIDATION_RULES = (*specified_rules, *LIMIT_RULES)


class BadRequest(HttpError):
    """A request the endpoint cannot read: answered as JSON with a code."""

    def __init__(self, message, code=ErrorCode.BAD_REQUEST, status=400):
        response = HttpResponse(status=status, content_type="application/json")
        super().__init__(response, message)
        self.code = code


LIMIT_SETTINGS = ("GRAPHQL_MAX_TOKENS", "GRAPHQL_MAX_NESTING", "GRAPHQL_MAX_OPERATIONS", "GRAPHQL_MAX_FRAGMENTS",
                  "GRAPHQL_MAX_VARIABLES", "GRAPHQL_MAX_FIELD_REPEATS", "GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_ALIASES",
                  "GRAPHQL_MAX_OVERLAP_BUDGET")


def _parse_and_validate(schema, query):
    return _parse_and_validate_cached(schema, query, tuple(getattr(settings, name) for name in LIMIT_SETTINGS))


@lru_cache(maxsize=1024)
def _parse_and_validate_cached(schema, query, _limits):
    """Parse, check the structural limits and validate once per distinct document and
    limits (clients send the same few). A spent budget raises RequestTimeout (not cached)."""
    try:
        document = parse(query, max_tokens=settings.GRAPHQL_MAX_TOKENS)
    except GraphQLError as error:
        code = ErrorCode.QUERY_TOO_DEEP if "nested too deeply" in error.message else ErrorCode.GRAPHQL_PARSE_FAILED
        error.extensions = {**(error.extensions or {}), "code": code.value}
        return None, (error,)
    except RecursionError:
        return None, (_client_error("The document nests too deeply to be parsed.", ErrorCode.QUERY_TOO_DEEP),)
    check_budget()
    errors = check_document(document)
    if errors:
        return None, tuple(errors)
    check_budget()
    overlap_budget()
    errors = [_aborted(e) for e in validate(schema, document, VALIDATION_RULES, max_errors=50)]
    return document, tuple(errors)


def _aborted(error):
    """graphql-core gives up on documents whose fields overlap too much or whose fragments
    nest too deeply ("Validation aborted."): say so with a code."""
    if isinstance(error, ValidationAbortedError) and "error limit" not in error.message:
        return _client_error("The document is too complex to validate (too many overlapping fields, or "
                             "fragments nested too deeply).", ErrorCode.QUERY_TOO_COMPLEX)
    return error


def _is_staff(request):
    try:
        return bool(request.user.is_staff)
    except MarketplaceError:
        return False


def _client_error(message, code):
    return GraphQLError(message, extensions={"code": code.value})


GRAPHIQL_ASSET = "graphiql/vendor/graphiql.min.js"


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is out of range")
    return value


def _depth(value, limit):
    """How deeply JSON containers nest in `value` (iterative; stops past `limit`)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if not isinstance(current, (dict, list)):
            continue
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                return deepest
        children = current.values() if isinstance(current, dict) else current
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def loads(text, what="The request body"):
    """Strict JSON: no NaN/Infinity, finite numbers, nesting within
    GRAPHQL_MAX_VARIABLES_DEPTH (+2 for the body's own object). Raises BadRequest."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise BadRequest(f"{what} nests too deeply.") from None
    except ValueError as exc:  # also int digit limits and bad escapes
        raise BadRequest(f"{what} is not valid JSON: {str(exc)[:200]}") from None
    limit = settings.GRAPHQL_MAX_VARIABLES_DEPTH + 2
    if _depth(value, limit) > limit:
        raise BadRequest(f"{what} nests deeper than {settings.GRAPHQL_MAX_VARIABLES_DEPTH} levels.")
    return value


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
        try:
            authenticate_request(request)
            with configuration_scope(), request_budget():
                return super().dispatch(request, *args, **kwargs)
        except Exception:  # the last line: JSON with a code, never an HTML page
            logger.exception("GraphQL request failed outside execution")
            return HttpResponse(self.json_encode(request, {"errors": [
                {"message": "Internal server error.", "extensions": {"code": ErrorCode.INTERNAL_ERROR.value}}]}),
                status=500, content_type="application/json")

    def _body(self, request):
        try:
            return request.body
        except RequestDataTooBig:
            raise BadRequest(f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                             code=ErrorCode.QUERY_TOO_LARGE, status=413) from None

    def parse_body(self, request):
        content_type = self.get_content_type(request)
        if content_type in ("application/json", "application/graphql"):
            try:
                text = self._body(request).decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("The request body is not UTF-8.") from None
            if content_type == "application/graphql":
                return {"query": text}
            data = loads(text)
            if not isinstance(data, dict):
                raise BadRequest("The request body must be a JSON object.")
            return data
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                return request.POST
            except RequestDataTooBig:
                raise BadRequest("The request body is too large.", code=ErrorCode.QUERY_TOO_LARGE, status=413) from None
            except (TooManyFieldsSent, SuspiciousOperation, UnicodeDecodeError, ValueError) as exc:
                raise BadRequest(f"The form body cannot be read: {str(exc)[:200]}") from None
        return {}

    @staticmethod
    def get_graphql_params(request, data):
        query = request.GET.get("query") or data.get("query")
        variables = request.GET.get("variables") or data.get("variables")
        if variables and isinstance(variables, str):
            variables = loads(variables, "`variables`")
        operation_name = request.GET.get("operationName") or data.get("operationName")
        if operation_name == "null":
            operation_name = None
        return query, variables, operation_name, None

    def get_response(self, request, data, show_graphiql=False):
        if not isinstance(data, dict):
            raise HttpError(HttpResponseBadRequest("The request body must be a JSON object."))
        query, variables, operation_name, _id = self.get_graphql_params(request, data)
        try:
            result = self.execute_graphql_request(request, data, query, variables, operation_name, show_graphiql)
        except RequestTimeout as error:
            result = ExecutionResult(errors=[error])
        if result is None:
            return None, 200
        errors = result.errors
        if errors and any(is_timeout(e) for e in errors):
            # One clear answer instead of one error per field that was cut short.
            errors = [next(e for e in errors if is_timeout(e))]
            errors[0] = GraphQLError(errors[0].message, extensions=errors[0].extensions)
        response = {}
        status = 200
        if errors:
            response["errors"] = [self.format_error(e) for e in errors]
            if any(not getattr(e, "path", None) for e in errors):
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
        check_budget()
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
            code = getattr(error, "code", ErrorCode.BAD_REQUEST)
            return {"message": error.message, "extensions": {"code": code.value}}
        if not isinstance(error, GraphQLError):
            logger.error("GraphQL request failed: %r", error)
            return {"message": "Internal server error.", "extensions": {"code": ErrorCode.INTERNAL_ERROR.value}}
        formatted = error.formatted
        original = error.original_error
        extensions = dict(formatted.get("extensions") or {})
        if isinstance(original, MarketplaceError):
            extensions["code"] = original.code.value
            if original.field:
                extensions["field"] = camel(original.field)
            formatted["message"] = original.message
        elif isinstance(original, GraphQLError):
            extensions = {**(original.extensions or {}), **extensions}
        elif original is not None and error.path:
            # Raised by a resolver: a bug, not the client's fault.
            logger.error("Unhandled error in resolver", exc_info=original)
            if not settings.DEBUG:
                formatted["message"] = "Internal server error."
            extensions["code"] = ErrorCode.INTERNAL_ERROR.value
        # Errors without a path come from parsing, validation or coercing the
        # variables: the document or its values are at fault.
        extensions.setdefault("code", ErrorCode.GRAPHQL_VALIDATION_FAILED.value)
        formatted["extensions"] = extensions
        return formatted
