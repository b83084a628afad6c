"""Types shared by the member and staff APIs, and the fields added to core types
(`Vendor.repairShop`, `ProductVariant.repairService`)."""
from __future__ import annotations

import graphene
from graphene.types.generic import GenericScalar
from graphene_django import DjangoObjectType

from marketplace.plugins.graphql import (
    CountableConnection, Money, ProductVariantNode, VendorType, money, permissions, then,
)
from marketplace.plugins.vendors import ANY_STAFF, has_vendor_role

from .. import calendar
from ..dataloaders import (
    BaysByShopLoader, ExceptionsByShopLoader, ExtraWorkByBookingLoader, RatesByShopLoader, RulesByShopLoader,
    ServiceByVariantLoader, ServicesByShopLoader, ShopByVendorLoader,
)
from ..models import (
    BayType, BookingStatus, ExtraWorkStatus, RepairBay, RepairBooking, RepairExtraWork, RepairHold, RepairService,
    RepairShop, ServiceCategory, TowRequest, TowStatus,
)

BayTypeEnum = graphene.Enum("RepairBayType", [(c.name, c.value) for c in BayType])
ServiceCategoryEnum = graphene.Enum("RepairServiceCategory", [(c.name, c.value) for c in ServiceCategory])
BookingStatusEnum = graphene.Enum("RepairBookingStatus", [(c.name, c.value) for c in BookingStatus])
ExtraWorkStatusEnum = graphene.Enum("RepairExtraWorkStatus", [(c.name, c.value) for c in ExtraWorkStatus])
TowStatusEnum = graphene.Enum("TowStatus", [(c.name, c.value) for c in TowStatus])


def value_of(enum_value):
    """The plain string of a graphene or Django enum member (or the string itself)."""
    return str(getattr(enum_value, "value", enum_value))


def may_manage(info, vendor_id, roles=ANY_STAFF):
    return has_vendor_role(permissions.current_user(info), vendor_id, roles)


class WeeklyHours(graphene.ObjectType):
    class Meta:
        name = "RepairWeeklyHours"

    weekday = graphene.Int(required=True, description="0 = Monday .. 6 = Sunday.")
    intervals = graphene.List(graphene.NonNull(graphene.List(graphene.NonNull(graphene.String))), required=True,
                              description='[["09:00", "12:00"], ["13:00", "18:00"]], the shop\'s local time.')


class DateExceptionType(graphene.ObjectType):
    class Meta:
        name = "RepairDateException"

    date = graphene.Date(required=True)
    closed = graphene.Boolean(required=True)
    intervals = graphene.List(graphene.NonNull(graphene.List(graphene.NonNull(graphene.String))), required=True)
    label = graphene.String(required=True)


class CategoryRateType(graphene.ObjectType):
    class Meta:
        name = "RepairCategoryRate"

    category = ServiceCategoryEnum(required=True)
    labour_rate = graphene.Field(Money, required=True)


class RepairBayNode(DjangoObjectType):
    bay_type = BayTypeEnum(required=True)

    class Meta:
        model = RepairBay
        name = "RepairBay"
        interfaces = (graphene.relay.Node,)
        fields = ("name", "is_active")

    @classmethod
    def get_node(cls, info, id):
        bay = RepairBay.objects.select_related("shop").filter(pk=id).first()
        return bay if bay is not None and may_manage(info, bay.shop.vendor_id) else None

    @staticmethod
    def resolve_bay_type(root, info):
        return value_of(root.bay_type)


