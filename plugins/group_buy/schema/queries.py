"""Queries: deals and open groups (anyone), my groups and vouchers (members), a vendor's
groups (its staff), alerts (platform staff). Reads only."""
import graphene

from marketplace.plugins import ValidationError
from marketplace.plugins import clock
from marketplace.plugins.graphql import ConnectionField, ProductNode, VendorType, decode_id, enum_value, permissions
from marketplace.plugins.vendors import ANY_STAFF, require_vendor_role

from ..codes import normalize_share_code
from ..dataloaders import GROUP_RELATED, MEMBER_RELATED, deal_related, open_groups_queryset
from ..models import Alert, Group, Member, Voucher
from .types import (
    AlertNode, DealKindEnum, DealStatusEnum, GroupDealNode, GroupNode, GroupStatusEnum, MemberNode, VoucherNode,
    VoucherStatusEnum, visible_deals,
)


class Query(graphene.ObjectType):
    group_deals = ConnectionField(
        GroupDealNode, vendor_id=graphene.ID(), product_id=graphene.ID(), kind=DealKindEnum(),
        status=graphene.List(graphene.NonNull(DealStatusEnum), description="Default: LIVE and SOLD_OUT."),
        description="Group deals, ending soonest first. Others than live ones: their vendor's staff and platform staff.")
    group_deal = graphene.Field(GroupDealNode, id=graphene.ID(required=True))
    group_buy_group = graphene.Field(
        GroupNode, share_code=graphene.String(), id=graphene.ID(),
        description="A group by its share code (the join page) or ID; null when there is none.")
    open_groups = graphene.List(graphene.NonNull(GroupNode), required=True, deal_id=graphene.ID(required=True),
                                first=graphene.Int(default_value=20),
                                description="Forming groups of a deal with free seats, closing soonest first.")
    my_group_buys = ConnectionField(MemberNode, description="The signed-in member's group orders, newest first.")
    my_group_buy_vouchers = graphene.List(graphene.NonNull(VoucherNode), required=True, status=VoucherStatusEnum())
    vendor_group_buy_groups = ConnectionField(
        GroupNode, vendor_id=graphene.ID(required=True), deal_id=graphene.ID(), status=GroupStatusEnum(),
        description="A vendor's groups, newest first (its staff).")
    group_buy_alerts = ConnectionField(AlertNode, resolved=graphene.Boolean(default_value=False),
                                       description="Refunds and captures staff must look at (platform staff).")

    @staticmethod
    def resolve_group_deals(root, info, vendor_id=None, product_id=None, kind=None, status=None, **kwargs):
        qs = visible_deals(info).select_related("vendor", "product", "variant__product")
        if vendor_id is not None:
            qs = qs.filter(vendor_id=decode_id(vendor_id, VendorType, field="vendor_id"))
        if product_id is not None:
            qs = qs.filter(product_id=decode_id(product_id, ProductNode, field="product_id"))
        if kind is not None:
            qs = qs.filter(kind=enum_value(kind))
        statuses = [enum_value(s) for s in status] if status else ["live", "sold_out"]
        return qs.filter(status__in=statuses).order_by("ends_at", "pk")

    @staticmethod
    def resolve_group_deal(root, info, id):
        return visible_deals(info).select_related("vendor", "product", "variant__product").filter(
            pk=decode_id(id, GroupDealNode)).first()

    @staticmethod
    def resolve_group_buy_group(root, info, share_code=None, id=None):
        if (share_code is None) == (id is None):
            raise ValidationError("Give a share code or an ID.", field="share_code")
        qs = Group.objects.filter(deal__in=visible_deals(info)).select_related(*GROUP_RELATED)
        if share_code is not None:
            code = normalize_share_code(share_code)
            return qs.filter(share_code=code).first() if code else None
        return qs.filter(pk=decode_id(id, GroupNode)).first()

    @staticmethod
    def resolve_open_groups(root, info, deal_id, first=20):
        first = 20 if first is None else first
        if not 1 <= first <= 100:
            raise ValidationError("first is 1 to 100.", field="first")
        deal = decode_id(deal_id, GroupDealNode, field="deal_id")
        return list(open_groups_queryset(clock.now()).filter(deal_id=deal, deal__in=visible_deals(info))
                    .order_by("expires_at", "pk")[:first])

    @staticmethod
    @permissions.login_required
    def resolve_my_group_buys(root, info, **kwargs):
        return (Member.objects.filter(user=permissions.current_user(info))
                .select_related(*MEMBER_RELATED).order_by("-pk"))

    @staticmethod
    @permissions.login_required
    def resolve_my_group_buy_vouchers(root, info, status=None):
        qs = Voucher.objects.filter(user=permissions.current_user(info)).select_related(
            *deal_related("deal")).order_by("-pk")
        return qs.filter(status=enum_value(status)) if status is not None else qs

    @staticmethod
    def resolve_vendor_group_buy_groups(root, info, vendor_id, deal_id=None, status=None, **kwargs):
        pk = decode_id(vendor_id, VendorType, field="vendor_id")
        require_vendor_role(info, pk, ANY_STAFF)
        qs = Group.objects.filter(deal__vendor_id=pk).select_related(*GROUP_RELATED).order_by("-pk")
        if deal_id is not None:
            qs = qs.filter(deal_id=decode_id(deal_id, GroupDealNode, field="deal_id"))
        return qs.filter(status=enum_value(status)) if status is not None else qs

    @staticmethod
    @permissions.staff_required
    def resolve_group_buy_alerts(root, info, resolved=False, **kwargs):
        return Alert.objects.filter(resolved_at__isnull=not bool(resolved)).select_related(
            *[f"group__{path}" for path in GROUP_RELATED]).order_by("-pk")
