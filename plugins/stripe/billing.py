"""Stripe Billing behind the engine's billing contract (`marketplace.plugins.billing`).

`StripeBilling` is mixed into the Stripe gateway, which therefore declares the
`SUBSCRIPTIONS` capability. Shapes follow the API version stripe-python pins (2025-03-31
"basil" and later): a subscription's period is on its items, an invoice's subscription is
at `parent.subscription_details.subscription`, a line's price at
`pricing.price_details` (the older shapes are read too).

Nothing here is authoritative about state: the answers give ids; subscription and
invoice state arrives as signed events, turned into `BillingEvent`s by
`parse_billing_event`.
"""
from __future__ import annotations

from datetime import datetime, timezone

from marketplace.plugins.billing import (
    SUBSCRIPTION_STATUSES, BillingEvent, BillingPrice, BillingSubscription, CreditNoteSnapshot, InvoiceLine,
    InvoiceSnapshot, MalformedBillingEvent, PaymentMethodSaved, SetupIntent, SubscriptionBilling,
    SubscriptionSnapshot,
)
from marketplace.plugins.payments import GatewayError

from .amounts import from_minor, to_minor

# Payment method types a subscription may offer (Stripe accepts unknown values silently).
PAYMENT_METHOD_TYPES = {"card", "alipay", "wechat_pay"}
# Wallets cannot be charged off-session: they renew by paying an invoice.
WALLETS = {"alipay", "wechat_pay"}
INTERVALS = {"day", "week", "month", "year"}

EVENT_KINDS = {
    "customer.subscription.created": "subscription.created",
    "customer.subscription.updated": "subscription.updated",
    "customer.subscription.pending_update_applied": "subscription.updated",
    "customer.subscription.pending_update_expired": "subscription.updated",
    "customer.subscription.deleted": "subscription.deleted",
    "customer.subscription.paused": "subscription.paused",
    "customer.subscription.resumed": "subscription.resumed",
    "customer.subscription.trial_will_end": "subscription.trial_will_end",
    "invoice.paid": "invoice.paid",
    "invoice.payment_succeeded": "invoice.paid",  # Stripe sends both for one payment
    "invoice.payment_failed": "invoice.payment_failed",
    "invoice.payment_action_required": "invoice.payment_action_required",
    "invoice.finalized": "invoice.finalized",
    "invoice.voided": "invoice.voided",
    "invoice.marked_uncollectible": "invoice.marked_uncollectible",
    "credit_note.created": "credit_note.created",
    "setup_intent.succeeded": "payment_method.saved",
}


def is_billing_type(event_type):
    return event_type in EVENT_KINDS


# -- requests ---------------------------------------------------------------------------------
def subscription_params(*, customer_id, price_id, metadata, trial_days=0, pause_without_payment_method=True,
                        collection="automatic", days_until_due=None, payment_method_types=("card",)):
    """The body of `POST /v1/subscriptions` (a pure function: unit-tested, since stripe-mock
    does not enforce Stripe's business rules). Raises GatewayError for what real Stripe
    would refuse."""
    types = list(dict.fromkeys(payment_method_types or ("card",)))
    unknown = set(types) - PAYMENT_METHOD_TYPES
    if unknown:
        raise GatewayError(f"Unsupported payment method types: {', '.join(sorted(unknown))}.",
                           field="payment_method_types")
    params = {"customer": customer_id, "items": [{"price": price_id}], "metadata": _metadata(metadata)}
    if collection == "send_invoice":
        params.update(collection_method="send_invoice", days_until_due=int(days_until_due or 14),
                      payment_settings={"payment_method_types": types}, expand=["latest_invoice"])
    elif collection == "automatic":
        if set(types) & WALLETS:
            raise GatewayError("Alipay and WeChat Pay cannot renew off-session: bill wallet payers by invoice "
                               "(send_invoice).", field="payment_method_types")
        params.update(payment_behavior="default_incomplete",
                      payment_settings={"save_default_payment_method": "on_subscription",
                                        "payment_method_types": types},
                      expand=["latest_invoice.confirmation_secret", "pending_setup_intent"])
    else:
        raise GatewayError(f"Unknown collection {collection!r}.", field="collection")
    if trial_days:
        params["trial_period_days"] = int(trial_days)
        if collection == "automatic" and pause_without_payment_method:
            params["trial_settings"] = {"end_behavior": {"missing_payment_method": "pause"}}
    return params


