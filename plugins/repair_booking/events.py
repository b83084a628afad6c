"""Events of the repair-booking plugin (`register_events`; webhooks can subscribe). The
event's `vendor_id` is the shop."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from marketplace.plugins import Event


@dataclass(frozen=True, kw_only=True)
class BookingConfirmed(Event):
    name = "booking_confirmed"
    description = "A booking was confirmed with its order (payload: booking_id, order_id, user_id, start, end)."
    booking_id: int
    order_id: int
    user_id: int | None
    start: datetime
    end: datetime


@dataclass(frozen=True, kw_only=True)
class BookingCancelled(Event):
    name = "booking_cancelled"
    description = ("A booking was cancelled (payload: booking_id, order_id, status cancelled_by_customer | "
                   "cancelled_late | cancelled_by_shop, by, refund, fee).")
    booking_id: int
    order_id: int
    status: str
    by: str
    refund: Decimal
    fee: Decimal


@dataclass(frozen=True, kw_only=True)
class BookingRescheduled(Event):
    name = "booking_rescheduled"
    description = "A booking moved (payload: booking_id (the new one), previous_booking_id, start, end, by)."
    booking_id: int
    previous_booking_id: int
    start: datetime
    end: datetime
    by: str


@dataclass(frozen=True, kw_only=True)
class BookingCompleted(Event):
    name = "booking_completed"
    description = "The work was done (payload: booking_id, order_id, installed_parts)."
    booking_id: int
    order_id: int
    installed_parts: list


@dataclass(frozen=True, kw_only=True)
class BookingNoShow(Event):
    name = "booking_no_show"
    description = "The customer did not come (payload: booking_id, order_id, refund, fee)."
    booking_id: int
    order_id: int
    refund: Decimal
    fee: Decimal


@dataclass(frozen=True, kw_only=True)
class TowStatusChanged(Event):
    name = "tow_status_changed"
    description = "A tow moved on (payload: tow_id, user_id, status, paid_amount)."
    tow_id: int
    user_id: int
    status: str
    paid_amount: Decimal


EVENTS = [BookingConfirmed, BookingCancelled, BookingRescheduled, BookingCompleted, BookingNoShow, TowStatusChanged]
