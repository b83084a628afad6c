"""GraphQL types of the group-buy plugin: deals, groups, memberships, vouchers, alerts."""
import graphene
from django.db.models import Q
from graphene import relay
from graphene_django import DjangoObjectType

from marketplace.plugins.graphql import (
    CountableConnection, Money, OrderType, ProductNode, ProductVariantNode, VendorType, enum_value, money,
    permissions,
)
from marketplace.plugins.vendors import ANY_STAFF, has_vendor_role, vendor_roles

from ..codes import format_voucher_code
from ..dataloaders import (
    ActiveMemberUsersByGroupIdLoader, DealBadgeByProductIdLoader, MembersByGroupIdLoader, OpenGroupsByDealIdLoader,
    RefundByMemberIdLoader, RefundByVoucherIdLoader, VouchersByMemberIdLoader,
)
from ..models import (
    Alert, AlertKind, Deal, DealKind, DealStatus, Group, GroupStatus, Member, MemberStatus, TrackStatus, Voucher,
    VoucherStatus,
)

DealKindEnum = graphene.Enum("GroupDealKind", [(k.name, k.value) for k in DealKind])
DealStatusEnum = graphene.Enum("GroupDealStatus", [(k.name, k.value) for k in DealStatus])
GroupStatusEnum = graphene.Enum("GroupBuyGroupStatus", [(k.name, k.value) for k in GroupStatus])
MemberStatusEnum = graphene.Enum("GroupBuyMemberStatus", [(k.name, k.value) for k in MemberStatus])
VoucherStatusEnum = graphene.Enum("GroupBuyVoucherStatus", [(k.name, k.value) for k in VoucherStatus])
RefundStatusEnum = graphene.Enum("GroupBuyRefundStatus", [(k.name, k.value) for k in TrackStatus])
AlertKindEnum = graphene.Enum("GroupBuyAlertKind", [(k.name, k.value) for k in AlertKind])
PUBLIC_DEALS = (DealStatus.LIVE, DealStatus.SOLD_OUT, DealStatus.ENDED)


def _user(info):
    return permissions.current_user(info)


def is_platform_staff(info):
    user = _user(info)
    return permissions.is_authenticated(user) and user.is_staff


def visible_deals(info):
    """Deals the caller may see: public ones, its own vendors' (staff), all (platform staff)."""
    user = _user(info)
    if permissions.is_authenticated(user) and user.is_staff:
        return Deal.objects.all()
    mine = list(vendor_roles(user)) if permissions.is_authenticated(user) else []
    return Deal.objects.filter(Q(status__in=PUBLIC_DEALS) | Q(vendor_id__in=mine))


def _mask(user):
    name = (user.last_name or user.first_name or user.email.split("@")[0] or "?").strip()
    return f"{name[0]}**"


class GroupDealNode(DjangoObjectType):
    """A vendor's group price for one variant: `groupSize` members paying within
    `windowHours` of the leader's payment each get it; else everybody is refunded."""

    kind = graphene.Field(DealKindEnum, required=True)
    status = graphene.Field(DealStatusEnum, required=True)
    vendor = graphene.Field(VendorType, required=True)
    product = graphene.Field(ProductNode, required=True)
    variant = graphene.Field(ProductVariantNode, required=True)
    deal_price = graphene.Field(Money, required=True)
    list_price = graphene.Field(Money, required=True, description="The variant's list price when submitted.")
    units_left = graphene.Int(required=True, description="Units of the cap not held by groups.")
    review_note = graphene.String(description="The reviewer's note (its vendor's staff and platform staff only).")
    open_groups = graphene.List(graphene.NonNull(lambda: GroupNode), required=True,
                                description="Forming groups with free seats, closing soonest first (20 at most).")

    class Meta:
        model = Deal
        name = "GroupDeal"
        interfaces = (relay.Node,)
        fields = ("title_zh", "title_en", "group_size", "window_hours", "starts_at", "ends_at", "max_units",
                  "max_per_member", "per_user_limit", "new_customers_only", "voucher_valid_days", "submitted_at",
                  "approved_at", "cancelled_at", "cancel_reason", "created_at")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        return visible_deals(info).filter(pk=id).first()

    @staticmethod
    def resolve_kind(root, info):
        return enum_value(root.kind)

    @staticmethod
    def resolve_status(root, info):
        return enum_value(root.status)

    @staticmethod
    def resolve_deal_price(root, info):
        return money(root.deal_price, root.currency)

    @staticmethod
    def resolve_list_price(root, info):
        return money(root.list_price, root.currency)

    @staticmethod
    def resolve_units_left(root, info):
        return max(root.max_units - root.units_reserved, 0)

    @staticmethod
    def resolve_review_note(root, info):
        return root.review_note if has_vendor_role(_user(info), root.vendor_id, ANY_STAFF) else None

    @staticmethod
    def resolve_open_groups(root, info):
        return OpenGroupsByDealIdLoader.for_request(info).load(root.pk)


