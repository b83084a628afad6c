"""GraphQL for platform staff (plans, partners, codes, memberships, refunds, the partner
report) and for vendors (member-price exclusions). Every mutation declares its policy."""
from __future__ import annotations

import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from marketplace.plugins.graphql import (
    BaseMutation, ConnectionField, Money, ProductNode, UserType, decode_id, enum_value, money,
    permissions, vendor_role,
)
from marketplace.plugins.vendors import MANAGERS

from .models import Membership, MembershipPlan, Partner, PartnerCode
from .schema import MembershipPlanType, MembershipStatusEnum, MembershipType
from .services import memberships, refunds, reports, setup


class PartnerType(DjangoObjectType):
    class Meta:
        model = Partner
        name = "MembershipPartner"
        interfaces = (relay.Node,)
        fields = ("name_zh", "name_en", "kind", "contact_name", "contact_phone", "contact_email", "settlement_terms",
                  "is_active", "created_at")

    @classmethod
    def get_node(cls, info, id):
        return Partner.objects.filter(pk=id).first() if permissions.is_platform_staff(
            permissions.current_user(info)) else None


class PartnerCodeType(DjangoObjectType):
    partner = graphene.Field(PartnerType, required=True)
    discount_amount = graphene.Field(Money)
    uses_left = graphene.Int(description="Null: no limit.")

    class Meta:
        model = PartnerCode
        name = "PartnerCode"
        interfaces = (relay.Node,)
        fields = ("code", "discount_percent", "valid_from", "valid_until", "max_redemptions", "held_count",
                  "redeemed_count", "first_term_only", "is_active", "created_at")

    @classmethod
    def get_node(cls, info, id):
        return PartnerCode.objects.filter(pk=id).first() if permissions.is_platform_staff(
            permissions.current_user(info)) else None

    @staticmethod
    def resolve_discount_amount(root, info):
        return money(root.discount_amount, "CNY") if root.discount_amount is not None else None

    @staticmethod
    def resolve_uses_left(root, info):
        if root.max_redemptions is None:
            return None
        return max(root.max_redemptions - root.held_count - root.redeemed_count, 0)


class RefundQuote(graphene.ObjectType):
    class Meta:
        name = "MembershipRefundQuote"

    amount = graphene.Field(Money, required=True, description="What a refund now pays back.")
    full = graphene.Boolean(required=True, description="No benefit used: everything paid comes back.")
    price_paid = graphene.Field(Money, required=True)
    already_refunded = graphene.Field(Money, required=True)
    benefits_used = graphene.Field(Money, required=True)
    savings = graphene.Field(Money, required=True, description="Member prices saved (net of returned goods).")
    towing_count = graphene.Int(required=True)
    towing_value = graphene.Field(Money, required=True, description="Free tows at list cost.")
    labour_value = graphene.Field(Money, required=True)
    unused_months = graphene.Int(required=True)
    term_months = graphene.Int(required=True)


def _quote_type(quote):
    m = lambda value: money(value, "CNY")  # noqa: E731
    return RefundQuote(amount=m(quote.amount), full=quote.full, price_paid=m(quote.price_paid),
                       already_refunded=m(quote.already_refunded), benefits_used=m(quote.benefits_used),
                       savings=m(quote.savings), towing_count=quote.towing_count, towing_value=m(quote.towing_value),
                       labour_value=m(quote.labour_value), unused_months=quote.unused_months,
                       term_months=quote.term_months)


class MembershipRefundType(graphene.ObjectType):
    class Meta:
        name = "MembershipRefundRecord"

    amount = graphene.Field(Money, required=True)
    status = graphene.String(required=True, description="requested, succeeded, failed or nothing_due.")
    created_at = graphene.DateTime(required=True)


class PartnerReportRow(graphene.ObjectType):
    partner = graphene.Field(PartnerType, required=True)
    redemptions = graphene.Int(required=True, description="Paid uses of the partner's codes in the month.")
    list_amount = graphene.Field(Money, required=True)
    discount = graphene.Field(Money, required=True)
    paid_amount = graphene.Field(Money, required=True)
    refunds = graphene.Int(required=True)
    refunded_amount = graphene.Field(Money, required=True)


class PartnerReport(graphene.ObjectType):
    month = graphene.String(required=True, description="YYYY-MM, Asia/Shanghai.")
    rows = graphene.List(graphene.NonNull(PartnerReportRow), required=True)
    csv = graphene.String(required=True, description="The same rows as CSV (UTF-8, header row).")


