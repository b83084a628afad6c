"""Platform campaigns (e.g. Double 11): create, update and deactivate them, with the
validation platform staff need. Each public function owns its transaction and raises
`marketplace.core.errors` exceptions (fields named in snake_case); GraphQL is a thin
layer over it (`marketplace.pricing.schema`).

Times: a campaign's moments are given as ISO 8601 strings and interpreted in the
business time zone (settings.TIME_ZONE, Asia/Shanghai by default) unless they carry an
offset; they are stored in UTC. A date alone means the start of that day for
`starts_at` and the end of that day for `ends_at` (stored as the next midnight,
exclusive), so `2026-11-11` .. `2026-11-11` is the whole of Double 11 in Beijing.

Overlaps: two active campaigns overlap when their periods intersect and they can cover
the same item (their categories intersect or either has none, and likewise their
vendors). On such an item the pipeline applies both discounts one after the other, and a
floor exemption of either lifts the floor for both, so an overlap is refused
(`OVERLAPS`) unless the caller confirms it with `allow_overlap=True`.

Times come from the engine clock (`marketplace.core.clock`), or pass `at=` (an aware datetime).
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from marketplace.catalog.models import Category
from marketplace.core.errors import ErrorCode, MarketplaceError, NotFound, ValidationError
from marketplace.vendors.models import Vendor

from .models import Campaign
from .pipeline import floor_ratio

NAME_MAX = 100
MOMENT_MAX = 40
SCHEDULED, RUNNING, ENDED, INACTIVE = "scheduled", "running", "ended", "inactive"
FIELDS = ("name_zh", "name_en", "starts_at", "ends_at", "discount_percent", "exempt_from_floor", "category_ids",
          "vendor_ids", "is_active")


def now():
    """The engine clock's time (tests move it with marketplace.core.clock)."""
    from marketplace.core import clock

    return clock.now()


def business_timezone():
    return timezone.get_default_timezone()


@dataclass
class CampaignChange:
    """What a create or update did: the saved campaign and the active campaigns it
    overlaps (empty unless the caller allowed overlaps)."""

    campaign: Campaign
    overlaps: list


# -- reading -----------------------------------------------------------------------------------
def parse_moment(value, *, field, end=False):
    """An ISO 8601 date or date-time -> aware datetime (UTC).

    `2026-11-11` -> 2026-11-11 00:00 in the business time zone (with `end`: 2026-11-12
    00:00, so the day is included); `2026-11-11T20:00` -> 20:00 there; a value with an
    offset (`+08:00`, `Z`) keeps it. Raises ValidationError(INVALID, field) otherwise."""
    text = (value or "").strip() if isinstance(value, str) else value
    if not text:
        raise ValidationError("A date or date-time is required.", code=ErrorCode.REQUIRED, field=field)
    if not isinstance(text, str) or len(text) > MOMENT_MAX:
        raise ValidationError("Not an ISO 8601 date or date-time.", field=field)
    zone = business_timezone()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=zone)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
    except (ValueError, OverflowError):
        raise ValidationError(f"{value!r} is not an ISO 8601 date or date-time, e.g. 2026-11-11 or "
                              "2026-11-11T20:00 (Asia/Shanghai unless an offset is given).", field=field) from None
    return moment.astimezone(dt_timezone.utc)


def local(moment):
    """An aware datetime in the business time zone."""
    return moment.astimezone(business_timezone())


def status(campaign, at=None):
    """`inactive`, `scheduled`, `running` or `ended` at `at` (default: now())."""
    at = at or now()
    if not campaign.is_active:
        return INACTIVE
    if at < campaign.starts_at:
        return SCHEDULED
    return RUNNING if at < campaign.ends_at else ENDED


def campaigns(status=None, at=None):
    """Campaigns by start (a QuerySet), optionally only those with this `status` at `at`."""
    at = at or now()
    filters = {
        None: Q(),
        INACTIVE: Q(is_active=False),
        SCHEDULED: Q(is_active=True, starts_at__gt=at),
        RUNNING: Q(is_active=True, starts_at__lte=at, ends_at__gt=at),
        ENDED: Q(is_active=True, ends_at__lte=at),
    }
    return Campaign.objects.filter(filters[status]).order_by("starts_at", "pk")


def _period(campaign):
    fmt = "%Y-%m-%d %H:%M"
    return f"{local(campaign.starts_at):{fmt}} - {local(campaign.ends_at):{fmt}} {business_timezone().key}"


