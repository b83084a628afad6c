"""Domain events of vendor plans (webhooks can subscribe to them; plugins receive them in
`handle_event`)."""
from dataclasses import dataclass

from marketplace.plugins import Event


@dataclass(frozen=True, kw_only=True)
class VendorSubscriptionStatusChanged(Event):
    name = "vendor_subscription_status_changed"
    description = "A vendor's plan subscription changed status (trialing, active, past_due, canceled, ...)."

    subscription_id: int
    plan: str
    status: str
    previous: str


@dataclass(frozen=True, kw_only=True)
class VendorAccessChanged(Event):
    name = "vendor_access_changed"
    description = "A vendor's access from its plan changed (full, grace, limited, suspended)."

    access: str
    previous: str


EVENTS = [VendorSubscriptionStatusChanged, VendorAccessChanged]
