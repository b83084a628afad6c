"""Services: vendors subscribe, change plan, cancel, update their card; platform staff
override access, cancel at once, refund through credit notes.

Each service validates and commits its intent first, calls the billing gateway outside
any transaction, then records the ids it learned. The gateway's answers are never taken
as state: the subscription's status changes only when a verified event arrives
(`billing_events.py`), so a new subscription stays `pending` until then.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction

from marketplace.plugins import clock, get_settings
from marketplace.plugins.billing import billing_gateway
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError
from marketplace.plugins.payments import GatewayError
from marketplace.plugins.vendors import StaffRole, VendorStatus, staff_emails, vendor_info

from . import plans
from .enforcement import sync_vendors
from .state import access_of, current_subscription, overrides_for, recompute
from .models import Access, AccessOverride, BillingInvoice, PaymentMethod, Status, VendorSubscription

logger = logging.getLogger("plugins.vendor_plans")
PLUGIN = "vendor_plans"
CHANGEABLE = {Status.TRIALING, Status.ACTIVE}


@dataclass(frozen=True)
class Started:
    """What a client needs after `start`: confirm the first payment ("payment") or save a
    card for after the trial ("setup") with `client_secret` through Stripe.js, or pay the
    first invoice on `hosted_invoice_url` (wallet payers)."""

    subscription: VendorSubscription
    client_secret: str = ""
    client_secret_kind: str = ""
    hosted_invoice_url: str = ""


def _gateway(sub):
    """The gateway that bills this subscription (the one it was created at)."""
    return billing_gateway(sub.gateway)


def _vendor(vendor_id):
    vendor = vendor_info(vendor_id)
    if vendor is None:
        raise NotFound("Vendor not found.", field="vendor_id")
    return vendor


def open_subscription(vendor_id, lock=False):
    qs = VendorSubscription.objects.filter(vendor_id=vendor_id, ended=False)
    return (qs.select_for_update() if lock else qs).first()


def _require_open(vendor_id):
    sub = open_subscription(vendor_id)
    if sub is None:
        raise ValidationError("This vendor has no active subscription.", code=ErrorCode.INVALID_STATE,
                              field="vendor_id")
    return sub


def _key():
    return uuid.uuid4().hex[:16]


# -- subscribe -------------------------------------------------------------------------------------
def start(vendor_id, plan_code, payment_method=PaymentMethod.CARD) -> Started:
    """Subscribe a vendor to a plan. Card payers confirm the first payment with the returned
    secret (a trial needs none); wallet payers (Alipay, WeChat Pay) are billed by invoice.
    Raises NotFound (vendor, plan), ValidationError (INVALID plan not offered to the
    vendor's kind; INVALID_STATE vendor not approved or already subscribed), GatewayError."""
    vendor = _vendor(vendor_id)
    plan = plans.get_plan(plan_code)
    plans.require_offered(plan, vendor.kind)
    if payment_method not in PaymentMethod.values:
        raise ValidationError("CARD or WALLET.", field="payment_method")
    if vendor.status != VendorStatus.APPROVED:
        raise ValidationError("Only an approved vendor can subscribe.", code=ErrorCode.INVALID_STATE, field="vendor_id")
    if open_subscription(vendor.vendor_id) is not None:
        raise ValidationError("This vendor already has a subscription; change its plan instead.",
                              code=ErrorCode.INVALID_STATE, field="vendor_id")
    settings = get_settings(PLUGIN)
    gateway = billing_gateway(settings.gateway)
    plan = plans.ensure_price(gateway, plan)
    try:
        with transaction.atomic():
            sub = VendorSubscription.objects.create(
                vendor_id=vendor.vendor_id, started_plan=plan, plan=plan, entitled_plan=plan,
                previous_status=_previous_status(vendor.vendor_id), access=_access_now(vendor.vendor_id),
                payment_method=payment_method, gateway=settings.gateway, price_id=plan.gateway_price_id,
                collection="send_invoice" if payment_method == PaymentMethod.WALLET else "automatic")
            recompute(sub)
    except IntegrityError:
        raise ValidationError("This vendor already has a subscription; change its plan instead.",
                              code=ErrorCode.INVALID_STATE, field="vendor_id") from None
    try:
        customer_id = _customer(gateway, vendor, plan, sub)
        created = gateway.create_subscription(
            customer_id=customer_id, price_id=plan.gateway_price_id, trial_days=plan.trial_days,
            metadata={"vendor_id": vendor.vendor_id, "vendor_subscription": sub.pk, "vendor_plan": plan.code},
            idempotency_key=f"vendor-{vendor.vendor_id}-plan-{plan.code}-{sub.pk}",
            pause_without_payment_method=True,
            collection="send_invoice" if payment_method == PaymentMethod.WALLET else "automatic",
            days_until_due=settings.invoice_days_until_due,
            payment_method_types=settings.wallet_methods if payment_method == PaymentMethod.WALLET else ["card"])
    except GatewayError:
        with transaction.atomic():
            VendorSubscription.objects.filter(pk=sub.pk, status=Status.PENDING, subscription_id=None).update(
                status=Status.FAILED, ended=True)
            sub.refresh_from_db()
            recompute(sub)
        raise
    with transaction.atomic():
        sub = VendorSubscription.objects.select_for_update().get(pk=sub.pk)
        if not sub.subscription_id:
            sub.subscription_id = created.subscription_id
        sub.customer_id = sub.customer_id or created.customer_id
        sub.item_id = sub.item_id or created.item_id
        sub.save(update_fields=["subscription_id", "customer_id", "item_id", "updated_at"])
    return Started(subscription=sub, client_secret=created.client_secret,
                   client_secret_kind=created.client_secret_kind, hosted_invoice_url=created.hosted_invoice_url)


def _access_now(vendor_id):
    """The vendor's access before a new subscription (which changes nothing until the
    gateway confirms it), so that creating one announces no change."""
    return access_of(current_subscription(vendor_id), overrides_for([vendor_id]).get(vendor_id))


def _previous_status(vendor_id):
    """The status of the vendor's last subscription (until the new one is confirmed, the
    vendor keeps that access)."""
    return (VendorSubscription.objects.filter(vendor_id=vendor_id, ended=True).exclude(status=Status.FAILED)
            .order_by("-pk").values_list("status", flat=True).first() or "")


def _customer(gateway, vendor, plan, sub):
    """Reuse the vendor's gateway customer in this currency (one customer cannot mix
    currencies), else create one."""
    previous = (VendorSubscription.objects.filter(vendor_id=vendor.vendor_id, customer_currency=plan.currency)
                .exclude(customer_id="").exclude(pk=sub.pk).order_by("-pk").values_list("customer_id", flat=True)
                .first())
    if previous:
        customer_id = previous
    else:
        emails = staff_emails(vendor.vendor_id, roles=(StaffRole.OWNER,))
        customer_id = gateway.create_customer(
            email=emails[0] if emails else "", name=vendor.name_en or vendor.name_zh,
            metadata={"vendor_id": vendor.vendor_id, "vendor_slug": vendor.slug},
            idempotency_key=f"vendor-{vendor.vendor_id}-customer-{sub.pk}")
    VendorSubscription.objects.filter(pk=sub.pk).update(customer_id=customer_id, customer_currency=plan.currency)
    sub.customer_id, sub.customer_currency = customer_id, plan.currency
    return customer_id


# -- change plan -------------------------------------------------------------------------------------
def change_plan(vendor_id, plan_code):
    """Move to another plan offered to the vendor's kind. A plan that costs more per year is
    an upgrade billed now with proration (`always_invoice`): its entitlements apply once
    that invoice is paid. Otherwise a downgrade at the end of the paid period (a schedule),
    so paid features are never lost mid-period. Returns (subscription, kind, client_secret).
    Raises NotFound, ValidationError (INVALID plan; INVALID_STATE no changeable
    subscription, an upgrade awaiting payment), GatewayError."""
    vendor = _vendor(vendor_id)
    plan = plans.get_plan(plan_code)
    plans.require_offered(plan, vendor.kind)
    sub = _require_open(vendor.vendor_id)
    if sub.status not in CHANGEABLE:
        raise ValidationError(f"A {sub.status} subscription cannot change plan: pay the open invoice first.",
                              code=ErrorCode.INVALID_STATE, field="vendor_id")
    pending = pending_change(sub)
    if plan.pk == sub.plan_id and pending is None:
        raise ValidationError("The vendor is on this plan already.", field="plan")
    if pending is not None and pending[1] == "upgrade":
        raise ValidationError("An upgrade is waiting for its invoice to be paid.", code=ErrorCode.INVALID_STATE,
                              field="plan")
    gateway = _gateway(sub)
    plan = plans.ensure_price(gateway, plan)
    if sub.schedule_id:  # a downgrade was scheduled: this request replaces it
        gateway.release_schedule(schedule_id=sub.schedule_id)
        VendorSubscription.objects.filter(pk=sub.pk).update(schedule_id="")
    secret = ""
    if plan.pk == sub.plan_id:  # back to the current plan: dropping the schedule was all
        kind = "none"
    elif plan.yearly_amount > sub.plan.yearly_amount:
        kind = "upgrade"
        changed = gateway.change_price(subscription_id=sub.subscription_id, item_id=sub.item_id,
                                       price_id=plan.gateway_price_id,
                                       idempotency_key=f"vendor-{vendor.vendor_id}-upgrade-{plan.code}-{_key()}")
        secret = changed.client_secret
        VendorSubscription.objects.filter(pk=sub.pk).update(item_id=changed.item_id or sub.item_id)
    else:
        kind = "downgrade"
        schedule_id = gateway.schedule_price_change(
            subscription_id=sub.subscription_id, price_id=plan.gateway_price_id, interval=plan.interval,
            interval_count=plan.interval_count,
            idempotency_key=f"vendor-{vendor.vendor_id}-downgrade-{plan.code}-{_key()}")
        VendorSubscription.objects.filter(pk=sub.pk).update(schedule_id=schedule_id)
    VendorSubscription.objects.filter(pk=sub.pk).update(
        requested_plan=None if kind == "none" else plan, requested_change="" if kind == "none" else kind,
        requested_at=clock.now())
    sub.refresh_from_db()
    return sub, kind, secret


def pending_change(sub):
    """(plan, kind) of a change asked for and not in effect yet, or None."""
    if not sub.requested_plan_id or sub.ended:
        return None
    if sub.requested_change == "upgrade" and sub.entitled_plan_id != sub.requested_plan_id:
        return sub.requested_plan, "upgrade"
    if sub.requested_change == "downgrade" and sub.plan_id != sub.requested_plan_id:
        return sub.requested_plan, "downgrade"
    return None


# -- cancel -------------------------------------------------------------------------------------------
def cancel(vendor_id, undo=False):
    """Cancel at the end of the paid period (the vendor owner), or undo that. A scheduled
    downgrade is dropped. Raises ValidationError (INVALID_STATE), GatewayError."""
    sub = _require_open(_vendor(vendor_id).vendor_id)
    if not sub.subscription_id:
        raise ValidationError("The subscription is not created at the gateway yet.", code=ErrorCode.INVALID_STATE,
                              field="vendor_id")
    gateway = _gateway(sub)
    if sub.schedule_id and not undo:
        gateway.release_schedule(schedule_id=sub.schedule_id)
        VendorSubscription.objects.filter(pk=sub.pk).update(schedule_id="", requested_plan=None, requested_change="")
    gateway.set_cancel_at_period_end(subscription_id=sub.subscription_id, cancel=not undo,
                                     idempotency_key=f"vendor-{sub.vendor_id}-cancel-{not undo}-{_key()}")
    VendorSubscription.objects.filter(pk=sub.pk).update(cancel_requested=not undo, requested_at=clock.now())
    sub.refresh_from_db()
    return sub


# -- cards ---------------------------------------------------------------------------------------------
def card_update(vendor_id):
    """Start saving a new card (Stripe.js confirms the returned setup intent). When it
    succeeds, the gateway's event makes the card the default and pays the open invoices
    (`apply_card`). Returns the client secret."""
    sub = _require_open(_vendor(vendor_id).vendor_id)
    if not sub.customer_id or not sub.subscription_id:
        raise ValidationError("The subscription is not created at the gateway yet.", code=ErrorCode.INVALID_STATE,
                              field="vendor_id")
    intent = _gateway(sub).create_setup_intent(
        customer_id=sub.customer_id, metadata={"vendor_id": sub.vendor_id, "vendor_subscription": sub.pk},
        idempotency_key=f"vendor-{sub.vendor_id}-card-{_key()}")
    return intent.client_secret


def apply_card(subscription_pk, payment_method_id, setup_intent_id=""):
    """After a card was saved: make it the default (automatic collection from now on), resume
    a paused subscription, and pay every open invoice with it (updating a card does not
    retry an invoice by itself). Returns the invoice ids paid."""
    sub = VendorSubscription.objects.filter(pk=subscription_pk, ended=False).first()
    if sub is None or not sub.subscription_id:
        return []
    gateway = _gateway(sub)
    gateway.use_payment_method(customer_id=sub.customer_id, subscription_id=sub.subscription_id,
                               payment_method_id=payment_method_id, resume=sub.status == Status.PAUSED)
    VendorSubscription.objects.filter(pk=sub.pk).update(payment_method=PaymentMethod.CARD)
    paid = []
    for invoice in BillingInvoice.objects.filter(subscription=sub, paid_at=None, voided_at=None,
                                                 uncollectible_at=None).order_by("pk"):
        try:
            gateway.pay_invoice(invoice_id=invoice.invoice_id, payment_method_id=payment_method_id,
                                idempotency_key=f"invoice-{invoice.invoice_id}-pay-{setup_intent_id or _key()}")
            paid.append(invoice.invoice_id)
        except GatewayError as exc:  # declined again: the vendor sees the failed event's notice
            logger.warning("Paying invoice %s with the new card failed: %s", invoice.invoice_id, exc.message)
    return paid


# -- platform staff --------------------------------------------------------------------------------------
def override(vendor_id, access, until=None, reason="", actor=""):
    """Set (or with `access` None, clear) platform staff's override of a vendor's access.
    Raises NotFound, ValidationError (reason required, `until` in the past)."""
    vendor = _vendor(vendor_id)
    now = clock.now()
    with transaction.atomic():
        if access is None:
            AccessOverride.objects.filter(vendor_id=vendor.vendor_id).delete()
        else:
            if access not in Access.values:
                raise ValidationError("Unknown access.", field="access")
            if not (reason or "").strip():
                raise ValidationError("Say why.", code=ErrorCode.REQUIRED, field="reason")
            if len(reason.strip()) > 300:
                raise ValidationError("At most 300 characters.", field="reason")
            if until is not None and until.tzinfo is None:  # a local time without zone: the business zone's
                until = until.replace(tzinfo=clock.business_zone())
            if until is not None and until <= now:
                raise ValidationError("`until` must be in the future.", field="until")
            AccessOverride.objects.update_or_create(vendor_id=vendor.vendor_id, defaults={
                "access": access, "until": until, "reason": reason.strip(), "created_by": actor[:254]})
        sync_vendors([vendor.vendor_id], now)
    return current_subscription(vendor.vendor_id)


def override_of(vendor_id):
    """Platform staff's override of the vendor's access in force now, or None."""
    found = AccessOverride.objects.filter(vendor_id=vendor_id).first()
    if found is None or (found.until is not None and found.until <= clock.now()):
        return None
    return found


def cancel_now(vendor_id, prorate=False):
    """Cancel a vendor's subscription at once (platform staff), crediting the unused time
    when `prorate`. The storefront is suspended when the gateway's deletion event arrives."""
    sub = _require_open(_vendor(vendor_id).vendor_id)
    if not sub.subscription_id:
        with transaction.atomic():  # never created at the gateway: nothing to cancel there
            VendorSubscription.objects.filter(pk=sub.pk).update(status=Status.FAILED, ended=True)
            sub.refresh_from_db()
            recompute(sub)
        return sub
    _gateway(sub).cancel_now(subscription_id=sub.subscription_id, prorate=prorate)
    return sub


def refund(invoice_id, amount=None, reason=""):
    """Refund (part of) a paid invoice through a credit note (platform staff). The ledger
    reversal is booked when the gateway's `credit_note.created` event arrives; access
    follows the subscription's status, never the refund. Returns the credit note id."""
    invoice = BillingInvoice.objects.select_related("subscription").filter(invoice_id=invoice_id).first()
    if invoice is None:
        raise NotFound("Invoice not found.", field="invoice_id")
    if invoice.paid_at is None:
        raise ValidationError("Only a paid invoice can be refunded.", code=ErrorCode.INVALID_STATE,
                              field="invoice_id")
    if len(reason or "") > 500:
        raise ValidationError("At most 500 characters.", field="reason")
    left = invoice.amount_paid - invoice.credited_total
    amount = left if amount is None else Decimal(amount).quantize(Decimal("0.01"))
    if amount <= 0 or amount > left:
        raise ValidationError(f"Between 0.01 and {left} {invoice.currency}.", field="amount")
    return _gateway(invoice.subscription).create_credit_note(
        invoice_id=invoice.invoice_id, amount=amount, currency=invoice.currency, reason=reason, refund=True,
        idempotency_key=f"credit-{invoice.invoice_id}-{amount}-{_key()}")


def adopt(vendor_id, plan_code, customer_id, subscription_id, payment_method=PaymentMethod.CARD):
    """Link a subscription that exists at the gateway already (made in its dashboard, or the
    demo's) to a vendor: recorded `pending`, then its events set the state. Raises like
    `start` for the vendor and plan."""
    vendor = _vendor(vendor_id)
    plan = plans.get_plan(plan_code, active_only=False)
    plans.require_offered(plan, vendor.kind)
    existing = VendorSubscription.objects.filter(subscription_id=subscription_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            sub = VendorSubscription.objects.create(
                vendor_id=vendor.vendor_id, started_plan=plan, plan=plan, entitled_plan=plan,
                previous_status=_previous_status(vendor.vendor_id), access=_access_now(vendor.vendor_id),
                payment_method=payment_method, gateway=get_settings(PLUGIN).gateway, customer_id=customer_id,
                customer_currency=plan.currency, subscription_id=subscription_id)
            recompute(sub)
    except IntegrityError:
        raise ValidationError("This vendor already has a subscription.", code=ErrorCode.INVALID_STATE,
                              field="vendor_id") from None
    return sub

