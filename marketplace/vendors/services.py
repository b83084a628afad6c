"""Vendor lifecycle, staff and warehouses."""
import re
import secrets
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from marketplace.core import clock

from marketplace.core.errors import ErrorCode, MarketplaceError, NotFound, PermissionDenied, ValidationError
from marketplace.core.events import emit

from .events import (
    VendorApplied, VendorApproved, VendorClosed, VendorRejected, VendorReinstated, VendorStorefrontChanged,
    VendorSuspended, VendorUpdated,
)
from .models import (
    StaffRole, StorefrontHold, Vendor, VendorInvitation, VendorKind, VendorStaff, VendorStatus, Warehouse, hash_token,
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
PROFILE_FIELDS = ("name_zh", "name_en", "logo_url", "description_zh", "description_en", "phone", "province",
                  "city", "district", "street", "latitude", "longitude", "opening_hours")

# status -> statuses it may move to
TRANSITIONS = {
    VendorStatus.APPLIED: {VendorStatus.APPROVED, VendorStatus.REJECTED, VendorStatus.CLOSED},
    VendorStatus.APPROVED: {VendorStatus.SUSPENDED, VendorStatus.CLOSED},
    VendorStatus.SUSPENDED: {VendorStatus.APPROVED, VendorStatus.CLOSED},
    VendorStatus.REJECTED: set(),
    VendorStatus.CLOSED: set(),
}


def get_vendor(vendor_id, lock=False):
    qs = Vendor.objects.select_for_update() if lock else Vendor.objects
    vendor = qs.filter(pk=vendor_id).first()
    if vendor is None:
        raise NotFound("Vendor not found.", field="vendor_id")
    return vendor


def clean_opening_hours(value):
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError("Opening hours must map days (mon..sun) to [[open, close], ...].", field="opening_hours")
    cleaned = {}
    for day, ranges in value.items():
        if day not in DAYS or not isinstance(ranges, list):
            raise ValidationError(f"Unknown day {day!r}; use mon..sun.", field="opening_hours")
        out = []
        for item in ranges:
            if (not isinstance(item, (list, tuple)) or len(item) != 2
                    or not all(isinstance(t, str) and TIME_RE.match(t) for t in item) or item[0] >= item[1]):
                raise ValidationError(f"Use [\"HH:MM\", \"HH:MM\"] ranges with open before close ({day}).",
                                      field="opening_hours")
            out.append([item[0], item[1]])
        cleaned[day] = sorted(out)
    return cleaned


def _clean_profile(data, creating=False):
    cleaned, errors = {}, []
    for name in PROFILE_FIELDS:
        if name not in data or data[name] is None:
            continue
        value = data[name]
        if name in ("latitude", "longitude"):
            try:
                value = Decimal(str(value)).quantize(Decimal("0.000001"))
            except (InvalidOperation, ValueError):
                errors.append(MarketplaceError("Enter a number.", field=name))
                continue
            bound = 90 if name == "latitude" else 180
            if not -bound <= value <= bound:
                errors.append(MarketplaceError(f"Must be between -{bound} and {bound}.", field=name))
        elif name == "opening_hours":
            try:
                value = clean_opening_hours(value)
            except ValidationError as exc:
                errors.extend(exc.as_list())
                continue
        else:
            value = str(value).strip()
            max_length = Vendor._meta.get_field(name).max_length
            if max_length and len(value) > max_length:
                errors.append(MarketplaceError(f"At most {max_length} characters.", field=name))
        cleaned[name] = value
    if creating and not cleaned.get("name_zh"):
        errors.append(MarketplaceError("A Chinese name is required.", code=ErrorCode.REQUIRED, field="name_zh"))
    if errors:
        raise ValidationError(errors=errors)
    return cleaned


@transaction.atomic
def apply(user, kind, slug, data):
    """A member applies to open a vendor; they become its owner."""
    if kind not in VendorKind.values:
        raise ValidationError("Unknown vendor kind.", field="kind")
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or len(slug) > 100:
        raise ValidationError("Use lowercase letters, digits and hyphens.", field="slug")
    if Vendor.objects.filter(slug=slug).exists():
        raise ValidationError("This slug is taken.", code=ErrorCode.UNIQUE, field="slug")
    if Vendor.objects.filter(applied_by=user, status=VendorStatus.APPLIED).exists():
        raise ValidationError("You already have an application under review.", code=ErrorCode.INVALID_STATE)
    profile = _clean_profile(data, creating=True)
    try:
        with transaction.atomic():
            vendor = Vendor.objects.create(kind=kind, slug=slug, applied_by=user, **profile)
    except IntegrityError:
        raise ValidationError("This slug is taken.", code=ErrorCode.UNIQUE, field="slug") from None
    VendorStaff.objects.create(vendor=vendor, user=user, role=StaffRole.OWNER)
    emit(VendorApplied(vendor_id=vendor.pk, kind=kind))
    return vendor


def _move(vendor_id, status, reason="", event=None):
    vendor = get_vendor(vendor_id, lock=True)
    if status not in TRANSITIONS[VendorStatus(vendor.status)]:
        raise ValidationError(f"A {vendor.status} vendor cannot become {status}.", code=ErrorCode.INVALID_STATE)
    vendor.status = status
    vendor.status_reason = (reason or "").strip()[:500]
    if status == VendorStatus.APPROVED and vendor.approved_at is None:
        vendor.approved_at = clock.now()
    vendor.save(update_fields=["status", "status_reason", "approved_at", "updated_at"])
    if event is not None:
        emit(event(vendor))
    return vendor


def _require_reason(reason):
    if not (reason or "").strip():
        raise ValidationError("Give a reason.", code=ErrorCode.REQUIRED, field="reason")


@transaction.atomic
def approve(vendor_id):
    vendor = get_vendor(vendor_id)
    if vendor.status == VendorStatus.SUSPENDED:
        def event(v):
            return VendorReinstated(vendor_id=v.pk)
    else:
        def event(v):
            return VendorApproved(vendor_id=v.pk, kind=v.kind)
    vendor = _move(vendor_id, VendorStatus.APPROVED, event=event)
    if not vendor.warehouses.exists():
        Warehouse.objects.create(vendor=vendor, name="主仓库 Main warehouse", province=vendor.province,
                                 city=vendor.city, street=vendor.street)
    return vendor


@transaction.atomic
def reject(vendor_id, reason):
    _require_reason(reason)
    return _move(vendor_id, VendorStatus.REJECTED, reason,
                 event=lambda v: VendorRejected(vendor_id=v.pk, reason=v.status_reason))


@transaction.atomic
def suspend(vendor_id, reason):
    _require_reason(reason)
    return _move(vendor_id, VendorStatus.SUSPENDED, reason,
                 event=lambda v: VendorSuspended(vendor_id=v.pk, reason=v.status_reason))


@transaction.atomic
def close(vendor_id, reason=""):
    return _move(vendor_id, VendorStatus.CLOSED, reason,
                 event=lambda v: VendorClosed(vendor_id=v.pk, reason=v.status_reason))


@transaction.atomic
def update_profile(vendor_id, data):
    vendor = get_vendor(vendor_id, lock=True)
    if vendor.status in (VendorStatus.CLOSED, VendorStatus.REJECTED):
        raise ValidationError("This vendor can no longer be changed.", code=ErrorCode.INVALID_STATE)
    for name, value in _clean_profile(data).items():
        setattr(vendor, name, value)
    vendor.save()
    emit(VendorUpdated(vendor_id=vendor.pk))
    return vendor


@transaction.atomic
def hold_storefront(vendor_id, owner, reason):
    """Hide a vendor's storefront from listings and search because of `owner` (a plugin
    name), e.g. an unpaid subscription. Nothing is deleted; the vendor's status is not
    touched. Idempotent per owner (the reason is updated). Emits
    `vendor_storefront_changed`. Raises NotFound, ValidationError (REQUIRED reason)."""
    _require_reason(reason)
    vendor = get_vendor(vendor_id, lock=True)
    StorefrontHold.objects.update_or_create(vendor=vendor, owner=owner, defaults={"reason": reason.strip()[:300]})
    return _sync_storefront(vendor)


@transaction.atomic
def release_storefront(vendor_id, owner):
    """Lift `owner`'s hold; the storefront shows again when no other hold remains (and the
    vendor is approved). Idempotent."""
    vendor = get_vendor(vendor_id, lock=True)
    StorefrontHold.objects.filter(vendor=vendor, owner=owner).delete()
    return _sync_storefront(vendor)


def _sync_storefront(vendor):
    holds = sorted(StorefrontHold.objects.filter(vendor=vendor).values_list("owner", flat=True))
    hidden = bool(holds)
    if vendor.storefront_hidden != hidden:
        vendor.storefront_hidden = hidden
        vendor.save(update_fields=["storefront_hidden", "updated_at"])
        from marketplace.catalog.cache import bump

        bump()
        emit(VendorStorefrontChanged(vendor_id=vendor.pk, hidden=hidden, holds=holds))
    return vendor


def set_commission_rate(vendor_id, rate):
    vendor = get_vendor(vendor_id)
    if rate is not None and not Decimal("0") <= Decimal(rate) < Decimal("1"):
        raise ValidationError("A rate between 0 and 1 (e.g. 0.05).", field="commission_rate")
    vendor.commission_rate = rate
    vendor.save(update_fields=["commission_rate", "updated_at"])
    return vendor


# -- staff ----------------------------------------------------------------------------
INVITABLE_BY = {StaffRole.OWNER: {StaffRole.MANAGER, StaffRole.STAFF}, StaffRole.MANAGER: {StaffRole.STAFF}}


def _actor_role(actor, vendor_id):
    if actor.is_staff:
        return StaffRole.OWNER
    return VendorStaff.objects.filter(vendor_id=vendor_id, user=actor).values_list("role", flat=True).first()


@transaction.atomic
def invite_staff(vendor_id, actor, email, role):
    from marketplace.accounts.services import normalize_email

    vendor = get_vendor(vendor_id)
    if vendor.status in (VendorStatus.CLOSED, VendorStatus.REJECTED):
        raise ValidationError("This vendor can no longer invite staff.", code=ErrorCode.INVALID_STATE)
    email = normalize_email(email)
    if role not in INVITABLE_BY.get(_actor_role(actor, vendor_id), set()):
        raise PermissionDenied("Your role cannot invite someone as " + str(role) + ".")
    if VendorStaff.objects.filter(vendor=vendor, user__email=email).exists():  # canonical forms
        raise ValidationError("This person already works here.", code=ErrorCode.UNIQUE, field="email")
    token = secrets.token_urlsafe(32)
    invitation = VendorInvitation.objects.create(
        vendor=vendor, email=email, role=role, token_hash=hash_token(token), invited_by=actor,
        expires_at=clock.now() + timedelta(days=7),
    )
    from marketplace.accounts.tasks import send_email

    link = f"{settings.STOREFRONT_URL.rstrip('/')}/vendor/invitation?token={token}"
    subject = f"{vendor.name_zh}: 邀请您加入 / You are invited"
    body = f"{actor.email} invited you to {vendor.name_zh} as {role}.\n{link}\n(valid 7 days)"
    transaction.on_commit(lambda: send_email.delay(email, subject, body))
    return invitation, token


@transaction.atomic
def accept_invitation(user, token):
    invitation = VendorInvitation.objects.select_for_update().filter(token_hash=hash_token(token or "")).first()
    if invitation is None or invitation.revoked_at or invitation.accepted_at:
        raise ValidationError("The invitation is invalid.", code=ErrorCode.TOKEN_INVALID, field="token")
    if invitation.expires_at < clock.now():
        raise ValidationError("The invitation has expired.", code=ErrorCode.TOKEN_EXPIRED, field="token")
    from marketplace.accounts.identity import canonical_email

    if canonical_email(invitation.email) != canonical_email(user.email):
        raise PermissionDenied("This invitation is for another e-mail address.")
    staff, created = VendorStaff.objects.get_or_create(
        vendor_id=invitation.vendor_id, user=user, defaults={"role": invitation.role})
    invitation.accepted_at = clock.now()
    invitation.save(update_fields=["accepted_at"])
    return staff


@transaction.atomic
def remove_staff(vendor_id, actor, user_id):
    membership = VendorStaff.objects.select_for_update().filter(vendor_id=vendor_id, user_id=user_id).first()
    if membership is None:
        raise NotFound("Not a member of this vendor's staff.", field="user_id")
    if membership.role == StaffRole.OWNER:
        raise ValidationError("The owner cannot be removed.", code=ErrorCode.INVALID_STATE, field="user_id")
    actor_role = _actor_role(actor, vendor_id)
    if membership.role not in INVITABLE_BY.get(actor_role, set()) and actor.pk != membership.user_id:
        raise PermissionDenied("Your role cannot remove this person.")
    membership.delete()


# -- warehouses -------------------------------------------------------------------------
def _clean_warehouse(data, creating):
    cleaned = {k: str(v).strip() for k, v in data.items() if k in ("name", "province", "city", "street") and v is not None}
    if "is_active" in data and data["is_active"] is not None:
        cleaned["is_active"] = bool(data["is_active"])
    if creating and not cleaned.get("name"):
        raise ValidationError("A name is required.", code=ErrorCode.REQUIRED, field="name")
    return cleaned


@transaction.atomic
def create_warehouse(vendor_id, data):
    vendor = get_vendor(vendor_id)
    cleaned = _clean_warehouse(data, creating=True)
    if Warehouse.objects.filter(vendor=vendor, name=cleaned["name"]).exists():
        raise ValidationError("A warehouse with this name exists.", code=ErrorCode.UNIQUE, field="name")
    return Warehouse.objects.create(vendor=vendor, **cleaned)


@transaction.atomic
def update_warehouse(warehouse, data):
    cleaned = _clean_warehouse(data, creating=False)
    if "name" in cleaned:
        if not cleaned["name"]:
            raise ValidationError("A name is required.", code=ErrorCode.REQUIRED, field="name")
        if Warehouse.objects.filter(vendor_id=warehouse.vendor_id, name=cleaned["name"]).exclude(pk=warehouse.pk).exists():
            raise ValidationError("A warehouse with this name exists.", code=ErrorCode.UNIQUE, field="name")
    for name, value in cleaned.items():
        setattr(warehouse, name, value)
    warehouse.save()
    return warehouse
