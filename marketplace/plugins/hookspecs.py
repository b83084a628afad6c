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
    types. Object types take `graphene.Field(...)` (give it a `resolver=`). Product filter
    inputs are declared with `register_product_fields` instead (one declaration per field).
    Extensible types: see `marketplace.api.schema.EXTENSIBLE_TYPES`. Called once when the
    schema is built. While the plugin is disabled its fields answer `PLUGIN_DISABLED`."""


@hookspec
def price_adjustments(lines, context):
    """Contribute price adjustments for a batch of `PriceLine`s (`variant_id`,
    `product_id`, `vendor_id`, `category_id`, `brand_id`, `list_price`, `sale_price`)
    priced for `context` (`PriceContext`: `user`, `now`, `quantity`). Return
    `{variant_id: [PriceAdjustment, ...]}`. Adjustments apply in plugin order after the
    vendor's sale price and platform campaigns; the platform floor rule applies last and
    cannot be bypassed by a plugin."""


@hookspec
def checkout_validate(checkout, lines, context):
    """Called before a checkout completes, inside its transaction. `lines` are
    (variant, quantity, price) tuples, `context` the PriceContext. Raise
    `marketplace.plugins.graphql.ValidationError` to block completion with a clear error
    (field and code reach the client); return nothing otherwise."""


@hookspec
def payment_gateways():
    """Return a list of payment gateways (objects implementing
    `marketplace.payments.gateways.PaymentGateway`: `name`, `create_payment`, `capture`,
    `refund`, `cancel`, `parse_webhook`). The first active one named by the client is used."""


# -- search (the `search` app; see docs/search.md) --------------------------------------
@hookspec
def register_product_fields():
    """Declare this plugin's filterable and searchable product fields, each once: return
    a list of `marketplace.plugins.fields.ProductField` (name, es_mapping, values,
    graphql_input, clean, db_filter, es_filter, code_match; see that class).

    From one declaration the engine adds the field's GraphQL inputs to
    `ProductFilterInput` and `SearchFilterInput`, filters listings and both search
    backends with it (`db_filter` for listings and the database backend, `es_filter` on
    Elasticsearch - the engine chooses; no callable receives a backend name), maps the
    field in the product document and fills it from `values(products)` (one call per
    batch of products being indexed, `{product_id: value}`), and, with
    `code_match=True`, ranks first the products whose values equal a code-like query
    (normalised: NFKC, no spaces, hyphens, dots, slashes, underscores; upper case).

    Called for every installed plugin, active or not, when the schema is assembled and
    whenever documents are built or filters applied: return the same declarations every
    time, cheaply (no queries here). While the plugin is disabled its inputs answer
    `PLUGIN_DISABLED` and its values stay indexed. A new or changed field needs
    `manage.py search_index rebuild` (`search_index status` lists fields missing from
    the live mapping). Errors: `clean`/`db_filter`/`es_filter` may raise
    `ValidationError` (reaches the client with field and code); any other exception is
    logged, recorded as this plugin's failure and answered with `INTERNAL_ERROR`."""


@hookspec
def search_shop_mapping_fields():
    """Fields this plugin adds to the Elasticsearch *shop* (vendor) document: return
    `{field_name: elasticsearch.dsl field}` (names must not clash with core fields; a new
    field needs `manage.py search_index rebuild`). Called for every installed plugin,
    active or not. Values come from `search_shop_fields`."""


@hookspec
def search_shop_fields(vendors):
    """Values for a batch of approved vendors (`Vendor` objects): `{vendor_id: {field:
    value}}`. The key `services` (a list of strings, e.g. ["brake-repair",
    "oil-change"]) feeds the core `services` filter of `searchShops` on both backends;
    other keys need a `search_shop_mapping_fields` entry and are indexed as is
    (Elasticsearch backend). The database backend calls this at query time for the
    shops it considers, so keep it one query per batch."""
