"""GraphQL for members (and anonymous carts where it makes sense): the shop and its menu,
free slots, holds, booking through the normal checkout (or `bookingCreate`, which holds
and places the order in one call), my bookings, cancel, reschedule, extra work."""
from __future__ import annotations

from datetime import timedelta

import graphene

from marketplace.plugins import clock
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError
from marketplace.plugins.graphql import (
    BaseMutation, CheckoutType, ConnectionField, Money, cart_owner, decode_id, money, permissions,
)

from .. import availability, calendar
from ..lookups import bookable_shop, services_of_variants, shop_of
from ..models import RepairBooking, RepairExtraWork, RepairService, TowRequest
from ..services import bookings, extra_work, holds
from .types import (
    BookingStatusEnum, RepairBookingNode, RepairExtraWorkNode, RepairHoldType, RepairShopType, RepairSlot,
    RepairSlotDay, RepairSlots, TowRequestNode, value_of,
)

MAX_RANGE_DAYS = 31


def _user(info):
    user = permissions.current_user(info)
    return user if permissions.is_authenticated(user) else None


def _vendor_pk(global_id, field="shop_id"):
    return int(decode_id(global_id, "Vendor", field=field))


def resolve_slots(info, shop_id=None, service_ids=None, checkout_token=None, date_from=None, date_to=None,
                  garage_vehicle_id=None, install_parts=False):
    """See `Query.repair_slots`."""
    user = _user(info)
    now = clock.now()
    earliest = None
    if checkout_token is not None:
        booking = holds.cart_booking(str(checkout_token), user)
        if booking is None:
            raise ValidationError("The cart holds no service.", code=ErrorCode.REQUIRED, field="checkout_token")
        shop, need = booking.shop, booking.need
        if shop_id is not None and _vendor_pk(shop_id) != shop.vendor_id:
            raise ValidationError("The cart's services are from another shop.", field="shop_id")
        if install_parts and booking.part_lines:
            earliest = booking.parts_ready_at(now)
        if garage_vehicle_id is not None:
            holds.check_vehicle_and_parts(booking, user, _garage_pk(garage_vehicle_id), install_parts)
        owner = availability.Owner(checkout_token=str(checkout_token), user_id=user.pk if user else None)
    else:
        if shop_id is None or not service_ids:
            raise ValidationError("Give a shop and its services, or a cart.", code=ErrorCode.REQUIRED,
                                  field="service_ids")
        shop = bookable_shop(_vendor_pk(shop_id))
        pks = [int(decode_id(s, "RepairService", field=f"service_ids.{i}")) for i, s in enumerate(service_ids)]
        services = list(RepairService.objects.select_related("shop").filter(pk__in=pks, shop=shop, is_active=True))
        if len(services) != len(set(pks)):
            raise NotFound("Not a service of this shop.", field="service_ids")
        need = availability.requirement(services, slot_minutes=shop.slot_minutes)
        if garage_vehicle_id is not None:
            from ..lookups import fitment, garage_vehicle

            car = garage_vehicle(user.pk if user else None, _garage_pk(garage_vehicle_id))
            fits = fitment([s.variant_id for s in services], car["vehicle_id"], car["year"])
            for index, service in enumerate(services):
                if fits.get(service.variant_id) is False:
                    raise ValidationError(f"{service.name_zh} is not offered for your {car['label']}.",
                                          field=f"service_ids.{index}")
        owner = availability.Owner(user_id=user.pk if user else None)
    shop_calendar = availability.ShopCalendar(shop)
    calendar.check_year(date_from, "date_from")
    calendar.check_year(date_to, "date_to")
    first = date_from or shop_calendar.local_date(now)
    last = date_to or first + timedelta(days=6)
    if last < first:
        raise ValidationError("The range ends before it starts.", field="date_to")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValidationError(f"Ask for at most {MAX_RANGE_DAYS} days at a time.", field="date_to")
    slots = availability.free_slots(shop_calendar, need, first, last, now, earliest=earliest, owner=owner)
    days = {}
    for slot in slots:
        days.setdefault(slot.day, []).append(RepairSlot(
            start=slot.start, end=slot.end, local_time=f"{slot.local_minute // 60:02d}:{slot.local_minute % 60:02d}",
            free_bays=len(slot.bay_ids)))
    return RepairSlots(shop=shop, timezone=shop.timezone, bay_type=need.bay_type, duration_minutes=need.minutes,
                       earliest_start=earliest.astimezone(calendar.UTC) if earliest else None, days=[RepairSlotDay(date=d, slots=s) for d, s in sorted(days.items())],
                       first_free=slots[0].start if slots else None)


