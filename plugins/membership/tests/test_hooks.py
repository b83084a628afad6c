"""The hooks this plugin publishes for other plugins (repair booking, store VIP), called as
they will call them: through `marketplace.plugins.call_hook`."""
from datetime import datetime
from decimal import Decimal

import pytest

from marketplace.plugins import call_hook, has_hook
from marketplace.plugins.errors import ValidationError

from .conftest import local


@pytest.fixture
def a_member(member, plan, frozen_clock):
    from plugins.membership.services import memberships

    frozen_clock(local(2026, 3, 15, 10, 0))
    memberships.grant(member.pk, "annual", "test")
    return member


@pytest.mark.django_db
def test_is_member_and_member_benefits(a_member, make_user, frozen_clock):
    other = make_user("other@example.com")
    assert has_hook("is_member") and has_hook("member_benefits")
    assert call_hook("is_member", user_id=a_member.pk, at=None) is True
    assert call_hook("is_member", user_id=other.pk, at=None) is False
    assert call_hook("is_member", user_id=a_member.pk, at=local(2027, 3, 15, 23, 59, 59)) is True
    assert call_hook("is_member", user_id=a_member.pk, at=local(2027, 3, 16, 0, 0)) is False
    assert call_hook("is_member", user_id=a_member.pk, at=local(2026, 3, 15, 9, 0)) is False
    benefits = call_hook("member_benefits", user_id=a_member.pk, at=None)
    assert benefits == {
        "membership_id": benefits["membership_id"], "plan": "annual",
        "starts_at": local(2026, 3, 15, 10, 0), "ends_at": local(2027, 3, 15, 23, 59, 59),
        "parts_discount_percent": Decimal("5.00"), "labour_discount_percent": Decimal("20.00"),
        "free_towing_per_term": 2, "free_towing_km": 30, "free_towing_used": 0, "free_towing_left": 2,
        "savings_this_term": Decimal("0.00")}
    assert call_hook("member_benefits", user_id=other.pk, at=None) is None


@pytest.mark.django_db
def test_free_tows_are_counted_per_term_idempotent_and_released(a_member, frozen_clock):
    from marketplace.plugins.ledger import account_total, is_balanced

    first = call_hook("record_member_benefit", user_id=a_member.pk, benefit="towing", reference="booking:7",
                      value=Decimal("180.00"), at=None)
    assert first["free_towing_left"] == 1
    assert call_hook("record_member_benefit", user_id=a_member.pk, benefit="towing", reference="booking:7",
                     value=Decimal("180.00"), at=None)["use_id"] == first["use_id"]  # a retry records once
    call_hook("record_member_benefit", user_id=a_member.pk, benefit="towing", reference="booking:8", value=None,
              at=None)
    with pytest.raises(ValidationError) as refused:
        call_hook("record_member_benefit", user_id=a_member.pk, benefit="towing", reference="booking:9",
                  value=None, at=None)
    assert (refused.value.code, refused.value.field) == ("LIMIT_EXCEEDED", "benefit")
    assert account_total("towing_partner_payable") == Decimal("380.00")  # 180 + the 200 default list cost
    assert call_hook("release_member_benefit", benefit="towing", reference="booking:8") is True
    assert call_hook("release_member_benefit", benefit="towing", reference="booking:8") is False
    assert account_total("towing_partner_payable") == Decimal("180.00") and is_balanced()
    assert call_hook("member_benefits", user_id=a_member.pk, at=None)["free_towing_left"] == 1
    # Unused tows do not carry over: a renewal's term starts with its own allowance.
    from plugins.membership.services import memberships

    memberships.grant(a_member.pk, "annual", "renewal")
    frozen_clock(local(2027, 3, 16, 8, 0))
    assert call_hook("member_benefits", user_id=a_member.pk, at=None)["free_towing_left"] == 2


@pytest.mark.django_db
def test_labour_discounts_and_refusals(a_member, make_user):
    labour = call_hook("record_member_benefit", user_id=a_member.pk, benefit="labour", reference="booking:3",
                       value=Decimal("36.00"), at=None)
    assert labour["benefit"] == "labour" and labour["value"] == Decimal("36.00")
    cases = [
        (dict(user_id=make_user("x@example.com").pk, benefit="towing", reference="b", value=None), "NOT_FOUND",
         "user_id"),
        (dict(user_id=a_member.pk, benefit="car_wash", reference="b", value=None), "INVALID", "benefit"),
        (dict(user_id=a_member.pk, benefit="labour", reference="b", value=None), "REQUIRED", "value"),
        (dict(user_id=a_member.pk, benefit="labour", reference="b", value=Decimal("NaN")), "INVALID", "value"),
        (dict(user_id=a_member.pk, benefit="labour", reference="b", value=Decimal("-1")), "INVALID", "value"),
        (dict(user_id=a_member.pk, benefit="labour", reference=" ", value=Decimal("1")), "INVALID", "reference"),
    ]
    for arguments, code, field in cases:
        with pytest.raises(ValidationError) as refused:
            call_hook("record_member_benefit", at=None, **arguments)
        assert (refused.value.code, refused.value.field) == (code, field), arguments


@pytest.mark.django_db
def test_hooks_answer_none_while_the_plugin_is_off(a_member, staff_gql):
    staff_gql.mutate('mutation { pluginUpdate(name: "membership", input: {active: false}) { errors { code } } }')
    assert call_hook("is_member", user_id=a_member.pk, at=None) is None
    assert call_hook("member_benefits", user_id=a_member.pk, at=None) is None


@pytest.mark.django_db
def test_membership_events_are_registered_for_webhooks(gql):
    from marketplace.plugins.events import event_types

    names = set(event_types())
    assert {"membership_activated", "membership_expired", "membership_refunded", "membership_revoked",
            "partner_code_redeemed"} <= names


@pytest.mark.django_db
def test_terms_follow_local_dates_in_a_zone_with_daylight_saving(member, plan, settings, frozen_clock):
    from zoneinfo import ZoneInfo

    from plugins.membership.services import memberships

    settings.TIME_ZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    frozen_clock(datetime(2026, 7, 1, 12, 0, tzinfo=berlin))  # summer time (UTC+2)
    granted = memberships.grant(member.pk, "annual", "dst")
    assert granted.ends_at == datetime(2027, 7, 1, 23, 59, 59, tzinfo=berlin)
    frozen_clock(datetime(2027, 3, 28, 1, 30, tzinfo=berlin))  # the night clocks go forward
    renewal = memberships.grant(member.pk, "annual", "renewal")
    assert renewal.starts_at == granted.ends_at
    assert renewal.ends_at.astimezone(berlin) == datetime(2028, 7, 1, 23, 59, 59, tzinfo=berlin)
    assert call_hook("is_member", user_id=member.pk, at=datetime(2027, 7, 1, 23, 59, 0, tzinfo=berlin)) is True
    assert call_hook("is_member", user_id=member.pk, at=datetime(2028, 7, 2, 0, 0, 1, tzinfo=berlin)) is False