def _metadata(metadata):
    return {str(k): str(v) for k, v in (metadata or {}).items()}


def _id(value):
    """An id from a string or an expanded object (dict or StripeObject)."""
    if isinstance(value, str):
        return value
    if value is not None:
        try:
            found = value["id"]
        except (KeyError, TypeError):
            return ""
        return found if isinstance(found, str) else ""
    return ""


def _get(obj, *path):
    for key in path:
        if obj is None:
            return None
        try:
            obj = obj[key]
        except (KeyError, TypeError, IndexError):
            return None
    return obj


def _created(subscription, trial_days, collection) -> BillingSubscription:
    invoice = _get(subscription, "latest_invoice")
    secret, kind = "", ""
    if collection == "automatic" and trial_days:
        secret, kind = _get(subscription, "pending_setup_intent", "client_secret") or "", "setup"
    elif collection == "automatic":
        secret, kind = _get(invoice, "confirmation_secret", "client_secret") or "", "payment"
    items = _get(subscription, "items", "data") or []
    return BillingSubscription(
        subscription_id=subscription.id, customer_id=_id(_get(subscription, "customer")),
        item_id=_id(items[0]) if items else "", latest_invoice_id=_id(invoice), client_secret=secret,
        client_secret_kind=kind if secret else "",
        hosted_invoice_url=(_get(invoice, "hosted_invoice_url") or "") if not isinstance(invoice, str) else "")


