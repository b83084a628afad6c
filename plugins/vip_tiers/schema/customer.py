"""GraphQL for customers: their tier, points and cashback per store with history, a
store's public programme, and redeeming points or cashback in the cart."""
from __future__ import annotations

from decimal import Decimal

import graphene

from marketplace.plugins.graphql import (
    BaseMutation, CheckoutType, Money, VendorType, cart_owner, decode_id, money, permissions,
)

from ..models import VipAccount, VipProgram
from ..services import programs, redemption
from .types import CNY, VipAccountType, VipProgramType


def _vendor_pk(vendor_id, field="vendor_id"):
    return int(decode_id(vendor_id, VendorType, field=field))


def program_for(vendor_pk):
    """The store's programme, or an unsaved DISABLED one for a store that has none."""
    return VipProgram.objects.select_related("vendor").filter(vendor_id=vendor_pk).first() or \
        VipProgram(vendor_id=vendor_pk, protection_days=programs.platform_settings().protection_days)


class CustomerQuery(graphene.ObjectType):
    my_vip_accounts = graphene.List(graphene.NonNull(VipAccountType), required=True,
                                    description="The signed-in customer's tier, points and cashback at every store "
                                                "they ordered from, newest first.")
    my_vip_account = graphene.Field(VipAccountType, vendor_id=graphene.ID(required=True),
                                    description="The signed-in customer's account at one store (null: none yet).")
    vip_program = graphene.Field(VipProgramType, vendor_id=graphene.ID(required=True),
                                 description="A store's VIP programme: tiers, benefits and rules (public).")

    @staticmethod
    @permissions.login_required
    def resolve_my_vip_accounts(root, info):
        return list(VipAccount.objects.select_related("vendor").filter(user=info.context.user)
                    .order_by("-updated_at", "-pk"))

    @staticmethod
    @permissions.login_required
    def resolve_my_vip_account(root, info, vendor_id):
        return VipAccount.objects.select_related("vendor").filter(user=info.context.user,
                                                                  vendor_id=_vendor_pk(vendor_id)).first()

    @staticmethod
    def resolve_vip_program(root, info, vendor_id):
        from marketplace.plugins.errors import NotFound
        from marketplace.plugins.vendors import vendor_info

        pk = _vendor_pk(vendor_id)
        if vendor_info(pk) is None:
            raise NotFound("Vendor not found.", field="vendor_id")
        return program_for(pk)


class VipRedeem(BaseMutation):
    """Pay part of this cart's goods from one store with that store's points and/or
    cashback (an order tender: it lowers what the payment gateway is asked for). Give the
    most you want to use; 0 clears. What applies is capped by `maxRedeemPercent` of the
    store's goods and by every line's price floor: `pointsUsed` says how many points the
    order will take (e.g. 4 500 of 10 000 asked) and is never an error. Refusals: more
    than your balance (LIMIT_EXCEEDED on `points`/`cashback`), a store with nothing in
    the cart (INVALID on `vendorId`), a debt (INVALID_STATE), a negative amount or NaN
    (INVALID). The points are taken when the order is placed."""

    permission = cart_owner()
    checkout = graphene.Field(CheckoutType)
    points_asked = graphene.Int()
    cashback_asked = graphene.Field(Money)
    points_used = graphene.Int(description="Points the order will take, as the cart stands now.")
    points_value = graphene.Field(Money, description="What those points pay.")
    cashback_used = graphene.Field(Money)

    class Arguments:
        token = graphene.UUID(required=True)
        vendor_id = graphene.ID(required=True, description="The store whose points and cashback pay.")
        points = graphene.Int(description="Most points to use (0 clears).")
        cashback = graphene.Decimal(description="Most cashback to use, CNY (0 clears).")

    @classmethod
    def perform(cls, info, instance, token, vendor_id, points=None, cashback=None):
        from marketplace.plugins.checkout import cart_lines

        user = permissions.current_user(info)
        user = user if permissions.is_authenticated(user) else None
        vendor_pk = _vendor_pk(vendor_id)
        asked = redemption.set_request(instance, user, vendor_pk, points=points, cashback=cashback,
                                       lines=cart_lines(token, user))
        instance.refresh_from_db()
        used = _applied(token, user, vendor_pk)
        per_cny = programs.platform_settings().points_per_cny
        points_value = used.get("points", Decimal("0"))
        return cls(checkout=instance, points_asked=asked["points"],
                   cashback_asked=money(Decimal(asked["cashback"]), CNY),
                   points_used=int(points_value * per_cny), points_value=money(points_value, CNY),
                   cashback_used=money(used.get("cashback", Decimal("0")), CNY))


def _applied(token, user, vendor_pk):
    """{asset: CNY applied} of this store's tenders as the cart stands now."""
    from marketplace.plugins.checkout import cart_adjustments

    found = {}
    for item in cart_adjustments(token, user):
        parsed = redemption.parse_source(item.source)
        if parsed and parsed[1] == vendor_pk:
            found[parsed[0]] = item.applied
    return found


class CustomerMutation(graphene.ObjectType):
    vip_redeem = VipRedeem.Field()