class StaffQuery(graphene.ObjectType):
    memberships = ConnectionField(MembershipType, status=MembershipStatusEnum(),
                                  user_email=graphene.String(), description="Every membership, newest first "
                                  "(platform staff). `status` filters on the stored status.")
    membership_refund_quote = graphene.Field(RefundQuote, id=graphene.ID(required=True),
                                             description="What refunding this membership now would pay back.")
    membership_partners = graphene.List(graphene.NonNull(PartnerType), required=True)
    partner_codes = graphene.List(graphene.NonNull(PartnerCodeType), required=True, partner_id=graphene.ID())
    partner_report = graphene.Field(PartnerReport, required=True, month=graphene.String(required=True),
                                    partner_id=graphene.ID())

    @staticmethod
    @permissions.staff_required
    def resolve_memberships(root, info, status=None, user_email=None, **kwargs):
        qs = Membership.objects.select_related("plan", "partner_code", "order").order_by("-pk")
        if status is not None:
            qs = qs.filter(status=enum_value(status))
        if user_email:
            from marketplace.plugins.accounts import find_user

            user = find_user(user_email)
            qs = qs.filter(user_id=user.pk if user else -1)
        return qs

    @staticmethod
    @permissions.staff_required
    def resolve_membership_refund_quote(root, info, id):
        return _quote_type(refunds.quote_for(decode_id(id, MembershipType)))

    @staticmethod
    @permissions.staff_required
    def resolve_membership_partners(root, info):
        return Partner.objects.order_by("pk")

    @staticmethod
    @permissions.staff_required
    def resolve_partner_codes(root, info, partner_id=None):
        qs = PartnerCode.objects.select_related("partner").order_by("pk")
        if partner_id is not None:
            qs = qs.filter(partner_id=decode_id(partner_id, PartnerType, field="partner_id"))
        return qs

    @staticmethod
    @permissions.staff_required
    def resolve_partner_report(root, info, month, partner_id=None):
        pk = decode_id(partner_id, PartnerType, field="partner_id") if partner_id is not None else None
        rows = reports.partner_report(month, pk)
        partners = Partner.objects.in_bulk([r.partner_id for r in rows])
        m = lambda value: money(value, "CNY")  # noqa: E731
        return PartnerReport(
            month=rows[0].month if rows else month, csv=reports.as_csv(rows),
            rows=[PartnerReportRow(partner=partners[r.partner_id], redemptions=r.redemptions,
                                   list_amount=m(r.list_amount), discount=m(r.discount), paid_amount=m(r.paid_amount),
                                   refunds=r.refunds, refunded_amount=m(r.refunded_amount)) for r in rows])


# -- inputs -----------------------------------------------------------------------------------------
class MembershipPlanInput(graphene.InputObjectType):
    code = graphene.String(description="New plans: lower-case letters, digits, hyphens (the checkout reference).")
    name_zh = graphene.String()
    name_en = graphene.String()
    price = graphene.Decimal(description="CNY.")
    term_months = graphene.Int()
    parts_discount_percent = graphene.Decimal()
    labour_discount_percent = graphene.Decimal()
    free_towing_per_term = graphene.Int()
    free_towing_km = graphene.Int()
    is_active = graphene.Boolean()
    position = graphene.Int()


class PartnerInput(graphene.InputObjectType):
    class Meta:
        name = "MembershipPartnerInput"

    name_zh = graphene.String()
    name_en = graphene.String()
    kind = graphene.String(description='Default "driving_school".')
    contact_name = graphene.String()
    contact_phone = graphene.String()
    contact_email = graphene.String()
    settlement_terms = graphene.String()
    is_active = graphene.Boolean()


class PartnerCodeInput(graphene.InputObjectType):
    code = graphene.String(description="New codes: 3-40 letters, digits, - or _ (matched in any case).")
    discount_percent = graphene.Decimal()
    discount_amount = graphene.Decimal(description="CNY off the fee.")
    valid_from = graphene.DateTime()
    valid_until = graphene.DateTime(description="Null: no end.")
    max_redemptions = graphene.Int(description="Null: no limit.")
    first_term_only = graphene.Boolean()
    is_active = graphene.Boolean()


def _data(input):
    """Only the keys the client sent (an explicit null stays, meaning "clear")."""
    return {key: value for key, value in dict(input).items()}


# -- staff mutations --------------------------------------------------------------------------------
class MembershipPlanCreate(BaseMutation):
    permission = permissions.platform_staff
    plan = graphene.Field(MembershipPlanType)

    class Arguments:
        input = MembershipPlanInput(required=True)

    @classmethod
    def perform(cls, info, input):
        return cls(plan=setup.save_plan(_data(input)))


class MembershipPlanUpdate(BaseMutation):
    permission = permissions.platform_staff
    lookup = ("id", MembershipPlanType)
    plan = graphene.Field(MembershipPlanType)

    class Arguments:
        id = graphene.ID(required=True)
        input = MembershipPlanInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(plan=setup.save_plan(_data(input), plan_id=instance.pk))


