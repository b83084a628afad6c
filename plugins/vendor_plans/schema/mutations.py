"""Mutations: thin, each calls one service. Vendor owners subscribe, change plan, cancel and
update the card; platform staff manage plans, override access, cancel at once, refund."""
import graphene

from marketplace.plugins.graphql import BaseMutation, VendorType, decode_id, enum_value, permissions, vendor_role
from marketplace.plugins.vendors import StaffRole

from .. import plans, subscriptions
from .types import (
    AccessEnum, ChangeKindEnum, IntervalEnum, PaymentMethodEnum, VendorAccessOverrideNode, VendorKindEnum,
    VendorPlanNode, VendorSubscriptionNode,
)

OWNER = (StaffRole.OWNER,)


def _vendor_pk(vendor_id):
    return int(decode_id(vendor_id, VendorType, field="vendor_id"))


class VendorSubscriptionStart(BaseMutation):
    """Subscribe the vendor to a plan offered to its kind (the vendor's owner). Card payers
    confirm the first payment with `clientSecret` (kind "payment") through Stripe.js, or may
    save a card during a trial (kind "setup"; a trial needs none). Wallet payers (Alipay,
    WeChat Pay) pay each invoice on its hosted page. The status is PENDING until the
    gateway's first event arrives."""

    permission = vendor_role(OWNER, vendor_from="vendor_id")
    text_not_stored = {"plan": "a lookup (plan code)"}
    subscription = graphene.Field(VendorSubscriptionNode)
    client_secret = graphene.String()
    client_secret_kind = graphene.String(description='"payment" or "setup".')
    hosted_invoice_url = graphene.String()

    class Arguments:
        vendor_id = graphene.ID(required=True)
        plan = graphene.String(required=True, description="A plan code, e.g. shop_yearly.")
        payment_method = PaymentMethodEnum(default_value="card")

    @classmethod
    def perform(cls, info, vendor_id, plan, payment_method="card"):
        started = subscriptions.start(_vendor_pk(vendor_id), plan, enum_value(payment_method))
        return cls(subscription=started.subscription, client_secret=started.client_secret or None,
                   client_secret_kind=started.client_secret_kind or None,
                   hosted_invoice_url=started.hosted_invoice_url or None)


class VendorSubscriptionChangePlan(BaseMutation):
    """Change plan (the vendor's owner): an upgrade is billed now with proration and its
    entitlements apply once that invoice is paid (`clientSecret` when the payment needs the
    client); a downgrade applies at the end of the paid period."""

    permission = vendor_role(OWNER, vendor_from="vendor_id")
    text_not_stored = {"plan": "a lookup (plan code)"}
    subscription = graphene.Field(VendorSubscriptionNode)
    change = graphene.Field(ChangeKindEnum)
    client_secret = graphene.String()

    class Arguments:
        vendor_id = graphene.ID(required=True)
        plan = graphene.String(required=True)

    @classmethod
    def perform(cls, info, vendor_id, plan):
        sub, kind, secret = subscriptions.change_plan(_vendor_pk(vendor_id), plan)
        return cls(subscription=sub, change=kind, client_secret=secret or None)


class VendorSubscriptionCancel(BaseMutation):
    """Cancel at the end of the paid period (the vendor's owner), or `undo: true` to keep
    the plan. Takes effect when the gateway confirms (`cancelAtPeriodEnd`)."""

    permission = vendor_role(OWNER, vendor_from="vendor_id")
    subscription = graphene.Field(VendorSubscriptionNode)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        undo = graphene.Boolean(default_value=False)

    @classmethod
    def perform(cls, info, vendor_id, undo=False):
        return cls(subscription=subscriptions.cancel(_vendor_pk(vendor_id), undo=bool(undo)))


class VendorSubscriptionCardUpdate(BaseMutation):
    """Save a new card (the vendor's owner): confirm the returned setup intent's
    `clientSecret` with Stripe.js. Once saved, it becomes the default and pays the open
    invoices (a paused subscription resumes)."""

    permission = vendor_role(OWNER, vendor_from="vendor_id")
    client_secret = graphene.String()

    class Arguments:
        vendor_id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, vendor_id):
        return cls(client_secret=subscriptions.card_update(_vendor_pk(vendor_id)))


# -- platform staff ----------------------------------------------------------------------------------
class VendorPlanInput(graphene.InputObjectType):
    name_zh = graphene.String()
    name_en = graphene.String()
    description_zh = graphene.String()
    description_en = graphene.String()
    amount = graphene.Decimal(description="Price per interval, e.g. 1200.00.")
    currency = graphene.String()
    interval = IntervalEnum()
    interval_count = graphene.Int()
    trial_days = graphene.Int(description="0: no trial; 365: first year free (no card needed).")
    vendor_kinds = graphene.List(graphene.NonNull(VendorKindEnum))
    is_active = graphene.Boolean()
    sort_order = graphene.Int()
    highlight = graphene.Boolean()
    max_products = graphene.Int(description="null: no limit.")
    booking = graphene.Boolean()
    vip_tiers = graphene.Boolean()
    points_cashback = graphene.Boolean()
    group_buy = graphene.Boolean()
    commission_rate = graphene.Decimal(description="A fraction (0.05 = 5%); null: the platform's default.")
    search_boost = graphene.Decimal()


