"""Renewal reminders 30, 7 and 1 days before the end: Celery beat's daily task on a real
worker, e-mail through Django's mail backend, each reminder sent once."""
import pytest
from django.core import mail

from tests.conftest import wait_for

from .conftest import local


def run_reminders():
    from plugins.membership.tasks import send_renewal_reminders

    return send_renewal_reminders.delay().get(timeout=30)


def reminders_to(email):
    return [m for m in mail.outbox if m.to == [email]]


@pytest.fixture
def grant(plan):
    from plugins.membership.services import memberships

    return lambda user: memberships.grant(user.pk, "annual", "test")


def test_reminders_go_out_30_7_and_1_days_before_the_end_once_each(worker, make_user, grant, frozen_clock):
    member = make_user("li.na@example.com")
    frozen_clock(local(2026, 3, 15, 10, 0))
    grant(member)  # ends 2027-03-15 23:59:59 local
    frozen_clock(local(2027, 2, 12, 9, 0))  # 31 days left
    assert run_reminders() == {"recorded": 0, "sent": 0}
    for day, expected in (((2027, 2, 13, 9, 0), 1), ((2027, 3, 8, 9, 0), 2), ((2027, 3, 14, 9, 0), 3)):
        frozen_clock(local(*day))
        assert run_reminders()["sent"] == 1
        assert run_reminders() == {"recorded": 0, "sent": 0}  # the same day again: nothing new
        wait_for(lambda: len(reminders_to(member.email)) == expected, message=f"reminder {expected}")
    subjects = [m.subject for m in reminders_to(member.email)]
    assert subjects == ["会员将于 2027-03-15 到期 Your membership ends on 2027-03-15"] * 3
    assert "within 30 days" in reminders_to(member.email)[0].body
    assert "within 1 days" in reminders_to(member.email)[2].body
    frozen_clock(local(2027, 3, 16, 9, 0))
    assert run_reminders() == {"recorded": 0, "sent": 0}  # ended: no more


def test_a_member_first_seen_late_gets_only_the_closest_reminder_and_renewed_members_none(
        worker, make_user, grant, frozen_clock):
    from plugins.membership.models import RenewalReminder

    late, renewed = make_user("late@example.com"), make_user("renewed@example.com")
    frozen_clock(local(2026, 3, 15, 10, 0))
    grant(late)
    grant(renewed)
    frozen_clock(local(2027, 1, 1, 10, 0))
    grant(renewed)  # a renewal, scheduled from 2027-03-15
    frozen_clock(local(2027, 3, 10, 9, 0))  # 5 days left
    assert run_reminders() == {"recorded": 2, "sent": 1}
    assert [m.body.count("within 7 days") for m in reminders_to(late.email)] == [1]
    assert reminders_to(renewed.email) == []
    assert sorted(RenewalReminder.objects.values_list("days", "skipped")) == [(7, False), (30, True)]


def test_the_reminder_task_is_on_celery_beat_daily_at_nine_in_beijing():
    from marketplace.plugins.testing import celery_app
    from plugins.membership.tasks import business_now

    app = celery_app()
    entries = app.conf.beat_schedule
    daily = entries["membership-renewal-reminders"]
    assert daily["task"] == "plugins.membership.tasks.send_renewal_reminders"
    assert daily["schedule"].hour == {9} and daily["schedule"].minute == {0}
    assert str(business_now().tzinfo) == "Asia/Shanghai"
    assert entries["membership-expire"]["task"] == "plugins.membership.tasks.expire_memberships"
