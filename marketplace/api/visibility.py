"""One visibility rule per type, whatever path reaches an object.

A node type declares its rule once:

    @classmethod
    def visible_to(cls, info, obj): ...      # True/False, or a loader future of it
    @classmethod
    def filter_visible(cls, info, objs): ... # the visible ones of a list, in order

and `install_visibility` applies it, when the schema is assembled, to every field of
every type (core or plugin) that returns that type: a single object the caller may not
see answers null, a list leaves it out. Such single fields are therefore nullable in the
schema: null means "not visible to you" (a cart line whose product went back to draft,
a variant deactivated since). A type may name the parent types that already imply its
rule (`visibility_follows`: a variant reached from its own product's `variants`).
"""
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, default_field_resolver, get_named_type
from graphql_sync_dataloaders import SyncFuture

from .dataloaders import then


def _rule_of(graphql_type):
    graphene_type = getattr(graphql_type, "graphene_type", None)
    if graphene_type is None or not hasattr(graphene_type, "visible_to"):
        return None
    return graphene_type


def _is_list(type_):
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _gate_single(resolve, node_type):
    resolve = resolve or default_field_resolver

    def decide(info, obj):
        if obj is None:
            return None
        visible = node_type.visible_to(info, obj)
        if isinstance(visible, SyncFuture):
            return then(visible, lambda ok: obj if ok else None)
        return obj if visible else None

    def gated(root, info, **args):
        value = resolve(root, info, **args)
        if isinstance(value, SyncFuture):
            # Loaders that feed a gated field load what the rule needs with the object
            # (e.g. a product with its vendor): deciding needs no second load.
            return then(value, lambda obj: _settled(decide(info, obj)))
        return decide(info, value)

    gated.__wrapped__ = resolve
    return gated


def _settled(value):
    if isinstance(value, SyncFuture):
        raise RuntimeError("A visibility rule needed a second load inside a loader callback; "
                           "load the object with what its rule reads.")
    return value


def _gate_list(resolve, node_type):
    resolve = resolve or default_field_resolver

    def gated(root, info, **args):
        value = resolve(root, info, **args)
        if value is None:
            return None
        return then(value, lambda items: node_type.filter_visible(info, list(items)) if items is not None else None)

    gated.__wrapped__ = resolve
    return gated


def install_visibility(schema):
    """Wrap every field returning a type that declares `visible_to`. Returns the gated
    fields as {(type name, field name): node type name}."""
    gated = {}
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            node_type = _rule_of(get_named_type(field.type))
            if node_type is None:
                continue
            if type_name in getattr(node_type, "visibility_follows", ()):
                continue
            if _is_list(field.type):
                field.resolve = _gate_list(field.resolve, node_type)
            else:
                if isinstance(field.type, GraphQLNonNull):
                    field.type = field.type.of_type  # null: not visible to the caller
                field.resolve = _gate_single(field.resolve, node_type)
            gated[(type_name, field_name)] = get_named_type(field.type).name
    return gated
