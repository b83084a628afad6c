"""GraphQL for a store's staff (and platform staff): the programme and its tiers, the
store's customers, segments, exports and campaigns. Every field checks the caller works
for the store (PERMISSION_DENIED otherwise); every mutation declares its policy."""
from __future__ import annotations

import graphene
from graphene.types.generic import GenericScalar

from marketplace.plugins.graphql import BaseMutation, ConnectionField, decode_id, permissions, vendor_role
from marketplace.plugins.vendors import ANY_STAFF, MANAGERS, require_vendor_role

from ..models import Campaign, Segment, SegmentExport, SegmentMember, VipAccount, VipTier
from ..services import campaigns, facts, programs, segments
from .customer import _vendor_pk, program_for
from .types import (
    StackingEnum, VipCampaignType, VipCustomerType, VipProgramType, VipSegmentExportType, VipSegmentFact,
    VipSegmentType, VipTierType, export_row,
)


def _staff_of(info, vendor_id, roles=ANY_STAFF, field="vendor_id"):
    pk = _vendor_pk(vendor_id, field)
    require_vendor_role(info, pk, roles)
    return pk


class StoreQuery(graphene.ObjectType):
    vip_customers = ConnectionField(VipCustomerType, vendor_id=graphene.ID(required=True),
                                    tier_rank=graphene.Int(description="Only this tier (0: no tier)."),
                                    segment_id=graphene.ID(description="Only members of this segment."),
                                    description="The store's customers with their tier and balances, highest "
                                                "12-month spend first (the store's staff; contact data masked).")
    vip_segments = graphene.List(graphene.NonNull(VipSegmentType), required=True,
                                 vendor_id=graphene.ID(required=True), description="The store's segments.")
    vip_segment = graphene.Field(VipSegmentType, id=graphene.ID(required=True))
    vip_segment_facts = graphene.List(graphene.NonNull(VipSegmentFact), required=True,
                                      description="What segment rules can test (for a rule builder).")
    vip_campaigns = graphene.List(graphene.NonNull(VipCampaignType), required=True,
                                  vendor_id=graphene.ID(required=True), description="The store's campaigns, newest "
                                                                                    "first.")
    vip_segment_exports = graphene.List(graphene.NonNull(VipSegmentExportType), required=True,
                                        vendor_id=graphene.ID(required=True),
                                        description="Who exported which segment when (the last 100).")

    @staticmethod
    def resolve_vip_customers(root, info, vendor_id, tier_rank=None, segment_id=None, **kwargs):
        pk = _staff_of(info, vendor_id)
        qs = VipAccount.objects.filter(vendor_id=pk, user__isnull=False).order_by("-net_spend", "-pk")
        if tier_rank is not None:
            qs = qs.filter(tier__isnull=True) if tier_rank == 0 else qs.filter(tier__rank=tier_rank)
        if segment_id is not None:
            segment = _segment(info, segment_id, field="segment_id")
            if segment.vendor_id != pk:
                from marketplace.plugins.errors import NotFound

                raise NotFound("Segment not found.", field="segment_id")
            qs = qs.filter(user_id__in=SegmentMember.objects.filter(segment=segment).values("user_id"))
        return qs

    @staticmethod
    def resolve_vip_segments(root, info, vendor_id):
        pk = _staff_of(info, vendor_id)
        return list(Segment.objects.select_related("vendor").filter(vendor_id=pk).order_by("name", "pk"))

    @staticmethod
    def resolve_vip_segment(root, info, id):
        return _segment(info, id)

    @staticmethod
    def resolve_vip_segment_facts(root, info):
        return [VipSegmentFact(name=name, value_kind=kind, operators=list(ops), takes_days=windowed)
                for name, kind, ops, windowed in facts.facts_catalogue()]

    @staticmethod
    def resolve_vip_campaigns(root, info, vendor_id):
        pk = _staff_of(info, vendor_id)
        return list(Campaign.objects.select_related("segment", "segment__vendor").filter(vendor_id=pk))

    @staticmethod
    def resolve_vip_segment_exports(root, info, vendor_id):
        from marketplace.plugins.accounts import user_emails

        pk = _staff_of(info, vendor_id, MANAGERS)
        rows = list(SegmentExport.objects.filter(vendor_id=pk)[:100])
        emails = user_emails({row.user_id for row in rows if row.user_id})
        return [export_row(row, emails) for row in rows]


