"""Renewal reminders by e-mail, `reminder_days` (default 30, 7 and 1) local days before a
membership ends, each sent once.

`run()` (the daily beat task) finds running memberships without a renewal that end
within the longest horizon; for each, the reminders now due are recorded once (a unique
row per membership and day count). Only the closest due one is sent: a member first
seen 5 days before the end gets the 7-day reminder, never the 30-day one as well. Rows
not yet sent are sent (locked with SKIP LOCKED, so two workers never send the same one)
through Django's mail backend.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings as django_settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from marketplace.plugins import clock, get_settings
from marketplace.plugins.accounts import user_emails

from .. import terms
from ..models import EFFECTIVE, Membership, RenewalReminder
from ..pricing import PLUGIN


def _due(now):
    days = get_settings(PLUGIN).reminder_days
    renewal = Membership.objects.filter(user_id=OuterRef("user_id"), status__in=EFFECTIVE,
                                        starts_at__gte=OuterRef("ends_at"))
    running = (Membership.objects.filter(status__in=EFFECTIVE, user__isnull=False, starts_at__lte=now,
                                         ends_at__gte=now, ends_at__lte=now + timedelta(days=max(days) + 1))
               .annotate(renewed=Exists(renewal)).filter(renewed=False))
    zone = clock.business_zone()
    for membership in running:
        left = terms.days_left(now, membership.ends_at, zone)
        due = [d for d in days if left <= d]
        if due:
            yield membership, due


def record_due(now=None) -> int:
    """Record the reminders now due. Returns how many rows were created."""
    now = now or clock.now()
    created = 0
    for membership, due in _due(now):
        closest = min(due)
        for days in due:
            try:
                with transaction.atomic():
                    RenewalReminder.objects.create(membership=membership, days=days, created_at=now,
                                                   skipped=days != closest)
                    created += 1
            except IntegrityError:
                continue  # recorded on an earlier run
    return created


def _message(membership, days):
    end = clock.localtime(membership.ends_at).date().isoformat()
    plan = membership.plan
    subject = f"会员将于 {end} 到期 Your membership ends on {end}"
    body = (f"您的{plan.name_zh}将于 {end} 到期（还有 {days} 天以内）。续费 {plan.price} 元即可从到期日起延长 "
            f"{plan.term_months} 个月，会员价、工时折扣和免费拖车继续有效。\n\n"
            f"Your {plan.name_en or plan.name_zh} ends on {end} (within {days} days). Renew for {plan.price} "
            f"{plan.currency} to extend it by {plan.term_months} months from that date; member prices, the labour "
            "discount and free towing continue.\n")
    return subject, body


def send_pending(now=None) -> int:
    """Send recorded reminders not sent yet, one transaction each. Returns how many went."""
    now = now or clock.now()
    sent = 0
    ids = list(RenewalReminder.objects.filter(sent_at__isnull=True, skipped=False).values_list("pk", flat=True))
    for pk in ids:
        with transaction.atomic():
            reminder = (RenewalReminder.objects.select_for_update(skip_locked=True)
                        .filter(pk=pk, sent_at__isnull=True).first())
            if reminder is None:
                continue
            membership = Membership.objects.select_related("plan").get(pk=reminder.membership_id)
            email = user_emails([membership.user_id]).get(membership.user_id) if membership.user_id else None
            if not email:
                reminder.skipped = True
                reminder.save(update_fields=["skipped"])
                continue
            subject, body = _message(membership, reminder.days)
            send_mail(subject, body, django_settings.DEFAULT_FROM_EMAIL, [email])
            reminder.sent_at = now
            reminder.save(update_fields=["sent_at"])
            sent += 1
    return sent


def run(now=None) -> dict:
    """Record what is due and send it: {"recorded": n, "sent": n}."""
    now = now or clock.now()
    return {"recorded": record_due(now), "sent": send_pending(now)}
