"""Celery tasks of vendor plans (beat entries in hooks.py, on the engine clock)."""
import logging

from celery import shared_task
from django.conf import settings as django_settings
from django.core.mail import send_mail

from marketplace.plugins import clock, plugin_task
from marketplace.plugins.vendors import MANAGERS, staff_emails

logger = logging.getLogger("plugins.vendor_plans")
PLUGIN = "vendor_plans"


@shared_task(name="vendor_plans.send_notice")
@plugin_task(PLUGIN)
def send_notice(notice_id):
    """E-mail a notice to the vendor's owner and managers, at most once."""
    from .models import Notice

    notice = Notice.objects.select_related("subscription").filter(pk=notice_id, sent_at=None).first()
    if notice is None:
        return "sent already"
    recipients = staff_emails(notice.subscription.vendor_id, roles=MANAGERS)
    claimed = Notice.objects.filter(pk=notice.pk, sent_at=None).update(sent_at=clock.now(), recipients=recipients)
    if not claimed:
        return "sent already"
    if recipients:
        send_mail(notice.subject, notice.body, django_settings.DEFAULT_FROM_EMAIL, recipients)
    return f"sent to {len(recipients)}"


@shared_task(name="vendor_plans.apply_card")
@plugin_task(PLUGIN)
def apply_card(subscription_pk, payment_method_id, setup_intent_id=""):
    """A card was saved (the gateway's event): make it the default and pay open invoices."""
    from .subscriptions import apply_card as apply

    return apply(subscription_pk, payment_method_id, setup_intent_id)


@shared_task(name="vendor_plans.sweep")
@plugin_task(PLUGIN)
def sweep():
    """Every few minutes: access that changes with time alone (grace ended, override
    expired, `require_plan` switched), storefront holds, and the product quota."""
    from .enforcement import sweep_quota, sync_vendors

    holds = sync_vendors()
    unpublished = sweep_quota()
    return f"{holds} storefront holds changed, {unpublished} products unpublished"


@shared_task(name="vendor_plans.reminders")
@plugin_task(PLUGIN)
def reminders():
    """Daily: reminders before trial ends and renewals (each once)."""
    from .notices import send_reminders

    return f"{send_reminders()} reminders queued"


@shared_task(name="vendor_plans.sync_vendors")
@plugin_task(PLUGIN)
def sync_vendors(vendor_ids=None):
    """After the settings or a vendor changed: access and storefront holds now."""
    from .enforcement import sync_vendors as sync

    return f"{sync(vendor_ids)} storefront holds changed"
