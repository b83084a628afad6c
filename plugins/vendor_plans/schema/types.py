"""GraphQL types of vendor plans: read-only, batched (no query per row)."""
from datetime import timedelta

import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from marketplace.plugins import clock
from marketplace.plugins.graphql import CountableConnection, Money, VendorType, money, permissions, then
from marketplace.plugins.vendors import MANAGERS, has_vendor_role

from ..access import derive_access, grants
from ..dataloaders import InvoicesBySubscriptionLoader, OverrideByVendorLoader, PublishedCountByVendorLoader
from ..state import plan_in_force, settings
from ..models import Access, AccessOverride, BillingInvoice, Interval, InvoiceStatus, PaymentMethod, Plan, Status, VendorSubscription
from ..subscriptions import pending_change

# The engine's own VendorKind enum (one type in the schema, not a copy).
VendorKindEnum = VendorType._meta.fields["kind"].type.of_type
AccessEnum = graphene.Enum("VendorAccess", [(a.name, a.value) for a in Access],
                           description="FULL: trialing or active. GRACE: past due, within the grace days. LIMITED: no "
                                       "new listings or plan features. SUSPENDED: storefront hidden from listings and "
                                       "search (nothing deleted).")
StatusEnum = graphene.Enum("VendorSubscriptionStatus", [(s.name, s.value) for s in Status])
PaymentMethodEnum = graphene.Enum("VendorPlanPaymentMethod", [(p.name, p.value) for p in PaymentMethod])
IntervalEnum = graphene.Enum("VendorPlanInterval", [(i.name, i.value) for i in Interval])
InvoiceStatusEnum = graphene.Enum("VendorInvoiceStatus", [(s.name, s.value) for s in InvoiceStatus])
ChangeKindEnum = graphene.Enum("VendorPlanChangeKind", [("UPGRADE", "upgrade"), ("DOWNGRADE", "downgrade"),
                                                        ("NONE", "none")])


class VendorPlanEntitlements(graphene.ObjectType):
    """What a plan grants (or, on a subscription, what the vendor has now)."""

    max_products = graphene.Int(description="Most products (null: no limit).")
    booking = graphene.Boolean(required=True)
    vip_tiers = graphene.Boolean(required=True)
    points_cashback = graphene.Boolean(required=True)
    group_buy = graphene.Boolean(required=True)
    commission_rate = graphene.Decimal(description="The platform's commission, a fraction (null: the platform's "
                                                   "default rate).")
    search_boost = graphene.Float(required=True, description="Multiplier on the vendor's search ranking (the "
                                                             "`search_boost` entitlement).")


def _entitlements(values):
    return VendorPlanEntitlements(max_products=values.get("max_products"), booking=values.get("booking", False),
                                  vip_tiers=values.get("vip_tiers", False),
                                  points_cashback=values.get("points_cashback", False),
                                  group_buy=values.get("group_buy", False),
                                  commission_rate=values.get("commission_rate"),
                                  search_boost=values.get("search_boost", 1.0))


class VendorPlanNode(DjangoObjectType):
    price = graphene.Field(Money, required=True, description="Per interval_count × interval.")
    interval = graphene.Field(IntervalEnum, required=True)
    vendor_kinds = graphene.List(graphene.NonNull(VendorKindEnum), required=True,
                                 description="Vendor kinds that may choose this plan.")
    entitlements = graphene.Field(VendorPlanEntitlements, required=True)

    class Meta:
        model = Plan
        name = "VendorPlan"
        interfaces = (relay.Node,)
        fields = ("code", "name_zh", "name_en", "description_zh", "description_en", "interval_count", "trial_days",
                  "is_active", "sort_order", "highlight")

    @classmethod
    def get_node(cls, info, id):
        plan = Plan.objects.filter(pk=id).first()
        if plan is not None and (plan.is_active or permissions.is_platform_staff(permissions.current_user(info))):
            return plan
        return None

    @staticmethod
    def resolve_price(root, info):
        return money(root.amount, root.currency)

    @staticmethod
    def resolve_interval(root, info):
        return root.interval

    @staticmethod
    def resolve_vendor_kinds(root, info):
        return list(root.vendor_kinds)

    @staticmethod
    def resolve_entitlements(root, info):
        return _entitlements(root.entitlements())


class VendorInvoiceType(graphene.ObjectType):
    class Meta:
        name = "VendorInvoice"

    invoice_id = graphene.String(required=True, description="The gateway's invoice id.")
    number = graphene.String()
    status = graphene.Field(InvoiceStatusEnum, required=True)
    billing_reason = graphene.String()
    amount_due = graphene.Field(Money, required=True)
    amount_paid = graphene.Field(Money, required=True)
    refunded = graphene.Field(Money, required=True, description="Credited back through credit notes.")
    period_end = graphene.DateTime(description="End of the latest period it pays for.")
    due_date = graphene.DateTime()
    paid_at = graphene.DateTime()
    attempt_count = graphene.Int(required=True)
    next_payment_attempt = graphene.DateTime(description="Null with a failed payment: no further retry.")
    final_failure = graphene.Boolean(required=True)
    hosted_invoice_url = graphene.String(description="Where the vendor pays it (Alipay, WeChat Pay, card).")

    @staticmethod
    def resolve_status(root: BillingInvoice, info):
        return root.status.value

    @staticmethod
    def resolve_amount_due(root, info):
        return money(root.amount_due, root.currency)

    @staticmethod
    def resolve_amount_paid(root, info):
        return money(root.amount_paid, root.currency)

    @staticmethod
    def resolve_refunded(root, info):
        return money(root.credited_total, root.currency)

    @staticmethod
    def resolve_number(root, info):
        return root.number or None

    @staticmethod
    def resolve_billing_reason(root, info):
        return root.billing_reason or None

    @staticmethod
    def resolve_hosted_invoice_url(root, info):
        return root.hosted_invoice_url or None


