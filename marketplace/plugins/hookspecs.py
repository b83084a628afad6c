"""Hook specifications: the contract between the engine and its plugins.

Every hook is documented in docs/plugins.md (one section per hook, with an example) and
exercised by a `test_hook_<name>` test. Implement a hook in your plugin's `hooks` module
with `@hookimpl`; accept any subset of the arguments named here, by name.

Hooks are called by pluggy. The manager (`marketplace.plugins.manager`) only decides
*which* implementations take part (plugins switched off for the call's scope are left
out, as a pluggy subset caller) and wraps each implementation in the failure policy its
spec declares (`marketplace.plugins.policy`: STARTUP, ENRICH, NOTIFY, GUARD). pluggy's own
features work: `@hookimpl(tryfirst=True)`, `trylast`, `wrapper=True` implementations and
`firstresult` specs.

Plugins publish hooks of their own for other plugins with the same `hookspec` marker, in a
module named by `PluginAppConfig.hookspecs` (see docs/plugins.md, "Hooks for other plugins").
"""
from __future__ import annotations

import pluggy

from .policy import ENRICH, GUARD, NOTIFY, STARTUP, Policy

PROJECT = "marketplace"
_spec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


def hookspec(function=None, *, policy: Policy, firstresult: bool = False, historic: bool = False):
    """Declare a hook: `@hookspec(policy=GUARD)` above a function whose signature and
    docstring are the contract. `policy` is required (see `marketplace.plugins.policy`);
    `firstresult=True` makes the call return the first non-None result."""
    if not isinstance(policy, Policy):
        raise TypeError("hookspec(policy=...) needs a marketplace.plugins.policy Policy")

    def mark(fn):
        fn.marketplace_policy = policy
        return _spec(firstresult=firstresult, historic=historic)(fn)

    return mark(function) if function is not None else mark


def policy_of(spec_function) -> Policy:
    return getattr(spec_function, "marketplace_policy", ENRICH)


# -- start-up: contributions collected once ------------------------------------------------
@hookspec(policy=STARTUP)
def graphql_queries():
    """Return a graphene ObjectType class (or a list of them) whose fields are added to the
    root `Query`. Called once when the schema is built. While the plugin is disabled these
    fields answer with a `PLUGIN_DISABLED` error."""


@hookspec(policy=STARTUP)
def graphql_mutations():
    """Return a graphene ObjectType class (or a list) whose fields (usually
    `SomeMutation.Field()`) are added to the root `Mutation`. Called once when the schema
    is built. While the plugin is disabled these mutations are refused with a
    `PLUGIN_DISABLED` error."""


@hookspec(policy=STARTUP)
def graphql_types():
    """Return a list of extra graphene types to register in the schema (types that no field
    reaches directly, such as implementations of an interface)."""


@hookspec(policy=STARTUP)
def graphql_type_fields():
    """Return `{type_name: {field_name: field}}` to add fields to the engine's GraphQL
    types. Object types take `graphene.Field(...)` (give it a `resolver=`). Product filter
    inputs are declared with `register_product_fields` instead (one declaration per field).
    Extensible types: see `marketplace.api.schema.EXTENSIBLE_TYPES`. Called once when the
    schema is built. While the plugin is disabled its fields answer `PLUGIN_DISABLED`."""


@hookspec(policy=STARTUP)
def celery_beat_schedule():
    """Return a dict of Celery beat entries (the shape of `beat_schedule`) to run the
    plugin's periodic tasks. Tasks live in the plugin's `tasks.py` (found by Celery's
    autodiscovery); decorate them with `marketplace.plugins.plugin_task` so they do nothing
    while the plugin is off."""


@hookspec(policy=STARTUP)
def register_events():
    """Return a list of `marketplace.plugins.Event` subclasses this plugin emits. Called
    once at start-up; the registry is frozen afterwards. Webhooks can subscribe to them like
    core events. An event class declares `name` (snake_case, unique), `description` and
    typed dataclass fields (its payload)."""


@hookspec(policy=STARTUP)
def register_line_kinds():
    """Return a list of `marketplace.plugins.checkout.LineKind`: checkout lines this plugin
    sells that are not catalog variants (a membership fee, a towing fee, a deposit). Each
    kind prices its lines, validates them, names its seller (the platform or a vendor) and
    says whether they need shipping. Clients add them with `checkoutPluginLineAdd`, or the
    plugin with `marketplace.plugins.checkout.add_line`."""


