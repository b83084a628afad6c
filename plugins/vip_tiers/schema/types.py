"""GraphQL types of the loyalty plugin. Reads only; every per-node relation goes through
a DataLoader (dataloaders.py) so lists and connections cost a constant number of queries.

Who sees what: a customer sees their own accounts and history; a store's staff see its
programme, customers (name, phone and e-mail masked), segments and campaigns; platform
staff see everything unmasked.
"""
from __future__ import annotations

from decimal import Decimal

import graphene
from graphene.types.generic import GenericScalar

from marketplace.plugins.graphql import (
    Money, NestedConnectionField, NodeType, CountableConnection, VendorType, money, permissions, then,
)
from marketplace.plugins.vendors import ANY_STAFF, has_vendor_role

from .. import rules
from ..dataloaders import (
    AccountLoader, ContactLoader, ProgramByVendorLoader, StatsLoader, TierLoader, TiersByProgramLoader,
    TiersByVendorLoader,
)
from ..models import Campaign, Segment, SegmentExport, SegmentMember, VipAccount, VipEntry, VipTier
from ..services import programs

CNY = "CNY"
StatusEnum = graphene.Enum("VipProgramStatus", [(s, s) for s in ("DISABLED", "ENABLED", "GRACE", "SUSPENDED")],
                           description="DISABLED: not switched on; GRACE: below the product minimum, tier prices "
                                       "still on until graceEndsAt; SUSPENDED: tier prices stopped (below the "
                                       "minimum past the grace period, or the plugin is off for the store); "
                                       "accounts and balances are kept.")
StackingEnum = graphene.Enum("VipStacking", [("STACK", "stack"), ("BEST_OF", "best_of")],
                             description="STACK: the VIP discount applies on top of the member price; BEST_OF: "
                                         "only the larger of the two applies.")
AssetEnum = graphene.Enum("VipAsset", [("POINTS", "points"), ("CASHBACK", "cashback")])


def viewer(info):
    user = permissions.current_user(info)
    return user if permissions.is_authenticated(user) else None


def is_staff_of(info, vendor_id):
    user = viewer(info)
    return user is not None and has_vendor_role(user, vendor_id, ANY_STAFF)


class VipTierType(NodeType):
    """A tier of a store's programme (public: storefronts show the ladder)."""

    threshold = graphene.Field(Money, required=True, description="Rolling 12-month net spend at the store to reach it.")
    percent_off = graphene.Decimal(required=True, description="Off the store's products (the floor still applies).")
    points_multiplier = graphene.Decimal(required=True)

    class Meta:
        model = VipTier
        name = "VipTier"
        fields = ("rank", "name_zh", "name_en")

    @staticmethod
    def resolve_threshold(root, info):
        return money(root.threshold, CNY)


class VipProgramType(graphene.ObjectType):
    """A store's programme (a store that never set one up answers DISABLED)."""

    class Meta:
        name = "VipProgram"

    store = graphene.Field(VendorType, required=True)
    status = graphene.Field(StatusEnum, required=True)
    enabled = graphene.Boolean(required=True)
    stacking = graphene.Field(StackingEnum, required=True)
    points_enabled = graphene.Boolean(required=True)
    earn_points_per_cny = graphene.Decimal(required=True, description="Points per 1 CNY of goods, before the tier "
                                                                      "multiplier.")
    cashback_enabled = graphene.Boolean(required=True)
    cashback_percent = graphene.Decimal(required=True)
    cashback_fixed = graphene.Field(Money, required=True)
    cashback_threshold = graphene.Field(Money, required=True)
    cashback_cap = graphene.Field(Money)
    protection_days = graphene.Int(required=True, description="A reached tier is kept at least this many days.")
    tiers = graphene.List(graphene.NonNull(VipTierType), required=True)
    product_count = graphene.Int(required=True, description="Active published products at the last count.")
    min_products = graphene.Int(required=True, description="The platform's minimum to run VIP tiers.")
    grace_ends_at = graphene.DateTime(description="While GRACE: when tier prices stop unless products come back.")
    points_per_cny = graphene.Int(required=True, description="Points that pay 1 CNY at checkout.")
    max_redeem_percent = graphene.Decimal(required=True, description="Most of the store's goods points and cashback "
                                                                     "may pay, percent.")
    return_window_days = graphene.Int(required=True, description="Days after completion before earnings are "
                                                                 "available.")

    @staticmethod
    def resolve_store(root, info):
        return root.vendor

    @staticmethod
    def resolve_status(root, info):
        return programs.status_of(root if root.pk else None)

    @staticmethod
    def resolve_stacking(root, info):
        return getattr(root.stacking, "value", root.stacking)

    @staticmethod
    def resolve_cashback_fixed(root, info):
        return money(root.cashback_fixed, CNY)

    @staticmethod
    def resolve_cashback_threshold(root, info):
        return money(root.cashback_threshold, CNY)

    @staticmethod
    def resolve_cashback_cap(root, info):
        return money(root.cashback_cap, CNY) if root.cashback_cap is not None else None

    @staticmethod
    def resolve_tiers(root, info):
        return TiersByProgramLoader.for_request(info).load(root.pk) if root.pk else []

    @staticmethod
    def resolve_min_products(root, info):
        return programs.platform_settings().min_products

    @staticmethod
    def resolve_grace_ends_at(root, info):
        if not root.pk or programs.status_of(root) != "GRACE":
            return None
        return rules.grace_ends(root.below_since, programs.platform_settings().grace_days)

    @staticmethod
    def resolve_points_per_cny(root, info):
        return programs.platform_settings().points_per_cny

    @staticmethod
    def resolve_max_redeem_percent(root, info):
        return Decimal(str(programs.platform_settings().max_redeem_percent)).quantize(Decimal("0.01"))

    @staticmethod
    def resolve_return_window_days(root, info):
        return programs.platform_settings().return_window_days


