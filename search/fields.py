"""The engine side of the `register_product_fields` hook: plugins' `ProductField`
declarations (marketplace.plugins.fields) wired into the GraphQL filter inputs, the
product listing, both search backends and the search document.

- `declared_fields()`: [(plugin_name, ProductField)] of every installed plugin;
- `mount_filter_inputs(input_type)`: adds their GraphQL inputs to an input type
  (`ProductFilterInput`, `SearchFilterInput`), once, while the schema is assembled;
- `requested(filter_data)`: the declared fields whose inputs a client set, checked
  (`PLUGIN_DISABLED` while the owner is off) and cleaned (`clean`);
- `apply_db_filters(queryset, requested)` and `es_clauses(requested)`: the filters;
- `document_values(products)`: `{product_id: {field: value}}` for documents and the
  database backend's search rows; `code_fields()`: fields whose values are codes.

A plugin's own callables are called here, never through a backend: a
`MarketplaceError` it raises reaches the client (field + code); any other exception
is logged, recorded as the plugin's failure and answered with `INTERNAL_ERROR`
naming the plugin - a filter is never skipped silently.
"""
import copy
import logging
import threading
from dataclasses import dataclass

import graphene

from marketplace.core.errors import ErrorCode, MarketplaceError
from marketplace.plugins.fields import ProductField
from marketplace.plugins.manager import get_manager, record_failure

logger = logging.getLogger("search.fields")
HOOK = "register_product_fields"

_cache = {}
_cache_lock = threading.Lock()
# Input names mounted on each GraphQL input type -> (plugin, ProductField).
_mounted = {}


def _reserved_names():
    from .mappings import ProductDocument

    return set(ProductDocument._doc_type.mapping)


def declared_fields():
    """[(plugin_name, ProductField)] of every installed plugin, active or not (values of
    a switched-off plugin stay in the index; its filters refuse). Cached per set of
    implementations (tests register plugins at run time)."""
    manager = get_manager()
    key = (id(manager), tuple(impl.plugin_name for impl in manager.hookimpls(HOOK)))
    found = _cache.get(key)
    if found is not None:
        return found
    with _cache_lock:
        reserved = _reserved_names()
        out, names = [], {}
        for plugin_name, declared in manager.call_each(HOOK, include_inactive=True):
            for item in declared if isinstance(declared, (list, tuple)) else [declared]:
                if not isinstance(item, ProductField):
                    raise TypeError(f"Plugin {plugin_name!r}: register_product_fields must return ProductField "
                                    f"objects, not {type(item).__name__}")
                if item.name in reserved or item.name in names:
                    raise RuntimeError(f"Plugin {plugin_name!r} redefines the product field {item.name!r}")
                names[item.name] = plugin_name
                out.append((plugin_name, item))
        _cache.clear()
        _cache[key] = out
        return out


def mount_filter_inputs(input_type):
    """Add every declared field's GraphQL inputs to `input_type` (a graphene
    InputObjectType). Called once per type while the schema is assembled."""
    mounted = _mounted.setdefault(input_type.__name__, {})
    for plugin_name, field in declared_fields():
        for name, value in field.graphql_input.items():
            if name in input_type._meta.fields:
                raise RuntimeError(f"Plugin {plugin_name!r} redefines {input_type.__name__}.{name}")
            if isinstance(value, graphene.InputField):
                input_field = copy.copy(value)
            else:
                input_field = value.mount_as(graphene.InputField)
            input_type._meta.fields[name] = input_field
            mounted[name] = (plugin_name, field)


def input_names():
    """Every GraphQL input name the declared fields add (snake_case)."""
    return {name for _, field in declared_fields() for name in field.graphql_input}


@dataclass
class Requested:
    """A declared field whose inputs the client set, cleaned."""

    plugin: str
    field: ProductField
    inputs: dict


def _call(plugin, field, what, function, *args):
    try:
        return function(*args)
    except MarketplaceError:
        raise
    except Exception as exc:  # a plugin's bug: never a 500, never a filter skipped silently
        logger.exception("Plugin %r failed in %s of product field %r", plugin, what, field.name)
        record_failure(plugin, f"{HOOK}:{field.name}.{what}", exc)
        raise MarketplaceError(f"The {plugin} plugin failed to apply its {field.name} filter; try again later.",
                               code=ErrorCode.INTERNAL_ERROR) from exc


def requested(filter_data):
    """The declared fields whose inputs are set in `filter_data` (the client's filter
    input as a dict, snake_case keys), cleaned. Raises `PLUGIN_DISABLED` (field: the
    input) while the owning plugin is off, or the plugin's own ValidationError."""
    if not filter_data:
        return []
    manager = get_manager()
    out = []
    for plugin_name, field in declared_fields():
        given = {name: filter_data[name] for name in field.graphql_input if filter_data.get(name) is not None}
        if not given:
            continue
        if not manager.is_active(plugin_name):
            raise MarketplaceError(f"The {plugin_name} plugin is disabled.", code=ErrorCode.PLUGIN_DISABLED,
                                   field=next(iter(given)))
        cleaned = _call(plugin_name, field, "clean", field.clean, given) if field.clean else given
        out.append(Requested(plugin_name, field, cleaned))
    return out


def apply_db_filters(queryset, requests):
    """Narrow a Product queryset by each requested field's `db_filter`."""
    for request in requests:
        queryset = _call(request.plugin, request.field, "db_filter", request.field.db_filter, queryset,
                         request.inputs)
    return queryset


def es_clauses(requests):
    """Elasticsearch filter clauses of the requested fields. A field without
    `es_filter` cannot filter search on Elasticsearch: `INVALID` on its first input."""
    clauses = []
    for request in requests:
        if request.field.es_filter is None:
            raise MarketplaceError(f"This filter is not available in search: the {request.plugin} plugin declares no "
                                   f"es_filter for {request.field.name}.", code=ErrorCode.INVALID,
                                   field=next(iter(request.inputs), None))
        result = _call(request.plugin, request.field, "es_filter", request.field.es_filter, request.inputs)
        for clause in result if isinstance(result, (list, tuple)) else [result]:
            if clause is not None:
                clauses.append(clause)
    return clauses


def mappings():
    """{field name: dsl field} of every declared field (for the product index)."""
    return {field.name: field.es_mapping for _, field in declared_fields()}


def code_fields():
    """Names of the declared fields whose values are normalised codes."""
    return [field.name for _, field in declared_fields() if field.code_match]


def document_values(products):
    """{product_id: {field: value}} of every declared field for a batch of products.
    A plugin whose `values` fails fails the batch: the indexing task retries it and
    records it, nothing is dropped silently."""
    out = {}
    for plugin_name, field in declared_fields():
        try:
            values = field.values(products) or {}
        except Exception:
            logger.exception("Plugin %r failed computing values of product field %r", plugin_name, field.name)
            raise
        for product_id, value in values.items():
            out.setdefault(int(product_id), {})[field.name] = value
    return out


def code_values(products):
    """{product_id: [codes]} from the declared code fields (`code_match=True`) only: what
    the database backend's rows match a code-like query against."""
    out = {}
    for plugin_name, field in declared_fields():
        if not field.code_match:
            continue
        try:
            values = field.values(products) or {}
        except Exception:
            logger.exception("Plugin %r failed computing values of product field %r", plugin_name, field.name)
            raise
        for product_id, value in values.items():
            items = value if isinstance(value, (list, tuple, set)) else [value]
            out.setdefault(int(product_id), []).extend(str(v) for v in items if v not in (None, ""))
    return out