@hookspec(policy=STARTUP)
def register_entitlements():
    """Return a list of `marketplace.plugins.entitlements.EntitlementSpec`: named
    capabilities a vendor may be granted or limited in (e.g. `vip_tiers`, a bool, default
    True), with their default and how two plugins' values combine. The core declares
    `max_products`, `commission_rate` and `search_boost`."""


# -- per call: contributions ---------------------------------------------------------------
@hookspec(policy=ENRICH)
def price_adjustments(lines, context):
    """Contribute price adjustments for a batch of `PriceLine`s (`key`, `variant_id`,
    `product_id`, `vendor_id`, `category_id`, `brand_id`, `list_price`, `sale_price`,
    `kind`, `metadata`) priced for `context` (`PriceContext`: `user`, `now`, `quantity`,
    `assume`, `members`). Return `{line.key: [PriceAdjustment, ...]}`.

    The pipeline orders adjustments by `stage` (sale 100, campaign 200, membership 300,
    loyalty 400, coupon 500), not by plugin order; adjustments sharing a `group` where one
    says `stacking="best_of"` keep only the largest; an `exclusive` adjustment replaces
    every other one on its line. The platform floor rule applies last and no plugin can
    bypass it. Called once per batch (a listing page, a cart): query your tables once."""


@hookspec(policy=ENRICH)
def checkout_adjustments(checkout, lines, context):
    """Order-level adjustments for a cart: discounts (a referral code) and tenders (points
    or store credit paying part of an order). `checkout` is a `CheckoutInfo`, `lines` a list
    of `CheckoutLineInfo` with their prices, `context` the `PriceContext`. Return a list of
    `marketplace.plugins.checkout.OrderAdjustment` (`source`, `label`, `amount`, `kind`
    DISCOUNT or TENDER, `vendor_id` to limit it to one seller's lines, `funded_by`).

    The core allocates each to lines in proportion (largest remainder to 0.01) and caps it so
    that no line's effective price falls below its floor; the payload says how much applied.
    Claim what you offered (deduct the points) in `checkout_reserve`, which sees the applied
    amounts."""


@hookspec(policy=STARTUP)
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

    Called for every installed plugin, active or not, when the schema is assembled (and
    cached): return the same declarations every time, cheaply (no queries here); a crash
    here stops start-up. While the plugin is disabled its inputs answer `PLUGIN_DISABLED`
    and its values stay indexed. A new or changed field needs `manage.py search_index
    rebuild` (`search_index status` lists fields missing from the live mapping). Errors
    of the declared callables: `clean`/`db_filter`/`es_filter` may raise
    `ValidationError` (reaches the client with field and code); any other exception is
    logged, recorded as this plugin's failure and answered with `INTERNAL_ERROR`; a
    crash in `values` fails that indexing batch (retried and reported, never dropped)."""


@hookspec(policy=ENRICH)
def search_shop_mapping_fields():
    """Fields this plugin adds to the Elasticsearch *shop* (vendor) document: return
    `{field_name: elasticsearch.dsl field}` (names must not clash with core fields; a new
    field needs `manage.py search_index rebuild`). Called for every installed plugin,
    active or not. Values come from `search_shop_fields`."""


@hookspec(policy=ENRICH)
def search_shop_fields(vendors):
    """Values for a batch of listed vendors (`Vendor` objects): `{vendor_id: {field:
    value}}`. The key `services` (a list of strings, e.g. ["brake-repair",
    "oil-change"]) feeds the core `services` filter of `searchShops` and shop text search
    on both backends; other keys need a `search_shop_mapping_fields` entry and are indexed
    as is (Elasticsearch backend). The database backend calls this at query time for the
    shops it considers, so keep it one query per batch."""


@hookspec(policy=ENRICH)
def payment_gateways():
    """Return a list of payment gateways (`marketplace.plugins.payments.PaymentGateway`
    subclasses: `name`, `capabilities`, `create_payment`, `capture`, `cancel`, `refund`,
    `parse_webhook`). The facade (`marketplace.plugins.payments`) picks the active one named
    by the client and refuses what its capabilities do not cover."""


@hookspec(policy=GUARD)
def vendor_entitlements(vendor_ids):
    """Grant or limit capabilities per vendor: return `{vendor_id: {entitlement: value}}`
    for the vendors in `vendor_ids` (a list of ints) that you have something to say about.
    Values of several plugins combine by the entitlement's rule (e.g. `max_products` takes
    the smallest, flags are on only if nobody says off). Read with
    `marketplace.plugins.entitlements.entitlement(vendor_id, name)`; the core enforces
    `max_products` on product create and publish, flags on plugin activation, and
    `commission_rate` in the ledger. A crash blocks the operation that asked (fail closed)."""


# -- per call: validation and reservation (fail closed, in a savepoint) ---------------------
@hookspec(policy=GUARD)
def checkout_validate(checkout, lines, context):
    """Called before a checkout completes, inside its transaction. `checkout` is a
    `CheckoutInfo`, `lines` a list of `CheckoutLineInfo` (`kind`, `variant_id`, `vendor_id`,
    `quantity`, `unit_price` (a `PriceExplanation`), `metadata`), `context` the
    `PriceContext`. Raise `ValidationError` (field and code reach the client) to block
    completion. A crash blocks completion too, with `PLUGIN_FAILED`."""


@hookspec(policy=GUARD)
def checkout_reserve(order, checkout, lines, adjustments, context):
    """Claim capacity atomically with the order: runs inside checkout completion, next to
    the stock reservation, after the order and its lines are written. `order` is an
    `OrderInfo` (lines carry the `line_id`s of the new order lines and their `metadata`),
    `adjustments` the `AppliedAdjustment`s (tenders and discounts actually applied).
    Book the slot, take the seat, count the code use, deduct the points here. Raise
    `ValidationError` (e.g. code `SLOT_TAKEN`, `GROUP_FULL`, `SOLD_OUT`) to refuse: the whole
    completion rolls back and nothing is written. Release what you claimed in
    `on_order_released`."""


@hookspec(policy=GUARD)
def on_order_released(order, reason):
    """Inside the transaction that cancels an unpaid order (the buyer cancelled, or it
    expired): give back what `checkout_reserve` claimed for it. `order` is an `OrderInfo`;
    `reason` a short text."""


@hookspec(policy=GUARD)
def on_order_paid(order):
    """Inside the transaction that marks an order paid (after the ledger booking): make
    what was bought exist (activate a membership, confirm seats). `order` is an `OrderInfo`.
    A failure rolls back the payment's application; the gateway redelivers the event."""


