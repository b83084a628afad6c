"""One check at the API edge for every input value, whatever field takes it.

Every field of the schema that has arguments (queries, mutations, plugin fields) is
wrapped once, when the schema is assembled (`guard_schema`). Before the resolver runs,
the coerced arguments are walked together with their GraphQL types and refused with
`INVALID` naming the input (`field`: its path, e.g. `filter.price.min` or
`lines.2.quantity`; a mutation's `input` wrapper is left out, as services report it):

- text (String, ID, and strings anywhere in GenericScalar/JSON values): control
  characters are refused - every C0 character except tab, line feed and carriage return,
  NUL included, and DEL. They are never stripped silently. Length: a mutation's text input
  is at most the `max_length` of the model field it is stored in (found by name on the
  models of the mutation's payload and on the model named like the input type:
  `CategoryInput.slug` -> `Category.slug`); any other text input is at most
  GRAPHQL_MAX_STRING_LENGTH characters (IDs at most ID_MAX_LENGTH);
- numbers: Decimal and Float must be finite (no NaN or Infinity); a Decimal stored in a
  model field must fit its digits, any other is below 10**15; Int inputs stored in a
  model field respect its validators and positive field types; `first`, `last`,
  `offset` and `limit` are never negative;
- format: a UUID that does not parse, a Decimal or DateTime that does not parse, is
  refused here too (the edge scalars, marketplace.api.scalars, mark it rather than fail
  validation, so the error names the field).

A mutation answers these errors in its payload (`errors { field code message }`), a
query as top-level errors with `extensions.code` and `extensions.field`. As a last line,
a database refusal of a value (`DataError`: a value the column cannot hold) becomes
`INVALID` instead of an internal error.
"""
import logging
import math
import re
from decimal import Decimal

from django.apps import apps
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import DataError, models
from graphene.utils.str_converters import to_snake_case
from graphql import (
    GraphQLEnumType, GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLObjectType, default_field_resolver,
    get_named_type,
)

from marketplace.core.errors import ErrorCode, MarketplaceError, ValidationError

from .limits import check_budget
from .scalars import InvalidInput, install_scalars

logger = logging.getLogger("marketplace.api")

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
ID_MAX_LENGTH = 256
DECIMAL_MAX = Decimal(10) ** 15
FLOAT_MAX = 1e15
NON_NEGATIVE_ARGUMENTS = {"first", "last", "offset", "limit"}
# Inputs that are never stored as typed (a password is hashed, a token is checked).
NOT_STORED = {"password", "old_password", "new_password", "token", "refresh_token"}
# Mutation arguments stored under another name than their own:
# (mutation field, argument) -> "app_label.Model.field" whose limits apply.
STORED_AS = {
    ("orderCancel", "reason"): "orders.Order.cancel_reason",
    ("orderRefund", "reason"): "payments.Refund.reason",
    ("vendorReject", "reason"): "vendors.Vendor.status_reason",
    ("vendorSuspend", "reason"): "vendors.Vendor.status_reason",
    ("vendorClose", "reason"): "vendors.Vendor.status_reason",
    ("checkoutCreate", "email"): "checkout.Checkout.email",
    ("checkoutEmailUpdate", "email"): "checkout.Checkout.email",
    ("vendorStaffInvite", "email"): "vendors.VendorInvitation.email",
}
# Text inputs longer by design than GRAPHQL_MAX_STRING_LENGTH: (mutation field, argument) -> characters.
LONG_TEXT = {("productImportCsv", "csv"): 5_000_000}


# -- limits derived from the models -------------------------------------------------------------
def _model_fields(model_list, name):
    out = []
    for model in model_list:
        try:
            out.append(model._meta.get_field(name))
        except Exception:
            continue
    return [f for f in out if isinstance(f, models.Field)]


def _payload_models(field_type):
    """Models of the Django object types a mutation's payload returns."""
    named = get_named_type(field_type)
    found = []
    for field in getattr(named, "fields", {}).values():
        model = getattr(getattr(getattr(get_named_type(field.type), "graphene_type", None), "_meta", None), "model", None)
        if model is not None and model not in found:
            found.append(model)
    return found


def _model_named(input_type_name):
    base = input_type_name[:-len("Input")] if input_type_name.endswith("Input") else None
    if not base:
        return []
    return [m for m in apps.get_models() if m.__name__ == base]