class RefundInfoType(graphene.ObjectType):
    class Meta:
        name = "GroupBuyRefund"

    status = graphene.Field(RefundStatusEnum, required=True,
                            description="SUCCEEDED only once the gateway confirmed the money went back.")
    amount = graphene.Field(Money, required=True)
    attempt = graphene.Int(required=True)
    requested_at = graphene.DateTime(required=True)
    settled_at = graphene.DateTime()
    failure_reason = graphene.String(description="Why the last attempt failed (it is retried).")

    @staticmethod
    def resolve_amount(root, info):
        return money(root.amount, "CNY")


class MemberNode(DjangoObjectType):
    """One member's place (and order) in a group."""

    status = graphene.Field(MemberStatusEnum, required=True)
    group = graphene.Field(lambda: GroupNode, description="Null while the leader is still paying.")
    deal = graphene.Field(GroupDealNode, required=True)
    amount = graphene.Field(Money, required=True, description="What the member's order costs (refunded in full).")
    order = graphene.Field(OrderType, description="The member's order (the member and platform staff).")
    name = graphene.String(required=True, description="The member's name, masked.")
    paid_by = graphene.String(description='"capture", "authorization" or null while unpaid.')
    refund = graphene.Field(RefundInfoType)
    vouchers = graphene.List(graphene.NonNull(lambda: VoucherNode), required=True)

    class Meta:
        model = Member
        name = "GroupBuyMembership"
        interfaces = (relay.Node,)
        fields = ("is_leader", "quantity", "joined_at", "paid_at", "settled_at", "note")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        user = _user(info)
        if not permissions.is_authenticated(user):
            return None
        qs = Member.objects.all() if user.is_staff else Member.objects.filter(user=user)
        return qs.filter(pk=id).first()

    @staticmethod
    def resolve_status(root, info):
        return enum_value(root.status)

    @staticmethod
    def resolve_amount(root, info):
        return money(root.amount, "CNY")

    @staticmethod
    def resolve_order(root, info):
        user = _user(info)
        if permissions.is_authenticated(user) and (user.pk == root.user_id or user.is_staff):
            return root.order
        return None

    @staticmethod
    def resolve_name(root, info):
        return _mask(root.user)

    @staticmethod
    def resolve_paid_by(root, info):
        return root.paid_by or None

    @staticmethod
    def resolve_refund(root, info):
        return RefundByMemberIdLoader.for_request(info).load(root.pk)

    @staticmethod
    def resolve_vouchers(root, info):
        user = _user(info)
        if not permissions.is_authenticated(user) or (user.pk != root.user_id and not user.is_staff):
            return []
        return VouchersByMemberIdLoader.for_request(info).load(root.pk)


