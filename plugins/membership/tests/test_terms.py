"""The calendar and money rules of terms, as pure functions (also in a zone with DST)."""
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from plugins.membership import terms

SHANGHAI, BERLIN, UTC = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin"), ZoneInfo("UTC")
pytestmark = pytest.mark.unit


def test_a_term_ends_on_the_same_local_date_at_23_59_59():
    start = datetime(2026, 3, 15, 10, 30, tzinfo=SHANGHAI)
    assert terms.term_end(start, 12, SHANGHAI) == datetime(2027, 3, 15, 23, 59, 59, tzinfo=SHANGHAI)
    # Late in the UTC evening it is already the next day in Beijing.
    late = datetime(2026, 3, 15, 17, 0, tzinfo=UTC)
    assert terms.term_end(late, 12, SHANGHAI).astimezone(SHANGHAI).date().isoformat() == "2027-03-16"


def test_leap_day_and_short_months_clamp():
    assert terms.add_months(datetime(2028, 2, 29).date(), 12).isoformat() == "2029-02-28"
    assert terms.add_months(datetime(2026, 1, 31).date(), 1).isoformat() == "2026-02-28"
    assert terms.add_months(datetime(2026, 8, 31).date(), 6).isoformat() == "2027-02-28"
    assert terms.add_months(datetime(2026, 12, 15).date(), 1).isoformat() == "2027-01-15"


def test_terms_across_a_dst_change_keep_local_dates():
    start = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)  # the night after, clocks go forward
    end = terms.term_end(start, 1, BERLIN)
    assert end.astimezone(BERLIN) == datetime(2026, 4, 28, 23, 59, 59, tzinfo=BERLIN)
    assert end.utcoffset().total_seconds() == 0 and end.astimezone(BERLIN).utcoffset().total_seconds() == 7200


def test_renewals_start_at_the_latest_end_only_if_it_is_ahead():
    paid = datetime(2027, 1, 1, tzinfo=UTC)
    later = datetime(2027, 3, 15, 15, 59, 59, tzinfo=UTC)
    assert terms.renewal_start(paid, later) == later
    assert terms.renewal_start(paid, datetime(2026, 12, 1, tzinfo=UTC)) == paid
    assert terms.renewal_start(paid, None) == paid
    back_to_back = terms.term_end(later, 12, SHANGHAI)
    assert back_to_back.astimezone(SHANGHAI) == datetime(2028, 3, 15, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.mark.parametrize("start, end, months", [
    ((2026, 5, 20), (2027, 3, 10), 9), ((2026, 3, 10), (2027, 3, 10), 12), ((2026, 3, 11), (2027, 3, 10), 11),
    ((2027, 3, 10), (2027, 3, 10), 0), ((2027, 4, 1), (2027, 3, 10), 0), ((2026, 1, 31), (2026, 2, 27), 0),
    ((2026, 1, 31), (2026, 2, 28), 1),  # clamped, as terms are (31 Jan + 1 month = 28 Feb)
    ((2026, 1, 31), (2026, 3, 1), 1),
])
def test_whole_months_between(start, end, months):
    assert terms.whole_months_between(datetime(*start, 12, tzinfo=SHANGHAI), datetime(*end, 23, 59, 59,
                                                                                        tzinfo=SHANGHAI),
                                      SHANGHAI) == months


@pytest.mark.parametrize("paid, refunded, used, unused, expected", [
    ("168.00", "0", "0", 3, "168.00"),      # no benefit used: everything back, whatever the months
    ("168.00", "0", "50.00", 9, "76.00"),   # 126.00 - 50.00
    ("168.00", "0", "500.00", 9, "0.00"),   # never below 0
    ("84.00", "0", "10.00", 12, "74.00"),   # a partner-code price
    ("168.00", "100.00", "0", 12, "68.00"),  # never more than what is left
    ("100.00", "0", "0.01", 1, "8.32"),     # 8.333.. rounds half-up first, then the benefit
])
def test_refund_amounts(paid, refunded, used, unused, expected):
    assert terms.refund_amount(Decimal(paid), Decimal(refunded), Decimal(used), unused, 12) == Decimal(expected)


def test_days_left_counts_local_dates_and_month_bounds():
    end = datetime(2027, 3, 15, 23, 59, 59, tzinfo=SHANGHAI)
    assert terms.days_left(datetime(2027, 2, 13, 9, tzinfo=SHANGHAI), end, SHANGHAI) == 30
    assert terms.days_left(datetime(2027, 3, 15, 1, tzinfo=SHANGHAI), end, SHANGHAI) == 0
    start, stop = terms.month_bounds(2026, 12, SHANGHAI)
    assert (start.isoformat(), stop.isoformat()) == ("2026-12-01T00:00:00+08:00", "2027-01-01T00:00:00+08:00")