class Rule:
    """What one input position allows (computed once per position)."""

    __slots__ = ("max_length", "min_value", "max_value", "max_digits")

    def __init__(self, max_length=None, min_value=None, max_value=None, max_digits=None):
        self.max_length = max_length
        self.min_value = min_value
        self.max_value = max_value
        self.max_digits = max_digits


def _rule_from_model_fields(fields):
    rule = Rule()
    for field in fields:
        if isinstance(field, (models.CharField, models.TextField)) and field.max_length:
            rule.max_length = min(rule.max_length or field.max_length, field.max_length)
        if isinstance(field, models.DecimalField) and field.max_digits is not None:
            integer_digits = field.max_digits - (field.decimal_places or 0)
            rule.max_digits = min(rule.max_digits or integer_digits, integer_digits)
        if isinstance(field, (models.PositiveIntegerField, models.PositiveSmallIntegerField,
                              models.PositiveBigIntegerField)):
            rule.min_value = max(rule.min_value or 0, 0)
        for validator in getattr(field, "validators", ()):
            if isinstance(validator, MinValueValidator) and isinstance(validator.limit_value, (int, float, Decimal)):
                rule.min_value = validator.limit_value if rule.min_value is None else max(rule.min_value,
                                                                                        validator.limit_value)
            if isinstance(validator, MaxValueValidator) and isinstance(validator.limit_value, (int, float, Decimal)):
                rule.max_value = validator.limit_value if rule.max_value is None else min(rule.max_value,
                                                                                        validator.limit_value)
    return rule


# -- the walk ----------------------------------------------------------------------------------------
class _Problems(list):
    def add(self, path, message):
        self.append(MarketplaceError(message, code=ErrorCode.INVALID, field=_field_name(path)))


def _field_name(path):
    parts = [str(p) for p in path]
    if len(parts) > 1 and parts[0] == "input":
        parts = parts[1:]
    return ".".join(parts)


def _check_text(value, path, max_length, problems):
    if CONTROL_CHARACTERS.search(value):
        problems.add(path, "Control characters (such as NUL) are not allowed.")
    elif len(value) > max_length:
        problems.add(path, f"At most {max_length} characters.")


def _check_number(value, path, rule, problems, default_max):
    if isinstance(value, float) and not math.isfinite(value):
        problems.add(path, "Must be a finite number (not NaN or Infinity).")
        return
    if isinstance(value, Decimal):
        if not value.is_finite():
            problems.add(path, "Must be a finite number (not NaN or Infinity).")
            return
        limit = Decimal(10) ** rule.max_digits if rule is not None and rule.max_digits is not None else default_max
        if abs(value) >= limit:
            problems.add(path, f"Must be less than {limit:,} in size.")
            return
    elif isinstance(value, float) and abs(value) >= default_max:
        problems.add(path, f"Must be less than {default_max:g} in size.")
        return
    if rule is not None:
        if rule.min_value is not None and value < rule.min_value:
            problems.add(path, f"Must be at least {rule.min_value}.")
        elif rule.max_value is not None and value > rule.max_value:
            problems.add(path, f"Must be at most {rule.max_value}.")


