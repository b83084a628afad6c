"""GraphQL for members and shoppers: plans, `myMembership`, the as-member preview
(`ProductVariant.memberPrice`, `membershipOffer`) and partner codes in the cart. Thin:
reads here, writes through services. Staff fields are in `schema_staff.py`."""
from __future__ import annotations

from decimal import Decimal

import graphene
from graphene import relay
from graphene_django import DjangoObjectType

from marketplace.plugins import clock, get_settings
from marketplace.plugins.graphql import (
    BaseMutation, CheckoutType, CountableConnection, DataLoader, Money, Price, ValidationError, cart_owner, money,
    permissions, then,
)

from . import lookups
from .dataloaders import BenefitUsesByMembershipLoader, EmailByUserLoader, RenewalLoader, UsageByMembershipLoader
from .models import BenefitUse, Membership, MembershipPlan, MembershipStatus
from .pricing import ASSUME, LINE_KIND, PLUGIN
from .services import codes, memberships

MembershipStatusEnum = graphene.Enum("MembershipStatus", [(s.name, s.value) for s in MembershipStatus],
                                     description="PENDING: awaiting payment; SCHEDULED: a paid renewal that starts "
                                                 "when the running period ends; VOID: its order was not paid.")
ZERO = Decimal("0.00")


class MembershipBenefits(graphene.ObjectType):
    parts_discount_percent = graphene.Decimal(required=True, description="Off parts (member price), percent.")
    labour_discount_percent = graphene.Decimal(required=True, description="Off repair labour at partner shops.")
    free_towing_per_term = graphene.Int(required=True)
    free_towing_km = graphene.Int(required=True, description="Kilometres covered per free tow.")
    free_towing_used = graphene.Int(description="This term (on a membership; null on a plan).")
    free_towing_left = graphene.Int(description="This term (on a membership; null on a plan).")


def _plan_benefits(plan, used=None):
    return MembershipBenefits(
        parts_discount_percent=plan.parts_discount_percent, labour_discount_percent=plan.labour_discount_percent,
        free_towing_per_term=plan.free_towing_per_term, free_towing_km=plan.free_towing_km,
        free_towing_used=used.towing_count if used is not None else None,
        free_towing_left=max(plan.free_towing_per_term - used.towing_count, 0) if used is not None else None)


class MembershipPlanType(DjangoObjectType):
    """A plan on sale: buy it with a checkout line {kind: "membership", reference: code}."""

    price = graphene.Field(Money, required=True)
    benefits = graphene.Field(MembershipBenefits, required=True)

    class Meta:
        model = MembershipPlan
        name = "MembershipPlan"
        interfaces = (relay.Node,)
        fields = ("code", "name_zh", "name_en", "term_months", "is_active")

    @classmethod
    def get_node(cls, info, id):
        plan = MembershipPlan.objects.filter(pk=id).first()
        if plan is None or (not plan.is_active and not permissions.is_platform_staff(permissions.current_user(info))):
            return None
        return plan

    @staticmethod
    def resolve_price(root, info):
        return money(root.price, root.currency)

    @staticmethod
    def resolve_benefits(root, info):
        return _plan_benefits(root)


class BenefitUseType(DjangoObjectType):
    kind = graphene.String(required=True, description="member_price, towing or labour.")
    value = graphene.Field(Money, required=True, description="CNY; negative rows reverse refunded goods.")

    class Meta:
        model = BenefitUse
        name = "MembershipBenefitUse"
        fields = ("reference", "quantity", "used_at", "released_at")

    @staticmethod
    def resolve_value(root, info):
        return money(root.value, "CNY")


