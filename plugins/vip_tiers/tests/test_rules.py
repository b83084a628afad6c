"""The pure rules (no database): tiers, earning, reversal rounding that never drifts,
expiry at the local month end (also in a zone with daylight saving), caps and the
segment rule checker."""
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from plugins.vip_tiers import rules

pytestmark = pytest.mark.unit
D = Decimal


def test_the_highest_tier_the_spend_reaches():
    ladder = [rules.TierRule(1, 1, D("500")), rules.TierRule(2, 2, D("2000")), rules.TierRule(3, 3, D("8000"))]
    assert rules.tier_for(D("499.99"), ladder) is None
    assert rules.tier_for(D("500"), ladder).rank == 1
    assert rules.tier_for(D("7999.99"), list(reversed(ladder))).rank == 2
    assert rules.tier_for(D("10000"), ladder).rank == 3


def test_points_are_whole_and_rounded_down_cashback_to_the_cent():
    assert rules.earned_points(D("359.90"), D("1"), D("1")) == 359
    assert rules.earned_points(D("359.90"), D("1"), D("1.5")) == 539  # 539.85
    assert rules.earned_points(D("-5"), D("1"), D("1")) == 0
    assert rules.earned_cashback(D("359.90"), D("3"), D("0"), D("0"), None) == D("10.79")  # 10.797
    assert rules.earned_cashback(D("300"), D("0"), D("20"), D("300"), None) == D("20.00")
    assert rules.earned_cashback(D("299.99"), D("0"), D("20"), D("300"), None) == D("0.00")
    assert rules.earned_cashback(D("5000"), D("5"), D("0"), D("0"), D("50")) == D("50.00")


@pytest.mark.parametrize("refunds", [
    ["100.00", "100.00", "159.90"], ["107.97", "107.97", "143.96"], ["0.01"] * 10 + ["359.80"],
    ["179.95", "179.95"], ["359.90"]])
def test_a_refund_sequence_reverses_exactly_what_was_earned(refunds):
    total, earned = D("359.90"), 359
    reversed_points, refunded = D(0), D(0)
    for amount in refunds:
        refunded += D(amount)
        step = rules.reversal(earned, reversed_points, D(amount) / total, refunded == total, D(1))
        assert step >= 0
        reversed_points += step
    assert refunded == total and reversed_points == earned


def test_the_v4_sequence_reverses_100_100_159():
    steps, done = [], D(0)
    for amount, final in ((D("100"), False), (D("100"), False), (D("159.90"), True)):
        step = rules.reversal(359, done, amount / D("359.90"), final, D(1))
        steps.append(step)
        done += step
    assert steps == [100, 100, 159]


def test_expiry_is_the_end_of_the_twelfth_month_after_local_month():
    shanghai = ZoneInfo("Asia/Shanghai")
    # 2026-02-28 23:30 UTC is already 1 March in Beijing: a March lot.
    expires = rules.month_end_expiry(datetime(2026, 2, 28, 23, 30, tzinfo=timezone.utc), 12)
    assert expires == datetime(2027, 4, 1, tzinfo=shanghai)
    assert rules.month_end_expiry(datetime(2026, 12, 15, tzinfo=timezone.utc), 12) == datetime(2028, 1, 1,
                                                                                                tzinfo=shanghai)
    # In a zone with daylight saving the boundary is still local midnight (CEST -> CET).
    berlin = ZoneInfo("Europe/Berlin")
    boundary = rules.month_end_expiry(datetime(2026, 3, 29, 1, 30, tzinfo=timezone.utc), 6, "Europe/Berlin")
    assert boundary == datetime(2026, 10, 1, tzinfo=berlin)
    assert boundary.utcoffset().total_seconds() == 7200
    assert rules.month_end_expiry(datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc), 0, "Europe/Berlin") == \
        datetime(2026, 11, 1, tzinfo=berlin)


def test_caps_values_and_gate():
    assert rules.redeem_cap(D("150.00"), D("50")) == D("75.00")
    assert rules.redeem_cap(D("99.99"), D("50")) == D("49.99")
    assert rules.points_value(4500, 100) == D("45.00") and rules.points_for_value(D("45.00"), 100) == 4500
    assert rules.points_for_value(D("0.01"), 200) == 2
    now = datetime(2026, 9, 8, tzinfo=timezone.utc)
    below = datetime(2026, 9, 1, tzinfo=timezone.utc)
    assert rules.priced(True, False, below, 7, now - (now - below) / 2) is True
    assert rules.priced(True, False, below, 7, now) is False
    assert rules.program_status(True, False, below, 7, now) == "SUSPENDED"
    assert rules.program_status(True, True, None, 7, now, active=False) == "SUSPENDED"
    assert rules.program_status(False, True, None, 7, now) == "DISABLED"


def test_segment_rules_compile_and_evaluate():
    from plugins.vip_tiers.services.facts import Bulk, Facts, compile_rule

    now = datetime(2026, 9, 8, tzinfo=timezone.utc)
    bulk = Bulk(now=now, universe={1, 2})
    bulk.spend[180] = {1: D("600"), 2: D("100")}
    bulk.vehicles = {1: [{"make": "toyota", "model": "corolla", "year": 2018}]}
    bulk.last_paid = {1: datetime(2026, 9, 1, tzinfo=timezone.utc)}
    rule = compile_rule({"all": [{"fact": "vehicle", "op": "has", "value": {"model": "Corolla", "year_from": 2015}},
                                 {"fact": "net_spend", "op": "gte", "value": 500, "days": 180},
                                 {"not": {"fact": "last_order_days", "op": "gt", "value": 30}}]})
    assert [rule.evaluate(Facts(bulk, uid)) for uid in (1, 2)] == [True, False]
    assert {need for need in rule.needs()} == {("vehicle", None), ("net_spend", 180), ("last_order_days", None)}
    assert [type(c).__name__ for c in rule.children][0] == "Leaf" and rule.children[-1].cost == 2  # vehicle last