class StripeBilling(SubscriptionBilling):
    """The billing calls (see `SubscriptionBilling` for each contract). Mixed into the Stripe
    gateway, whose `_client()` and `_call()` it uses."""

    def ensure_price(self, *, code, name, amount, currency, interval, interval_count=1):
        import stripe

        if interval not in INTERVALS or int(interval_count) < 1:
            raise GatewayError(f"Unsupported billing interval {interval_count} x {interval}.", field="interval")
        client = self._client()
        try:
            client.v1.products.retrieve(code)
        except stripe.InvalidRequestError as exc:
            if exc.http_status != 404:
                raise GatewayError(f"Stripe refused: {exc.user_message or 'product lookup'}", field="gateway") from exc
            self._call(client.v1.products.create, params={"id": code, "name": name[:250], "metadata": {"plan": code}},
                       options={"idempotency_key": f"product-{code}"})
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe refused: {exc.user_message or exc.__class__.__name__}", field="gateway") from exc
        minor = to_minor(amount, currency)
        price = self._call(client.v1.prices.create, params={
            "product": code, "currency": currency.lower(), "unit_amount": minor,
            "recurring": {"interval": interval, "interval_count": int(interval_count)},
            "lookup_key": code, "transfer_lookup_key": True, "metadata": {"plan": code},
        }, options={"idempotency_key": f"price-{code}-{minor}-{currency.lower()}-{interval_count}-{interval}"})
        return BillingPrice(price_id=price.id, product_id=code)

    def create_customer(self, *, email, name, metadata, idempotency_key):
        customer = self._call(self._client().v1.customers.create,
                              params={"email": email, "name": name[:250], "metadata": _metadata(metadata)},
                              options={"idempotency_key": idempotency_key})
        return customer.id

    def create_subscription(self, *, customer_id, price_id, metadata, idempotency_key, trial_days=0,
                            pause_without_payment_method=True, collection="automatic", days_until_due=None,
                            payment_method_types=("card",)):
        params = subscription_params(customer_id=customer_id, price_id=price_id, metadata=metadata,
                                     trial_days=trial_days, pause_without_payment_method=pause_without_payment_method,
                                     collection=collection, days_until_due=days_until_due,
                                     payment_method_types=payment_method_types)
        subscription = self._call(self._client().v1.subscriptions.create, params=params,
                                  options={"idempotency_key": idempotency_key})
        return _created(subscription, trial_days, collection)

    def change_price(self, *, subscription_id, item_id, price_id, idempotency_key):
        client = self._client()
        if not item_id:
            current = self._call(client.v1.subscriptions.retrieve, subscription_id)
            items = _get(current, "items", "data") or []
            item_id = _id(items[0]) if items else ""
        # Pay the prorated difference now; Stripe applies the new price only once that
        # invoice is paid (pending_if_incomplete), so an unpaid upgrade grants nothing.
        subscription = self._call(client.v1.subscriptions.update, subscription_id, params={
            "items": [{"id": item_id, "price": price_id}], "proration_behavior": "always_invoice",
            "payment_behavior": "pending_if_incomplete", "expand": ["latest_invoice.confirmation_secret"],
        }, options={"idempotency_key": idempotency_key})
        result = _created(subscription, 0, "automatic")
        return BillingSubscription(subscription_id=result.subscription_id, customer_id=result.customer_id,
                                   item_id=item_id, latest_invoice_id=result.latest_invoice_id,
                                   client_secret=result.client_secret, client_secret_kind=result.client_secret_kind,
                                   hosted_invoice_url=result.hosted_invoice_url)

    def schedule_price_change(self, *, subscription_id, price_id, interval, interval_count=1, idempotency_key):
        client = self._client()
        schedule = self._call(client.v1.subscription_schedules.create, params={"from_subscription": subscription_id},
                              options={"idempotency_key": f"{idempotency_key}-schedule"})
        phases = _get(schedule, "phases") or []
        if not phases:
            raise GatewayError("Stripe returned a schedule without its current phase.", field="gateway")
        current = phases[0]
        items = [{"price": _id(_get(item, "price")), "quantity": _get(item, "quantity") or 1}
                 for item in (_get(current, "items") or [])]
        self._call(client.v1.subscription_schedules.update, schedule.id, params={
            "end_behavior": "release", "proration_behavior": "none",
            "phases": [
                {"items": items, "start_date": _get(current, "start_date"), "end_date": _get(current, "end_date")},
                {"items": [{"price": price_id, "quantity": 1}],
                 "duration": {"interval": interval, "interval_count": int(interval_count)}},
            ],
        }, options={"idempotency_key": f"{idempotency_key}-phases"})
        return schedule.id

    def release_schedule(self, *, schedule_id):
        self._call(self._client().v1.subscription_schedules.release, schedule_id)

    def set_cancel_at_period_end(self, *, subscription_id, cancel, idempotency_key):
        self._call(self._client().v1.subscriptions.update, subscription_id,
                   params={"cancel_at_period_end": bool(cancel)}, options={"idempotency_key": idempotency_key})

    def cancel_now(self, *, subscription_id, prorate):
        self._call(self._client().v1.subscriptions.cancel, subscription_id,
                   params={"prorate": bool(prorate), "invoice_now": bool(prorate)})

    def create_setup_intent(self, *, customer_id, metadata, idempotency_key):
        intent = self._call(self._client().v1.setup_intents.create, params={
            "customer": customer_id, "usage": "off_session", "payment_method_types": ["card"],
            "metadata": _metadata(metadata)}, options={"idempotency_key": idempotency_key})
        return SetupIntent(setup_intent_id=intent.id, client_secret=intent.client_secret or "")

    def use_payment_method(self, *, customer_id, subscription_id, payment_method_id, resume=False):
        client = self._client()
        self._call(client.v1.customers.update, customer_id,
                   params={"invoice_settings": {"default_payment_method": payment_method_id}})
        self._call(client.v1.subscriptions.update, subscription_id,
                   params={"default_payment_method": payment_method_id, "collection_method": "charge_automatically"})
        if resume:
            self._call(client.v1.subscriptions.resume, subscription_id, params={"billing_cycle_anchor": "now"})

    def pay_invoice(self, *, invoice_id, payment_method_id="", idempotency_key):
        params = {"payment_method": payment_method_id} if payment_method_id else {}
        self._call(self._client().v1.invoices.pay, invoice_id, params=params,
                   options={"idempotency_key": idempotency_key})

    def create_credit_note(self, *, invoice_id, amount, currency, reason="", refund=True, idempotency_key):
        minor = to_minor(amount, currency)
        params = {"invoice": invoice_id, "amount": minor}
        if refund:
            params["refund_amount"] = minor
        if reason:
            params["memo"] = reason[:500]
        note = self._call(self._client().v1.credit_notes.create, params=params,
                          options={"idempotency_key": idempotency_key})
        return note.id

    def billing_event(self, event):
        if not is_billing_type(event.type):
            return None
        return parse_billing_event(event)


