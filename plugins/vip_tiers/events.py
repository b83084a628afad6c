"""Events of the loyalty plugin (registered through `register_events`; webhooks can
subscribe). Scoped to the store (`vendor_id`). Points are ints, cashback Decimal CNY."""
from dataclasses import dataclass
from decimal import Decimal

from marketplace.plugins import Event


@dataclass(frozen=True, kw_only=True)
class PointsEarned(Event):
    name = "points_earned"
    description = ("A sub-order earned points at a store (payload: user_id, order_id, vendor_order_id, points, "
                   "status: pending at payment, available after completion and the return window).")
    user_id: int | None
    order_id: int | None
    vendor_order_id: int
    points: int
    status: str


@dataclass(frozen=True, kw_only=True)
class PointsReversed(Event):
    name = "points_reversed"
    description = "A refund reversed earned points (payload: user_id, order_id, vendor_order_id, points, balance)."
    user_id: int | None
    order_id: int | None
    vendor_order_id: int
    points: int
    balance: int


@dataclass(frozen=True, kw_only=True)
class PointsExpired(Event):
    name = "points_expired"
    description = "Unused points of a lot expired (payload: user_id, points)."
    user_id: int | None
    points: int


@dataclass(frozen=True, kw_only=True)
class CashbackEarned(Event):
    name = "cashback_earned"
    description = ("A sub-order earned cashback at a store (payload: user_id, order_id, vendor_order_id, amount, "
                   "status pending or available).")
    user_id: int | None
    order_id: int | None
    vendor_order_id: int
    amount: Decimal
    status: str


@dataclass(frozen=True, kw_only=True)
class CashbackReversed(Event):
    name = "cashback_reversed"
    description = "A refund reversed earned cashback (payload: user_id, order_id, vendor_order_id, amount, balance)."
    user_id: int | None
    order_id: int | None
    vendor_order_id: int
    amount: Decimal
    balance: Decimal


@dataclass(frozen=True, kw_only=True)
class CashbackExpired(Event):
    name = "cashback_expired"
    description = "Unused cashback of a lot expired (payload: user_id, amount)."
    user_id: int | None
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class TierChanged(Event):
    name = "tier_changed"
    description = ("A customer's VIP tier at a store changed (payload: user_id, from_tier, to_tier (names, empty "
                   "for none), net_spend, reason: upgrade or review).")
    user_id: int | None
    from_tier: str
    to_tier: str
    net_spend: Decimal
    reason: str


@dataclass(frozen=True, kw_only=True)
class VipProgramStatusChanged(Event):
    name = "vip_program_status_changed"
    description = ("A store's VIP programme changed status (payload: status ENABLED, GRACE (below the product "
                   "minimum, tier prices still on), SUSPENDED or DISABLED; product_count).")
    status: str
    product_count: int


@dataclass(frozen=True, kw_only=True)
class VipCampaignSent(Event):
    name = "vip_campaign_sent"
    description = "A store's campaign went out to a segment (payload: campaign_id, recipients, sent, failed)."
    campaign_id: int
    recipients: int
    sent: int
    failed: int


EVENTS = [PointsEarned, PointsReversed, PointsExpired, CashbackEarned, CashbackReversed, CashbackExpired, TierChanged,
          VipProgramStatusChanged, VipCampaignSent]