def _segment(info, global_id, field="id"):
    """The segment, if the caller works for its store: NOT_FOUND / PERMISSION_DENIED."""
    from marketplace.plugins.errors import NotFound

    pk = decode_id(global_id, VipSegmentType, field=field)
    segment = Segment.objects.select_related("vendor").filter(pk=pk).first()
    if segment is None:
        raise NotFound("Segment not found.", field=field)
    require_vendor_role(info, segment.vendor_id, ANY_STAFF)
    return segment


# -- inputs ----------------------------------------------------------------------------------------------
class VipProgramInput(graphene.InputObjectType):
    enabled = graphene.Boolean(description="Switch the programme on (needs the platform's product minimum) or off.")
    stacking = StackingEnum()
    points_enabled = graphene.Boolean()
    earn_points_per_cny = graphene.Decimal()
    cashback_enabled = graphene.Boolean()
    cashback_percent = graphene.Decimal()
    cashback_fixed = graphene.Decimal(description="CNY per sub-order from cashbackThreshold on.")
    cashback_threshold = graphene.Decimal()
    cashback_cap = graphene.Decimal(description="CNY per sub-order; null: no cap.")
    protection_days = graphene.Int()


class VipTierInput(graphene.InputObjectType):
    rank = graphene.Int()
    name_zh = graphene.String()
    name_en = graphene.String()
    threshold = graphene.Decimal(description="Rolling 12-month net spend at the store, CNY.")
    percent_off = graphene.Decimal()
    points_multiplier = graphene.Decimal()


class VipSegmentInput(graphene.InputObjectType):
    name = graphene.String()
    description = graphene.String()
    rule = GenericScalar(description='e.g. {"all": [{"fact": "net_spend", "op": "gte", "value": "500", "days": 180}]}')


class VipCampaignInput(graphene.InputObjectType):
    segment_id = graphene.ID(required=True)
    name = graphene.String(required=True)
    channel = graphene.String(description='"email" (default) or "sms".')
    subject = graphene.String(required=True)
    body = graphene.String(required=True, description="Placeholders: {name} {store} {tier} {points} {cashback}.")


def _data(input, convert=None):
    data = {key: value for key, value in dict(input).items()}
    for key, fn in (convert or {}).items():
        if data.get(key) is not None:
            data[key] = fn(data[key])
    return data


def _enum(value):
    return getattr(value, "value", value)


# -- mutations --------------------------------------------------------------------------------------------
class VipProgramUpdate(BaseMutation):
    """Set up or change the store's programme. `enabled: true` is refused with
    INVALID_STATE below the platform's product minimum (50 active published products;
    the message says how many the store has), ENTITLEMENT_REQUIRED without the plan's
    `vip_tiers` feature. Owner or managers."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    program = graphene.Field(VipProgramType)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = VipProgramInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        pk = _vendor_pk(vendor_id)
        programs.save_program(pk, _data(input, {"stacking": _enum}))
        return cls(program=program_for(pk))


class VipTierCreate(BaseMutation):
    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    tier = graphene.Field(VipTierType)
    program = graphene.Field(VipProgramType)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = VipTierInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        pk = _vendor_pk(vendor_id)
        tier = programs.create_tier(pk, _data(input))
        return cls(tier=tier, program=program_for(pk))


def _tier_vendor(tier):
    return tier.program.vendor_id


class VipTierUpdate(BaseMutation):
    permission = vendor_role(MANAGERS, vendor_from=_tier_vendor)
    lookup = ("id", VipTierType, lambda: VipTier.objects.select_related("program"))
    tier = graphene.Field(VipTierType)

    class Arguments:
        id = graphene.ID(required=True)
        input = VipTierInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(tier=programs.update_tier(instance.pk, _data(input)))


class VipTierDelete(BaseMutation):
    """Remove a tier; its customers move to the highest remaining tier their spend reaches."""

    permission = vendor_role(MANAGERS, vendor_from=_tier_vendor)
    lookup = ("id", VipTierType, lambda: VipTier.objects.select_related("program"))
    program = graphene.Field(VipProgramType)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(program=program_for(programs.delete_tier(instance.pk)))


class VipSegmentCreate(BaseMutation):
    """Save a segment; its members are computed at once. A rule on an unknown fact, a bad
    operator or value is refused naming its place (`rule.all.0.fact`, INVALID)."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    segment = graphene.Field(VipSegmentType)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = VipSegmentInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        return cls(segment=segments.create(_vendor_pk(vendor_id), _data(input), user=permissions.current_user(info)))