def floor_explanation(campaign, ratio=None):
    """A sentence telling staff what the campaign does to the price floor (str)."""
    ratio = floor_ratio() if ratio is None else ratio
    floor = f"{int(ratio * 100)}% of list price"
    scope = "the items it covers"
    if campaign.exempt_from_floor:
        return (f"Exempt from the price floor: while it runs ({_period(campaign)}), {scope} may sell below {floor}; "
                "its discount, vendor sale prices and plugin discounts apply in full and the floor rule is skipped "
                "(prices show floorExempt: true). Without the exemption the floor would lift them back to "
                f"{floor}.")
    deepest = Decimal("100") - ratio * 100
    if campaign.discount_percent and campaign.discount_percent > deepest:
        return (f"Not exempt from the price floor: prices of {scope} never go below {floor}, so this "
                f"{campaign.discount_percent.normalize():f}% discount is cut back to at most {deepest.normalize():f}% "
                "off list (the price shows a 'platform' adjustment); set exemptFromFloor to give it in full.")
    return (f"Not exempt from the price floor: prices of {scope} stay at or above {floor}; where this discount "
            "adds to a vendor sale price or a plugin discount, the floor lifts the price back to "
            f"{floor} (a 'platform' adjustment).")


def overlapping(campaign, category_ids=None, vendor_ids=None):
    """Other active campaigns whose period intersects this one's and that can cover the
    same items (list of Campaign, by start). Unsaved scope values may be passed in."""
    categories, vendors = _scope(campaign) if campaign.pk else (set(), set())
    categories = categories if category_ids is None else set(category_ids)
    vendors = vendors if vendor_ids is None else set(vendor_ids)
    candidates = _candidates(campaign.starts_at, campaign.ends_at)
    return _overlaps(campaign, categories, vendors, candidates)


def overlaps_by_campaign(campaigns):
    """{campaign pk: overlapping campaigns} for a page of campaigns, in one query (plus
    the prefetch of scopes); inactive campaigns overlap nothing."""
    active = [c for c in campaigns if c.is_active]
    if not active:
        return {c.pk: [] for c in campaigns}
    candidates = _candidates(min(c.starts_at for c in active), max(c.ends_at for c in active))
    found = {c.pk: [] for c in campaigns}
    for campaign in active:
        found[campaign.pk] = _overlaps(campaign, *_scope(campaign), candidates)
    return found


def _candidates(starts_at, ends_at):
    return list(Campaign.objects.filter(is_active=True, starts_at__lt=ends_at, ends_at__gt=starts_at)
                .prefetch_related("categories", "vendors").order_by("starts_at", "pk"))


def _scope(campaign):
    return {c.pk for c in campaign.categories.all()}, {v.pk for v in campaign.vendors.all()}


def _overlaps(campaign, categories, vendors, candidates):
    found = []
    for other in candidates:
        if other.pk == campaign.pk or not (other.starts_at < campaign.ends_at and other.ends_at > campaign.starts_at):
            continue
        their_categories, their_vendors = _scope(other)
        if _intersects(categories, their_categories) and _intersects(vendors, their_vendors):
            found.append(other)
    return found


def _intersects(mine, theirs):
    return not mine or not theirs or bool(mine & theirs)


# -- writing -----------------------------------------------------------------------------------
def create_campaign(*, data, allow_overlap=False, at=None):
    """Create a campaign. `data`: name_zh (required), name_en, starts_at and ends_at
    (required; ISO strings, see parse_moment), discount_percent (Decimal, 0 < d < 100,
    two places at most, or None), exempt_from_floor (bool), category_ids and vendor_ids
    (primary keys; empty = all), is_active (default True). Returns CampaignChange.
    Raises ValidationError (INVALID/REQUIRED on the field, OVERLAPS on starts_at),
    NotFound (category_ids/vendor_ids)."""
    missing = [name for name in ("name_zh", "starts_at", "ends_at") if data.get(name) in (None, "")]
    if missing:
        raise ValidationError(errors=[MarketplaceError("This field is required.", code=ErrorCode.REQUIRED, field=name)
                                      for name in missing])
    with transaction.atomic():
        return _save(Campaign(is_active=True), data, allow_overlap, at)


