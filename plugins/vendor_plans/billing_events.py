"""Billing webhook events -> subscription state (the `gateway_event` hook).

Runs inside the engine's exactly-once transaction for the event (a duplicate delivery
never gets here twice). Every effect is chosen so that any order of delivery ends in the
same state:

- subscription events pass an ordering guard: applied only when newer than the last
  applied one by (created, rank, event id), rank created < updated < deleted; a terminal
  status (canceled, incomplete_expired) is absorbing: later updates are recorded and
  ignored;
- invoice events set absolute facts on the invoice row keyed by its id (earliest failure,
  paid or not, latest period end); the subscription's status, paid-through date, grace and
  entitled plan are then *derived* from those facts (`access.py`);
- the fee is booked once per paid invoice (ledger key "invoice:<id>"), a credit note once
  (key "credit_note:<id>").

Events about subscriptions or invoices that are not ours answer None, so the engine counts
them as unhandled for staff (`unhandledGatewayEvents`).
"""
from __future__ import annotations

import logging
from datetime import datetime

from celery import current_app
from django.db import transaction

from marketplace.plugins.billing import billing_gateway
from marketplace.plugins.ledger import book
from marketplace.plugins.payments import GatewayError

from . import notices
from .access import RANK, TERMINAL, event_key
from .models import BillingInvoice, PaymentMethod, Status, SubscriptionEvent, VendorSubscription
from .plans import PlanIndex
from .state import recompute

logger = logging.getLogger("plugins.vendor_plans")
PLUGIN = "vendor_plans"
FEE_KIND = "subscription_fee"
REFUND_KIND = "subscription_fee_refund"
REVENUE_ACCOUNT = "platform_subscription_revenue"
CREDIT_ACCOUNT = "vendor_billing_credit"


def handle(gateway_name, event):
    """The `gateway_event` hook: apply a billing event of a gateway with `SUBSCRIPTIONS`.
    Returns a short result, or None when the event is not ours (counted as unhandled)."""
    try:
        gateway = billing_gateway(gateway_name)
    except GatewayError:
        return None
    billing = gateway.billing_event(event)
    if billing is None:
        return None
    if billing.subscription is not None:
        return _subscription_event(gateway_name, billing, PlanIndex())
    if billing.invoice is not None:
        return _invoice_event(gateway_name, billing, PlanIndex())
    if billing.credit_note is not None:
        return _credit_note(gateway_name, billing)
    return _payment_method_saved(gateway_name, billing)


def _find(gateway_name, subscription_id, metadata):
    """Our subscription (locked) named by the gateway's id, or by the `vendor_subscription`
    metadata we set at creation (an event may arrive before we stored the id)."""
    ours = VendorSubscription.objects.select_for_update().filter(gateway=gateway_name)
    sub = None
    if subscription_id:
        sub = ours.filter(subscription_id=subscription_id).first()
    if sub is None:
        pk = str((metadata or {}).get("vendor_subscription", ""))
        if pk.isdigit():
            sub = ours.filter(pk=int(pk)).first()
            if sub is not None and subscription_id and sub.subscription_id not in (None, "", subscription_id):
                logger.warning("Event for %s names subscription row %s, which is %s", subscription_id, pk,
                               sub.subscription_id)
                return None
            if sub is not None and subscription_id and not sub.subscription_id:
                sub.subscription_id = subscription_id
                sub.save(update_fields=["subscription_id", "updated_at"])
    return sub