class MembershipType(DjangoObjectType):
    """One period of a member's membership."""

    plan = graphene.Field(MembershipPlanType, required=True)
    status = graphene.Field(MembershipStatusEnum, required=True, description="As of now (by the clock).")
    source = graphene.String(required=True, description="order or grant.")
    price_paid = graphene.Field(Money, required=True)
    list_price = graphene.Field(Money, required=True)
    refunded_amount = graphene.Field(Money, required=True)
    partner_code = graphene.String()
    order_number = graphene.String()
    benefits = graphene.Field(MembershipBenefits, required=True)
    benefits_used = graphene.List(graphene.NonNull(BenefitUseType), required=True,
                                  description="Member-price savings, free tows and labour discounts this term.")
    savings_this_term = graphene.Field(Money, required=True, description="Member prices saved this term (net).")
    renewal = graphene.Field(lambda: MembershipType, description="The paid period scheduled after this one.")
    user_email = graphene.String(description="Platform staff and the member.")

    class Meta:
        model = Membership
        name = "Membership"
        interfaces = (relay.Node,)
        fields = ("starts_at", "ends_at", "created_at", "activated_at", "ended_at", "reason")
        connection_class = CountableConnection

    @classmethod
    def get_node(cls, info, id):
        membership = Membership.objects.select_related("plan").filter(pk=id).first()
        user = permissions.current_user(info)
        if membership is None or not permissions.is_authenticated(user):
            return None
        return membership if user.is_staff or membership.user_id == user.pk else None

    @staticmethod
    def resolve_status(root, info):
        return memberships.display_status(root, clock.now())

    @staticmethod
    def resolve_price_paid(root, info):
        return money(root.price_paid, root.plan.currency)

    @staticmethod
    def resolve_list_price(root, info):
        return money(root.list_price, root.plan.currency)

    @staticmethod
    def resolve_refunded_amount(root, info):
        return money(root.refunded_amount, root.plan.currency)

    @staticmethod
    def resolve_partner_code(root, info):
        return root.partner_code.code if root.partner_code_id else None

    @staticmethod
    def resolve_order_number(root, info):
        return root.order.number if root.order_id else None

    @staticmethod
    def resolve_benefits(root, info):
        return then(UsageByMembershipLoader.for_request(info).load(root.pk),
                    lambda used: _plan_benefits(root.plan, used))

    @staticmethod
    def resolve_benefits_used(root, info):
        return BenefitUsesByMembershipLoader.for_request(info).load(root.pk)

    @staticmethod
    def resolve_savings_this_term(root, info):
        return then(UsageByMembershipLoader.for_request(info).load(root.pk),
                    lambda used: money(used.savings, root.plan.currency))

    @staticmethod
    def resolve_renewal(root, info):
        return RenewalLoader.for_request(info).load((root.pk, root.user_id, root.ends_at))

    @staticmethod
    def resolve_user_email(root, info):
        return EmailByUserLoader.for_request(info).load(root.user_id) if root.user_id else None


class MembershipOffer(graphene.ObjectType):
    """Tuhu's "join and save": what this cart's goods cost as a member."""

    plan = graphene.Field(MembershipPlanType, required=True, description="The plan offered (the default plan).")
    goods_total = graphene.Field(Money, required=True, description="The cart's goods as priced now.")
    goods_total_as_member = graphene.Field(Money, required=True)
    savings = graphene.Field(Money, required=True, description="Member prices on this cart's goods.")
    already_member = graphene.Boolean(required=True, description="Member prices apply already (a member, or the "
                                                                 "cart holds a membership).")


# -- as-member prices on variants --------------------------------------------------------------
class MemberPriceLoader(DataLoader):
    """Prices as a member would pay them (never granted): one pipeline batch per request."""

    def batch_load(self, keys):
        from marketplace.plugins.pricing import explain_variants

        for variant, product in keys:
            variant.product = product
        prices = explain_variants([variant for variant, _ in keys], getattr(self.context, "user", None),
                                  assume={ASSUME})
        return [prices[variant.pk] for variant, _ in keys]


def resolve_member_price(root, info):
    return MemberPriceLoader.for_request(info).load((root, root.product))


def type_fields():
    return {
        "ProductVariant": {
            "member_price": graphene.Field(
                Price, resolver=resolve_member_price,
                description="The unit price as a member pays it: an upsell preview for non-members (asMember), "
                            "never granted (null while the membership plugin is off)."),
        },
    }