class VipPoints(graphene.ObjectType):
    available = graphene.Int(required=True, description="Spendable now (0 while in debt).")
    pending = graphene.Int(required=True, description="Earned on orders not yet completed + the return window.")
    debt = graphene.Int(required=True, description="Owed after a refund reversed points already spent; new "
                                                   "earnings pay it first and redeeming waits until it is paid.")
    value = graphene.Field(Money, required=True, description="What the available points pay at checkout.")


class VipCashback(graphene.ObjectType):
    available = graphene.Field(Money, required=True)
    pending = graphene.Field(Money, required=True)
    debt = graphene.Field(Money, required=True)


def points_of(account):
    per_cny = programs.platform_settings().points_per_cny
    available = max(account.points_available, 0)
    return VipPoints(available=available, pending=account.points_pending, debt=max(-account.points_available, 0),
                     value=money(rules.points_value(available, per_cny), CNY))


def cashback_of(account):
    return VipCashback(available=money(max(account.cashback_available, Decimal("0")), CNY),
                       pending=money(account.cashback_pending, CNY),
                       debt=money(max(-account.cashback_available, Decimal("0")), CNY))


class VipEntryType(NodeType):
    """One row of a points or cashback history (append-only)."""

    asset = graphene.Field(AssetEnum, required=True)
    amount = graphene.Decimal(required=True, description="Points (whole) or CNY; negative takes away.")
    order_number = graphene.String()
    expires_at = graphene.DateTime(description="For credit that became available: when its lot expires.")

    class Meta:
        model = VipEntry
        name = "VipEntry"
        fields = ("bucket", "kind", "memo", "created_at")
        connection_class = CountableConnection
        convert_choices_to_enum = False

    @classmethod
    def get_node(cls, info, id):
        entry = VipEntry.objects.select_related("account").filter(pk=id).first()
        user = viewer(info)
        if entry is None or user is None:
            return None
        mine = entry.account.user_id == user.pk
        return entry if mine or has_vendor_role(user, entry.account.vendor_id, ANY_STAFF) else None

    @staticmethod
    def resolve_order_number(root, info):
        return root.order.number if root.order_id else None

    @staticmethod
    def resolve_expires_at(root, info):
        return root.lot.expires_at if root.lot_id else None


def history_queryset(asset=None):
    qs = VipEntry.objects.select_related("order", "lot").order_by("-created_at", "-pk")
    return qs.filter(asset=getattr(asset, "value", asset)) if asset else qs


