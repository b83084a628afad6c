"""Events of the vendors app. Each carries `vendor_id` (its scope)."""
from dataclasses import dataclass

from marketplace.core.events import Event


@dataclass(frozen=True, kw_only=True)
class VendorApplied(Event):
    name = "vendor_applied"
    description = "A member applied to open a vendor (payload: vendor_id, kind)."
    kind: str


@dataclass(frozen=True, kw_only=True)
class VendorApproved(Event):
    name = "vendor_approved"
    description = "Platform staff approved a vendor (payload: vendor_id, kind)."
    kind: str = ""


@dataclass(frozen=True, kw_only=True)
class VendorRejected(Event):
    name = "vendor_rejected"
    description = "Platform staff rejected an application (payload: vendor_id, reason)."
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class VendorSuspended(Event):
    name = "vendor_suspended"
    description = "A vendor was suspended; its products left listings (payload: vendor_id, reason)."
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class VendorReinstated(Event):
    name = "vendor_reinstated"
    description = "A suspended vendor was reinstated (payload: vendor_id)."


@dataclass(frozen=True, kw_only=True)
class VendorClosed(Event):
    name = "vendor_closed"
    description = "A vendor closed (payload: vendor_id, reason)."
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class VendorUpdated(Event):
    name = "vendor_updated"
    description = "A vendor's profile changed (payload: vendor_id)."


@dataclass(frozen=True, kw_only=True)
class VendorStorefrontChanged(Event):
    name = "vendor_storefront_changed"
    description = ("A plugin hid or showed a vendor's storefront (payload: vendor_id, hidden, holds: the "
                   "plugins holding it hidden).")
    hidden: bool
    holds: list


EVENTS = [VendorApplied, VendorApproved, VendorRejected, VendorSuspended, VendorReinstated, VendorClosed,
          VendorUpdated, VendorStorefrontChanged]