# -- subscriptions --------------------------------------------------------------------------------
def _subscription_event(gateway_name, billing, plans):
    snap = billing.subscription
    sub = _find(gateway_name, snap.subscription_id, snap.metadata)
    if sub is None:
        return None
    if billing.kind == "subscription.trial_will_end":
        notices.trial_will_end(sub, snap.trial_end or sub.trial_end)
        return f"trial ends {snap.trial_end:%Y-%m-%d}: vendor notified" if snap.trial_end else "trial notice"
    plan = plans.find(snap.product_id, snap.price_id, snap.metadata)
    deleted = billing.kind == "subscription.deleted"
    status = snap.status
    if deleted and status not in TERMINAL:
        status = Status.CANCELED
    terminal = status in TERMINAL
    key = event_key(billing.created, billing.kind, billing.event_id)
    last = (sub.last_event_created, sub.last_event_rank, sub.last_event_id) if sub.last_event_created else None
    if sub.ended and sub.snapshot_status in TERMINAL:
        apply = terminal and (last is None or key > last)
        reason = "subscription ended"
    else:
        apply = terminal or last is None or key > last
        reason = "older than the state applied"
    # The engine records each event id once, so this observation is new.
    SubscriptionEvent.objects.create(subscription=sub, event_id=billing.event_id, kind=billing.kind,
                                     created=billing.created, rank=RANK[billing.kind], status=status, plan=plan,
                                     applied=apply)
    if apply:
        _apply_snapshot(sub, snap, status, plan, billing, terminal)
    recompute(sub, plans=plans)
    if not apply:
        return f"{billing.kind} recorded, not applied ({reason})"
    return f"subscription {sub.pk} {status}"


def _apply_snapshot(sub, snap, status, plan, billing, terminal):
    sub.snapshot_status = status
    if plan is not None:
        sub.plan = plan
    elif snap.product_id or snap.price_id:
        logger.warning("Subscription %s bills an unknown price %s / %s", sub.pk, snap.product_id, snap.price_id)
    sub.price_id = snap.price_id or sub.price_id
    sub.item_id = snap.item_id or sub.item_id
    sub.customer_id = sub.customer_id or snap.customer_id
    sub.trial_end = snap.trial_end
    sub.current_period_start = snap.period_start
    sub.current_period_end = snap.period_end
    sub.cancel_at_period_end = snap.cancel_at_period_end
    sub.cancel_at = snap.cancel_at
    sub.canceled_at = snap.canceled_at
    sub.ended_at = snap.ended_at
    sub.collection = snap.collection
    sub.schedule_id = snap.schedule_id or ("" if terminal else sub.schedule_id)
    sub.last_event_created, sub.last_event_rank, sub.last_event_id = (billing.created, RANK[billing.kind],
                                                                      billing.event_id)
    sub.ended = terminal  # saved by recompute


# -- invoices ---------------------------------------------------------------------------------------
def _earliest(current, value):
    return value if current is None or value < current else current


def _latest(current, value):
    return value if current is None or value > current else current


def _invoice_event(gateway_name, billing, plans):
    inv = billing.invoice
    sub = _find(gateway_name, inv.subscription_id, inv.metadata)
    if sub is None:
        return None
    created: datetime = billing.created
    row = BillingInvoice.objects.select_for_update().filter(invoice_id=inv.invoice_id).first()
    if row is None:
        row = BillingInvoice(invoice_id=inv.invoice_id, subscription=sub, vendor_id=sub.vendor_id, currency=inv.currency)
    elif row.subscription_id != sub.pk:
        logger.warning("Invoice %s moved from subscription %s to %s: ignored", inv.invoice_id, row.subscription_id,
                       sub.pk)
        return None
    newest = row.seen_at is None or created >= row.seen_at
    if newest:
        row.seen_at = created
        row.amount_due = inv.amount_due
        row.currency = inv.currency
        row.number = inv.number or row.number
        row.billing_reason = inv.billing_reason or row.billing_reason
        row.hosted_invoice_url = inv.hosted_invoice_url or row.hosted_invoice_url
        row.due_date = inv.due_date or row.due_date
    if inv.period_end is not None:
        row.period_end = _latest(row.period_end, inv.period_end)
    codes = {plan.code for line in inv.lines if (plan := plans.find(line.product_id, line.price_id)) is not None}
    row.plan_codes = sorted(set(row.plan_codes or ()) | codes)
    kind, result = billing.kind, ""
    if kind == "invoice.paid":
        row.paid_at = _earliest(row.paid_at, created)
        row.amount_paid = max(row.amount_paid, inv.amount_paid)
        result = _book_fee(sub, row, plans.get(sub.plan_id))
    elif kind == "invoice.payment_failed":
        row.first_failed_at = _earliest(row.first_failed_at, created)
        if row.last_failed_at is None or created > row.last_failed_at or (
                created == row.last_failed_at and inv.attempt_count >= row.attempt_count):
            row.last_failed_at = created
            row.attempt_count = inv.attempt_count
            row.next_payment_attempt = inv.next_payment_attempt
            row.final_failure = inv.next_payment_attempt is None
        result = f"invoice {inv.invoice_id} failed (attempt {inv.attempt_count})"
    elif kind == "invoice.payment_action_required":
        row.action_required_at = _earliest(row.action_required_at, created)
        result = f"invoice {inv.invoice_id} needs action"
    elif kind == "invoice.voided":
        row.voided_at = _earliest(row.voided_at, created)
        result = f"invoice {inv.invoice_id} void"
    elif kind == "invoice.marked_uncollectible":
        row.uncollectible_at = _earliest(row.uncollectible_at, created)
        result = f"invoice {inv.invoice_id} uncollectible"
    else:  # invoice.finalized
        result = f"invoice {inv.invoice_id} open"
    row.save()
    recompute(sub, plans=plans)
    _notify_invoice(sub, row, kind, inv)
    return result


