"""Re-purchase campaigns: a store writes a message for one of its segments; sending it
queues a Celery task that delivers it to every member through the `vip_deliver_message`
hook this plugin publishes (hookspecs.py). This plugin answers the "email" channel with
Django's mail backend (`trylast`: another plugin may take e-mail over); an SMS plugin
answers "sms". Each recipient is delivered once (`CampaignDelivery` is unique per
campaign and customer), so a retried task never sends twice.

Placeholders in the subject and body: {name}, {store}, {tier}, {points}, {cashback}.
"""
from __future__ import annotations

import logging
import re

from django.db import IntegrityError, transaction
from django.db.models import Count

from marketplace.plugins import call_hook, clock, emit
from marketplace.plugins.errors import ErrorCode, ValidationError

from ..models import Campaign, CampaignDelivery, Segment, SegmentMember, VipAccount
from . import inputs

logger = logging.getLogger("plugins.vip_tiers")
CHANNELS = ("email", "sms")
PLACEHOLDER = re.compile(r"\{(name|store|tier|points|cashback)\}")


def create(vendor_id, data, user=None) -> Campaign:
    """A draft campaign. `data`: segment (a Segment of the same store), name, channel
    ("email" or "sms"), subject, body. Raises ValidationError."""
    segment = data.get("segment")
    if not isinstance(segment, Segment) or segment.vendor_id != vendor_id:
        raise ValidationError("Choose one of this store's segments.", code=ErrorCode.NOT_FOUND, field="segment_id")
    channel = data.get("channel") or "email"
    if channel not in CHANNELS:
        raise ValidationError(f"Give one of {', '.join(CHANNELS)}.", field="channel")
    return Campaign.objects.create(
        vendor_id=vendor_id, segment=segment, name=inputs.text(data.get("name"), "name", 80, required=True),
        channel=channel, subject=inputs.text(data.get("subject"), "subject", 150, required=True),
        body=inputs.text(data.get("body"), "body", 2000, required=True), created_by=user, created_at=clock.now())


@transaction.atomic
def start(campaign_id) -> Campaign:
    """Queue a draft campaign for sending (INVALID_STATE once sent or sending)."""
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise ValidationError("Campaign not found.", code=ErrorCode.NOT_FOUND, field="id")
    if campaign.status != Campaign.Status.DRAFT:
        raise ValidationError("This campaign was sent already.", code=ErrorCode.INVALID_STATE, field="id")
    if campaign.segment_id is None:
        raise ValidationError("Its segment was deleted: create the campaign again.", code=ErrorCode.INVALID_STATE,
                              field="id")
    campaign.status = Campaign.Status.SENDING
    campaign.recipients = SegmentMember.objects.filter(segment_id=campaign.segment_id).count()
    campaign.save(update_fields=["status", "recipients"])
    transaction.on_commit(lambda: queue("plugins.vip_tiers.tasks.send_campaign", campaign_id=campaign.pk,
                                        vendor_id=campaign.vendor_id))
    return campaign


def queue(task_name, **kwargs):
    """Queue one of the plugin's Celery tasks by name (eager on the embedded defaults)."""
    from celery import current_app

    return current_app.tasks[task_name].apply_async(kwargs=kwargs)


def _fill(text, values):
    return PLACEHOLDER.sub(lambda match: str(values.get(match.group(1), "")), text)


def send(campaign_id) -> dict:
    """Deliver a sending campaign to its segment's members (each once). Returns
    {"sent": n, "failed": n, "no_channel": n}."""
    from marketplace.plugins.accounts import contacts
    from marketplace.plugins.vendors import vendor_info

    from ..events import VipCampaignSent

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.status != Campaign.Status.SENDING:
        return {}
    store = vendor_info(campaign.vendor_id)
    done = set(CampaignDelivery.objects.filter(campaign=campaign).values_list("user_id", flat=True))
    user_ids = [uid for uid in SegmentMember.objects.filter(segment_id=campaign.segment_id).order_by("user_id")
                .values_list("user_id", flat=True) if uid not in done]
    people = contacts(user_ids)
    accounts = {row[0]: row[1:] for row in VipAccount.objects.filter(vendor_id=campaign.vendor_id,
                                                                    user_id__in=user_ids)
                .values_list("user_id", "tier__name_zh", "points_available", "cashback_available")}
    for user_id in user_ids:
        person = people.get(user_id)
        if person is None:
            continue
        tier, points, cashback = accounts.get(user_id, ("", 0, "0.00"))
        values = {"name": person.name or person.email, "store": store.name_zh if store else "", "tier": tier or "",
                  "points": points, "cashback": cashback}
        message = {"channel": campaign.channel, "user_id": user_id, "email": person.email, "phone": person.phone,
                   "name": person.name, "vendor_id": campaign.vendor_id, "store": values["store"],
                   "subject": _fill(campaign.subject, values), "body": _fill(campaign.body, values),
                   "campaign_id": campaign.pk, "reference": f"vip-campaign:{campaign.pk}:{user_id}"}
        status, error = CampaignDelivery.Status.SENT, ""
        try:
            answer = call_hook("vip_deliver_message", message=message)
            if not answer:
                status, error = CampaignDelivery.Status.NO_CHANNEL, f"No plugin delivers {campaign.channel}."
        except Exception as exc:  # one failed recipient never stops the others
            logger.warning("Campaign %s: delivery to %s failed: %s", campaign.pk, user_id, exc)
            status, error = CampaignDelivery.Status.FAILED, str(exc)[:200]
        try:
            CampaignDelivery.objects.create(campaign=campaign, user_id=user_id, status=status, error=error,
                                            created_at=clock.now())
        except IntegrityError:
            continue
    rows = dict(CampaignDelivery.objects.filter(campaign=campaign).values_list("status")
                .annotate(n=Count("pk")).values_list("status", "n"))
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        campaign.sent_count = rows.get(CampaignDelivery.Status.SENT, 0)
        campaign.failed_count = rows.get(CampaignDelivery.Status.FAILED, 0) + rows.get(
            CampaignDelivery.Status.NO_CHANNEL, 0)
        campaign.status = Campaign.Status.SENT
        campaign.sent_at = clock.now()
        campaign.save(update_fields=["sent_count", "failed_count", "status", "sent_at"])
        emit(VipCampaignSent(vendor_id=campaign.vendor_id, campaign_id=campaign.pk, recipients=campaign.recipients,
                             sent=campaign.sent_count, failed=campaign.failed_count))
    return {"sent": campaign.sent_count, "failed": rows.get(CampaignDelivery.Status.FAILED, 0),
            "no_channel": rows.get(CampaignDelivery.Status.NO_CHANNEL, 0)}


def deliver_email(message) -> str | None:
    """The plugin's own `vip_deliver_message` for the "email" channel (Django's mail
    backend, DEFAULT_FROM_EMAIL)."""
    if message.get("channel") != "email" or not message.get("email"):
        return None
    from django.conf import settings
    from django.core.mail import send_mail

    send_mail(message["subject"], message["body"], settings.DEFAULT_FROM_EMAIL, [message["email"]])
    return "sent"