class GroupNode(DjangoObjectType):
    """A group: opened by its leader's payment, SUCCEEDED when `size` members paid within
    the window, else FAILED (everyone refunded). A later refund of one member never
    reopens a succeeded group."""

    status = graphene.Field(GroupStatusEnum, required=True)
    deal = graphene.Field(GroupDealNode, required=True)
    seats_left = graphene.Int(required=True)
    leader_name = graphene.String(required=True, description="Masked, e.g. 王**.")
    share_code = graphene.String(description="Shown to the group's members, its vendor's staff and platform staff.")
    is_mine = graphene.Boolean(required=True, description="The caller holds a seat in it (or leads it).")
    members = graphene.List(graphene.NonNull(MemberNode), required=True,
                            description="Every member (its vendor's staff and platform staff; else empty).")

    class Meta:
        model = Group
        name = "GroupBuyGroup"
        interfaces = (relay.Node,)
        fields = ("size", "paid_count", "opened_at", "expires_at", "settled_at", "settle_reason")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        return Group.objects.filter(pk=id, deal__in=visible_deals(info)).select_related(
            "leader", "deal__vendor", "deal__product", "deal__variant__product").first()

    @staticmethod
    def resolve_status(root, info):
        return enum_value(root.status)

    @staticmethod
    def resolve_deal(root, info):
        return root.deal

    @staticmethod
    def resolve_seats_left(root, info):
        return root.seats_left if root.status == GroupStatus.FORMING else 0

    @staticmethod
    def resolve_leader_name(root, info):
        return _mask(root.leader)

    @staticmethod
    def resolve_share_code(root, info):
        user = _user(info)
        if not permissions.is_authenticated(user):
            return None
        if user.pk == root.leader_id or user.is_staff or has_vendor_role(user, root.deal.vendor_id, ANY_STAFF):
            return root.share_code

        def pick(users):
            return root.share_code if user.pk in users else None

        from marketplace.plugins.graphql import then

        return then(ActiveMemberUsersByGroupIdLoader.for_request(info).load(root.pk), pick)

    @staticmethod
    def resolve_is_mine(root, info):
        from marketplace.plugins.graphql import then

        user = _user(info)
        if not permissions.is_authenticated(user):
            return False
        if user.pk == root.leader_id:
            return True
        return then(ActiveMemberUsersByGroupIdLoader.for_request(info).load(root.pk), lambda users: user.pk in users)

    @staticmethod
    def resolve_members(root, info):
        user = _user(info)
        if not (permissions.is_authenticated(user) and (user.is_staff or has_vendor_role(user, root.deal.vendor_id,
                                                                                           ANY_STAFF))):
            return []
        return MembersByGroupIdLoader.for_request(info).load(root.pk)


class VoucherNode(DjangoObjectType):
    """A service voucher (团购券): show its code at the shop, which verifies it once."""

    status = graphene.Field(VoucherStatusEnum, required=True)
    code = graphene.String(required=True, description="13 digits, grouped by four (the owner sees all of it; "
                                                       "shop staff the last four).")
    amount = graphene.Field(Money, required=True)
    deal = graphene.Field(GroupDealNode, required=True)
    refund = graphene.Field(RefundInfoType)

    class Meta:
        model = Voucher
        name = "GroupBuyVoucher"
        interfaces = (relay.Node,)
        fields = ("issued_at", "valid_until", "redeemed_at")

    @classmethod
    def get_node(cls, info, id):
        user = _user(info)
        if not permissions.is_authenticated(user):
            return None
        qs = Voucher.objects.all() if user.is_staff else Voucher.objects.filter(user=user)
        return qs.filter(pk=id).first()

    @staticmethod
    def resolve_status(root, info):
        return enum_value(root.status)

    @staticmethod
    def resolve_code(root, info):
        user = _user(info)
        if permissions.is_authenticated(user) and user.pk == root.user_id:
            return format_voucher_code(root.code)
        return "**** **** **** " + root.code[-1] if len(root.code) == 13 else "****"

    @staticmethod
    def resolve_amount(root, info):
        return money(root.amount, "CNY")

    @staticmethod
    def resolve_refund(root, info):
        return RefundByVoucherIdLoader.for_request(info).load(root.pk)


class AlertNode(DjangoObjectType):
    kind = graphene.Field(AlertKindEnum, required=True)
    group = graphene.Field(GroupNode)

    class Meta:
        model = Alert
        name = "GroupBuyAlert"
        interfaces = (relay.Node,)
        fields = ("message", "created_at", "resolved_at")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        return Alert.objects.filter(pk=id).first() if is_platform_staff(info) else None

    @staticmethod
    def resolve_kind(root, info):
        return enum_value(root.kind)


class DealBadge(graphene.ObjectType):
    """A product's open group deal, for listings and search results."""

    class Meta:
        name = "GroupDealBadge"

    deal = graphene.Field(GroupDealNode, required=True)
    price = graphene.Field(Money, required=True, description="The deal price of one unit.")
    group_size = graphene.Int(required=True)
    ends_at = graphene.DateTime(required=True)
    label = graphene.String(required=True, description='e.g. "3人团 ¥150.00".')

    @staticmethod
    def resolve_deal(root, info):
        return root

    @staticmethod
    def resolve_price(root, info):
        return money(root.deal_price, root.currency)

    @staticmethod
    def resolve_group_size(root, info):
        return root.group_size

    @staticmethod
    def resolve_ends_at(root, info):
        return root.ends_at

    @staticmethod
    def resolve_label(root, info):
        kind = f"{root.group_size}人团" if root.group_size > 1 else "团购券"
        return f"{kind} ¥{root.deal_price}"


def resolve_product_group_deal(root, info):
    return DealBadgeByProductIdLoader.for_request(info).load(root.pk)