class RepairServiceNode(DjangoObjectType):
    category = ServiceCategoryEnum(required=True)
    bay_type = BayTypeEnum(required=True)
    labour_hours = graphene.Decimal(required=True)
    duration_minutes = graphene.Int(required=True, description="On the calendar: labour + buffer, whole slots.")
    list_price = graphene.Field(Money, required=True, description="labour hours x the shop's rate (before "
                                                                  "campaigns and member prices: see variant.price).")
    variant = graphene.Field(ProductVariantNode, required=True, description="Add this to the cart to book it.")
    shop_id = graphene.ID(required=True, description="The shop's Vendor ID.")

    class Meta:
        model = RepairService
        name = "RepairService"
        interfaces = (graphene.relay.Node,)
        fields = ("code", "name_zh", "name_en", "buffer_minutes", "required_part_categories", "is_active")

    @staticmethod
    def resolve_category(root, info):
        return value_of(root.category)

    @staticmethod
    def resolve_bay_type(root, info):
        return value_of(root.bay_type)

    @staticmethod
    def resolve_duration_minutes(root, info):
        return calendar.duration_minutes(root.labour_hours, root.buffer_minutes, root.shop.slot_minutes)

    @staticmethod
    def resolve_list_price(root, info):
        from ..services.setup import list_price

        return then(RatesByShopLoader.for_request(info).load(root.shop_id), lambda rows: money(
            list_price(root.shop, root, {r.category: r.labour_rate for r in rows}), "CNY"))

    @staticmethod
    def resolve_variant(root, info):
        return root.variant

    @staticmethod
    def resolve_shop_id(root, info):
        return graphene.relay.Node.to_global_id("Vendor", root.shop.vendor_id)


class RepairShopType(DjangoObjectType):
    """A repair shop's or dealer's booking set-up (public: what a booking client needs)."""

    vendor = graphene.Field(VendorType, required=True)
    labour_rate = graphene.Field(Money, required=True, description="CNY per labour hour.")
    late_cancel_fee_percent = graphene.Decimal(required=True)
    no_show_fee_percent = graphene.Decimal(required=True)
    weekly_hours = graphene.List(graphene.NonNull(WeeklyHours), required=True)
    date_exceptions = graphene.List(graphene.NonNull(DateExceptionType), required=True,
                                    description="Closures, short days and make-up working days.")
    category_rates = graphene.List(graphene.NonNull(CategoryRateType), required=True)
    services = graphene.List(graphene.NonNull(RepairServiceNode), required=True,
                             description="The menu (active services; shop staff also see inactive ones).")
    bays = graphene.List(graphene.NonNull(RepairBayNode), required=True, description="Shop staff only (else empty).")

    class Meta:
        model = RepairShop
        name = "RepairShop"
        fields = ("timezone", "slot_minutes", "min_notice_minutes", "max_advance_days", "hold_minutes",
                  "cancel_notice_minutes", "reschedule_notice_minutes", "no_show_after_minutes",
                  "allow_overrun_minutes", "parts_margin_hours", "accepting")

    @staticmethod
    def resolve_vendor(root, info):
        return root.vendor

    @staticmethod
    def resolve_labour_rate(root, info):
        return money(root.labour_rate, "CNY")

    @staticmethod
    def resolve_weekly_hours(root, info):
        def build(rules):
            days = {}
            for rule in rules:
                days.setdefault(rule.weekday, []).append([calendar.format_minute(rule.opens),
                                                          calendar.format_minute(rule.closes)])
            return [WeeklyHours(weekday=day, intervals=sorted(days[day])) for day in sorted(days)]

        return then(RulesByShopLoader.for_request(info).load(root.pk), build)

    @staticmethod
    def resolve_date_exceptions(root, info):
        return then(ExceptionsByShopLoader.for_request(info).load(root.pk), lambda rows: [
            DateExceptionType(date=e.date, closed=e.closed, intervals=e.intervals or [], label=e.label)
            for e in sorted(rows, key=lambda e: e.date)])

    @staticmethod
    def resolve_category_rates(root, info):
        return then(RatesByShopLoader.for_request(info).load(root.pk), lambda rows: [
            CategoryRateType(category=value_of(r.category), labour_rate=money(r.labour_rate, "CNY")) for r in rows])

    @staticmethod
    def resolve_services(root, info):
        staff = may_manage(info, root.vendor_id)
        return then(ServicesByShopLoader.for_request(info).load(root.pk),
                    lambda rows: [s for s in rows if staff or s.is_active])

    @staticmethod
    def resolve_bays(root, info):
        if not may_manage(info, root.vendor_id):
            return []
        return BaysByShopLoader.for_request(info).load(root.pk)