class VipAccountType(NodeType):
    """The signed-in customer's standing at one store."""

    store = graphene.Field(VendorType, required=True)
    program = graphene.Field(VipProgramType, required=True)
    tier = graphene.Field(VipTierType)
    next_tier = graphene.Field(VipTierType, description="The next tier up, if any.")
    spend_to_next_tier = graphene.Field(Money, description="More 12-month spend the next tier needs, from the "
                                                                   "spend counted when an order last completed.")
    net_spend = graphene.Field(Money, required=True, description="Net goods spend at the store, last 12 months.")
    points = graphene.Field(VipPoints, required=True)
    cashback = graphene.Field(VipCashback, required=True)
    history = NestedConnectionField(VipEntryType, parent_field="account_id", asset=AssetEnum(),
                                    description="Points and cashback movements, newest first.")

    class Meta:
        model = VipAccount
        name = "VipAccount"
        fields = ("tier_since", "protected_until", "created_at")

    @classmethod
    def get_node(cls, info, id):
        account = VipAccount.objects.select_related("vendor", "tier").filter(pk=id).first()
        user = viewer(info)
        if account is None or user is None:
            return None
        return account if account.user_id == user.pk or user.is_staff else None

    @staticmethod
    def resolve_store(root, info):
        return root.vendor

    @staticmethod
    def resolve_program(root, info):
        from ..models import VipProgram

        return then(ProgramByVendorLoader.for_request(info).load(root.vendor_id),
                    lambda program: program or VipProgram(vendor_id=root.vendor_id))

    @staticmethod
    def resolve_tier(root, info):
        return TierLoader.for_request(info).load(root.tier_id) if root.tier_id else None

    @staticmethod
    def _next(root, info, fn):
        return then(TiersByVendorLoader.for_request(info).load(root.vendor_id),
                    lambda tiers: fn(_next_tier(tiers, root)))

    @staticmethod
    def resolve_next_tier(root, info):
        return VipAccountType._next(root, info, lambda tier: tier)

    @staticmethod
    def resolve_spend_to_next_tier(root, info):
        return VipAccountType._next(root, info, lambda tier: money(max(tier.threshold - root.net_spend,
                                                                        Decimal("0")), CNY) if tier else None)

    @staticmethod
    def resolve_net_spend(root, info):
        return live_spend(root, info)

    @staticmethod
    def resolve_points(root, info):
        return points_of(root)

    @staticmethod
    def resolve_cashback(root, info):
        return cashback_of(root)

    @staticmethod
    def resolve_history(root, info, asset=None, **kwargs):
        return history_queryset(asset)


def live_spend(account, info):
    """The customer's net goods spend at the store over the last 12 months, now."""
    if account.user_id is None:
        return money(account.net_spend, CNY)
    return then(StatsLoader.for_request(info).load((account.vendor_id, account.user_id)),
                lambda stats: money(stats.net_spend if stats else Decimal("0"), CNY))


def _next_tier(tiers, account):
    """The lowest of the store's `tiers` above the account's current one."""
    current = next((t.rank for t in tiers if t.pk == account.tier_id), 0)
    return next((t for t in tiers if t.rank > current), None)


class VipCustomerType(NodeType):
    """A store's customer as its staff see them: contact data masked (platform staff see
    it in full)."""

    name = graphene.String(required=True, description="Masked for vendor staff (王*).")
    phone = graphene.String(required=True, description="Masked for vendor staff (138****8000).")
    email = graphene.String(required=True, description="Masked for vendor staff (wa***@example.com).")
    district = graphene.String(required=True)
    tier = graphene.Field(VipTierType)
    net_spend = graphene.Field(Money, required=True, description="Last 12 months.")
    orders = graphene.Int(required=True, description="Paid sub-orders at the store, last 12 months.")
    last_order_at = graphene.DateTime()
    points = graphene.Field(VipPoints, required=True)
    cashback = graphene.Field(VipCashback, required=True)

    class Meta:
        model = VipAccount
        name = "VipCustomer"
        fields = ("tier_since", "protected_until", "created_at")
        connection_class = CountableConnection
        skip_registry = True

    @classmethod
    def get_node(cls, info, id):
        account = VipAccount.objects.filter(pk=id).first()
        return account if account is not None and is_staff_of(info, account.vendor_id) else None

    @staticmethod
    def _contact(root, info, pick):
        masked = not (viewer(info) and viewer(info).is_staff)

        def shown(contact):
            if contact is None:
                return ""
            from marketplace.plugins.accounts import mask_email, mask_phone

            value = pick(contact)
            if not masked or not value:
                return value or ""
            if pick is _phone:
                return mask_phone(value)
            if pick is _email:
                return mask_email(value)
            return value[:1] + "*" * max(len(value) - 1, 1)

        return then(ContactLoader.for_request(info).load(root.user_id), shown) if root.user_id else ""

    @staticmethod
    def resolve_name(root, info):
        return VipCustomerType._contact(root, info, _name)

    @staticmethod
    def resolve_phone(root, info):
        return VipCustomerType._contact(root, info, _phone)

    @staticmethod
    def resolve_email(root, info):
        return VipCustomerType._contact(root, info, _email)

    @staticmethod
    def resolve_district(root, info):
        return then(ContactLoader.for_request(info).load(root.user_id),
                    lambda c: c.district if c else "") if root.user_id else ""

    @staticmethod
    def resolve_tier(root, info):
        return TierLoader.for_request(info).load(root.tier_id) if root.tier_id else None

    @staticmethod
    def resolve_net_spend(root, info):
        return live_spend(root, info)

    @staticmethod
    def resolve_orders(root, info):
        return then(StatsLoader.for_request(info).load((root.vendor_id, root.user_id)),
                    lambda s: s.orders if s else 0)

    @staticmethod
    def resolve_last_order_at(root, info):
        return then(StatsLoader.for_request(info).load((root.vendor_id, root.user_id)),
                    lambda s: s.last_paid_at if s else None)

    @staticmethod
    def resolve_points(root, info):
        return points_of(root)

    @staticmethod
    def resolve_cashback(root, info):
        return cashback_of(root)