def _garage_pk(global_id, field="garage_vehicle_id"):
    return int(decode_id(global_id, "GarageVehicle", field=field)) if global_id is not None else None


class Query(graphene.ObjectType):
    repair_shop = graphene.Field(RepairShopType, shop_id=graphene.ID(required=True),
                                 description="A shop's booking set-up and menu (by its Vendor ID).")
    repair_slots = graphene.Field(
        RepairSlots, shop_id=graphene.ID(description="The shop's Vendor ID (with serviceIds)."),
        service_ids=graphene.List(graphene.NonNull(graphene.ID), description="RepairService IDs (one bay type)."),
        checkout_token=graphene.UUID(description="Instead of services: the cart's services (and, with "
                                                 "installParts, not before its parts reach the shop)."),
        date_from=graphene.Date(description="The shop's local date (default today)."),
        date_to=graphene.Date(description="Inclusive (default 6 days on); at most 31 days."),
        garage_vehicle_id=graphene.ID(description="Check the services (and parts) fit this car."),
        install_parts=graphene.Boolean(default_value=False, description="Deliver the cart's parts to the shop."),
        description="Free start times: a bay of the right type free for the whole service, within the shop's rules. "
                    "Your own hold never hides a slot from you.")
    my_repair_bookings = ConnectionField(RepairBookingNode, status=BookingStatusEnum(),
                                         description="The signed-in member's bookings, latest start first.")
    my_tow_requests = graphene.List(graphene.NonNull(TowRequestNode), required=True,
                                    description="The signed-in member's tows, newest first.")

    @staticmethod
    def resolve_repair_shop(root, info, shop_id):
        try:
            return shop_of(_vendor_pk(shop_id))
        except NotFound:
            return None

    @staticmethod
    def resolve_repair_slots(root, info, **kwargs):
        return resolve_slots(info, **kwargs)

    @staticmethod
    @permissions.login_required
    def resolve_my_repair_bookings(root, info, status=None, **kwargs):
        qs = RepairBooking.objects.filter(user=info.context.user).select_related("shop__vendor", "bay") \
            .order_by("-start", "-pk")
        if status is not None:
            qs = qs.filter(status=value_of(status))
        return qs

    @staticmethod
    @permissions.login_required
    def resolve_my_tow_requests(root, info):
        return TowRequest.objects.filter(user=info.context.user).select_related("shop__vendor").order_by("-pk")[:50]


# -- mutations -----------------------------------------------------------------------------------------
class BookingHold(BaseMutation):
    """Keep a start time for the cart's services (one shop) while checking out
    (`holdMinutes`, default 5); call again to move or refresh it. `start` is a UTC instant
    from `repairSlots`, or a local wall-clock time of the shop without an offset. With
    `installParts` the cart's parts are delivered to the shop (their sellers' shipping
    address becomes the shop's) and the start must be after they arrive. Errors: `start`
    INVALID (past, too soon, outside hours, a local time that does not exist) or
    SLOT_TAKEN; `garageVehicleId` NOT_FOUND (not your car); `lines.<i>` INVALID (does not
    fit your car) or REQUIRED (a service needs its parts)."""

    permission = cart_owner()
    hold = graphene.Field(RepairHoldType)
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)
        start = graphene.DateTime(required=True)
        garage_vehicle_id = graphene.ID()
        install_parts = graphene.Boolean(default_value=False)

    @classmethod
    def perform(cls, info, instance, token, start, garage_vehicle_id=None, install_parts=False):
        hold = holds.place_hold(str(token), _user(info), start, _garage_pk(garage_vehicle_id), install_parts)
        instance.refresh_from_db()
        return cls(hold=hold, checkout=instance)


class BookingHoldRelease(BaseMutation):
    """Give the cart's held slot back."""

    permission = cart_owner()
    released = graphene.Boolean()
    checkout = graphene.Field(CheckoutType)

    class Arguments:
        token = graphene.UUID(required=True)

    @classmethod
    def perform(cls, info, instance, token):
        released = holds.release_hold(str(token), _user(info))
        instance.refresh_from_db()
        return cls(released=released, checkout=instance)


