"""GraphQL of towing: members request, cancel and pay; platform staff dispatch."""
from __future__ import annotations

import graphene

from marketplace.plugins.graphql import BaseMutation, ConnectionField, Money, decode_id, money, permissions

from ..lookups import shop_of
from ..models import TowRequest
from ..services import towing
from .types import TowRequestNode, TowStatusEnum, value_of


class PickupInput(graphene.InputObjectType):
    class Meta:
        name = "TowPickupInput"

    lat = graphene.Float(required=True)
    lon = graphene.Float(required=True)
    address = graphene.String()
    wgs84 = graphene.Boolean(default_value=False, description="The point is GPS (WGS-84): converted to GCJ-02.")


class TowQuote(graphene.ObjectType):
    distance_km = graphene.Decimal(required=True)
    list_amount = graphene.Field(Money, required=True)
    free_km = graphene.Decimal(required=True)
    free_amount = graphene.Field(Money, required=True)
    paid_amount = graphene.Field(Money, required=True, description="What you would pay (the part beyond your free "
                                                                   "tow, or all of it).")
    member = graphene.Boolean(required=True)


def _pickup(pickup):
    lat, lon = float(pickup["lat"]), float(pickup["lon"])
    if pickup.get("wgs84"):
        lat, lon = towing.wgs84_to_gcj02(lat, lon)
    return lat, lon


class TowQueryFields(graphene.ObjectType):
    tow_quote = graphene.Field(TowQuote, shop_id=graphene.ID(required=True), pickup=PickupInput(required=True),
                               description="What a tow to this shop would cost you now.")
    tow_requests = ConnectionField(TowRequestNode, status=TowStatusEnum(),
                                   description="Every tow, newest first (platform staff: the dispatcher).")

    @staticmethod
    @permissions.login_required
    def resolve_tow_quote(root, info, shop_id, pickup):
        lat, lon = _pickup(pickup)
        offer = towing.quote(info.context.user.pk, lat, lon, shop_of(int(decode_id(shop_id, "Vendor", "shop_id"))))
        m = lambda v: money(v, "CNY")  # noqa: E731
        return TowQuote(distance_km=offer["distance_km"], list_amount=m(offer["list_amount"]), free_km=offer["free_km"],
                        free_amount=m(offer["free_amount"]), paid_amount=m(offer["paid_amount"]),
                        member=offer["member"])

    @staticmethod
    @permissions.staff_required
    def resolve_tow_requests(root, info, status=None, **kwargs):
        qs = TowRequest.objects.select_related("shop__vendor").order_by("-pk")
        return qs.filter(status=value_of(status)) if status is not None else qs


class TowRequestCreate(BaseMutation):
    """Ask for a tow to a partner shop (members; one at a time). Free within your free tows
    and `freeTowingKm`; beyond, you pay the kilometres over after delivery (`towPay`)."""

    permission = permissions.self_service
    text_not_stored = {"address": "kept (first 255 characters) as the pickup address"}
    tow = graphene.Field(TowRequestNode)

    class Arguments:
        shop_id = graphene.ID(required=True)
        pickup = PickupInput(required=True)
        garage_vehicle_id = graphene.ID()

    @classmethod
    def perform(cls, info, shop_id, pickup, garage_vehicle_id=None):
        garage = int(decode_id(garage_vehicle_id, "GarageVehicle", "garage_vehicle_id")) if garage_vehicle_id else None
        if garage is not None:
            from ..lookups import garage_vehicle

            garage_vehicle(info.context.user.pk, garage)
        tow = towing.request(info.context.user, int(decode_id(shop_id, "Vendor", "shop_id")), pickup["lat"],
                             pickup["lon"], pickup.get("address") or "", bool(pickup.get("wgs84")), garage)
        return cls(tow=tow)


def _own_tow():
    return permissions.user_owned(owner_from=lambda tow: tow.user_id)


class TowCancel(BaseMutation):
    """Cancel your tow before the truck is on site (a free tow is given back)."""

    permission = _own_tow()
    lookup = ("id", TowRequestNode)
    tow = graphene.Field(TowRequestNode)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(tow=towing.cancel(instance.pk, info.context.user.pk))


class TowPay(BaseMutation):
    """Pay what a delivered tow costs beyond your free tow (a standalone charge)."""

    permission = _own_tow()
    lookup = ("id", TowRequestNode)
    text_not_stored = {"gateway": "a lookup"}
    client_secret = graphene.String()
    amount = graphene.Field(Money)

    class Arguments:
        id = graphene.ID(required=True)
        gateway = graphene.String(required=True)

    @classmethod
    def perform(cls, info, instance, id, gateway):
        payment = towing.pay(instance.pk, info.context.user, gateway)
        return cls(client_secret=payment.client_secret, amount=money(payment.amount, payment.currency))


class TowAdvance(BaseMutation):
    """The dispatcher moves a tow on (DISPATCHED needs `driver`; FAILED needs `reason`).
    DELIVERED consumes the member's free tow; FAILED gives it back."""

    permission = permissions.platform_staff
    lookup = ("id", TowRequestNode)
    text_not_stored = {"reason": "kept (first 200 characters)"}
    tow = graphene.Field(TowRequestNode)

    class Arguments:
        id = graphene.ID(required=True)
        status = TowStatusEnum(required=True)
        driver = graphene.String()
        reason = graphene.String()

    @classmethod
    def perform(cls, info, instance, id, status, driver="", reason=""):
        return cls(tow=towing.advance(instance.pk, value_of(status), driver or "", reason or ""))


class TowMutation(graphene.ObjectType):
    tow_request = TowRequestCreate.Field()
    tow_cancel = TowCancel.Field()
    tow_pay = TowPay.Field()
    tow_advance = TowAdvance.Field()
