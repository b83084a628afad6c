"""GraphQL of vendor plans: queries here, types in types.py, mutations in mutations.py."""
import graphene

from marketplace.plugins import clock
from marketplace.plugins.graphql import ConnectionField, NotFound, VendorType, decode_id, enum_value, permissions
from marketplace.plugins.vendors import MANAGERS, require_vendor_role, vendor_info

from ..state import access_of, current_subscription, overrides_for
from ..models import Plan, VendorSubscription
from ..plans import offered_plans
from .mutations import Mutation
from .types import AccessEnum, StatusEnum, VendorKindEnum, VendorPlanNode, VendorSubscriptionNode


def _vendor(info, vendor_id):
    pk = int(decode_id(vendor_id, VendorType, field="vendor_id"))
    require_vendor_role(info, pk, MANAGERS)
    vendor = vendor_info(pk)
    if vendor is None:
        raise NotFound("Vendor not found.", field="vendor_id")
    return vendor


class Query(graphene.ObjectType):
    vendor_plans = graphene.List(
        graphene.NonNull(VendorPlanNode), required=True,
        vendor_id=graphene.ID(description="Only the plans this vendor may choose (its staff)."),
        include_inactive=graphene.Boolean(default_value=False, description="Platform staff: also retired plans."),
        description="Plans vendors can subscribe to.")
    vendor_subscription = graphene.Field(
        VendorSubscriptionNode, vendor_id=graphene.ID(required=True),
        description="The vendor's current subscription (the open one, else the last one; null if it never "
                    "subscribed). The vendor's owner and managers, platform staff.")
    vendor_plan_access = graphene.Field(
        AccessEnum, required=True, vendor_id=graphene.ID(required=True),
        description="The vendor's access now, also without a subscription (owner, managers, platform staff).")
    vendor_subscriptions = ConnectionField(
        VendorSubscriptionNode, status=StatusEnum(), access=AccessEnum(), plan=graphene.String(),
        vendor_kind=VendorKindEnum(), include_ended=graphene.Boolean(default_value=False),
        description="Every vendor's subscription, newest first (platform staff).")

    @staticmethod
    def resolve_vendor_plans(root, info, vendor_id=None, include_inactive=False):
        if include_inactive:
            permissions.require_platform_staff(info)
            return list(Plan.objects.all())
        if vendor_id is not None:
            return offered_plans(_vendor(info, vendor_id).kind)
        return offered_plans()

    @staticmethod
    def resolve_vendor_subscription(root, info, vendor_id):
        vendor = _vendor(info, vendor_id)
        return current_subscription(vendor.vendor_id, related=("vendor", "plan", "entitled_plan", "requested_plan"))

    @staticmethod
    def resolve_vendor_plan_access(root, info, vendor_id):
        vendor = _vendor(info, vendor_id)
        return access_of(current_subscription(vendor.vendor_id), overrides_for([vendor.vendor_id]).get(vendor.vendor_id),
                         clock.now(), vendor_status=vendor.status).value

    @staticmethod
    def resolve_vendor_subscriptions(root, info, status=None, access=None, plan=None, vendor_kind=None,
                                     include_ended=False, **kwargs):
        permissions.require_platform_staff(info)
        qs = VendorSubscription.objects.select_related("vendor", "plan", "entitled_plan", "requested_plan")
        if not include_ended:
            qs = qs.filter(ended=False)
        if status is not None:
            qs = qs.filter(status=enum_value(status))
        if access is not None:
            qs = qs.filter(access=enum_value(access))
        if plan:
            qs = qs.filter(plan__code=plan)
        if vendor_kind is not None:
            qs = qs.filter(vendor__kind=enum_value(vendor_kind))
        return qs.order_by("-pk")


__all__ = ["Query", "Mutation"]
