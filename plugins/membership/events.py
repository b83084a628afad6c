"""Events of the membership plugin (registered through `register_events`; webhooks can
subscribe to them). Amounts are Decimals, times aware datetimes (strings in payloads)."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from marketplace.plugins import Event


@dataclass(frozen=True, kw_only=True)
class MembershipActivated(Event):
    name = "membership_activated"
    description = ("A membership was paid (or granted): payload membership_id, user_id, plan, status (active, or "
                   "scheduled for a renewal), starts_at, ends_at, order_id (None for a grant).")
    membership_id: int
    user_id: int | None
    plan: str
    status: str
    starts_at: datetime
    ends_at: datetime
    order_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class MembershipExpired(Event):
    name = "membership_expired"
    description = "A membership's term ended (payload: membership_id, user_id, plan, ends_at)."
    membership_id: int
    user_id: int | None
    plan: str
    ends_at: datetime


@dataclass(frozen=True, kw_only=True)
class MembershipRefunded(Event):
    name = "membership_refunded"
    description = ("Platform staff refunded a membership; its benefits ended (payload: membership_id, user_id, "
                   "amount, benefits_used).")
    membership_id: int
    user_id: int | None
    amount: Decimal
    benefits_used: Decimal


@dataclass(frozen=True, kw_only=True)
class MembershipRevoked(Event):
    name = "membership_revoked"
    description = "Platform staff revoked a membership (payload: membership_id, user_id, reason)."
    membership_id: int
    user_id: int | None
    reason: str


@dataclass(frozen=True, kw_only=True)
class PartnerCodeRedeemed(Event):
    name = "partner_code_redeemed"
    description = ("A partner code was used in a paid order (payload: code, partner_id, membership_id, order_id, "
                   "discount).")
    code: str
    partner_id: int
    membership_id: int
    order_id: int
    discount: Decimal


EVENTS = [MembershipActivated, MembershipExpired, MembershipRefunded, MembershipRevoked, PartnerCodeRedeemed]