def _name(contact):
    return contact.name


def _phone(contact):
    return contact.phone


def _email(contact):
    return contact.email


class VipSegmentMemberType(NodeType):
    customer = graphene.Field(VipCustomerType, description="Null when the customer has no account at the store.")

    class Meta:
        model = SegmentMember
        name = "VipSegmentMember"
        fields = ("added_at",)
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        member = SegmentMember.objects.select_related("segment").filter(pk=id).first()
        return member if member is not None and is_staff_of(info, member.segment.vendor_id) else None

    @staticmethod
    def resolve_customer(root, info):
        return AccountLoader.for_request(info).load((root.segment.vendor_id, root.user_id))


class VipSegmentType(NodeType):
    """A store's saved customer segment: its rule and its members as last computed."""

    store = graphene.Field(VendorType, required=True)
    rule = GenericScalar(required=True, description="The rule tree (docs/loyalty.md, Segments).")
    members = NestedConnectionField(VipSegmentMemberType, parent_field="segment_id")

    class Meta:
        model = Segment
        name = "VipSegment"
        fields = ("name", "description", "member_count", "computed_at", "created_at", "updated_at")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        segment = Segment.objects.select_related("vendor").filter(pk=id).first()
        return segment if segment is not None and is_staff_of(info, segment.vendor_id) else None

    @staticmethod
    def resolve_store(root, info):
        return root.vendor

    @staticmethod
    def resolve_members(root, info, **kwargs):
        return SegmentMember.objects.select_related("segment").order_by("-added_at", "-pk")


class VipSegmentFact(graphene.ObjectType):
    name = graphene.String(required=True)
    value_kind = graphene.String(required=True, description="money, int, bool, text or vehicle.")
    operators = graphene.List(graphene.NonNull(graphene.String), required=True)
    takes_days = graphene.Boolean(required=True, description="Takes a `days` window (default 365).")


class VipCampaignType(NodeType):
    segment = graphene.Field(VipSegmentType)

    class Meta:
        model = Campaign
        name = "VipCampaign"
        fields = ("name", "channel", "subject", "body", "status", "recipients", "sent_count", "failed_count",
                  "created_at", "sent_at")
        convert_choices_to_enum = False

    @classmethod
    def get_node(cls, info, id):
        campaign = Campaign.objects.filter(pk=id).first()
        return campaign if campaign is not None and is_staff_of(info, campaign.vendor_id) else None


class VipSegmentExportType(graphene.ObjectType):
    """A logged export of a segment."""

    class Meta:
        name = "VipSegmentExportRecord"

    segment_name = graphene.String(required=True)
    rows = graphene.Int(required=True)
    created_at = graphene.DateTime(required=True)
    exported_by = graphene.String(description="E-mail of the staff member who took it.")


def export_row(row: SegmentExport, emails):
    return VipSegmentExportType(segment_name=row.segment_name, rows=row.rows, created_at=row.created_at,
                                exported_by=emails.get(row.user_id))
