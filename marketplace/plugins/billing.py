"""Recurring billing for plugins: the contract between a payment gateway that declares the
`SUBSCRIPTIONS` capability and a plugin that sells subscriptions (e.g. `vendor_plans`).

A gateway with `SUBSCRIPTIONS` also subclasses `SubscriptionBilling` (Stripe does: Stripe
Billing). A billing plugin finds it through the payments facade and never imports the
gateway's plugin:

    from marketplace.plugins.billing import billing_gateway
    gateway = billing_gateway("stripe")          # GatewayError when absent or incapable
    price = gateway.ensure_price(code="shop_yearly", name="...", amount=Decimal("1200.00"),
                                 currency="CNY", interval="year")
    created = gateway.create_subscription(customer_id=..., price_id=price.price_id, ...)

Rules every implementation follows (so plugins can rely on them):

- Calls are made for their side effect and to learn ids. What a call answers about
  *state* (a subscription's status, an invoice's payment) is never authoritative: state
  changes arrive as verified gateway events (the `gateway_event` hook). A plugin stores the
  ids and what it asked for.
- Amounts cross this interface as `Decimal` in major units with a currency code; the
  gateway converts to its minor units.
- Every call that creates something takes an `idempotency_key`.
- A refusal raises `marketplace.plugins.payments.GatewayError` (a client-facing error with
  field "gateway"); no call is ever made inside a database transaction by the engine's
  own services, and plugins must not either.

Events: `gateway.billing_event(event)` turns a verified `GatewayEventData` into a
`BillingEvent` (or None for types that are not billing). Kinds (`BillingEvent.kind`):
`subscription.created|updated|deleted|paused|resumed`, `subscription.trial_will_end`,
`invoice.paid|payment_failed|payment_action_required|finalized|voided|marked_uncollectible`,
`credit_note.created`, `payment_method.saved`. The gateway validates the shape when it
parses the webhook (a malformed billing event is refused with HTTP 400 before anything is
recorded), so `billing_event` on a recorded event does not fail.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Mapping

from marketplace.payments.gateways import SUBSCRIPTIONS, GatewayError

SUBSCRIPTION_EVENTS = ("subscription.created", "subscription.updated", "subscription.deleted",
                       "subscription.paused", "subscription.resumed")
INVOICE_EVENTS = ("invoice.paid", "invoice.payment_failed", "invoice.payment_action_required", "invoice.finalized",
                  "invoice.voided", "invoice.marked_uncollectible")
KINDS = (*SUBSCRIPTION_EVENTS, "subscription.trial_will_end", *INVOICE_EVENTS, "credit_note.created",
         "payment_method.saved")
# Statuses a gateway reports for a subscription (Stripe's vocabulary, which is the de facto one).
SUBSCRIPTION_STATUSES = ("incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid",
                         "paused")


class MalformedBillingEvent(ValueError):
    """A billing event whose object lacks what the contract needs (the gateway refuses the
    webhook with 400 when it parses it)."""


@dataclass(frozen=True)
class BillingPrice:
    """A recurring price at the gateway. `product_id` names the plan's product (stable across
    price changes); `price_id` this amount and interval."""

    price_id: str
    product_id: str


@dataclass(frozen=True)
class BillingSubscription:
    """What creating or changing a subscription answered: ids to store, and what the client
    needs next. `client_secret_kind` is "payment" (confirm the first invoice's payment),
    "setup" (optionally save a card during a trial) or "" (nothing to confirm: e.g. an
    invoice to pay on `hosted_invoice_url`)."""

    subscription_id: str
    customer_id: str
    item_id: str = ""
    latest_invoice_id: str = ""
    client_secret: str = ""
    client_secret_kind: str = ""
    hosted_invoice_url: str = ""


@dataclass(frozen=True)
class SetupIntent:
    setup_intent_id: str
    client_secret: str


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """A subscription as an event reported it. Times are aware UTC datetimes or None.
    `collection` is "automatic" or "send_invoice". `metadata` is what the plugin set at
    creation (e.g. {"vendor_subscription": "12"})."""

    subscription_id: str
    customer_id: str
    status: str
    price_id: str = ""
    product_id: str = ""
    item_id: str = ""
    trial_end: datetime | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    cancel_at_period_end: bool = False
    cancel_at: datetime | None = None
    canceled_at: datetime | None = None
    ended_at: datetime | None = None
    collection: str = "automatic"
    schedule_id: str = ""
    metadata: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class InvoiceLine:
    price_id: str
    product_id: str
    period_start: datetime | None
    period_end: datetime | None
    amount: Decimal
    proration: bool = False


@dataclass(frozen=True)
class InvoiceSnapshot:
    """An invoice as an event reported it. Amounts in major units of `currency` (upper
    case). `subscription_id` is "" for an invoice that belongs to no subscription;
    `next_payment_attempt` None means no further automatic attempt (a final failure when
    the invoice is unpaid)."""

    invoice_id: str
    customer_id: str
    subscription_id: str
    status: str
    currency: str
    amount_due: Decimal
    amount_paid: Decimal
    number: str = ""
    billing_reason: str = ""
    collection: str = "automatic"
    attempt_count: int = 0
    next_payment_attempt: datetime | None = None
    due_date: datetime | None = None
    hosted_invoice_url: str = ""
    lines: tuple[InvoiceLine, ...] = ()
    metadata: Mapping = field(default_factory=dict)

    @property
    def period_end(self):
        """The end of the latest subscription period this invoice pays for (None: no line
        carries a period)."""
        ends = [line.period_end for line in self.lines if line.period_end is not None]
        return max(ends) if ends else None


@dataclass(frozen=True)
class CreditNoteSnapshot:
    """A credit note against an invoice: `total` credited, of which `refunded` went back as
    money (the rest to the customer's balance at the gateway or out of band)."""

    credit_note_id: str
    invoice_id: str
    customer_id: str
    currency: str
    total: Decimal
    refunded: Decimal


@dataclass(frozen=True)
class PaymentMethodSaved:
    """A payment method the customer saved through a setup intent (a card update)."""

    setup_intent_id: str
    customer_id: str
    payment_method_id: str
    metadata: Mapping = field(default_factory=dict)


@dataclass(frozen=True)
class BillingEvent:
    """One billing event in gateway-neutral terms: `kind` (see the module docstring),
    `event_id`, `created` (the gateway's time of the event: the ordering key), and the one
    object that matches the kind."""

    kind: str
    event_id: str
    created: datetime | None
    subscription: SubscriptionSnapshot | None = None
    invoice: InvoiceSnapshot | None = None
    credit_note: CreditNoteSnapshot | None = None
    payment_method: PaymentMethodSaved | None = None


class SubscriptionBilling:
    """The billing calls of a gateway that declares `SUBSCRIPTIONS`. Every method raises
    `GatewayError` when the gateway refuses; see the module docstring for the rules."""

    def ensure_price(self, *, code, name, amount: Decimal, currency, interval, interval_count=1) -> BillingPrice:
        """A recurring price of `amount` per `interval_count` × `interval` ("month", "year")
        on the product `code` (a key unique on the platform, letters, digits, `_` and `-`:
        the product's id, created once, so events name the plan whatever the price). Each
        call with new terms makes a new price; existing subscribers keep theirs. Call it
        when the terms changed, and store the answer."""
        raise NotImplementedError

    def create_customer(self, *, email, name, metadata, idempotency_key) -> str:
        """A customer (a payer); returns its id."""
        raise NotImplementedError

    def create_subscription(self, *, customer_id, price_id, metadata, idempotency_key, trial_days=0,
                            pause_without_payment_method=True, collection="automatic", days_until_due=None,
                            payment_method_types=("card",)) -> BillingSubscription:
        """Subscribe the customer to `price_id`. `trial_days` > 0 starts a trial that needs
        no payment method; with `pause_without_payment_method` the subscription pauses when
        the trial ends without one (instead of billing into past due). `collection`
        "automatic" charges a saved payment method (the first payment is confirmed by the
        client with the returned secret); "send_invoice" sends invoices payable within
        `days_until_due` days by `payment_method_types` (e.g. wallets that cannot renew
        off-session)."""
        raise NotImplementedError

    def change_price(self, *, subscription_id, item_id, price_id, idempotency_key) -> BillingSubscription:
        """Upgrade now: swap the price and invoice the prorated difference at once; the new
        price applies once that invoice is paid."""
        raise NotImplementedError

    def schedule_price_change(self, *, subscription_id, price_id, interval, interval_count=1,
                              idempotency_key) -> str:
        """Downgrade at the end of the current period (paid features are kept until then) to
        `price_id` (billed every `interval_count` × `interval`); returns the id of the
        schedule that carries the change."""
        raise NotImplementedError

    def release_schedule(self, *, schedule_id) -> None:
        """Drop a scheduled change (the subscription continues as it is)."""
        raise NotImplementedError

    def set_cancel_at_period_end(self, *, subscription_id, cancel: bool, idempotency_key) -> None:
        """Cancel when the current period ends (or undo that)."""
        raise NotImplementedError

    def cancel_now(self, *, subscription_id, prorate: bool) -> None:
        """Cancel immediately; with `prorate`, the unused time is credited."""
        raise NotImplementedError

    def create_setup_intent(self, *, customer_id, metadata, idempotency_key) -> SetupIntent:
        """Let the customer save a payment method off-session (a card update); its success
        comes back as a `payment_method.saved` event carrying `metadata`."""
        raise NotImplementedError

    def use_payment_method(self, *, customer_id, subscription_id, payment_method_id, resume=False) -> None:
        """Make `payment_method_id` the default of the customer and the subscription and
        collect automatically from now on; `resume` resumes a paused subscription."""
        raise NotImplementedError

    def pay_invoice(self, *, invoice_id, payment_method_id="", idempotency_key) -> None:
        """Attempt to pay an open invoice now (updating a card does not retry by itself)."""
        raise NotImplementedError

    def create_credit_note(self, *, invoice_id, amount: Decimal, currency, reason="", refund=True,
                           idempotency_key) -> str:
        """Credit `amount` of a paid invoice, refunding it to the payer when `refund`;
        returns the credit note's id (its effect arrives as `credit_note.created`)."""
        raise NotImplementedError

    def billing_event(self, event) -> BillingEvent | None:
        """The `BillingEvent` in a verified gateway event, or None when it is not billing."""
        raise NotImplementedError


def billing_gateway(name) -> SubscriptionBilling:
    """The active gateway `name` if it supports subscriptions. Raises GatewayError (NOT_FOUND
    when no active gateway has that name, INVALID when it cannot bill subscriptions)."""
    from marketplace.payments.gateways import get_gateway, require

    gateway = get_gateway(name)
    require(gateway, SUBSCRIPTIONS)
    if not isinstance(gateway, SubscriptionBilling):
        raise GatewayError(f"The {name} gateway declares subscriptions but offers no billing calls.",
                           field="gateway")
    return gateway


__all__ = ["SUBSCRIPTIONS", "SUBSCRIPTION_EVENTS", "INVOICE_EVENTS", "KINDS", "SUBSCRIPTION_STATUSES",
           "MalformedBillingEvent", "BillingPrice", "BillingSubscription", "SetupIntent", "SubscriptionSnapshot",
           "InvoiceLine", "InvoiceSnapshot", "CreditNoteSnapshot", "PaymentMethodSaved", "BillingEvent",
           "SubscriptionBilling", "billing_gateway"]
