"""Hook specifications: the contract between the engine and its plugins.

Every hook is documented in docs/plugins.md with an example. Implement a hook in
your plugin's `hooks` module with the `@hookimpl` marker; you may accept any subset
of the arguments named here.

Calls go through `marketplace.plugins.manager.PluginManager`, which skips plugins
that are disabled for the scope of the call and isolates failures: an exception in
one plugin is logged and reported, never propagated into the core (except a
`marketplace.core.errors.MarketplaceError`, which a plugin raises on purpose, e.g.
to refuse an input).
"""
import pluggy

PROJECT = "marketplace"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def graphql_queries():
    """Return a graphene ObjectType class (or a list of them) whose fields are added to
    the root `Query`. Called once when the schema is built. While the plugin is disabled
    these fields answer with a `PLUGIN_DISABLED` error."""


@hookspec
def graphql_mutations():
    """Return a graphene ObjectType class (or a list) whose fields (usually
    `SomeMutation.Field()`) are added to the root `Mutation`. Called once when the
    schema is built. While the plugin is disabled these mutations are refused with a
    `PLUGIN_DISABLED` error."""


@hookspec
def graphql_types():
    """Return a list of extra graphene types to register in the schema (types that no
    field reaches directly, such as implementations of an interface)."""


@hookspec
def celery_beat_schedule():
    """Return a dict of Celery beat entries (the same shape as `beat_schedule`) to run
    periodic tasks of the plugin. Tasks themselves live in the plugin's `tasks.py` and
    are found by Celery's autodiscovery."""


@hookspec
def event_types():
    """Return a dict `{event_name: description}` of the domain events this plugin emits
    with `marketplace.plugins.emit`. Webhooks can subscribe to them like core events."""


@hookspec
def handle_event(event):
    """Receive a domain event (`marketplace.plugins.Event`: `name`, `payload`, `id`,
    `occurred_at`, `vendor_id`) after the transaction that emitted it has committed.

    Called only for plugins active in the event's scope. Keep it fast: enqueue a Celery
    task for slow work. The return value is ignored; exceptions are logged and do not
    affect other subscribers or the request."""


@hookspec
def graphql_type_fields():
    """Return `{type_name: {field_name: field}}` to add fields to the engine's GraphQL
    types. Object types take `graphene.Field(...)` (give it a `resolver=`); input types
    such as `ProductFilterInput` take `graphene.InputField(...)` / `graphene.ID()` etc.
    Extensible types: see `marketplace.api.schema.EXTENSIBLE_TYPES`. Called once when the
    schema is built. While the plugin is disabled its fields answer `PLUGIN_DISABLED`."""


@hookspec
def filter_products(previous_value, filters, context):
    """Narrow a product listing. `previous_value` is the queryset so far, `filters` the
    client's `ProductFilterInput` (a dict; read only your own fields), `context` the
    request. Return the narrowed queryset, or None to leave it unchanged (a fold: each
    plugin receives the previous plugin's result)."""


@hookspec
def price_adjustments(lines, context):
    """Contribute price adjustments for a batch of `PriceLine`s (`variant_id`,
    `product_id`, `vendor_id`, `category_id`, `brand_id`, `list_price`, `sale_price`)
    priced for `context` (`PriceContext`: `user`, `now`, `quantity`). Return
    `{variant_id: [PriceAdjustment, ...]}`. Adjustments apply in plugin order after the
    vendor's sale price and platform campaigns; the platform floor rule applies last and
    cannot be bypassed by a plugin."""
