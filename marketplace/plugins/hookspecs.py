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
def search_mapping_fields():
    """Fields this plugin adds to the Elasticsearch *product* document: return
    `{field_name: elasticsearch.dsl field}`, e.g. `{"fits_vehicle_ids": Long(),
    "part_numbers": Keyword(normalizer="code")}`. The index defines the normalizer
    `code` (lowercase) and the analyzer `latin` (standard tokenizer + lowercase); Chinese
    text takes `analyzer="standard"`. Names must not clash with core fields. The
    mapping is fixed when an index is built: after adding a field run
    `manage.py search_index rebuild`. Called for every installed plugin, active or not
    (a plugin switched off keeps its fields; its filters refuse with PLUGIN_DISABLED)."""


@hookspec
def search_product_fields(products):
    """Values of this plugin's document fields for a batch of products being indexed
    (Elasticsearch backend). `products` is a list of visible `Product` objects (vendor,
    brand and category loaded); query your own tables once for the whole batch
    (`[p.pk for p in products]`). Return `{product_id: {field: value}}`; products
    missing from it get no value. A value the mapping refuses fails that document:
    the indexing task retries it and reports it, it is never dropped silently."""


@hookspec
def search_product_filters(filters):
    """Elasticsearch clauses for this plugin's product filters. `filters` is the
    client's `SearchFilterInput` as a dict (snake_case keys; read only your own - the
    fields you added to `ProductFilterInput` through `graphql_type_fields`, which
    `SearchFilterInput` accepts too). Return a list of `elasticsearch.dsl` queries (or
    query dicts) over your fields, ANDed into the search, or None when none of your
    filters is set. Raise `ValidationError` for bad input. On the database backend the
    search applies the listing hook `filter_products` instead, so a plugin implements
    its filter once per backend and never twice for the same backend."""


@hookspec
def search_code_match(code, backend):
    """Products carrying exactly this code (a part or OE number), which rank first.
    `code` is the client's query normalised (NFKC, no spaces, hyphens, dots, slashes
    or underscores, upper case); `backend` is "elasticsearch" or "database". Return an
    `elasticsearch.dsl` query over your fields (e.g. `Q("term", part_numbers=code)`)
    for "elasticsearch", a Django `Q` or boolean expression (e.g. `Exists(...)`) over
    `Product` for "database", or None."""


@hookspec
def search_shop_mapping_fields():
    """Like `search_mapping_fields`, for the shop (vendor) document."""


@hookspec
def search_shop_fields(vendors):
    """Values for a batch of approved vendors (`Vendor` objects): `{vendor_id: {field:
    value}}`. The key `services` (a list of strings, e.g. ["brake-repair",
    "oil-change"]) feeds the core `services` filter of `searchShops` on both backends;
    other keys need a `search_shop_mapping_fields` entry and are indexed as is
    (Elasticsearch backend). The database backend calls this at query time for the
    shops it considers, so keep it one query per batch."""
