"""Pure calendar rules (no database): durations, local times on DST days, intervals."""
from datetime import date, datetime, timedelta, timezone

import pytest

from plugins.repair_booking import calendar

pytestmark = pytest.mark.unit
BERLIN = calendar.zone("Europe/Berlin")
SHANGHAI = calendar.zone("Asia/Shanghai")


def test_duration_is_labour_plus_buffer_in_whole_slots():
    assert calendar.duration_minutes("0.8", 0, 30) == 60
    assert calendar.duration_minutes("0.5", 0, 30) == 30
    assert calendar.duration_minutes("0.5", 5, 30) == 60
    assert calendar.duration_minutes("3", 0, 15) == 180
    assert calendar.duration_minutes("0.01", 0, 30) == 30


def test_nine_local_is_one_hour_earlier_in_utc_after_the_spring_change():
    assert calendar.to_utc(date(2026, 3, 28), 9 * 60, BERLIN) == datetime(2026, 3, 28, 8, tzinfo=timezone.utc)
    assert calendar.to_utc(date(2026, 3, 29), 9 * 60, BERLIN) == datetime(2026, 3, 29, 7, tzinfo=timezone.utc)
    assert calendar.to_utc(date(2026, 10, 25), 9 * 60, BERLIN) == datetime(2026, 10, 25, 8, tzinfo=timezone.utc)


def test_skipped_and_repeated_local_times():
    assert not calendar.exists(date(2026, 3, 29), 2 * 60 + 30, BERLIN)
    assert calendar.exists(date(2026, 10, 25), 2 * 60 + 30, BERLIN)
    assert calendar.local_instant(datetime(2026, 3, 29, 2, 30), BERLIN) is None
    first = calendar.local_instant(datetime(2026, 10, 25, 2, 30), BERLIN)
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)  # CEST, the first of the two
    starts = [m for m, _ in calendar.starts(date(2026, 10, 25), 0, 6 * 60, 30, BERLIN)]
    assert len(starts) == len(set(starts)) == 12
    spring = [m for m, _ in calendar.starts(date(2026, 3, 29), 0, 6 * 60, 30, BERLIN)]
    assert 150 not in spring and 120 not in spring and len(spring) == 10
    assert calendar.exists(date(2026, 3, 29), 150, SHANGHAI)  # no DST in Beijing


def test_intervals_are_checked_and_exceptions_win():
    assert calendar.clean_intervals([["13:00", "18:00"], ["09:00", "12:00"]]) == [(540, 720), (780, 1080)]
    assert calendar.clean_intervals([["00:00", "24:00"]]) == [(0, 1440)]
    for bad in ([["18:00", "09:00"]], [["09:00", "12:00"], ["11:00", "13:00"]], [["9", "10:00"]],
                [["24:00", "24:00"]], [["09:60", "10:00"]]):
        with pytest.raises(ValueError):
            calendar.clean_intervals(bad)
    weekly = {5: [(540, 1080)]}
    assert calendar.local_intervals(date(2026, 2, 28), weekly, {}) == [(540, 1080)]
    assert calendar.local_intervals(date(2026, 2, 28), weekly, {date(2026, 2, 28): None}) == []
    assert calendar.local_intervals(date(2026, 3, 2), weekly, {date(2026, 3, 2): [(600, 720)]}) == [(600, 720)]


def test_busy_bays():
    bay = calendar.BusyBay(1, "general")
    t = datetime(2026, 3, 2, 2, tzinfo=timezone.utc)
    bay.add(t, t + timedelta(hours=1))
    bay.add(t - timedelta(days=3), t - timedelta(days=2))
    assert not bay.free(t + timedelta(minutes=30), t + timedelta(hours=2))
    assert not bay.free(t - timedelta(minutes=30), t + timedelta(minutes=1))
    assert bay.free(t + timedelta(hours=1), t + timedelta(hours=2))
    assert bay.free(t - timedelta(hours=1), t)
    long = calendar.BusyBay(2, "general")
    long.add(t - timedelta(days=10), t + timedelta(days=10))  # a long block still counts
    assert not long.free(t, t + timedelta(minutes=30))