def update_campaign(*, campaign_id, data, allow_overlap=False, at=None):
    """Change the given fields of a campaign (same `data` as create_campaign; absent or
    None fields stay). A campaign that has ended cannot change (INVALID_STATE). Returns
    CampaignChange; raises as create_campaign, and NotFound on `id`."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None:
            raise NotFound("Campaign not found.", field="id")
        if campaign.ends_at <= (at or now()):
            raise ValidationError("This campaign has ended and is kept as it ran; create a new one instead.",
                                  code=ErrorCode.INVALID_STATE, field="id")
        return _save(campaign, data, allow_overlap, at)


def deactivate_campaign(*, campaign_id):
    """Switch a campaign off at once (prices drop its discount and exemption on the next
    request). Idempotent. Returns the Campaign; raises NotFound on `id`."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None:
            raise NotFound("Campaign not found.", field="id")
        if campaign.is_active:
            campaign.is_active = False
            campaign.save(update_fields=["is_active"])
        return campaign


def _save(campaign, data, allow_overlap, at):
    at = at or now()
    data = {name: data[name] for name in FIELDS if data.get(name) is not None}
    errors = []

    def check(fn):
        try:
            return fn()
        except MarketplaceError as exc:
            errors.extend(exc.as_list())
            return None

    for name in ("name_zh", "name_en"):
        if name in data:
            value = str(data[name]).strip()
            if len(value) > NAME_MAX:
                errors.append(MarketplaceError(f"At most {NAME_MAX} characters.", field=name))
            elif name == "name_zh" and not value:
                errors.append(MarketplaceError("A name is required.", code=ErrorCode.REQUIRED, field=name))
            else:
                setattr(campaign, name, value)
    starts_at, ends_at = campaign.starts_at, campaign.ends_at
    if "starts_at" in data:
        starts_at = check(lambda: parse_moment(data["starts_at"], field="starts_at"))
    if "ends_at" in data:
        ends_at = check(lambda: parse_moment(data["ends_at"], field="ends_at", end=True))
    if starts_at and ends_at:
        if ends_at <= starts_at:
            errors.append(MarketplaceError(f"The campaign must end after it starts ({local(starts_at):%Y-%m-%d %H:%M} "
                                           f"{business_timezone().key}).", field="ends_at"))
        elif ends_at <= at and ("ends_at" in data or campaign.pk is None):
            errors.append(MarketplaceError("The campaign would already be over: it must end in the future.",
                                           field="ends_at"))
    if "discount_percent" in data:
        check(lambda: setattr(campaign, "discount_percent", _percent(data["discount_percent"])))
    if "exempt_from_floor" in data:
        campaign.exempt_from_floor = bool(data["exempt_from_floor"])
    if "is_active" in data:
        campaign.is_active = bool(data["is_active"])
    category_ids = check(lambda: _existing(Category, data["category_ids"], "category_ids")) \
        if "category_ids" in data else None
    vendor_ids = check(lambda: _existing(Vendor, data["vendor_ids"], "vendor_ids")) if "vendor_ids" in data else None
    if errors:
        raise ValidationError(errors=errors)
    campaign.starts_at, campaign.ends_at = starts_at, ends_at
    overlaps = overlapping(campaign, category_ids=category_ids, vendor_ids=vendor_ids) if campaign.is_active else []
    if overlaps and not allow_overlap:
        names = "; ".join(f"{c.name_zh} (id {c.pk}, {_period(c)})" for c in overlaps)
        raise ValidationError(
            f"Overlaps {names} on the same items: both discounts would apply one after the other and a floor "
            "exemption of either would cover both. Change the dates or scope, or confirm with allowOverlap: true.",
            code=ErrorCode.OVERLAPS, field="starts_at")
    campaign.save()
    if category_ids is not None:
        campaign.categories.set(category_ids)
    if vendor_ids is not None:
        campaign.vendors.set(vendor_ids)
    return CampaignChange(campaign, overlaps)


def _percent(value):
    try:
        percent = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError("Not a number.", field="discount_percent") from None
    if not percent.is_finite() or not Decimal("0") < percent < Decimal("100"):
        raise ValidationError("A discount is more than 0 and less than 100 (percent off).", field="discount_percent")
    if percent != percent.quantize(Decimal("0.01")):
        raise ValidationError("At most two decimal places.", field="discount_percent")
    return percent.quantize(Decimal("0.01"))


def _existing(model, ids, field):
    wanted = {int(pk) for pk in ids}
    found = set(model.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    if found != wanted:
        raise NotFound(f"No such {model.__name__.lower()}: {', '.join(map(str, sorted(wanted - found)))}.", field=field)
    return found