def _segment_vendor(segment):
    return segment.vendor_id


class VipSegmentUpdate(BaseMutation):
    permission = vendor_role(MANAGERS, vendor_from=_segment_vendor)
    lookup = ("id", VipSegmentType)
    segment = graphene.Field(VipSegmentType)

    class Arguments:
        id = graphene.ID(required=True)
        input = VipSegmentInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(segment=segments.update(instance, _data(input)))


class VipSegmentDelete(BaseMutation):
    permission = vendor_role(MANAGERS, vendor_from=_segment_vendor)
    lookup = ("id", VipSegmentType)
    deleted = graphene.Boolean()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        segments.delete(instance)
        return cls(deleted=True)


class VipSegmentRecompute(BaseMutation):
    """Recompute a segment's members now (they are also recomputed nightly and on each
    customer's order events)."""

    permission = vendor_role(ANY_STAFF, vendor_from=_segment_vendor)
    lookup = ("id", VipSegmentType)
    segment = graphene.Field(VipSegmentType)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        segments.recompute(instance.vendor_id, [instance.pk])
        instance.refresh_from_db()
        return cls(segment=instance)


class VipSegmentExport(BaseMutation):
    """The segment's members as CSV (personal data: phone and e-mail masked for vendor
    staff; every export is logged with who took it; at most `export_limit_per_hour` per
    store, RATE_LIMITED beyond). Owner or managers."""

    permission = vendor_role(MANAGERS, vendor_from=_segment_vendor)
    lookup = ("id", VipSegmentType)
    csv = graphene.String(description="UTF-8, header row: customer, phone, email, district, tier, net_spend_12m, "
                                      "orders_12m, last_order, points, cashback.")
    rows = graphene.Int()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        user = permissions.current_user(info)
        text, rows = segments.export(instance, user, masked=not user.is_staff,
                                     limit_per_hour=programs.platform_settings().export_limit_per_hour)
        return cls(csv=text, rows=rows)


