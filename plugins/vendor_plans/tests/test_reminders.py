"""Our reminders 30/7/1 days before a trial ends and before each renewal, each sent once,
on the engine clock; notices e-mailed to the vendor's owner and managers once."""
from datetime import timedelta

import pytest
from django.core import mail

from .helpers import DAY, NOW, YEAR, deliver, invoice_event, subscription_event, subscription_of

pytestmark = pytest.mark.django_db


def _reminders():
    from plugins.vendor_plans.notices import send_reminders

    return send_reminders()


def _kinds(sub):
    from plugins.vendor_plans.models import Notice

    return list(Notice.objects.filter(subscription=sub).order_by("pk").values_list("kind", "key"))


def test_trial_reminders_30_7_1_days_before_each_once(owner, billing, client, frozen_clock):
    frozen_clock(NOW)
    shop = owner("repair_shop")
    shop.start("shop_yearly")
    sub = subscription_of(shop.vendor.pk)
    trial_end = NOW + YEAR
    deliver(client, subscription_event("created", sub, "trialing", NOW, trial_end=trial_end))
    assert _reminders() == 0
    frozen_clock(trial_end - 31 * DAY)
    assert _reminders() == 0
    frozen_clock(trial_end - 29 * DAY)
    assert _reminders() == 1
    assert _reminders() == 0  # the same day again: already sent
    frozen_clock(trial_end - 20 * DAY)
    assert _reminders() == 0
    frozen_clock(trial_end - 6 * DAY - timedelta(hours=12))
    assert _reminders() == 1
    frozen_clock(trial_end - timedelta(hours=20))
    assert _reminders() == 1
    assert _reminders() == 0
    frozen_clock(trial_end + DAY)
    assert _reminders() == 0
    keys = [key for kind, key in _kinds(sub) if kind == "reminder_trial_end"]
    assert [k.rsplit(":", 1)[1] for k in keys] == ["30", "7", "1"]


def test_renewal_reminders_and_a_missed_30_day_mark(owner, billing, client, frozen_clock):
    frozen_clock(NOW)
    vendor = owner("parts_vendor")
    vendor.start("storefront_yearly", "WALLET")
    sub = subscription_of(vendor.vendor.pk)
    renewal = NOW + YEAR
    deliver(client, subscription_event("created", sub, "active", NOW, period=(NOW, renewal),
                                       collection="send_invoice"))
    frozen_clock(renewal - 5 * DAY)  # the beat was down for the 30-day mark: only the 7-day one now
    assert _reminders() == 1
    from plugins.vendor_plans.models import Notice

    notice = Notice.objects.get(subscription=sub, kind="reminder_renewal")
    assert notice.key.endswith(":7") and "Alipay or WeChat Pay" in notice.body
    # The renewal invoice, payable by wallet: reminded before its due date (no retries).
    finalized = invoice_event("finalized", sub, "in_wallet_2", renewal, period=(renewal, renewal + YEAR),
                              collection="send_invoice")
    finalized["data"]["object"]["due_date"] = int((renewal + 14 * DAY).timestamp())
    deliver(client, finalized)
    frozen_clock(renewal + 8 * DAY)
    assert _reminders() == 1 and _reminders() == 0
    due = Notice.objects.get(subscription=sub, kind="invoice_due")
    assert due.key == "invoice_due:in_wallet_2:7" and "https://invoice.stripe.com/i/in_wallet_2" in due.body
    deliver(client, invoice_event("paid", sub, "in_wallet_2", renewal + 9 * DAY, period=(renewal, renewal + YEAR),
                                  collection="send_invoice"))
    frozen_clock(renewal + 13 * DAY + timedelta(hours=12))
    assert _reminders() == 0  # paid: nothing more
    frozen_clock(NOW)
    # Cancelled at period end: no renewal to remind of.
    deliver(client, subscription_event("updated", sub, "active", NOW + DAY, period=(NOW, renewal),
                                       cancel_at_period_end=True))
    frozen_clock(renewal - timedelta(hours=10))
    assert _reminders() == 0


def test_notices_are_mailed_once_to_owner_and_managers(owner, billing, client, frozen_clock, make_user, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    frozen_clock(NOW)
    vendor = owner("parts_vendor")
    vendor.start("storefront_yearly")
    sub = subscription_of(vendor.vendor.pk)
    from marketplace.plugins.vendors import StaffRole
    from marketplace.vendors.models import VendorStaff

    VendorStaff.objects.create(vendor=vendor.vendor, user=make_user("manager@shop.example.com"),
                               role=StaffRole.MANAGER)
    VendorStaff.objects.create(vendor=vendor.vendor, user=make_user("clerk@shop.example.com"), role=StaffRole.STAFF)
    failed = invoice_event("payment_failed", sub, "in_fail", NOW, attempt_count=1, next_attempt=NOW + 3 * DAY)
    deliver(client, failed)
    deliver(client, invoice_event("payment_failed", sub, "in_fail", NOW + 3 * DAY, attempt_count=2,
                                  next_attempt=None))
    from plugins.vendor_plans.models import Notice
    from plugins.vendor_plans.tasks import send_notice

    notices = list(Notice.objects.filter(subscription=sub).order_by("pk"))
    assert [n.kind for n in notices] == ["payment_failed", "payment_final"]
    assert send_notice(notices[0].pk) == "sent to 2"
    assert send_notice(notices[0].pk) == "sent already"
    (message,) = mail.outbox
    assert sorted(message.to) == sorted([vendor.vendor.owner.email, "manager@shop.example.com"])
    assert "attempt 1" in message.subject and "https://invoice.stripe.com/i/in_fail" not in message.body
    send_notice(notices[1].pk)
    assert "https://invoice.stripe.com/i/in_fail" in mail.outbox[1].body  # the final notice links the invoice


def test_beat_entries_run_on_the_business_clock():
    from plugins.vendor_plans.hooks import celery_beat_schedule

    entries = celery_beat_schedule()
    assert entries["vendor-plans-sweep"] == {"task": "vendor_plans.sweep", "schedule": 300.0}
    reminders = entries["vendor-plans-reminders"]
    assert reminders["task"] == "vendor_plans.reminders"
    schedule = reminders["schedule"]
    assert schedule.hour == {9} and schedule.minute == {30}
    assert str(schedule.nowfun().tzinfo) == "Asia/Shanghai"
    import pickle

    assert pickle.loads(pickle.dumps(reminders))["schedule"] == schedule  # beat keeps its schedule in a shelve
    from marketplace.plugins.testing import celery_app

    app = celery_app()  # what a worker does at start: autodiscovery finds tasks.py
    assert "vendor_plans.reminders" in app.tasks and "vendor_plans.sweep" in app.tasks
