"""GraphQL for shop staff (owner and managers set up; any staff member checks cars in)
and platform staff: shop set-up, bays, hours, exceptions, blocks, the menu, the calendar,
the booking life cycle. Every mutation declares its vendor policy."""
from __future__ import annotations

from datetime import timedelta

import graphene
from graphene.types.generic import GenericScalar

from marketplace.plugins import clock
from marketplace.plugins.errors import ValidationError
from marketplace.plugins.graphql import BaseMutation, ConnectionField, decode_id, permissions, vendor_role
from marketplace.plugins.vendors import ANY_STAFF, MANAGERS, require_vendor_role

from .. import availability, calendar
from ..lookups import shop_of
from ..models import PartsLeadTime, RepairBay, RepairBayBlock, RepairBooking, RepairService
from ..services import bookings, extra_work, setup
from .types import (
    BayTypeEnum, BookingStatusEnum, RepairBayNode, RepairBookingNode, RepairExtraWorkNode, RepairServiceNode,
    RepairShopType, ServiceCategoryEnum, value_of,
)


def _vendor(vendor_id):
    return int(decode_id(vendor_id, "Vendor", field="vendor_id"))


def _shop(vendor_id):
    return shop_of(_vendor(vendor_id), field="vendor_id")


# -- calendar ---------------------------------------------------------------------------------------------
class CalendarBlock(graphene.ObjectType):
    class Meta:
        name = "RepairBayBlockEntry"

    start = graphene.DateTime(required=True)
    end = graphene.DateTime(required=True)
    reason = graphene.String(required=True)


class CalendarBay(graphene.ObjectType):
    class Meta:
        name = "RepairCalendarBay"

    bay = graphene.Field(RepairBayNode, required=True)
    bookings = graphene.List(graphene.NonNull(RepairBookingNode), required=True)
    blocks = graphene.List(graphene.NonNull(CalendarBlock), required=True)


class CalendarDay(graphene.ObjectType):
    class Meta:
        name = "RepairCalendarDay"

    date = graphene.Date(required=True)
    opening = graphene.List(graphene.NonNull(graphene.List(graphene.NonNull(graphene.String))), required=True)
    bays = graphene.List(graphene.NonNull(CalendarBay), required=True)


def shop_calendar(shop, first, last):
    """Bookings (occupying and finished) and blocks per bay per local day (three queries)."""
    cal = availability.ShopCalendar(shop)
    tz = cal.tz
    start, end = calendar.to_utc(first, 0, tz), calendar.to_utc(last, calendar.DAY, tz)
    bays = list(RepairBay.objects.filter(shop=shop).order_by("pk"))
    rows = list(RepairBooking.objects.filter(shop=shop, start__lt=end, end__gt=start)
                .exclude(status__in=["rescheduled", "released"]).select_related("shop__vendor", "bay"))
    blocks = list(RepairBayBlock.objects.filter(bay__shop=shop, start__lt=end, end__gt=start))
    days = []
    day = first
    while day <= last:
        day_start, day_end = calendar.to_utc(day, 0, tz), calendar.to_utc(day, calendar.DAY, tz)
        entries = []
        for bay in bays:
            entries.append(CalendarBay(
                bay=bay, bookings=[b for b in rows if b.bay_id == bay.pk and b.start < day_end and b.end > day_start],
                blocks=[CalendarBlock(start=k.start, end=k.end, reason=k.reason) for k in blocks
                        if k.bay_id == bay.pk and k.start < day_end and k.end > day_start]))
        days.append(CalendarDay(date=day, bays=entries, opening=[[calendar.format_minute(o), calendar.format_minute(c)]
                                                                   for o, c in cal.intervals(day)]))
        day += timedelta(days=1)
    return days