@hookspec(policy=GUARD)
def on_payment_authorized(payment):
    """Inside the transaction that records the authorisation (manual capture: the money is
    held, not yet taken) of an order's payment: a `PaymentInfo` (`payment_id`, `order_id`,
    `amount`, `status` "authorized"). The order stays unpaid until the payment is captured
    (`marketplace.plugins.payments.capture`, then `on_order_paid`) or voided; keep it from
    expiring meanwhile with `marketplace.plugins.orders.extend_payment_deadline`. E.g. a
    group-buy seat is paid by an authorisation and captured when the group succeeds."""


@hookspec(policy=GUARD)
def on_payment_captured(payment):
    """Inside the transaction that records the capture of a standalone charge (one made with
    `marketplace.plugins.payments.charge`, no order): a `PaymentInfo` (`payment_id`,
    `purpose`, `amount`, `currency`, `customer_id`, `metadata`). Act on the charges whose
    `purpose` is yours (e.g. mark a tow paid). Order payments go through `on_order_paid`."""


@hookspec(policy=GUARD)
def on_refund_recorded(refund):
    """Inside the transaction that records a refund against a sub-order (a `RefundInfo`:
    `vendor_order_id`, `order_id`, `amount`, `share` of the sub-order refunded as a
    fraction, `is_final` when nothing is left to refund, `tenders` returned per source).
    Reverse points, cashback or benefits exactly here."""


@hookspec(policy=GUARD)
def gateway_event(gateway, event):
    """A verified gateway webhook event the payments core does not own (e.g. Stripe Billing
    `invoice.paid`, `customer.subscription.updated`). Runs inside the transaction that
    records the event exactly once, so a duplicate delivery never reaches you twice.
    `gateway` is the gateway's name, `event` a `GatewayEventData` (`event_id`, `type`,
    `payload`, `created`). Return a short result text if you handled it, else None; events
    no plugin handles are recorded and counted as unhandled."""


# -- after commit: notifications (contained) -----------------------------------------------
@hookspec(policy=NOTIFY)
def handle_event(event):
    """Receive a domain event (an instance of a `marketplace.plugins.Event` subclass:
    `name`, its typed fields, `payload`, `id`, `occurred_at`, `vendor_id`) after the
    transaction that emitted it committed. Called only for plugins active in the event's
    scope. Keep it fast: enqueue a Celery task for slow work. Failures are logged and never
    affect other subscribers or the request."""


HOOK_NAMES = [name for name, value in list(globals().items())
              if callable(value) and hasattr(value, "marketplace_policy")]