# -- events -------------------------------------------------------------------------------------
def _time(obj, key, required=False):
    value = obj.get(key)
    if value is None:
        if required:
            raise MalformedBillingEvent(f"{key} is required")
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedBillingEvent(f"{key} must be a Unix timestamp")
    return datetime.fromtimestamp(value, tz=timezone.utc)


def _text(obj, key, required=False):
    value = obj.get(key)
    if isinstance(value, dict):  # an expanded object
        value = value.get("id")
    if value is None or value == "":
        if required:
            raise MalformedBillingEvent(f"{key} is required")
        return ""
    if not isinstance(value, str) or len(value) > 255:
        raise MalformedBillingEvent(f"{key} must be a string id")
    return value


def _minor(obj, key, currency):
    value = obj.get(key, 0)
    if value is None:
        value = 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedBillingEvent(f"{key} must be a non-negative integer (minor units)")
    return from_minor(value, currency)


def _dict(value, name):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedBillingEvent(f"{name} must be an object")
    return value


def _meta(value):
    return {str(k): str(v) for k, v in _dict(value, "metadata").items() if isinstance(v, (str, int))}


def _subscription(obj) -> SubscriptionSnapshot:
    status = obj.get("status")
    if status not in SUBSCRIPTION_STATUSES:
        raise MalformedBillingEvent(f"unknown subscription status {status!r}")
    items = _dict(obj.get("items"), "items").get("data") or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MalformedBillingEvent("items.data must be a list of objects")
    item = items[0] if items else {}
    price = item.get("price")
    price = price if isinstance(price, dict) else {"id": price} if isinstance(price, str) else {}
    period_start = _time(item, "current_period_start") or _time(obj, "current_period_start")
    period_end = _time(item, "current_period_end") or _time(obj, "current_period_end")
    collection = obj.get("collection_method")
    return SubscriptionSnapshot(
        subscription_id=_text(obj, "id", required=True), customer_id=_text(obj, "customer"), status=status,
        price_id=_text(price, "id"), product_id=_text(price, "product"), item_id=_text(item, "id"),
        trial_end=_time(obj, "trial_end"), period_start=period_start, period_end=period_end,
        cancel_at_period_end=obj.get("cancel_at_period_end") is True, cancel_at=_time(obj, "cancel_at"),
        canceled_at=_time(obj, "canceled_at"), ended_at=_time(obj, "ended_at"),
        collection="send_invoice" if collection == "send_invoice" else "automatic",
        schedule_id=_text(obj, "schedule"), metadata=_meta(obj.get("metadata")),
    )


def _line(line, currency) -> InvoiceLine:
    if not isinstance(line, dict):
        raise MalformedBillingEvent("invoice lines must be objects")
    details = _dict(_dict(line.get("pricing"), "pricing").get("price_details"), "price_details")
    legacy = line.get("price")
    legacy = legacy if isinstance(legacy, dict) else {"id": legacy} if isinstance(legacy, str) else {}
    price_id = _text(details, "price") or _text(legacy, "id")
    product_id = _text(details, "product") or _text(legacy, "product")
    period = _dict(line.get("period"), "period")
    parent = _dict(line.get("parent"), "parent")
    item_details = _dict(parent.get("subscription_item_details"), "subscription_item_details")
    proration = item_details.get("proration") is True or line.get("proration") is True
    amount = line.get("amount", 0)
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise MalformedBillingEvent("a line's amount must be an integer (minor units)")
    return InvoiceLine(price_id=price_id, product_id=product_id, period_start=_time(period, "start"),
                       period_end=_time(period, "end"), amount=from_minor(amount, currency), proration=proration)


