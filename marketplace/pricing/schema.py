"""GraphQL types for money and explained prices, and platform campaigns (platform staff)."""
import graphene
from graphene import relay
from graphene_django import DjangoObjectType
from graphql_relay import from_global_id

from marketplace.api.mutations import BaseMutation
from marketplace.api.pagination import ConnectionField, CountableConnection
from marketplace.api.types import enum_value
from marketplace.core import permissions
from marketplace.core.errors import ValidationError
from marketplace.core.money import quantize

from . import services
from .models import Campaign


class Money(graphene.ObjectType):
    amount = graphene.Decimal(required=True, description="Decimal string, 2 places.")
    currency = graphene.String(required=True)


class MoneyValue:
    """What a `Money` field resolves to: a plain object (a graphene ObjectType instance
    costs several times more to build, and a listing builds hundreds)."""

    __slots__ = ("amount", "currency")

    def __init__(self, amount, currency):
        self.amount = amount
        self.currency = currency


def money(amount, currency):
    """A Money value for the API: always two decimals (half-up), whatever the source (an
    aggregate on SQLite comes back as a float-made Decimal)."""
    return MoneyValue(quantize(amount) if amount is not None else None, currency)


class PriceAdjustmentType(graphene.ObjectType):
    class Meta:
        name = "PriceAdjustment"

    source = graphene.String(required=True, description='Who changed the price: "vendor", "campaign:<id>", a plugin name, or "platform" (the floor rule).')
    label = graphene.String(required=True)
    amount = graphene.Field(Money, required=True, description="Change of the unit price (negative: cheaper).")


class AdjustmentValue:
    """What a `PriceAdjustment` field resolves to (a plain object, like MoneyValue)."""

    __slots__ = ("source", "label", "amount")

    def __init__(self, source, label, amount):
        self.source = source
        self.label = label
        self.amount = amount


class Price(graphene.ObjectType):
    """A unit price that explains itself: list + sum(adjustments) = final."""

    list = graphene.Field(Money, required=True)
    final = graphene.Field(Money, required=True)
    discount = graphene.Field(Money, required=True, description="list - final")
    adjustments = graphene.List(graphene.NonNull(PriceAdjustmentType), required=True)
    floor = graphene.Field(Money, required=True, description="The lowest price the floor rule allows.")
    floor_applied = graphene.Boolean(required=True)
    floor_exempt = graphene.Boolean(required=True, description="An active platform campaign lifts the floor.")

    @staticmethod
    def resolve_list(root, info):
        return money(root.list_price, root.currency)

    @staticmethod
    def resolve_final(root, info):
        return money(root.final_price, root.currency)

    @staticmethod
    def resolve_discount(root, info):
        return money(root.discount, root.currency)

    @staticmethod
    def resolve_floor(root, info):
        return money(root.floor_price, root.currency)

    @staticmethod
    def resolve_adjustments(root, info):
        return [AdjustmentValue(a.source, a.label, money(a.amount, root.currency)) for a in root.adjustments]


# -- platform campaigns (platform staff) -------------------------------------------------------
CampaignStatus = graphene.Enum("CampaignStatus", [
    ("SCHEDULED", services.SCHEDULED), ("RUNNING", services.RUNNING), ("ENDED", services.ENDED),
    ("INACTIVE", services.INACTIVE),
], description="INACTIVE: switched off (campaignDeactivate); otherwise by the clock against startsAt/endsAt.")
# Category and Vendor types are referenced by path: their apps' schemas import this module.
CATEGORY = "marketplace.catalog.schema.CategoryNode"
VENDOR = "marketplace.vendors.schema.VendorType"


class CampaignNode(DjangoObjectType):
    """A platform campaign (e.g. Double 11): an optional discount and optionally an
    exemption from the price floor for the items it covers while it runs. Times are
    answered in the business time zone (Asia/Shanghai, +08:00)."""

    starts_at = graphene.DateTime(required=True)
    ends_at = graphene.DateTime(required=True, description="Exclusive: the campaign runs until just before it.")
    time_zone = graphene.String(required=True, description="The business time zone the dates were read in.")
    status = graphene.Field(CampaignStatus, required=True)
    categories = graphene.List(graphene.NonNull(CATEGORY), required=True, description="Empty: every category.")
    vendors = graphene.List(graphene.NonNull(VENDOR), required=True, description="Empty: every vendor.")
    floor_exemption = graphene.String(required=True, description="What the campaign does to the price floor, in words.")
    overlapping_campaigns = graphene.List(graphene.NonNull(lambda: CampaignNode), required=True,
                                          description="Other active campaigns on the same items at the same time.")

    class Meta:
        model = Campaign
        name = "Campaign"
        interfaces = (relay.Node,)
        fields = ("name_zh", "name_en", "discount_percent", "exempt_from_floor", "is_active")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        if not permissions.is_platform_staff(permissions.current_user(info)):
            return None
        return Campaign.objects.filter(pk=id).first()

    @staticmethod
    def resolve_starts_at(root, info):
        return services.local(root.starts_at)

    @staticmethod
    def resolve_ends_at(root, info):
        return services.local(root.ends_at)

    @staticmethod
    def resolve_time_zone(root, info):
        return services.business_timezone().key

    @staticmethod
    def resolve_status(root, info):
        return services.status(root)

    @staticmethod
    def resolve_categories(root, info):
        return root.categories.all()

    @staticmethod
    def resolve_vendors(root, info):
        return root.vendors.all()

    @staticmethod
    def resolve_floor_exemption(root, info):
        return services.floor_explanation(root)

    @staticmethod
    def prefetch_page(info, campaigns):
        """A page's overlaps in one query rather than one per campaign."""
        overlaps = services.overlaps_by_campaign(campaigns)
        for campaign in campaigns:
            campaign._overlaps = overlaps[campaign.pk]

    @staticmethod
    def resolve_overlapping_campaigns(root, info):
        cached = getattr(root, "_overlaps", None)
        return cached if cached is not None else services.overlaps_by_campaign([root])[root.pk]