class VipCampaignCreate(BaseMutation):
    """A draft re-purchase campaign for one of the store's segments."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    text_not_stored = {"segmentId": "a lookup"}
    campaign = graphene.Field(VipCampaignType)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = VipCampaignInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        pk = _vendor_pk(vendor_id)
        data = _data(input)
        segment_pk = decode_id(data.pop("segment_id"), VipSegmentType, field="segment_id")
        data["segment"] = Segment.objects.filter(pk=segment_pk).first()
        return cls(campaign=campaigns.create(pk, data, user=permissions.current_user(info)))


def _campaign_vendor(campaign):
    return campaign.vendor_id


class VipCampaignSend(BaseMutation):
    """Send a draft campaign to its segment's members (queued; each customer gets it once,
    through the `vip_deliver_message` hook: e-mail by default)."""

    permission = vendor_role(MANAGERS, vendor_from=_campaign_vendor)
    lookup = ("id", VipCampaignType)
    campaign = graphene.Field(VipCampaignType)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(campaign=campaigns.start(instance.pk))


def _account_vendor(account):
    return account.vendor_id


class VipBalanceAdjust(BaseMutation):
    """Credit a customer points or cashback from the store's own pocket (a goodwill
    gesture, points for a review), or take available credit back (never below zero:
    LIMIT_EXCEEDED). Written to the ledger as an adjustment with the reason; credit
    expires like earned credit. Give `idempotencyKey` to make a retry safe. Owner or
    managers."""

    permission = vendor_role(MANAGERS, vendor_from=_account_vendor)
    lookup = ("customer_id", VipCustomerType)
    text_not_stored = {"reason": "kept in the ledger entry's memo", "idempotencyKey": "checked, part of a key"}
    customer = graphene.Field(VipCustomerType)

    class Arguments:
        customer_id = graphene.ID(required=True)
        points = graphene.Int(description="Whole points; negative takes back.")
        cashback = graphene.Decimal(description="CNY; negative takes back.")
        reason = graphene.String(required=True)
        idempotency_key = graphene.String()

    @classmethod
    def perform(cls, info, instance, customer_id, reason, points=None, cashback=None, idempotency_key=None):
        import uuid

        from marketplace.plugins.errors import ErrorCode, ValidationError

        from ..models import Asset
        from ..services import balances, inputs

        reason = inputs.text(reason, "reason", 150, required=True)
        key_base = inputs.text(idempotency_key, "idempotency_key", 60) or uuid.uuid4().hex
        changes = []
        if points:
            changes.append((Asset.POINTS, inputs.whole(points, "points", low=-10**8, high=10**8)))
        if cashback:
            changes.append((Asset.CASHBACK, inputs.decimal(cashback, "cashback", low=-10**6, high=10**6)))
        if not changes:
            raise ValidationError("Give points or cashback (not zero).", code=ErrorCode.REQUIRED, field="points")
        if instance.user_id is None:
            raise ValidationError("This customer deleted their account.", code=ErrorCode.INVALID_STATE,
                                  field="customer_id")
        account = instance
        for asset, amount in changes:
            account = balances.adjust(instance.vendor_id, instance.user_id, asset, amount, reason,
                                      key=f"adjust:{instance.pk}:{asset}:{key_base}")
        return cls(customer=account)


class VipCustomerTierSet(BaseMutation):
    """Put a customer in one of the store's tiers (a tier invitation or a correction; rank
    0 removes the tier). The tier is protected like a reached one; later moves follow the
    usual rules. NOT_FOUND on `rank` for a rank the store lacks. Owner or managers."""

    permission = vendor_role(MANAGERS, vendor_from=_account_vendor)
    lookup = ("customer_id", VipCustomerType)
    customer = graphene.Field(VipCustomerType)

    class Arguments:
        customer_id = graphene.ID(required=True)
        rank = graphene.Int(required=True)

    @classmethod
    def perform(cls, info, instance, customer_id, rank):
        from marketplace.plugins.errors import ErrorCode, ValidationError

        from ..services import tiers

        if instance.user_id is None:
            raise ValidationError("This customer deleted their account.", code=ErrorCode.INVALID_STATE,
                                  field="customer_id")
        if rank < 0:
            raise ValidationError("Give a rank of the store's tiers, or 0.", field="rank")
        return cls(customer=tiers.grant(instance.vendor_id, instance.user_id, rank))


class StoreMutation(graphene.ObjectType):
    vip_balance_adjust = VipBalanceAdjust.Field()
    vip_customer_tier_set = VipCustomerTierSet.Field()
    vip_program_update = VipProgramUpdate.Field()
    vip_tier_create = VipTierCreate.Field()
    vip_tier_update = VipTierUpdate.Field()
    vip_tier_delete = VipTierDelete.Field()
    vip_segment_create = VipSegmentCreate.Field()
    vip_segment_update = VipSegmentUpdate.Field()
    vip_segment_delete = VipSegmentDelete.Field()
    vip_segment_recompute = VipSegmentRecompute.Field()
    vip_segment_export = VipSegmentExport.Field()
    vip_campaign_create = VipCampaignCreate.Field()
    vip_campaign_send = VipCampaignSend.Field()
