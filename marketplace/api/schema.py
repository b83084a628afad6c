"""Assemble the GraphQL schema: the core apps' queries and mutations plus whatever
active plugins contribute through the `graphql_*` hooks."""
import graphene
from django.conf import settings
from graphene import relay
from graphene.utils.str_converters import to_camel_case
from graphql import default_field_resolver
from graphql_relay import from_global_id

from marketplace.accounts import schema as accounts
from marketplace.catalog import schema as catalog
from marketplace.checkout import schema as checkout
from marketplace.orders import schema as orders
from marketplace.core.errors import ErrorCode, MarketplaceError, ValidationError
from marketplace.payments import schema as payments
from marketplace.plugins import extensions
from marketplace.plugins import schema as plugins
from marketplace.pricing import schema as pricing
from marketplace.plugins.manager import get_manager
from marketplace.vendors import schema as vendors
from marketplace.webhooks import schema as webhooks
from search import schema as search

from .inputs import guard_schema
from .types import valid_pk
from .visibility import install_visibility

CORE_QUERIES = [accounts.Query, vendors.Query, catalog.Query, pricing.Query, checkout.Query, orders.Query,
                payments.Query, plugins.Query, webhooks.Query, search.Query]
CORE_MUTATIONS = [accounts.Mutation, vendors.Mutation, catalog.Mutation, pricing.Mutation, checkout.Mutation,
                  orders.Mutation, payments.Mutation, plugins.Mutation, webhooks.Mutation, search.Mutation]

# Types plugins may add fields to through the `graphql_type_fields` hook.
EXTENSIBLE_TYPES = {
    "User": accounts.UserType,
    "Vendor": vendors.VendorType,
    "Product": catalog.ProductNode,
    "ProductVariant": catalog.ProductVariantNode,
}  # product filter inputs come from `register_product_fields` (search.fields)


class NodeQuery(graphene.ObjectType):
    node = graphene.Field(relay.Node, id=graphene.ID(required=True),
                          description="Fetch any object by its global ID (permissions apply).")

    @staticmethod
    def resolve_node(root, info, id):
        try:
            type_name, pk = from_global_id(id)
        except Exception:
            type_name, pk = None, None
        graphql_type = info.schema.get_type(type_name) if type_name else None
        graphene_type = getattr(graphql_type, "graphene_type", None)
        if not valid_pk(pk) or graphene_type is None or relay.Node not in getattr(graphene_type._meta, "interfaces", ()):
            raise ValidationError("Not a valid object ID.", field="id")
        return graphene_type.get_node(info, pk)


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _graphql_names(object_type):
    names = []
    for name, field in object_type._meta.fields.items():
        names.append(getattr(field, "name", None) or to_camel_case(name))
    return names


def _collect(hook):
    """[(plugin_name, ObjectType)] contributed through a hook."""
    contributions = []
    for plugin_name, result in get_manager().call_each(hook, include_inactive=True):
        for object_type in _as_list(result):
            contributions.append((plugin_name, object_type))
    return contributions


def _root(name, core, contributions):
    owners = {}
    for object_type in core:
        for field in _graphql_names(object_type):
            owners[field] = None
    for plugin_name, object_type in contributions:
        for field in _graphql_names(object_type):
            if field in owners:
                raise RuntimeError(f"Plugin {plugin_name!r} redefines the {name} field {field!r}")
            owners[field] = plugin_name
    bases = tuple(core) + tuple(object_type for _, object_type in contributions)
    return type(name, bases, {}), {f: p for f, p in owners.items() if p}


def _guard(resolve, plugin_name):
    resolve = resolve or default_field_resolver

    def guarded(root, info, **args):
        if not get_manager().is_active(plugin_name):
            raise MarketplaceError(f"The {plugin_name} plugin is disabled.", code=ErrorCode.PLUGIN_DISABLED)
        return resolve(root, info, **args)

    return guarded


def _extend_types():
    """Add plugin fields to extensible types (before graphene builds the schema)."""
    owners = {}
    for plugin_name, contributed in get_manager().call_each("graphql_type_fields", include_inactive=True):
        for type_name, fields in contributed.items():
            graphene_type = EXTENSIBLE_TYPES.get(type_name)
            if graphene_type is None:
                raise RuntimeError(f"Plugin {plugin_name!r} extends unknown type {type_name!r}")
            is_input = issubclass(graphene_type, graphene.InputObjectType)
            for name, field in fields.items():
                if name in graphene_type._meta.fields:
                    raise RuntimeError(f"Plugin {plugin_name!r} redefines {type_name}.{name}")
                if is_input:
                    mounted = field if isinstance(field, graphene.InputField) else field.mount_as(graphene.InputField)
                else:
                    mounted = field if isinstance(field, graphene.Field) else field.mount_as(graphene.Field)
                graphene_type._meta.fields[name] = mounted
                owners[(type_name, name)] = plugin_name
    extensions.record(owners)
    return owners


def build_schema():
    extension_owners = _extend_types()
    query, query_owners = _root("Query", [*CORE_QUERIES, NodeQuery], _collect("graphql_queries"))
    mutation, mutation_owners = _root("Mutation", CORE_MUTATIONS, _collect("graphql_mutations"))
    extra_types = [t for _, result in get_manager().call_each("graphql_types", include_inactive=True)
                   for t in _as_list(result)]
    built = graphene.Schema(query=query, mutation=mutation, types=extra_types or None)
    for root_type, owners in ((built.graphql_schema.query_type, query_owners),
                              (built.graphql_schema.mutation_type, mutation_owners)):
        for field_name, plugin_name in owners.items():
            field = root_type.fields[field_name]
            field.resolve = _guard(field.resolve, plugin_name)
    for (type_name, name), plugin_name in extension_owners.items():
        graphql_type = built.graphql_schema.get_type(type_name)
        field = graphql_type.fields.get(to_camel_case(name))
        if field is not None and hasattr(field, "resolve"):
            field.resolve = _guard(field.resolve, plugin_name)
    # One visibility rule per type, on every field that returns it.
    install_visibility(built.graphql_schema)
    # Last: every argument of every field, core or plugin, passes the edge checks.
    guard_schema(built.graphql_schema, settings.GRAPHQL_MAX_STRING_LENGTH)
    return built


schema = build_schema()