class PartnerCreate(BaseMutation):
    permission = permissions.platform_staff
    text_not_stored = {"settlementTerms": "TextField"}
    partner = graphene.Field(PartnerType)

    class Arguments:
        input = PartnerInput(required=True)

    @classmethod
    def perform(cls, info, input):
        return cls(partner=setup.save_partner(_data(input)))


class PartnerUpdate(BaseMutation):
    permission = permissions.platform_staff
    text_not_stored = {"settlementTerms": "TextField"}
    lookup = ("id", PartnerType)
    partner = graphene.Field(PartnerType)

    class Arguments:
        id = graphene.ID(required=True)
        input = PartnerInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(partner=setup.save_partner(_data(input), partner_id=instance.pk))


class PartnerCodeCreate(BaseMutation):
    permission = permissions.platform_staff
    lookup = ("partner_id", PartnerType)
    partner_code = graphene.Field(PartnerCodeType)

    class Arguments:
        partner_id = graphene.ID(required=True)
        input = PartnerCodeInput(required=True)

    @classmethod
    def perform(cls, info, instance, partner_id, input):
        return cls(partner_code=setup.save_code(_data(input), partner_id=instance.pk))


class PartnerCodeUpdate(BaseMutation):
    permission = permissions.platform_staff
    lookup = ("id", PartnerCodeType)
    partner_code = graphene.Field(PartnerCodeType)

    class Arguments:
        id = graphene.ID(required=True)
        input = PartnerCodeInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(partner_code=setup.save_code(_data(input), code_id=instance.pk))


class MembershipGrant(BaseMutation):
    """Give a member a period of a plan without payment (scheduled after a running one)."""

    permission = permissions.platform_staff
    lookup = ("user_id", UserType)
    text_not_stored = {"plan": "a lookup"}
    membership = graphene.Field(MembershipType)

    class Arguments:
        user_id = graphene.ID(required=True)
        plan = graphene.String(required=True, description="Plan code.")
        reason = graphene.String(required=True)

    @classmethod
    def perform(cls, info, instance, user_id, plan, reason):
        return cls(membership=memberships.grant(instance.pk, plan, reason))


class MembershipRevoke(BaseMutation):
    """End a membership at once (fraud, abuse); nothing is refunded. A reason is required."""

    permission = permissions.platform_staff
    lookup = ("id", MembershipType)
    membership = graphene.Field(MembershipType)

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    @classmethod
    def perform(cls, info, instance, id, reason):
        return cls(membership=memberships.revoke(instance.pk, reason))


class MembershipRefund(BaseMutation):
    """Refund a membership: everything paid when no benefit was used, else the unused whole
    months pro rata minus the benefits consumed (see `membershipRefundQuote`). Its benefits
    end at once; the money goes back through the order's payment."""

    permission = permissions.platform_staff
    lookup = ("id", MembershipType)
    membership = graphene.Field(MembershipType)
    refund = graphene.Field(MembershipRefundType)
    quote = graphene.Field(RefundQuote)

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    @classmethod
    def perform(cls, info, instance, id, reason):
        quote = refunds.quote_for(instance.pk)
        membership, record = refunds.refund(instance.pk, reason, permissions.current_user(info).pk)
        return cls(membership=membership, quote=_quote_type(quote),
                   refund=MembershipRefundType(amount=money(record.amount, "CNY"), status=record.status,
                                               created_at=record.created_at))


class MemberPriceExclusionSet(BaseMutation):
    """A vendor's owner or manager excludes a product from member prices (a loss leader),
    or includes it again."""

    permission = vendor_role(MANAGERS, vendor_from=lambda product: product.vendor_id)
    lookup = ("product_id", ProductNode)
    product = graphene.Field(ProductNode)
    excluded = graphene.Boolean()

    class Arguments:
        product_id = graphene.ID(required=True)
        excluded = graphene.Boolean(required=True)

    @classmethod
    def perform(cls, info, instance, product_id, excluded):
        return cls(product=instance, excluded=setup.set_price_exclusion(instance.pk, excluded))


class StaffMutation(graphene.ObjectType):
    membership_plan_create = MembershipPlanCreate.Field()
    membership_plan_update = MembershipPlanUpdate.Field()
    membership_partner_create = PartnerCreate.Field()
    membership_partner_update = PartnerUpdate.Field()
    partner_code_create = PartnerCodeCreate.Field()
    partner_code_update = PartnerCodeUpdate.Field()
    membership_grant = MembershipGrant.Field()
    membership_revoke = MembershipRevoke.Field()
    membership_refund = MembershipRefund.Field()
    member_price_exclusion_set = MemberPriceExclusionSet.Field()