class StaffQuery(graphene.ObjectType):
    repair_shop_calendar = graphene.List(
        graphene.NonNull(CalendarDay), required=True, vendor_id=graphene.ID(required=True),
        date_from=graphene.Date(), date_to=graphene.Date(description="Inclusive; at most 31 days (default 7)."),
        description="Bookings and blocks per bay per day, in the shop's zone (the shop's staff).")
    repair_bookings = ConnectionField(
        RepairBookingNode, vendor_id=graphene.ID(description="The shop (required for shop staff)."),
        status=BookingStatusEnum(), date_from=graphene.Date(), date_to=graphene.Date(),
        description="Bookings of a shop by start (shop staff), or of every shop (platform staff).")

    @staticmethod
    def resolve_repair_shop_calendar(root, info, vendor_id, date_from=None, date_to=None):
        pk = _vendor(vendor_id)
        require_vendor_role(info, pk, ANY_STAFF)
        shop = shop_of(pk, field="vendor_id")
        calendar.check_year(date_from, "date_from")
        calendar.check_year(date_to, "date_to")
        first = date_from or clock.localtime(clock.now(), shop.timezone).date()
        last = date_to or first + timedelta(days=6)
        if last < first or (last - first).days > 30:
            raise ValidationError("Give at most 31 days, the end after the start.", field="date_to")
        return shop_calendar(shop, first, last)

    @staticmethod
    def resolve_repair_bookings(root, info, vendor_id=None, status=None, date_from=None, date_to=None, **kwargs):
        calendar.check_year(date_from, "date_from")
        calendar.check_year(date_to, "date_to")
        qs = RepairBooking.objects.select_related("shop__vendor", "bay").order_by("start", "pk")
        if vendor_id is None:
            permissions.require_platform_staff(info)
        else:
            pk = _vendor(vendor_id)
            require_vendor_role(info, pk, ANY_STAFF)
            qs = qs.filter(shop__vendor_id=pk)
        if status is not None:
            qs = qs.filter(status=value_of(status))
        if date_from is not None:
            qs = qs.filter(start__date__gte=date_from)
        if date_to is not None:
            qs = qs.filter(start__date__lte=date_to)
        return qs


# -- set-up --------------------------------------------------------------------------------------------------
class RepairShopInput(graphene.InputObjectType):
    timezone = graphene.String(description='IANA zone, default "Asia/Shanghai".')
    labour_rate = graphene.Decimal(description="CNY per hour.")
    slot_minutes = graphene.Int()
    min_notice_minutes = graphene.Int()
    max_advance_days = graphene.Int()
    hold_minutes = graphene.Int()
    cancel_notice_minutes = graphene.Int()
    reschedule_notice_minutes = graphene.Int()
    no_show_after_minutes = graphene.Int()
    allow_overrun_minutes = graphene.Int()
    late_cancel_fee_percent = graphene.Decimal()
    no_show_fee_percent = graphene.Decimal()
    parts_margin_hours = graphene.Int()
    accepting = graphene.Boolean()


def _input(data):
    """An input object as a dict, enum members as their values."""
    return {key: getattr(value, "value", value) for key, value in dict(data).items()}