class RepairExtraWorkNode(DjangoObjectType):
    status = ExtraWorkStatusEnum(required=True)
    amount = graphene.Field(Money, required=True, description="labour hours x rate + parts (before the member "
                                                              "labour discount).")
    labour_hours = graphene.Decimal(required=True)
    booking_id = graphene.ID(required=True)

    class Meta:
        model = RepairExtraWork
        name = "RepairExtraWork"
        interfaces = (graphene.relay.Node,)
        fields = ("description", "replaces_part_number", "substitute_part_number", "created_at", "decided_at")

    @classmethod
    def get_node(cls, info, id):
        work = RepairExtraWork.objects.select_related("booking__shop").filter(pk=id).first()
        if work is None:
            return None
        user = permissions.current_user(info)
        if permissions.is_authenticated(user) and (work.booking.user_id == user.pk
                                                   or may_manage(info, work.booking.shop.vendor_id)):
            return work
        return None

    @staticmethod
    def resolve_status(root, info):
        return value_of(root.status)

    @staticmethod
    def resolve_amount(root, info):
        return money(root.amount, "CNY")

    @staticmethod
    def resolve_booking_id(root, info):
        return graphene.relay.Node.to_global_id("RepairBooking", root.booking_id)


class RepairBookingNode(DjangoObjectType):
    """A booking: its customer, the shop's staff and platform staff see it."""

    status = BookingStatusEnum(required=True)
    shop = graphene.Field(VendorType, required=True, description="The repair shop or dealer.")
    bay_name = graphene.String(required=True)
    local_start = graphene.String(required=True, description='The start in the shop\'s zone, "YYYY-MM-DD HH:MM".')
    timezone = graphene.String(required=True)
    labour_amount = graphene.Field(Money, required=True, description="What the labour cost (the refund basis).")
    refund_due = graphene.Field(Money, required=True, description="Owed back by the shop's policy.")
    refund_fee = graphene.Field(Money, required=True, description="Kept by the shop's policy.")
    refunded = graphene.Boolean(required=True, description="The refund was made (it may still be pending at the "
                                                           "gateway).")
    installed_parts = GenericScalar(required=True)
    order_id = graphene.ID(required=True, description="The Order's global ID.")
    rescheduled_from_id = graphene.ID()
    extra_work = graphene.List(graphene.NonNull(RepairExtraWorkNode), required=True)
    customer_email = graphene.String(description="Shop staff and platform staff.")

    class Meta:
        model = RepairBooking
        name = "RepairBooking"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("start", "end", "vehicle_label", "order_number", "notes", "checked_in_at", "started_at",
                  "completed_at", "cancelled_at", "cancel_reason", "created_at")

    @classmethod
    def get_node(cls, info, id):
        booking = RepairBooking.objects.select_related("shop__vendor", "bay").filter(pk=id).first()
        return booking if booking is not None and can_see(info, booking) else None

    @staticmethod
    def resolve_status(root, info):
        return value_of(root.status)

    @staticmethod
    def resolve_shop(root, info):
        return root.shop.vendor

    @staticmethod
    def resolve_bay_name(root, info):
        return root.bay.name

    @staticmethod
    def resolve_local_start(root, info):
        return root.start.astimezone(calendar.zone(root.shop.timezone)).strftime("%Y-%m-%d %H:%M")

    @staticmethod
    def resolve_timezone(root, info):
        return root.shop.timezone

    @staticmethod
    def resolve_labour_amount(root, info):
        return money(root.labour_amount, "CNY")

    @staticmethod
    def resolve_refund_due(root, info):
        return money(root.refund_due, "CNY")

    @staticmethod
    def resolve_refund_fee(root, info):
        return money(root.refund_fee, "CNY")

    @staticmethod
    def resolve_refunded(root, info):
        return bool(root.refund_ids)

    @staticmethod
    def resolve_installed_parts(root, info):
        return root.installed_parts or []

    @staticmethod
    def resolve_order_id(root, info):
        return graphene.relay.Node.to_global_id("Order", root.order_id)

    @staticmethod
    def resolve_rescheduled_from_id(root, info):
        return graphene.relay.Node.to_global_id("RepairBooking", root.rescheduled_from_id) \
            if root.rescheduled_from_id else None

    @staticmethod
    def resolve_extra_work(root, info):
        return ExtraWorkByBookingLoader.for_request(info).load(root.pk)

    @staticmethod
    def resolve_customer_email(root, info):
        return root.email if may_manage(info, root.shop.vendor_id) else None


