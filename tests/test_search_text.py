"""Pure functions of the search app: codes, query parsing with synonyms, highlighting,
distances and opening hours (no service needed)."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from marketplace.vendors.opening import DAYS, is_open
from search.text import (
    haversine_km, highlight, looks_like_code, merge_adjacent_tags, normalize_code, opening_ranges, parse_query,
    week_minute,
)

pytestmark = pytest.mark.unit
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("typed", ["04465-02220", "04465 02220", "0446502220", "04465.022/20", "０４４６５－０２２２０",
                                   " 04465_02220 "])
def test_codes_normalise_the_way_people_type_them(typed):
    assert normalize_code(typed) == "0446502220"


def test_what_looks_like_a_code():
    assert looks_like_code("bp-7788") and looks_like_code("04465 02220")
    assert not looks_like_code("bosch") and not looks_like_code("刹车片 123") and not looks_like_code("a1")


SETS = [["刹车片", "制动片", "brake pad"], ["pad", "pads"]]


def test_parse_query_without_synonyms():
    parsed = parse_query("  博世   刹车片 ", [])
    assert (parsed.text, parsed.rest, parsed.groups, parsed.code) == ("博世 刹车片", "博世 刹车片", [], "")


def test_parse_query_expands_synonym_groups():
    parsed = parse_query("博世刹车片", SETS)
    assert parsed.rest == "博世"
    assert parsed.groups == [["刹车片", "制动片", "brake pad"]]
    # The longest term wins; Latin terms match whole words only.
    parsed = parse_query("Front Brake Pad", SETS)
    assert parsed.rest == "front" and parsed.groups == [["brake pad", "刹车片", "制动片"]]
    assert parse_query("padding", SETS).groups == []
    assert parse_query("pads", SETS).groups == [["pads", "pad"]]
    assert parse_query("04465-02220", SETS).code == "0446502220"


def test_highlight_wraps_every_match_case_insensitively():
    assert highlight("Bosch front brake pads", ["BRAKE", "pads"]) == "Bosch front <em>brake</em> <em>pads</em>"
    assert highlight("博世前刹车片", ["刹车片", "刹车"]) == "博世前<em>刹车片</em>"
    assert highlight("Bosch", ["mobil"]) is None
    assert merge_adjacent_tags("<em>刹</em><em>车</em>片") == "<em>刹车</em>片"


def test_haversine_matches_known_distances():
    assert haversine_km(39.9042, 116.4074, 39.9042, 116.4074) == 0
    assert haversine_km(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1067, abs=5)  # Beijing-Shanghai


def test_week_minute_is_in_business_time():
    monday_utc = datetime(2026, 11, 22, 16, 30, tzinfo=timezone.utc)  # Monday 00:30 in Shanghai
    assert week_minute(monday_utc, "Asia/Shanghai") == 30
    assert opening_ranges({"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "sun": [["10:00", "11:00"]]}) == [
        {"gte": 540, "lt": 720}, {"gte": 780, "lt": 1080}, {"gte": 6 * 1440 + 600, "lt": 6 * 1440 + 660}]


times = st.integers(min_value=0, max_value=23 * 60 + 59).map(lambda m: f"{m // 60:02d}:{m % 60:02d}")
ranges = st.tuples(times, times).filter(lambda r: r[0] < r[1]).map(list)
hours = st.dictionaries(st.sampled_from(DAYS), st.lists(ranges, max_size=3), max_size=7)


@hsettings(max_examples=300, deadline=None)
@given(hours=hours, minute_of_week=st.integers(min_value=0, max_value=7 * 1440 - 1))
def test_open_minute_ranges_agree_with_the_vendor_rule(hours, minute_of_week):
    """The index answers "open now" with a range containing the current minute of the
    week; that must agree with marketplace.vendors.opening.is_open at every minute."""
    at = datetime(2026, 11, 23, tzinfo=SHANGHAI) + timedelta(minutes=minute_of_week)  # 23 Nov 2026 is a Monday
    in_range = any(r["gte"] <= week_minute(at, "Asia/Shanghai") < r["lt"] for r in opening_ranges(hours))
    assert in_range == is_open(hours, at)


# -- the database backend's tokens and match expressions --------------------------------------
def test_search_tokens_are_words_and_chinese_windows():
    from search.text import search_tokens

    assert search_tokens("博世刹车片 Bosch 5W-30") == ["博世", "世刹", "刹车", "车片", "博", "世", "刹", "车", "片",
                                                    "bosch", "5w", "30"]
    # descriptions: windows only (a query's lone characters match names, brand, category, type)
    assert search_tokens("刹车片", characters=False) == ["刹车", "车片"]
    assert search_tokens("Ｂｏｓｃｈ　刹") == ["bosch", "刹"]


def test_typo_distance_is_elasticsearchs_auto():
    from search.text import edits_allowed, within_edits

    assert [edits_allowed(w) for w in ("ab", "bosh", "michelen")] == [0, 1, 2]
    assert within_edits("bosh", "bosch", 1) and within_edits("tyer", "tyre", 1)  # a transposition is one edit
    assert within_edits("michelen", "michelin", 2) and not within_edits("bosh", "mobil", 1)


def test_match_plans_render_for_postgresql_fts5_and_like():
    from search.backends import dbtext

    parsed = parse_query("博世刹车片 bosh", [["刹车片", "制动片"]])
    plan = dbtext.match_plan(parsed, {"bosh": ["bosch"]})
    # Every plain word: 博世 (its window, or else its characters) and bosh (itself, a word it
    # begins, or the vocabulary's bosch); one term of the synonym group, as written.
    assert dbtext.to_tsquery(plan) == (
        "((((博世) | (博 & 世)) & (bosh | bosh:* | bosch)) & (((刹车 & 车片)) | ((制动 & 动片))))")
    fts5 = dbtext.fts5_match(plan)
    assert fts5.startswith("({names meta codes} : ") and "OR ({body} : " in fts5 and '"bosh" *' in fts5
    # Ranking terms leave out the single-character fallback.
    assert dbtext.Term("博") not in dbtext.rank_terms(plan) and dbtext.Term("刹车") in dbtext.rank_terms(plan)
    code = dbtext.match_plan(parse_query("04465-02220", []))
    assert dbtext.to_tsquery(code).endswith("| 0446502220)")