class RepairShopUpdate(BaseMutation):
    """Create or change a repair shop's (or dealer's) booking set-up (owner, managers)."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    shop = graphene.Field(RepairShopType)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = RepairShopInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        from marketplace.plugins.entitlements import require

        require(_vendor(vendor_id), "booking", field="vendor_id")
        return cls(shop=setup.save_shop(_vendor(vendor_id), _input(input)))


class RepairCategoryRateSet(BaseMutation):
    """A labour rate for one service category (null: the shop's rate)."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    shop = graphene.Field(RepairShopType)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        category = ServiceCategoryEnum(required=True)
        labour_rate = graphene.Decimal()

    @classmethod
    def perform(cls, info, vendor_id, category, labour_rate=None):
        return cls(shop=setup.set_category_rate(_shop(vendor_id), value_of(category), labour_rate))


class WeeklyHoursInput(graphene.InputObjectType):
    class Meta:
        name = "RepairWeeklyHoursInput"

    weekday = graphene.Int(required=True, description="0 = Monday .. 6 = Sunday")
    intervals = graphene.List(graphene.NonNull(graphene.List(graphene.NonNull(graphene.String))), required=True,
                              description='[["09:00", "12:00"], ["13:00", "18:00"]]')


class RepairHoursSet(BaseMutation):
    """Replace the weekly opening hours (local time). Existing bookings never move: those
    the new hours leave uncovered are returned in `conflicts`."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    text_not_stored = {"intervals": "parsed as HH:MM"}
    shop = graphene.Field(RepairShopType)
    conflicts = graphene.List(graphene.NonNull(RepairBookingNode),
                              description="Future bookings the change leaves uncovered (they stay).")

    class Arguments:
        vendor_id = graphene.ID(required=True)
        days = graphene.List(graphene.NonNull(WeeklyHoursInput), required=True)

    @classmethod
    def perform(cls, info, vendor_id, days):
        shop = _shop(vendor_id)
        conflicts = setup.set_weekly_hours(shop, [dict(d) for d in days])
        return cls(shop=shop_of(shop.vendor_id), conflicts=conflicts)


class RepairDateExceptionSet(BaseMutation):
    """A dated exception: `closed` (a holiday), or other hours that day (a short day, a
    make-up working day on a weekend); neither removes it. Returns the bookings left
    uncovered (they stay)."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    text_not_stored = {"intervals": "parsed as HH:MM", "label": "kept (first 100 characters)"}
    shop = graphene.Field(RepairShopType)
    conflicts = graphene.List(graphene.NonNull(RepairBookingNode),
                              description="Future bookings the change leaves uncovered (they stay).")

    class Arguments:
        vendor_id = graphene.ID(required=True)
        date = graphene.Date(required=True)
        closed = graphene.Boolean(default_value=False)
        intervals = graphene.List(graphene.NonNull(graphene.List(graphene.NonNull(graphene.String))))
        label = graphene.String()

    @classmethod
    def perform(cls, info, vendor_id, date, closed=False, intervals=None, label=""):
        calendar.check_year(date, "date")
        shop = _shop(vendor_id)
        conflicts = setup.set_date_exception(shop, date, closed, intervals, label or "")
        return cls(shop=shop_of(shop.vendor_id), conflicts=conflicts)


class RepairBayInput(graphene.InputObjectType):
    name = graphene.String()
    bay_type = BayTypeEnum()
    is_active = graphene.Boolean()


class RepairBayCreate(BaseMutation):
    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    bay = graphene.Field(RepairBayNode)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = RepairBayInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        bay, _ = setup.save_bay(_shop(vendor_id), _input(input))
        return cls(bay=bay)


class RepairBayUpdate(BaseMutation):
    """Rename, retype or (de)activate a bay. Deactivating keeps its bookings and returns
    them in `conflicts`."""

    permission = vendor_role(MANAGERS, vendor_from=lambda bay: bay.shop.vendor_id)
    lookup = ("id", RepairBayNode, lambda: RepairBay.objects.select_related("shop"))
    bay = graphene.Field(RepairBayNode)
    conflicts = graphene.List(graphene.NonNull(RepairBookingNode),
                              description="Future bookings the change leaves uncovered (they stay).")

    class Arguments:
        id = graphene.ID(required=True)
        input = RepairBayInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        bay, conflicts = setup.save_bay(instance.shop, _input(input), bay=instance)
        return cls(bay=bay, conflicts=conflicts)


class RepairBayBlockCreate(BaseMutation):
    """Keep a bay free for a while (UTC instants); bookings already there are returned."""

    permission = vendor_role(MANAGERS, vendor_from=lambda bay: bay.shop.vendor_id)
    lookup = ("id", RepairBayNode, lambda: RepairBay.objects.select_related("shop"))
    text_not_stored = {"reason": "kept (first 200 characters) on the block"}
    conflicts = graphene.List(graphene.NonNull(RepairBookingNode),
                              description="Bookings already in that time (they stay).")

    class Arguments:
        id = graphene.ID(required=True, description="The bay.")
        start = graphene.DateTime(required=True)
        end = graphene.DateTime(required=True)
        reason = graphene.String()

    @classmethod
    def perform(cls, info, instance, id, start, end, reason=""):
        calendar.check_year(start, "start")
        calendar.check_year(end, "end")
        _block, conflicts = setup.block_bay(instance, start, end, reason or "")
        return cls(conflicts=conflicts)


class RepairServiceInput(graphene.InputObjectType):
    code = graphene.String()
    name_zh = graphene.String()
    name_en = graphene.String()
    description_zh = graphene.String()
    description_en = graphene.String()
    category = ServiceCategoryEnum(description="Its labour-rate category.")
    category_id = graphene.ID(description="The catalog Category it is listed in (new services).")
    labour_hours = graphene.Decimal()
    bay_type = BayTypeEnum()
    buffer_minutes = graphene.Int()
    required_part_categories = graphene.List(graphene.NonNull(graphene.ID),
                                             description="Catalog Category IDs: the cart must hold such a part.")
    is_active = graphene.Boolean()


def _service_data(input):
    data = _input(input)
    if data.get("category_id") is not None:
        data["category_id"] = int(decode_id(data["category_id"], "Category", field="category_id"))
    if data.get("required_part_categories") is not None:
        data["required_part_categories"] = [int(decode_id(c, "Category", field=f"required_part_categories.{i}"))
                                            for i, c in enumerate(data["required_part_categories"])]
    return data


class RepairServiceCreate(BaseMutation):
    """Add a service to the menu: a catalog product of the shop (no shipping, no stock)
    whose price is labour hours x the shop's rate."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    text_not_stored = {"descriptionZh": "TextField", "descriptionEn": "TextField"}
    service = graphene.Field(RepairServiceNode)

    class Arguments:
        vendor_id = graphene.ID(required=True)
        input = RepairServiceInput(required=True)

    @classmethod
    def perform(cls, info, vendor_id, input):
        return cls(service=setup.save_service(_shop(vendor_id), _service_data(input)))


class RepairServiceUpdate(BaseMutation):
    permission = vendor_role(MANAGERS, vendor_from=lambda service: service.shop.vendor_id)
    lookup = ("id", RepairServiceNode, lambda: RepairService.objects.select_related("shop", "variant"))
    text_not_stored = {"descriptionZh": "TextField", "descriptionEn": "TextField"}
    service = graphene.Field(RepairServiceNode)

    class Arguments:
        id = graphene.ID(required=True)
        input = RepairServiceInput(required=True)

    @classmethod
    def perform(cls, info, instance, id, input):
        return cls(service=setup.save_service(instance.shop, _service_data(input), service=instance))


class PartsLeadTimeSet(BaseMutation):
    """How fast this seller's parts reach an installer: days to dispatch + days in transit
    (used for the earliest installation slot)."""

    permission = vendor_role(MANAGERS, vendor_from="vendor_id")
    lead_days = graphene.Int()
    shipping_days = graphene.Int()

    class Arguments:
        vendor_id = graphene.ID(required=True)
        lead_days = graphene.Int(required=True)
        shipping_days = graphene.Int(required=True)

    @classmethod
    def perform(cls, info, vendor_id, lead_days, shipping_days):
        if not (0 <= lead_days <= 60 and 0 <= shipping_days <= 60):
            raise ValidationError("Give 0 to 60 days.", field="lead_days")
        row, _ = PartsLeadTime.objects.update_or_create(vendor_id=_vendor(vendor_id), defaults={
            "lead_days": lead_days, "shipping_days": shipping_days})
        return cls(lead_days=row.lead_days, shipping_days=row.shipping_days)


# -- the life cycle ------------------------------------------------------------------------------------------
def _booking_queryset():
    return RepairBooking.objects.select_related("shop__vendor", "bay")


def _shop_policy(roles=MANAGERS):
    return vendor_role(roles, vendor_from=lambda booking: booking.shop.vendor_id)


class _BookingAction(BaseMutation):
    class Meta:
        abstract = True

    lookup = ("id", RepairBookingNode, _booking_queryset)
    booking = graphene.Field(RepairBookingNode)


class BookingCheckIn(_BookingAction):
    """The car arrived (any staff member; from 2 hours before the start)."""

    permission = _shop_policy(ANY_STAFF)

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(booking=bookings.check_in(instance.pk))


class BookingStart(_BookingAction):
    permission = _shop_policy()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(booking=bookings.start_service(instance.pk))


class InstalledPartInput(graphene.InputObjectType):
    part_number = graphene.String(required=True)
    photo_id = graphene.String(description="Evidence: an uploaded photo's id.")


class BookingComplete(_BookingAction):
    """The work is done: the installed part numbers must match the parts sold for this
    booking (or a substitution the customer approved), else INVALID naming
    `installedParts.<i>.partNumber`; the service lines are fulfilled (no carrier)."""

    permission = _shop_policy()
    text_not_stored = {"partNumber": "normalised into installed_parts", "photoId": "kept in installed_parts",
                       "notes": "kept (first 500 characters)"}

    class Arguments:
        id = graphene.ID(required=True)
        installed_parts = graphene.List(graphene.NonNull(InstalledPartInput))
        notes = graphene.String()

    @classmethod
    def perform(cls, info, instance, id, installed_parts=None, notes=""):
        return cls(booking=bookings.complete(instance.pk, [dict(p) for p in installed_parts or []], notes or ""))


class BookingNoShow(_BookingAction):
    """The customer did not come (from `noShowAfterMinutes` after the start): the labour is
    refunded less the shop's no-show fee."""

    permission = _shop_policy()

    class Arguments:
        id = graphene.ID(required=True)

    @classmethod
    def perform(cls, info, instance, id):
        return cls(booking=bookings.no_show(instance.pk))


class BookingShopCancel(_BookingAction):
    """The shop (or platform staff) cancels: CANCELLED_BY_SHOP, the labour refunded in full."""

    permission = _shop_policy()
    text_not_stored = {"reason": "kept (first 200 characters) as the cancel reason"}

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    @classmethod
    def perform(cls, info, instance, id, reason):
        by = "staff" if info.context.user.is_staff else "shop"
        return cls(booking=bookings.cancel(instance.pk, by, reason))


class BookingShopReschedule(_BookingAction):
    """The shop moves a booking (no notice limit); atomic like the customer's."""

    permission = _shop_policy()

    class Arguments:
        id = graphene.ID(required=True)
        start = graphene.DateTime(required=True)

    @classmethod
    def perform(cls, info, instance, id, start):
        return cls(booking=bookings.reschedule(instance.pk, start, "shop"))


class BookingBlockParts(_BookingAction):
    """The parts arrived damaged or do not fit: BLOCKED_PARTS (slot freed); the customer
    reschedules for free."""

    permission = _shop_policy()
    text_not_stored = {"reason": "appended to the booking's notes"}

    class Arguments:
        id = graphene.ID(required=True)
        reason = graphene.String(required=True)

    @classmethod
    def perform(cls, info, instance, id, reason):
        return cls(booking=bookings.block_parts(instance.pk, reason))


class ExtraWorkInput(graphene.InputObjectType):
    class Meta:
        name = "RepairExtraWorkInput"

    description = graphene.String(required=True)
    labour_hours = graphene.Decimal()
    parts_amount = graphene.Decimal()
    replaces_part_number = graphene.String(description="A substitution: the sold part number replaced.")
    substitute_part_number = graphene.String()


class BookingExtraWorkPropose(BaseMutation):
    """Propose extra work or a part substitution while the car is at the shop; the
    customer approves it (and pays it as its own order) or declines."""

    permission = vendor_role(MANAGERS, vendor_from=lambda booking: booking.shop.vendor_id)
    lookup = ("booking_id", RepairBookingNode, _booking_queryset)
    extra_work = graphene.Field(RepairExtraWorkNode)

    class Arguments:
        booking_id = graphene.ID(required=True)
        input = ExtraWorkInput(required=True)

    @classmethod
    def perform(cls, info, instance, booking_id, input):
        data = dict(input)
        return cls(extra_work=extra_work.propose(
            instance.pk, data.get("description"), data.get("labour_hours") or 0, data.get("parts_amount") or 0,
            data.get("replaces_part_number") or "", data.get("substitute_part_number") or ""))


class StaffMutation(graphene.ObjectType):
    repair_shop_update = RepairShopUpdate.Field()
    repair_category_rate_set = RepairCategoryRateSet.Field()
    repair_hours_set = RepairHoursSet.Field()
    repair_date_exception_set = RepairDateExceptionSet.Field()
    repair_bay_create = RepairBayCreate.Field()
    repair_bay_update = RepairBayUpdate.Field()
    repair_bay_block = RepairBayBlockCreate.Field()
    repair_service_create = RepairServiceCreate.Field()
    repair_service_update = RepairServiceUpdate.Field()
    parts_lead_time_set = PartsLeadTimeSet.Field()
    booking_check_in = BookingCheckIn.Field()
    booking_start = BookingStart.Field()
    booking_complete = BookingComplete.Field()
    booking_no_show = BookingNoShow.Field()
    booking_shop_cancel = BookingShopCancel.Field()
    booking_shop_reschedule = BookingShopReschedule.Field()
    booking_block_parts = BookingBlockParts.Field()
    booking_extra_work_propose = BookingExtraWorkPropose.Field()


__all__ = ["StaffQuery", "StaffMutation", "GenericScalar"]