def _check_json(value, path, problems, max_length):
    """Strings, numbers and markers anywhere inside a GenericScalar/JSON value."""
    stack = [(value, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, InvalidInput):
            problems.add(where, current.message)
        elif isinstance(current, str):
            _check_text(current, where, max_length, problems)
        elif isinstance(current, float):
            _check_number(current, where, None, problems, FLOAT_MAX)
        elif isinstance(current, dict):
            for key, item in current.items():
                if isinstance(key, str):
                    _check_text(key, where, max_length, problems)
                stack.append((item, [*where, key]))
        elif isinstance(current, (list, tuple)):
            stack.extend((item, [*where, i]) for i, item in enumerate(current))


class Guard:
    """The edge check of one field's arguments."""

    def __init__(self, field, models_for_field, default_max_length, field_name=None):
        self.arguments = field.args
        self.models = models_for_field
        self.default_max_length = default_max_length
        self.field_name = field_name
        self.rules = {}

    def rule(self, owner, name):
        key = (owner.name if owner is not None else None, name)
        if key not in self.rules:
            snake = to_snake_case(name)
            stored_as = STORED_AS.get((self.field_name, name)) if owner is None else None
            long_text = LONG_TEXT.get((self.field_name, name)) if owner is None else None
            if long_text:
                self.rules[key] = Rule(max_length=long_text)
            elif stored_as:
                app_label, model_name, column = stored_as.split(".")
                self.rules[key] = _rule_from_model_fields([apps.get_model(app_label, model_name)._meta.get_field(column)])
            elif snake in NOT_STORED:
                self.rules[key] = None
            else:
                candidates = list(self.models)
                if owner is not None:
                    candidates += _model_named(owner.name)
                fields = _model_fields(candidates, snake)
                self.rules[key] = _rule_from_model_fields(fields) if fields else None
        return self.rules[key]

    def check(self, args):
        problems = _Problems()
        for name, argument in self.arguments.items():
            key = argument.out_name or name
            if key in args:
                self.walk(args[key], argument.type, [name], None, name, problems)
        return problems

    def walk(self, value, type_, path, owner, name, problems):
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if value is None:
            return
        if isinstance(value, InvalidInput):
            problems.add(path, value.message)
            return
        if isinstance(type_, GraphQLList):
            if isinstance(value, (list, tuple)):
                for index, item in enumerate(value):
                    self.walk(item, type_.of_type, [*path, index], owner, name, problems)
            return
        if isinstance(type_, GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                key = field.out_name or field_name
                if key in value:
                    self.walk(value[key], field.type, [*path, field_name], type_, field_name, problems)
            return
        if isinstance(type_, GraphQLEnumType):
            return
        scalar = type_.name
        if scalar in ("String", "ID"):
            if isinstance(value, str):
                rule = self.rule(owner, name) if scalar == "String" else None
                limit = rule.max_length if rule is not None and rule.max_length else (
                    ID_MAX_LENGTH if scalar == "ID" else self.default_max_length)
                _check_text(value, path, limit, problems)
        elif scalar == "Int":
            if owner is None and name in NON_NEGATIVE_ARGUMENTS and value < 0:
                problems.add(path, "Must not be negative.")
            else:
                _check_number(value, path, self.rule(owner, name), problems, None)
        elif scalar in ("Float", "Decimal"):
            _check_number(value, path, self.rule(owner, name), problems,
                          DECIMAL_MAX if scalar == "Decimal" else FLOAT_MAX)
        elif scalar != "Boolean":  # GenericScalar, JSONString, plugin scalars: look inside
            _check_json(value, path, problems, self.default_max_length)


def _is_mutation_payload(type_):
    from .mutations import BaseMutation

    graphene_type = getattr(get_named_type(type_), "graphene_type", None)
    return isinstance(graphene_type, type) and issubclass(graphene_type, BaseMutation)


def _wrap(resolve, guard, payload_type):
    resolve = resolve or default_field_resolver

    def guarded(root, info, **args):
        if payload_type is not None:
            check_budget()  # before a mutation starts (never while it runs)
        problems = guard.check(args)
        if problems:
            if payload_type is not None:
                from .errors import to_error_list

                return payload_type(errors=to_error_list(ValidationError(errors=problems)))
            raise ValidationError(errors=problems)
        try:
            return resolve(root, info, **args)
        except DataError as exc:  # the last line: a value the column cannot hold
            logger.warning("Database refused a value for %s.%s: %s", info.parent_type.name, info.field_name, exc)
            error = ValidationError("A value does not fit where it is stored (too long or out of range).")
            if payload_type is not None:
                from .errors import to_error_list

                return payload_type(errors=to_error_list(error))
            raise error from None

    guarded.__wrapped__ = resolve
    guarded.guard = guard
    return guarded


def guard_schema(schema, default_max_length):
    """Install the edge scalars and wrap every field that takes arguments. Returns the
    guards by (type name, field name), for tests and docs."""
    install_scalars(schema)
    mutation_type = schema.mutation_type
    guards = {}
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            if not field.args:
                continue
            is_mutation = graphql_type is mutation_type
            guard = Guard(field, _payload_models(field.type) if is_mutation else [], default_max_length,
                          field_name if is_mutation else None)
            payload_type = None
            if is_mutation and _is_mutation_payload(field.type):
                payload_type = get_named_type(field.type).graphene_type
            field.resolve = _wrap(field.resolve, guard, payload_type)
            guards[(type_name, field_name)] = guard
    return guards