class VendorPlanChange(graphene.ObjectType):
    plan = graphene.Field(VendorPlanNode, required=True)
    kind = graphene.Field(ChangeKindEnum, required=True, description="UPGRADE: applies when its invoice is paid. "
                                                                      "DOWNGRADE: at the end of the paid period.")
    requested_at = graphene.DateTime()


class VendorAccessOverrideNode(DjangoObjectType):
    """Platform staff's override of a vendor's access."""

    access = graphene.Field(AccessEnum, required=True)

    class Meta:
        model = AccessOverride
        name = "VendorAccessOverride"
        fields = ("until", "reason", "created_at")

    @staticmethod
    def resolve_access(root, info):
        return root.access


class VendorProductQuota(graphene.ObjectType):
    limit = graphene.Int(description="Most published products the plan allows (null: no limit).")
    listed = graphene.Int(required=True, description="Products listed now.")
    deadline = graphene.DateTime(description="Over the limit: by then the vendor chooses which stay published; "
                                             "after it the newest above the limit are unpublished.")


def _override(info, vendor_id):
    return OverrideByVendorLoader.for_request(info).load(vendor_id)


class VendorSubscriptionNode(DjangoObjectType):
    """A vendor's subscription to a plan. `plan` is what the gateway bills now; the
    entitlements follow `entitledPlan` (an upgrade counts once its invoice is paid)."""

    vendor = graphene.Field(VendorType, required=True)
    plan = graphene.Field(VendorPlanNode, required=True)
    entitled_plan = graphene.Field(VendorPlanNode, required=True)
    status = graphene.Field(StatusEnum, required=True, description="PENDING until the gateway's first event.")
    access = graphene.Field(AccessEnum, required=True, description="Now (the engine clock), including platform "
                                                                   "staff's override and the vendor's own status.")
    payment_method = graphene.Field(PaymentMethodEnum, required=True)
    cancel_requested = graphene.Boolean(description="What the vendor last asked (the gateway confirms it in "
                                                    "cancelAtPeriodEnd).")
    pending_change = graphene.Field(VendorPlanChange)
    override = graphene.Field(VendorAccessOverrideNode)
    entitlements = graphene.Field(VendorPlanEntitlements, required=True,
                                  description="What the vendor has now (its plan as its access allows).")
    quota = graphene.Field(VendorProductQuota, required=True)
    invoices = graphene.List(graphene.NonNull(VendorInvoiceType), required=True,
                             first=graphene.Int(default_value=20, description="Newest first, at most 100."))

    class Meta:
        model = VendorSubscription
        name = "VendorSubscription"
        interfaces = (relay.Node,)
        fields = ("trial_end", "current_period_start", "current_period_end", "paid_through", "grace_until",
                  "cancel_at_period_end", "cancel_at", "ended", "created_at")
        connection_class = CountableConnection

    @classmethod
    def get_queryset(cls, queryset, info):
        return queryset.select_related("vendor", "plan", "entitled_plan", "requested_plan")

    @classmethod
    def get_node(cls, info, id):
        sub = VendorSubscription.objects.select_related("vendor", "plan", "entitled_plan").filter(pk=id).first()
        if sub is not None and has_vendor_role(permissions.current_user(info), sub.vendor_id, MANAGERS):
            return sub
        return None

    @staticmethod
    def resolve_status(root, info):
        return root.status

    @staticmethod
    def resolve_payment_method(root, info):
        return root.payment_method

    @staticmethod
    def resolve_access(root, info):
        require_plan = settings().require_plan
        now = clock.now()

        def access(override):
            return derive_access(root.status, now=now, grace_until=root.grace_until,
                                 override=override.access if override else "",
                                 override_until=override.until if override else None,
                                 vendor_status=root.vendor.status, require_plan=require_plan,
                                 previous_status=root.previous_status or None).value

        return then(_override(info, root.vendor_id), access)

    @staticmethod
    def resolve_override(root, info):
        return _override(info, root.vendor_id)

    @staticmethod
    def resolve_entitlements(root, info):
        require_plan = settings().require_plan
        now = clock.now()

        def granted(override):
            access = derive_access(root.status, now=now, grace_until=root.grace_until,
                                   override=override.access if override else "",
                                   override_until=override.until if override else None, require_plan=require_plan,
                                   previous_status=root.previous_status or None)
            return _entitlements(grants(plan_in_force(root), access) or {})

        return then(_override(info, root.vendor_id), granted)

    @staticmethod
    def resolve_pending_change(root, info):
        change = pending_change(root)
        if change is None:
            return None
        plan, kind = change
        return VendorPlanChange(plan=plan, kind=kind, requested_at=root.requested_at)

    @staticmethod
    def resolve_quota(root, info):
        deadline = None
        if root.over_quota_since is not None:
            deadline = root.over_quota_since + timedelta(days=settings().quota_grace_days)
        return then(PublishedCountByVendorLoader.for_request(info).load(root.vendor_id),
                    lambda listed: VendorProductQuota(limit=root.entitled_plan.max_products, listed=listed,
                                                      deadline=deadline))

    @staticmethod
    def resolve_invoices(root, info, first=20):
        first = max(0, min(int(first or 0), 100))
        return then(InvoicesBySubscriptionLoader.for_request(info).load(root.pk), lambda rows: rows[:first])