class BookingCreate(BaseMutation):
    """Book in one step: hold `start` for the cart (as `bookingHold`), then place the order
    through the normal checkout (as `checkoutComplete`: the hold becomes a CONFIRMED booking
    in the same transaction) and, with `gateway`, start paying. SLOT_TAKEN (field `start`
    or `lines`) when someone else has the slot: nothing is written."""

    permission = cart_owner()
    booking = graphene.Field(RepairBookingNode)
    order_id = graphene.ID()
    order_number = graphene.String()
    amount_due = graphene.Field(Money)
    client_secret = graphene.String(description="The payment's client secret (with `gateway`).")

    class Arguments:
        token = graphene.UUID(required=True)
        start = graphene.DateTime(required=True)
        garage_vehicle_id = graphene.ID()
        install_parts = graphene.Boolean(default_value=False)
        gateway = graphene.String(description='e.g. "stripe" or "dev"')
        expected_total = graphene.Decimal()

    text_not_stored = {"gateway": "a lookup"}

    @classmethod
    def perform(cls, info, instance, token, start, garage_vehicle_id=None, install_parts=False, gateway=None,
                expected_total=None):
        from marketplace.plugins.checkout import complete
        from marketplace.plugins.errors import MarketplaceError
        from marketplace.plugins.graphql import to_error_list
        from marketplace.plugins.payments import pay

        user = _user(info)
        holds.place_hold(str(token), user, start, _garage_pk(garage_vehicle_id), install_parts)
        order = complete(str(token), user, expected_total=expected_total)
        booking = RepairBooking.objects.select_related("shop__vendor", "bay").filter(order_id=order.order_id) \
            .order_by("-pk").first()
        payload = cls(booking=booking, order_id=graphene.relay.Node.to_global_id("Order", order.order_id),
                      order_number=order.number, amount_due=money(order.amount_due, order.currency), errors=[])
        if gateway and order.amount_due > 0:
            try:
                payload.client_secret = pay(order.order_id, gateway).client_secret
            except MarketplaceError as exc:
                payload.errors = to_error_list(exc)
        return payload


def _own_booking():
    return permissions.user_owned(owner_from=lambda booking: booking.user_id)


def _booking_queryset():
    return RepairBooking.objects.select_related("shop__vendor", "bay")


class BookingCancel(BaseMutation):
    """Cancel your booking: at least the shop's cancellation notice ahead ->
    CANCELLED_BY_CUSTOMER, the labour refunded in full; later -> CANCELLED_LATE under the
    shop's policy (`lateCancelFeePercent` kept). An unpaid order is cancelled instead.
    `refundParts`: parts delivered for it and not shipped yet are refunded too."""

    permission = _own_booking()
    lookup = ("id", RepairBookingNode, _booking_queryset)
    text_not_stored = {"reason": "kept (first 200 characters) as the cancel reason"}
    booking = graphene.Field(RepairBookingNode)

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String()
        refund_parts = graphene.Boolean(default_value=False)

    @classmethod
    def perform(cls, info, instance, id, reason="", refund_parts=False):
        booking = bookings.cancel(instance.pk, "customer", reason or "", refund_parts=refund_parts,
                                  user_id=info.context.user.pk)
        return cls(booking=booking)


class BookingReschedule(BaseMutation):
    """Move your booking to another free start (at least the shop's reschedule notice
    before the current one; any time while it waits for parts). The new slot is taken
    before the old one is released, in one transaction: the result is the new booking, or
    an error with nothing changed."""

    permission = _own_booking()
    lookup = ("id", RepairBookingNode, _booking_queryset)
    booking = graphene.Field(RepairBookingNode, description="The new booking.")

    class Arguments:
        id = graphene.ID(required=True)
        start = graphene.DateTime(required=True)

    @classmethod
    def perform(cls, info, instance, id, start):
        return cls(booking=bookings.reschedule(instance.pk, start, "customer", user_id=info.context.user.pk))


class BookingExtraWorkDecide(BaseMutation):
    """Approve or decline extra work (or a part substitution) the shop proposed. Approved
    work that costs something is added to your cart (`checkoutToken`) to be paid as its own
    order; nothing is ever added to what you already paid."""

    permission = permissions.user_owned(owner_from=lambda work: work.booking.user_id)
    lookup = ("id", RepairExtraWorkNode, lambda: RepairExtraWork.objects.select_related("booking"))
    extra_work = graphene.Field(RepairExtraWorkNode)

    class Arguments:
        id = graphene.ID(required=True)
        approve = graphene.Boolean(required=True)
        checkout_token = graphene.UUID()

    @classmethod
    def perform(cls, info, instance, id, approve, checkout_token=None):
        user = info.context.user
        work = extra_work.decide(instance.pk, user.pk, approve, str(checkout_token) if checkout_token else None,
                                 user=user)
        return cls(extra_work=work)


class Mutation(graphene.ObjectType):
    booking_hold = BookingHold.Field()
    booking_hold_release = BookingHoldRelease.Field()
    booking_create = BookingCreate.Field()
    booking_cancel = BookingCancel.Field()
    booking_reschedule = BookingReschedule.Field()
    booking_extra_work_decide = BookingExtraWorkDecide.Field()


__all__ = ["Query", "Mutation", "services_of_variants"]