class Query(graphene.ObjectType):
    campaigns = ConnectionField(CampaignNode, status=CampaignStatus(),
                                description="Platform campaigns by start (platform staff only).")

    @staticmethod
    @permissions.staff_required
    def resolve_campaigns(root, info, status=None, **kwargs):
        return services.campaigns(status=enum_value(status)).prefetch_related("categories", "vendors")


class CampaignInput(graphene.InputObjectType):
    name_zh = graphene.String()
    name_en = graphene.String()
    starts_at = graphene.String(description="ISO 8601 date or date-time, read in Asia/Shanghai unless it has an "
                                            "offset: 2026-11-11 (that day's 00:00) or 2026-11-10T20:00.")
    ends_at = graphene.String(description="Likewise; a date alone means the end of that day (2026-11-11 runs through "
                                          "23:59:59 Asia/Shanghai). Must be after startsAt and in the future.")
    discount_percent = graphene.Decimal(description="Percent off, more than 0 and less than 100; null: no discount.")
    exempt_from_floor = graphene.Boolean(description="Lift the platform price floor for the covered items while "
                                                     "it runs (see Campaign.floorExemption).")
    category_ids = graphene.List(graphene.NonNull(graphene.ID), description="Category IDs; empty: every category.")
    vendor_ids = graphene.List(graphene.NonNull(graphene.ID), description="Vendor IDs; empty: every vendor.")
    is_active = graphene.Boolean()


def _pks(ids, type_name, field):
    pks = []
    for global_id in ids:
        try:
            kind, pk = from_global_id(global_id)
        except Exception:
            kind, pk = None, None
        if kind != type_name or not pk or not pk.isdigit():
            raise ValidationError(f"Expected the ID of a {type_name}.", field=field)
        pks.append(int(pk))
    return pks


def _campaign_data(input):
    data = dict(input)
    if data.get("category_ids") is not None:
        data["category_ids"] = _pks(data["category_ids"], "Category", "category_ids")
    if data.get("vendor_ids") is not None:
        data["vendor_ids"] = _pks(data["vendor_ids"], "Vendor", "vendor_ids")
    return data


def _campaign_id(global_id):
    (pk,) = _pks([global_id], "Campaign", "id")
    return pk


class CampaignPayload:
    campaign = graphene.Field(CampaignNode)
    overlaps = graphene.List(graphene.NonNull(CampaignNode), required=True,
                             description="Active campaigns this one overlaps (only when allowOverlap let it through).")

    @staticmethod
    def resolve_overlaps(root, info):
        return root.overlaps or []


class CampaignCreate(CampaignPayload, BaseMutation):
    """Create a platform campaign (platform staff). Overlapping another active campaign on
    the same items is refused with OVERLAPS unless `allowOverlap: true`."""

    permission = permissions.platform_staff
    text_not_stored = {"startsAt": "parsed as a date", "endsAt": "parsed as a date"}

    class Arguments:
        input = CampaignInput(required=True)
        allow_overlap = graphene.Boolean(default_value=False)

    @classmethod
    def perform(cls, info, input, allow_overlap=False):
        change = services.create_campaign(data=_campaign_data(input), allow_overlap=allow_overlap)
        return cls(campaign=change.campaign, overlaps=change.overlaps)


class CampaignUpdate(CampaignPayload, BaseMutation):
    """Change a campaign that has not ended (platform staff); only the given fields change."""

    permission = permissions.platform_staff
    text_not_stored = {"startsAt": "parsed as a date", "endsAt": "parsed as a date"}

    class Arguments:
        id = graphene.ID(required=True)
        input = CampaignInput(required=True)
        allow_overlap = graphene.Boolean(default_value=False)

    @classmethod
    def perform(cls, info, id, input, allow_overlap=False):
        change = services.update_campaign(campaign_id=_campaign_id(id), data=_campaign_data(input),
                                          allow_overlap=allow_overlap)
        return cls(campaign=change.campaign, overlaps=change.overlaps)


class CampaignDeactivate(BaseMutation):
    """Switch a campaign off at once (platform staff); prices drop it on the next request."""

    permission = permissions.platform_staff
    campaign = graphene.Field(CampaignNode)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, id):
        return cls(campaign=services.deactivate_campaign(campaign_id=_campaign_id(id)))


class Mutation(graphene.ObjectType):
    campaign_create = CampaignCreate.Field()
    campaign_update = CampaignUpdate.Field()
    campaign_deactivate = CampaignDeactivate.Field()