def _notify_invoice(sub, row, kind, inv):
    if row.paid_at is not None:
        return  # a paid invoice needs nothing from the vendor, whatever arrives late
    if kind == "invoice.payment_failed":
        notices.payment_failed(sub, row, inv.attempt_count, inv.next_payment_attempt,
                               final=inv.next_payment_attempt is None)
    elif kind == "invoice.payment_action_required":
        notices.action_required(sub, row)
    elif kind == "invoice.finalized" and (inv.collection == "send_invoice"
                                          or sub.payment_method == PaymentMethod.WALLET) and row.amount_due > 0:
        notices.invoice_to_pay(sub, row)


def _book_fee(sub, row, plan):
    """The fee as platform revenue, once per paid invoice (vendor as payer)."""
    if row.amount_paid <= 0:
        return f"invoice {row.invoice_id} paid (nothing to book)"
    book(FEE_KIND, [("customer_payments", -row.amount_paid), (REVENUE_ACCOUNT, row.amount_paid)],
         vendor_id=sub.vendor_id, currency=row.currency, key=f"invoice:{row.invoice_id}",
         memo=f"Vendor plan {plan.code}: invoice {row.number or row.invoice_id}")
    return f"invoice {row.invoice_id} paid: {row.amount_paid} {row.currency} booked"


def _credit_note(gateway_name, billing):
    note = billing.credit_note
    row = (BillingInvoice.objects.select_for_update(of=("self",))
           .filter(invoice_id=note.invoice_id, subscription__gateway=gateway_name).first())
    if row is None:
        return None
    credited = dict(row.credited or {})
    credited[note.credit_note_id] = str(note.total)
    row.credited = credited
    row.save(update_fields=["credited", "updated_at"])
    entries = [(REVENUE_ACCOUNT, -note.total), ("customer_payments", note.refunded),
               (CREDIT_ACCOUNT, note.total - note.refunded)]
    book(REFUND_KIND, entries, vendor_id=row.vendor_id, currency=note.currency, key=f"credit_note:{note.credit_note_id}",
         memo=f"Credit note {note.credit_note_id} on invoice {row.number or row.invoice_id}")
    return f"credit note {note.credit_note_id}: {note.total} {note.currency} reversed ({note.refunded} refunded)"


# -- card updates --------------------------------------------------------------------------------
def _payment_method_saved(gateway_name, billing):
    saved = billing.payment_method
    pk = str(saved.metadata.get("vendor_subscription", ""))
    if not pk.isdigit():
        return None
    sub = VendorSubscription.objects.filter(pk=int(pk), gateway=gateway_name, customer_id=saved.customer_id).first()
    if sub is None or sub.ended:
        return None if sub is None else "card saved for an ended subscription: ignored"
    sub_pk, method, intent = sub.pk, saved.payment_method_id, saved.setup_intent_id
    transaction.on_commit(lambda: current_app.tasks["vendor_plans.apply_card"].delay(sub_pk, method, intent))
    return f"card {method} saved for subscription {sub.pk}: paying open invoices"
