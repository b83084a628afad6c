"""Domain events for plugins: define your own (subclass `Event`, return the classes from
the `register_events` hook), emit them with `emit(MyEvent(...))`, and receive every event in
the `handle_event` hook (compare with `isinstance(event, OrderPaid)`).

The core's events are importable from here.
"""
from marketplace.accounts.events import PasswordChanged, UserEmailConfirmed, UserRegistered
from marketplace.catalog.events import ProductCreated, ProductDeleted, ProductUpdated
from marketplace.core.events import Event, PluginUpdated, emit, event_types
from marketplace.orders.events import (
    OrderCancelled, OrderCompleted, OrderCreated, OrderFulfilled, OrderPaid, OrderRefunded, VendorOrderCompleted,
)
from marketplace.payments.events import PaymentCaptured, PaymentFailed, RefundFailed, RefundSucceeded
from marketplace.vendors.events import (
    VendorApplied, VendorApproved, VendorClosed, VendorRejected, VendorReinstated, VendorStorefrontChanged,
    VendorSuspended, VendorUpdated,
)

__all__ = [
    "Event", "emit", "event_types", "PluginUpdated", "UserRegistered", "UserEmailConfirmed", "PasswordChanged",
    "ProductCreated", "ProductUpdated", "ProductDeleted", "OrderCreated", "OrderPaid", "OrderFulfilled",
    "OrderCompleted", "VendorOrderCompleted", "OrderCancelled", "OrderRefunded", "PaymentCaptured", "PaymentFailed",
    "RefundSucceeded", "RefundFailed", "VendorApplied", "VendorApproved", "VendorRejected", "VendorSuspended",
    "VendorReinstated", "VendorClosed", "VendorUpdated", "VendorStorefrontChanged",
]