def _plan_data(input):
    data = {}
    for key, value in input.items():
        if key == "vendor_kinds" and value is not None:
            value = [enum_value(v) for v in value]
        elif key == "interval" and value is not None:
            value = enum_value(value)
        data[key] = value
    return data


PLAN_TEXT = {"descriptionZh": "TextField (at most 2000 characters, checked by the service)",
             "descriptionEn": "TextField (at most 2000 characters, checked by the service)"}


class VendorPlanCreate(BaseMutation):
    permission = permissions.platform_staff
    text_not_stored = PLAN_TEXT
    plan = graphene.Field(VendorPlanNode)

    class Arguments:
        code = graphene.String(required=True)
        input = VendorPlanInput(required=True)

    @classmethod
    def perform(cls, info, code, input):
        return cls(plan=plans.create_plan(code, _plan_data(input)))


class VendorPlanUpdate(BaseMutation):
    """Change a plan. New terms (price, interval) apply to new subscribers; entitlement
    changes apply to every subscriber at once."""

    permission = permissions.platform_staff
    text_not_stored = PLAN_TEXT
    plan = graphene.Field(VendorPlanNode)

    class Arguments:
        code = graphene.String(required=True)
        input = VendorPlanInput(required=True)

    @classmethod
    def perform(cls, info, code, input):
        return cls(plan=plans.update_plan(code, _plan_data(input)))


class VendorAccessOverrideSet(BaseMutation):
    """Override a vendor's access (platform staff), e.g. FULL for a partner without a plan
    or SUSPENDED for a policy reason; `access: null` removes the override."""

    permission = permissions.platform_staff
    subscription = graphene.Field(VendorSubscriptionNode)
    override = graphene.Field(VendorAccessOverrideNode, description="The override in force (null: none).")

    class Arguments:
        vendor_id = graphene.ID(required=True)
        access = AccessEnum()
        until = graphene.DateTime()
        reason = graphene.String()

    @classmethod
    def perform(cls, info, vendor_id, access=None, until=None, reason=""):
        vendor_pk = _vendor_pk(vendor_id)
        sub = subscriptions.override(vendor_pk, enum_value(access) if access is not None else None,
                                     until, reason or "", actor=info.context.user.email)
        return cls(subscription=sub, override=subscriptions.override_of(vendor_pk))


class VendorSubscriptionCancelNow(BaseMutation):
    """Cancel a vendor's subscription at once (platform staff); `prorate` credits the unused
    time. The storefront is hidden when the gateway confirms."""

    permission = permissions.platform_staff
    subscription = graphene.Field(VendorSubscriptionNode)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        prorate = graphene.Boolean(default_value=False)

    @classmethod
    def perform(cls, info, vendor_id, prorate=False):
        return cls(subscription=subscriptions.cancel_now(_vendor_pk(vendor_id), prorate=bool(prorate)))


class VendorInvoiceRefund(BaseMutation):
    """Refund a paid plan invoice through a credit note (platform staff): all that is left,
    or `amount`. Booked in the ledger when the gateway confirms the credit note."""

    permission = permissions.platform_staff
    text_not_stored = {"invoiceId": "a lookup", "reason": "sent to the gateway as the credit note's memo (500)"}
    credit_note_id = graphene.String()

    class Arguments:
        invoice_id = graphene.String(required=True)
        amount = graphene.Decimal()
        reason = graphene.String()

    @classmethod
    def perform(cls, info, invoice_id, amount=None, reason=""):
        return cls(credit_note_id=subscriptions.refund(invoice_id, amount, reason or ""))


class Mutation(graphene.ObjectType):
    vendor_subscription_start = VendorSubscriptionStart.Field()
    vendor_subscription_change_plan = VendorSubscriptionChangePlan.Field()
    vendor_subscription_cancel = VendorSubscriptionCancel.Field()
    vendor_subscription_card_update = VendorSubscriptionCardUpdate.Field()
    vendor_plan_create = VendorPlanCreate.Field()
    vendor_plan_update = VendorPlanUpdate.Field()
    vendor_access_override = VendorAccessOverrideSet.Field()
    vendor_subscription_cancel_now = VendorSubscriptionCancelNow.Field()
    vendor_invoice_refund = VendorInvoiceRefund.Field()
