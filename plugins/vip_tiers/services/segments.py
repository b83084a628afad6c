"""A store's customer segments: saved rules (`facts.py`), their members materialised
(`SegmentMember`, with `computed_at`), recomputed nightly (02:00 Asia/Shanghai) for every
store and for one customer whenever one of their orders at the store is paid, completed
or refunded. A store sees only its own customers (those who ordered from it); exports
are rate-limited per store and logged with who took them.
"""
from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count

from marketplace.plugins import clock
from marketplace.plugins.errors import ErrorCode, NotFound, ValidationError

from ..models import Segment, SegmentExport, SegmentMember
from . import facts, inputs

logger = logging.getLogger("plugins.vip_tiers")
MAX_SEGMENTS = 50


def _clean(data, creating):
    clean = {}
    if creating or data.get("name") is not None:
        clean["name"] = inputs.text(data.get("name"), "name", 80, required=True)
    if data.get("description") is not None:
        clean["description"] = inputs.text(data["description"], "description", 300)
    if creating or data.get("rule") is not None:
        if data.get("rule") is None:
            raise ValidationError("Required.", code=ErrorCode.REQUIRED, field="rule")
        facts.compile_rule(data["rule"])
        clean["rule"] = data["rule"]
    return clean


def create(vendor_id, data, user=None) -> Segment:
    """Save a segment and compute its members at once. Raises ValidationError (rule
    errors name their path, e.g. `rule.all.0.fact`; UNIQUE name; LIMIT_EXCEEDED past 50
    segments per store)."""
    clean = _clean(data, creating=True)
    now = clock.now()
    with transaction.atomic():
        if Segment.objects.filter(vendor_id=vendor_id).count() >= MAX_SEGMENTS:
            raise ValidationError(f"A store may keep at most {MAX_SEGMENTS} segments.",
                                  code=ErrorCode.LIMIT_EXCEEDED, field="name")
        try:
            with transaction.atomic():
                segment = Segment.objects.create(vendor_id=vendor_id, created_by=user, created_at=now,
                                                 updated_at=now, **clean)
        except IntegrityError:
            raise ValidationError("The store has a segment with this name.", code=ErrorCode.UNIQUE,
                                  field="name") from None
    recompute(vendor_id, [segment.pk])
    segment.refresh_from_db()
    return segment


def update(segment, data) -> Segment:
    clean = _clean(data, creating=False)
    with transaction.atomic():
        segment = Segment.objects.select_for_update().get(pk=segment.pk)
        for name, value in clean.items():
            setattr(segment, name, value)
        segment.updated_at = clock.now()
        try:
            with transaction.atomic():
                segment.save()
        except IntegrityError:
            raise ValidationError("The store has a segment with this name.", code=ErrorCode.UNIQUE,
                                  field="name") from None
    if "rule" in clean:
        recompute(segment.vendor_id, [segment.pk])
        segment.refresh_from_db()
    return segment


def delete(segment):
    segment.delete()


def _compiled(segments):
    found = {}
    for segment in segments:
        try:
            found[segment.pk] = facts.compile_rule(segment.rule)
        except ValidationError as exc:  # a stored rule no longer valid (should not happen): skip it, say why
            logger.error("Segment %s has an invalid rule (%s); not recomputed", segment.pk, exc)
    return found


def recompute(vendor_id, segment_ids=None, now=None) -> dict:
    """Recompute the members of the store's segments (or only `segment_ids`): facts are
    loaded once for all its customers, every rule evaluated, and only the changes
    written. Returns {segment_id: member count}."""
    now = now or clock.now()
    segments = Segment.objects.filter(vendor_id=vendor_id)
    if segment_ids is not None:
        segments = segments.filter(pk__in=list(segment_ids))
    segments = list(segments)
    compiled = _compiled(segments)
    if not compiled:
        return {}
    needs = {need for rule in compiled.values() for need in rule.needs()}
    bulk = facts.gather(vendor_id, needs, now=now)
    members = {pk: set() for pk in compiled}
    for user_id in bulk.universe:
        view = facts.Facts(bulk, user_id)
        for pk, rule in compiled.items():
            if rule.evaluate(view):
                members[pk].add(user_id)
    counts = {}
    for segment in segments:
        if segment.pk not in compiled:
            continue
        with transaction.atomic():
            Segment.objects.select_for_update().filter(pk=segment.pk).first()
            existing = set(SegmentMember.objects.filter(segment_id=segment.pk).values_list("user_id", flat=True))
            wanted = members[segment.pk]
            gone = existing - wanted
            if gone:
                SegmentMember.objects.filter(segment_id=segment.pk, user_id__in=list(gone)).delete()
            SegmentMember.objects.bulk_create(
                [SegmentMember(segment_id=segment.pk, user_id=user_id, added_at=now) for user_id in wanted - existing],
                batch_size=2000, ignore_conflicts=True)
            Segment.objects.filter(pk=segment.pk).update(member_count=len(wanted), computed_at=now)
        counts[segment.pk] = len(wanted)
    return counts


