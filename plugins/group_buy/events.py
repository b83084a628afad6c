"""Events the group-buy plugin emits (after the transaction that made the change commits).
Webhooks can subscribe to them like core events."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from marketplace.plugins import Event


@dataclass(frozen=True, kw_only=True)
class DealStatusChanged(Event):
    name = "group_deal_status_changed"
    description = "A group deal changed state (payload: deal_id, product_id, status)."
    deal_id: int
    product_id: int
    status: str


@dataclass(frozen=True, kw_only=True)
class GroupOpened(Event):
    name = "group_opened"
    description = "A leader paid and a group opened (payload: group_id, deal_id, leader_id, expires_at)."
    group_id: int
    deal_id: int
    leader_id: int
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class GroupSucceeded(Event):
    name = "group_succeeded"
    description = "A group filled: its members' orders go to fulfilment (payload: group_id, deal_id, paid_count)."
    group_id: int
    deal_id: int
    paid_count: int


@dataclass(frozen=True, kw_only=True)
class GroupFailed(Event):
    name = "group_failed"
    description = ("A group failed (not filled in time) or was dissolved; its members are refunded "
                   "(payload: group_id, deal_id, status, reason).")
    group_id: int
    deal_id: int
    status: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class MemberRefunded(Event):
    name = "group_member_refunded"
    description = "The gateway confirmed a group member's refund (payload: member_id, group_id, amount)."
    member_id: int
    group_id: int | None
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class VoucherRedeemed(Event):
    name = "voucher_redeemed"
    description = "A service voucher was verified at its shop (payload: voucher_id, deal_id)."
    voucher_id: int
    deal_id: int


@dataclass(frozen=True, kw_only=True)
class VoucherRefunded(Event):
    name = "voucher_refunded"
    description = "The gateway confirmed a voucher's refund (payload: voucher_id, deal_id, amount)."
    voucher_id: int
    deal_id: int
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class AlertRaised(Event):
    name = "group_buy_alert_raised"
    description = "Platform staff must act on a group-buy refund or capture (payload: alert_id, kind, message)."
    alert_id: int
    kind: str
    message: str


EVENTS = [DealStatusChanged, GroupOpened, GroupSucceeded, GroupFailed, MemberRefunded, VoucherRedeemed,
          VoucherRefunded, AlertRaised]