def _invoice(obj) -> InvoiceSnapshot:
    currency = obj.get("currency")
    if not isinstance(currency, str) or not 2 < len(currency) < 8:
        raise MalformedBillingEvent("currency is required")
    parent = _dict(obj.get("parent"), "parent")
    details = _dict(parent.get("subscription_details"), "subscription_details")
    legacy_details = _dict(obj.get("subscription_details"), "subscription_details")
    subscription_id = _text(details, "subscription") or _text(obj, "subscription")
    lines = _dict(obj.get("lines"), "lines").get("data") or []
    if not isinstance(lines, list):
        raise MalformedBillingEvent("lines.data must be a list")
    attempts = obj.get("attempt_count") or 0
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
        raise MalformedBillingEvent("attempt_count must be a non-negative integer")
    metadata = {**_meta(obj.get("metadata")), **_meta(legacy_details.get("metadata")), **_meta(details.get("metadata"))}
    url = obj.get("hosted_invoice_url")
    return InvoiceSnapshot(
        invoice_id=_text(obj, "id", required=True), customer_id=_text(obj, "customer"),
        subscription_id=subscription_id, status=obj.get("status") if isinstance(obj.get("status"), str) else "",
        currency=currency.upper(), amount_due=_minor(obj, "amount_due", currency),
        amount_paid=_minor(obj, "amount_paid", currency),
        number=obj.get("number") if isinstance(obj.get("number"), str) else "",
        billing_reason=obj.get("billing_reason") if isinstance(obj.get("billing_reason"), str) else "",
        collection="send_invoice" if obj.get("collection_method") == "send_invoice" else "automatic",
        attempt_count=attempts, next_payment_attempt=_time(obj, "next_payment_attempt"),
        due_date=_time(obj, "due_date"), hosted_invoice_url=url[:500] if isinstance(url, str) else "",
        lines=tuple(_line(line, currency) for line in lines), metadata=metadata,
    )


def _credit_note(obj) -> CreditNoteSnapshot:
    currency = obj.get("currency")
    if not isinstance(currency, str) or not 2 < len(currency) < 8:
        raise MalformedBillingEvent("currency is required")
    total = _minor(obj, "total", currency)
    refunds = obj.get("refunds")
    if isinstance(refunds, list):
        refunded = sum((_minor(_dict(r, "refund"), "amount_refunded", currency) for r in refunds),
                       from_minor(0, currency))
    else:
        refunded = total if obj.get("refund") else from_minor(0, currency)
    return CreditNoteSnapshot(credit_note_id=_text(obj, "id", required=True),
                              invoice_id=_text(obj, "invoice", required=True), customer_id=_text(obj, "customer"),
                              currency=currency.upper(), total=total, refunded=min(refunded, total))


def _payment_method(obj) -> PaymentMethodSaved:
    return PaymentMethodSaved(setup_intent_id=_text(obj, "id", required=True), customer_id=_text(obj, "customer"),
                              payment_method_id=_text(obj, "payment_method", required=True),
                              metadata=_meta(obj.get("metadata")))


def parse_billing_event(event) -> BillingEvent | None:
    """The `BillingEvent` in a verified `GatewayEventData` whose payload is a Stripe event,
    or None for other types. Raises MalformedBillingEvent when the object does not have the
    shape the contract needs (the webhook is then refused with 400)."""
    kind = EVENT_KINDS.get(event.type)
    if kind is None:
        return None
    if event.created is None:
        raise MalformedBillingEvent("created is required (it orders billing events)")
    obj = _get(event.payload, "data", "object")
    if not isinstance(obj, dict):
        raise MalformedBillingEvent("data.object must be an object")
    base = {"kind": kind, "event_id": event.event_id, "created": event.created}
    if kind.startswith("subscription."):
        return BillingEvent(subscription=_subscription(obj), **base)
    if kind.startswith("invoice."):
        return BillingEvent(invoice=_invoice(obj), **base)
    if kind == "credit_note.created":
        return BillingEvent(credit_note=_credit_note(obj), **base)
    return BillingEvent(payment_method=_payment_method(obj), **base)