def can_see(info, booking):
    user = permissions.current_user(info)
    return permissions.is_authenticated(user) and (booking.user_id == user.pk or may_manage(info, booking.shop.vendor_id))


class RepairHoldType(DjangoObjectType):
    class Meta:
        model = RepairHold
        name = "RepairHold"
        fields = ("start", "end", "expires_at", "install_parts")


class RepairSlot(graphene.ObjectType):
    start = graphene.DateTime(required=True, description="UTC instant (pass it to bookingHold).")
    end = graphene.DateTime(required=True)
    local_time = graphene.String(required=True, description='"HH:MM" in the shop\'s zone.')
    free_bays = graphene.Int(required=True)


class RepairSlotDay(graphene.ObjectType):
    date = graphene.Date(required=True, description="The shop's local date.")
    slots = graphene.List(graphene.NonNull(RepairSlot), required=True)


class RepairSlots(graphene.ObjectType):
    shop = graphene.Field(RepairShopType, required=True)
    timezone = graphene.String(required=True)
    bay_type = BayTypeEnum(required=True)
    duration_minutes = graphene.Int(required=True)
    earliest_start = graphene.DateTime(description="Not before this (the cart's parts reach the shop).")
    days = graphene.List(graphene.NonNull(RepairSlotDay), required=True, description="Days with free starts only.")
    first_free = graphene.DateTime(description="The earliest free start in range.")


class TowRequestNode(DjangoObjectType):
    status = TowStatusEnum(required=True)
    shop = graphene.Field(VendorType, required=True)
    distance_km = graphene.Decimal(required=True)
    free_km = graphene.Decimal(required=True)
    list_amount = graphene.Field(Money, required=True, description="Base + per km x distance.")
    free_amount = graphene.Field(Money, required=True, description="Covered by the member's free tow.")
    paid_amount = graphene.Field(Money, required=True, description="What the member pays (after delivery).")
    pickup_lat = graphene.Float(required=True, description="GCJ-02.")
    pickup_lon = graphene.Float(required=True, description="GCJ-02.")
    paid = graphene.Boolean(required=True)

    class Meta:
        model = TowRequest
        name = "TowRequest"
        interfaces = (graphene.relay.Node,)
        connection_class = CountableConnection
        fields = ("pickup_address", "driver", "failure_reason", "requested_at", "delivered_at")

    @classmethod
    def get_node(cls, info, id):
        tow = TowRequest.objects.select_related("shop__vendor").filter(pk=id).first()
        user = permissions.current_user(info)
        if tow is None or not permissions.is_authenticated(user):
            return None
        return tow if tow.user_id == user.pk or user.is_staff else None

    @staticmethod
    def resolve_status(root, info):
        return value_of(root.status)

    @staticmethod
    def resolve_shop(root, info):
        return root.shop.vendor

    @staticmethod
    def resolve_list_amount(root, info):
        return money(root.list_amount, "CNY")

    @staticmethod
    def resolve_free_amount(root, info):
        return money(root.free_amount, "CNY")

    @staticmethod
    def resolve_paid_amount(root, info):
        return money(root.paid_amount, "CNY")

    @staticmethod
    def resolve_pickup_lat(root, info):
        return float(root.pickup_lat)

    @staticmethod
    def resolve_pickup_lon(root, info):
        return float(root.pickup_lon)

    @staticmethod
    def resolve_paid(root, info):
        return root.paid_at is not None


# -- fields on core types -----------------------------------------------------------------------------
def resolve_vendor_repair_shop(root, info):
    return ShopByVendorLoader.for_request(info).load(root.pk)


def resolve_variant_repair_service(root, info):
    return ServiceByVariantLoader.for_request(info).load(root.pk)


def type_fields():
    return {
        "Vendor": {"repair_shop": graphene.Field(RepairShopType, resolver=resolve_vendor_repair_shop,
                                                 description="Its booking set-up (repair shops and dealers that "
                                                             "take bookings).")},
        "ProductVariant": {"repair_service": graphene.Field(RepairServiceNode, resolver=resolve_variant_repair_service,
                                                            description="The repair service this variant books.")},
    }