def recompute_all(now=None) -> int:
    """Every store's segments (the nightly run). Returns how many segments."""
    done = 0
    for vendor_id in Segment.objects.values_list("vendor_id", flat=True).distinct().order_by("vendor_id"):
        done += len(recompute(vendor_id, now=now))
    return done


def refresh_customer(vendor_id, user_id, now=None) -> dict:
    """Re-evaluate one customer against every segment of the store (after an order
    event): joins and leaves are written at once. Returns {segment_id: is member}."""
    now = now or clock.now()
    segments = list(Segment.objects.filter(vendor_id=vendor_id))
    compiled = _compiled(segments)
    if not compiled:
        return {}
    needs = {need for rule in compiled.values() for need in rule.needs()}
    bulk = facts.gather(vendor_id, needs, user_ids=[user_id], now=now)
    view = facts.Facts(bulk, user_id)
    result = {}
    for pk, rule in compiled.items():
        inside = user_id in bulk.universe and rule.evaluate(view)
        with transaction.atomic():
            if inside:
                _, created = SegmentMember.objects.get_or_create(segment_id=pk, user_id=user_id,
                                                                 defaults={"added_at": now})
                changed = created
            else:
                changed = SegmentMember.objects.filter(segment_id=pk, user_id=user_id).delete()[0] > 0
            if changed:
                count = SegmentMember.objects.filter(segment_id=pk).count()
                Segment.objects.filter(pk=pk).update(member_count=count)
        result[pk] = inside
    return result


def get_segment(segment_id) -> Segment:
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise NotFound("Segment not found.", field="id")
    return segment


def member_counts(segment_ids) -> dict:
    return dict(SegmentMember.objects.filter(segment_id__in=list(segment_ids)).values_list("segment_id")
                .annotate(n=Count("pk")).values_list("segment_id", "n"))


# -- export ------------------------------------------------------------------------------------------
CSV_HEADER = ["customer", "phone", "email", "district", "tier", "net_spend_12m", "orders_12m", "last_order",
              "points", "cashback"]


def export(segment, user, masked=True, limit_per_hour=10) -> tuple[str, int]:
    """The segment's members as CSV (UTF-8, header row; phone and e-mail masked unless
    `masked` is False, for platform staff), logged with who took it. At most
    `limit_per_hour` exports per store per hour (RATE_LIMITED). Returns (csv, rows)."""
    from marketplace.plugins.accounts import contacts, mask_email, mask_phone
    from marketplace.plugins.orders import customer_stats

    from ..models import VipAccount

    now = clock.now()
    with transaction.atomic():
        # one export at a time per store, so the hourly limit holds under concurrency
        Segment.objects.select_for_update().filter(pk=segment.pk).first()
        recent = SegmentExport.objects.filter(vendor_id=segment.vendor_id, created_at__gte=now - timedelta(hours=1))
        if recent.count() >= limit_per_hour:
            raise ValidationError(f"At most {limit_per_hour} exports per hour for a store; try again later.",
                                  code=ErrorCode.RATE_LIMITED, field="id")
        user_ids = list(SegmentMember.objects.filter(segment=segment).order_by("user_id")
                        .values_list("user_id", flat=True))
        people = contacts(user_ids)
        stats = customer_stats(segment.vendor_id, since=now - timedelta(days=365), user_ids=user_ids)
        accounts = {row[0]: row[1:] for row in VipAccount.objects.filter(vendor_id=segment.vendor_id,
                                                                        user_id__in=user_ids)
                    .values_list("user_id", "tier__name_zh", "points_available", "cashback_available")}
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        for user_id in user_ids:
            person = people.get(user_id)
            stat = stats.get(user_id)
            tier, points, cashback = accounts.get(user_id, ("", 0, "0.00"))
            name = (person.name if person else "") or ""
            writer.writerow([
                (name[:1] + "*" * max(len(name) - 1, 1)) if masked and name else name,
                (mask_phone(person.phone) if masked else person.phone) if person else "",
                (mask_email(person.email) if masked else person.email) if person else "",
                person.district if person else "", tier or "", str(stat.net_spend) if stat else "0.00",
                stat.orders if stat else 0, stat.last_paid_at.date().isoformat() if stat else "", points,
                str(cashback)])
        SegmentExport.objects.create(segment=segment, segment_name=segment.name, vendor_id=segment.vendor_id,
                                     user=user, rows=len(user_ids), created_at=now)
    return out.getvalue(), len(user_ids)