# -- queries ------------------------------------------------------------------------------------------
class Query(graphene.ObjectType):
    membership_plans = graphene.List(graphene.NonNull(MembershipPlanType), required=True,
                                     include_inactive=graphene.Boolean(default_value=False,
                                                                       description="Platform staff only."))
    my_membership = graphene.Field(MembershipType, description="The signed-in member's current membership: the "
                                   "running period, else the next scheduled, else one awaiting payment, else the "
                                   "last that ended; null if never a member.")
    my_memberships = graphene.List(graphene.NonNull(MembershipType), required=True,
                                   description="Every period of the signed-in member, newest first (void ones "
                                               "left out).")
    membership_offer = graphene.Field(MembershipOffer, token=graphene.UUID(required=True),
                                      description="What joining saves on this cart (the cart's owner).")

    @staticmethod
    def resolve_membership_plans(root, info, include_inactive=False):
        plans = MembershipPlan.objects.all()
        if include_inactive:
            permissions.require_platform_staff(info)
        else:
            plans = plans.filter(is_active=True)
        return plans

    @staticmethod
    @permissions.login_required
    def resolve_my_membership(root, info):
        return memberships.current(info.context.user.pk)

    @staticmethod
    @permissions.login_required
    def resolve_my_memberships(root, info):
        return (Membership.objects.filter(user=info.context.user).exclude(status=MembershipStatus.VOID)
                .select_related("plan", "partner_code", "order"))

    @staticmethod
    def resolve_membership_offer(root, info, token):
        from marketplace.plugins.checkout import cart_lines

        user = permissions.current_user(info)
        user = user if permissions.is_authenticated(user) else None
        now_lines = cart_lines(token, user)
        member_lines = cart_lines(token, user, assume={ASSUME})
        plan = lookups.plans().get(get_settings(PLUGIN).default_plan)
        if plan is None or not plan.is_active:
            raise ValidationError("No membership plan is on sale.", code="INVALID_STATE", field="token")
        goods = sum((line.total for line in now_lines if line.kind == "product"), ZERO)
        as_member = sum((line.total for line in member_lines if line.kind == "product"), ZERO)
        already = any(a.kind == "membership" for line in now_lines for a in line.unit_price.adjustments)
        saved = sum((-a.amount * line.quantity for line in member_lines for a in line.unit_price.adjustments
                     if a.kind == "membership"), ZERO)
        return MembershipOffer(plan=MembershipPlan.objects.get(pk=plan.plan_id), goods_total=money(goods, "CNY"),
                               goods_total_as_member=money(as_member, "CNY"), savings=money(saved, "CNY"),
                               already_member=already or any(line.kind == LINE_KIND for line in now_lines))


# -- mutations ------------------------------------------------------------------------------------------
def _membership_line(lines):
    return next((line for line in lines if line.kind == LINE_KIND), None)


class PartnerCodeApply(BaseMutation):
    """Apply a partner (driving-school) code to the membership in the cart: the cart's
    membership line gets the code's discount. Without a membership line, the plan named
    by `plan` (default: the default plan) is added with the code. Refusals name the field
    `code` (NOT_FOUND unknown; INVALID expired, not yet valid, used by you, no uses left,
    first membership only; REQUIRED empty). The use is claimed when the order is placed
    and counted when it is paid."""

    permission = cart_owner()
    text_not_stored = {"code": "a lookup", "plan": "a lookup"}
    checkout = graphene.Field(CheckoutType)
    discount = graphene.Field(Money, description="The code's discount on the membership fee.")

    class Arguments:
        token = graphene.UUID(required=True)
        code = graphene.String(required=True)
        plan = graphene.String(description="Plan code when the cart has no membership yet.")

    @classmethod
    def perform(cls, info, instance, token, code, plan=None):
        from marketplace.plugins.checkout import add_line, cart_lines, set_line_metadata

        from .lines import sellable_plan

        user = permissions.require_login(info)
        line = _membership_line(cart_lines(token, user))
        chosen = sellable_plan(line.reference if line else (plan or get_settings(PLUGIN).default_plan), field="plan")
        found = codes.check_usable(code, user.pk)
        if line is None:
            add_line(token, LINE_KIND, reference=chosen.code, metadata={"code": found.code}, user=user)
        else:
            set_line_metadata(token, line.line_id, PLUGIN, {"code": found.code}, user=user)
        line = _membership_line(cart_lines(token, user))
        saved = -sum((a.amount for a in line.unit_price.adjustments if a.kind == "partner_code"), ZERO)
        return cls(checkout=instance, discount=money(saved, "CNY"))


class PartnerCodeRemove(BaseMutation):
    """Take the partner code off the cart's membership (e.g. after INVALID: no uses left)."""

    permission = cart_owner()
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)

    @classmethod
    def perform(cls, info, instance, token):
        from marketplace.plugins.checkout import cart_lines, set_line_metadata

        user = permissions.current_user(info)
        user = user if permissions.is_authenticated(user) else None
        line = _membership_line(cart_lines(token, user))
        if line is None:
            raise ValidationError("The cart holds no membership.", code="NOT_FOUND", field="token")
        set_line_metadata(token, line.line_id, PLUGIN, None, user=user)
        return cls(checkout=instance)


class Mutation(graphene.ObjectType):
    partner_code_apply = PartnerCodeApply.Field()
    partner_code_remove = PartnerCodeRemove.Field()
