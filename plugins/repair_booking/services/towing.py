"""Towing for members: a request with a pickup point (GCJ-02; WGS-84 converted), a quote,
dispatch states to delivery at a partner shop.

    REQUESTED -> DISPATCHED -> EN_ROUTE -> ON_SITE -> TOWING -> DELIVERED
    REQUESTED | DISPATCHED | EN_ROUTE -> CANCELLED (the member)   any active -> FAILED

Quote: distance = straight line x `tow_road_factor` (no road-distance provider is wired);
list = `tow_base_price` + `tow_per_km` x km. A member with a free tow left this term
(membership's `member_benefits`) pays nothing up to `free_towing_km` and only the
kilometres beyond it; others pay the list price. The free tow is consumed when the car is
DELIVERED (`record_member_benefit`, which books its cost in the ledger) and given back
if the tow is cancelled or fails (`release_member_benefit`). What is left to pay is
charged after delivery through a standalone charge (`payments.charge`), booked in the
ledger when captured. One active tow per member.
"""
from __future__ import annotations

import math
from decimal import Decimal

from django.db import IntegrityError, transaction

from marketplace.plugins import call_hook, clock, emit, get_settings, has_hook
from marketplace.plugins.errors import ErrorCode, MarketplaceError, NotFound, ValidationError

from ..events import TowStatusChanged
from ..lookups import PLUGIN, member_benefits, shop_of
from ..models import TOW_ACTIVE, TowRequest, TowStatus

NEXT = {TowStatus.REQUESTED: TowStatus.DISPATCHED, TowStatus.DISPATCHED: TowStatus.EN_ROUTE,
        TowStatus.EN_ROUTE: TowStatus.ON_SITE, TowStatus.ON_SITE: TowStatus.TOWING,
        TowStatus.TOWING: TowStatus.DELIVERED}
CANCELLABLE = (TowStatus.REQUESTED, TowStatus.DISPATCHED, TowStatus.EN_ROUTE)
PURPOSE = "repair_booking:tow:"


def _money(value):
    from marketplace.plugins.pricing import quantize

    return quantize(Decimal(str(value)))


# -- coordinates ------------------------------------------------------------------------------------
_A, _EE = 6378245.0, 0.00669342162296594323


def _outside_china(lat, lon):
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat, lon):
    """GPS (WGS-84) -> the GCJ-02 coordinates Chinese maps use (the published
    approximation, metre-level); unchanged outside China."""
    if _outside_china(lat, lon):
        return lat, lon
    d_lat = _transform_lat(lon - 105.0, lat - 35.0)
    d_lon = _transform_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lat + d_lat, lon + d_lon


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0088 * 2 * math.asin(math.sqrt(a))


# -- quote and request ---------------------------------------------------------------------------------
def quote(user_id, lat, lon, shop, at=None) -> dict:
    """{"distance_km", "list_amount", "free_km", "free_amount", "paid_amount", "member"}.
    Raises ValidationError (the shop has no location; beyond `tow_max_km`)."""
    settings = get_settings(PLUGIN)
    vendor = shop.vendor
    if vendor.latitude is None or vendor.longitude is None:
        raise ValidationError("This shop has no location; choose another.", field="shop_id")
    km = haversine_km(float(lat), float(lon), float(vendor.latitude), float(vendor.longitude)) * settings.tow_road_factor
    distance = _money(km)
    if distance > Decimal(str(settings.tow_max_km)):
        raise ValidationError(f"Tows go at most {settings.tow_max_km:g} km ({distance} km asked).",
                              field="pickup")
    base, per_km = Decimal(str(settings.tow_base_price)), Decimal(str(settings.tow_per_km))
    list_amount = _money(base + per_km * distance)
    benefits = member_benefits(user_id, at)
    free_km = Decimal("0")
    if benefits and benefits["free_towing_left"] > 0:
        free_km = min(distance, Decimal(benefits["free_towing_km"]))
    free_amount = _money(base + per_km * free_km) if free_km > 0 else Decimal("0.00")
    paid = _money(per_km * (distance - free_km)) if free_km > 0 else list_amount
    return {"distance_km": distance, "list_amount": list_amount, "free_km": _money(free_km),
            "free_amount": free_amount, "paid_amount": paid, "member": benefits is not None}


def request(user, shop_vendor_id, lat, lon, address="", wgs84=False, garage_vehicle_id=None) -> TowRequest:
    """A member asks for a tow to a partner shop. Raises ValidationError (INVALID pickup,
    LIMIT_EXCEEDED: a tow is already under way), NotFound (shop)."""
    from marketplace.plugins.accounts import lock_user

    if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
        raise ValidationError("Latitude -90..90, longitude -180..180.", field="pickup")
    if wgs84:
        lat, lon = wgs84_to_gcj02(float(lat), float(lon))
    shop = shop_of(shop_vendor_id)
    now = clock.now()
    offer = quote(user.pk, lat, lon, shop, now)
    with transaction.atomic():
        lock_user(user.pk)
        if TowRequest.objects.filter(user=user, status__in=TOW_ACTIVE).exists():
            raise ValidationError("A tow is already under way for you.", code=ErrorCode.LIMIT_EXCEEDED, field="pickup")
        try:
            with transaction.atomic():
                tow = TowRequest.objects.create(
                    user=user, shop=shop, pickup_lat=Decimal(f"{float(lat):.6f}"),
                    pickup_lon=Decimal(f"{float(lon):.6f}"), pickup_address=(address or "")[:255],
                    garage_vehicle_id=garage_vehicle_id, distance_km=offer["distance_km"], free_km=offer["free_km"],
                    list_amount=offer["list_amount"], free_amount=offer["free_amount"],
                    paid_amount=offer["paid_amount"], requested_at=now)
        except IntegrityError:
            raise ValidationError("A tow is already under way for you.", code=ErrorCode.LIMIT_EXCEEDED,
                                  field="pickup") from None
        _emit(tow)
    return tow


def _emit(tow):
    emit(TowStatusChanged(vendor_id=tow.shop.vendor_id, tow_id=tow.pk, user_id=tow.user_id, status=tow.status,
                          paid_amount=tow.paid_amount))


def _locked(tow_id) -> TowRequest:
    tow = TowRequest.objects.select_for_update().select_related("shop__vendor").filter(pk=tow_id).first()
    if tow is None:
        raise NotFound("Tow not found.", field="id")
    return tow


def _consume_allowance(tow):
    """On delivery: the free tow is used (the membership books its cost). Refused (no
    allowance left any more, no longer a member): the member pays the whole list price."""
    if tow.free_amount <= 0 or tow.benefit_recorded:
        return
    if not has_hook("record_member_benefit"):
        tow.free_km, tow.free_amount, tow.paid_amount = Decimal("0"), Decimal("0"), tow.list_amount
        return
    try:
        with transaction.atomic():
            call_hook("record_member_benefit", user_id=tow.user_id, benefit="towing", reference=f"tow:{tow.pk}",
                      value=tow.free_amount, at=tow.requested_at)
        tow.benefit_recorded = True
    except MarketplaceError:
        tow.free_km, tow.free_amount, tow.paid_amount = Decimal("0"), Decimal("0"), tow.list_amount


def _give_back(tow):
    if tow.benefit_recorded and has_hook("release_member_benefit"):
        call_hook("release_member_benefit", benefit="towing", reference=f"tow:{tow.pk}")
        tow.benefit_recorded = False


@transaction.atomic
def advance(tow_id, status, driver="", reason="") -> TowRequest:
    """The dispatcher (platform staff) moves a tow on: the next state in order, or FAILED
    (with a reason). Raises ValidationError INVALID_STATE for any other move."""
    tow = _locked(tow_id)
    if status == TowStatus.FAILED:
        if tow.status not in TOW_ACTIVE:
            raise ValidationError("Only a tow under way can fail.", code=ErrorCode.INVALID_STATE, field="status")
        if not (reason or "").strip():
            raise ValidationError("Say why the tow failed.", code=ErrorCode.REQUIRED, field="reason")
        tow.failure_reason = reason.strip()[:200]
        _give_back(tow)
    elif NEXT.get(tow.status) != status:
        raise ValidationError(f"A {tow.status} tow cannot become {status}.", code=ErrorCode.INVALID_STATE,
                              field="status")
    if status == TowStatus.DISPATCHED:
        if not (driver or "").strip():
            raise ValidationError("Name the driver or truck.", code=ErrorCode.REQUIRED, field="driver")
        tow.driver = driver.strip()[:100]
    if status == TowStatus.DELIVERED:
        tow.delivered_at = clock.now()
        _consume_allowance(tow)
    tow.status = status
    tow.save()
    _emit(tow)
    return tow


@transaction.atomic
def cancel(tow_id, user_id) -> TowRequest:
    """The member cancels before the truck is on site; a free tow is given back."""
    tow = _locked(tow_id)
    if tow.user_id != user_id:
        raise NotFound("Tow not found.", field="id")
    if tow.status not in CANCELLABLE:
        raise ValidationError("The truck is there already: ask the driver.", code=ErrorCode.INVALID_STATE, field="id")
    _give_back(tow)
    tow.status = TowStatus.CANCELLED
    tow.save()
    _emit(tow)
    return tow


def pay(tow_id, user, gateway):
    """Start paying what a delivered tow costs beyond the free allowance (a standalone
    charge). Returns the `PaymentInfo` (client secret for the client). Raises
    ValidationError INVALID_STATE (not delivered, nothing to pay, paid)."""
    from marketplace.plugins.payments import charge

    with transaction.atomic():
        tow = _locked(tow_id)
        if tow.user_id != user.pk:
            raise NotFound("Tow not found.", field="id")
        if tow.status != TowStatus.DELIVERED or tow.paid_amount <= 0 or tow.paid_at is not None:
            raise ValidationError("Nothing is due on this tow.", code=ErrorCode.INVALID_STATE, field="id")
    payment = charge(customer=user, amount=tow.paid_amount, purpose=f"{PURPOSE}{tow.pk}", gateway=gateway,
                     description=f"Tow {tow.pk} ({tow.distance_km} km)", metadata={"tow_id": tow.pk})
    TowRequest.objects.filter(pk=tow.pk).update(payment_id=payment.payment_id)
    return payment


def on_payment_captured(payment):
    """`on_payment_captured`: a tow's charge was captured: paid, and booked
    (customer_payments -x, towing_partner_payable +x)."""
    from marketplace.plugins.ledger import book

    if not payment.purpose.startswith(PURPOSE):
        return
    tow = TowRequest.objects.select_for_update().filter(pk=int(payment.purpose[len(PURPOSE):])).first()
    if tow is None or tow.paid_at is not None:
        return
    tow.paid_at = clock.now()
    tow.save(update_fields=["paid_at", "updated_at"])
    book("tow_charge", [("customer_payments", -payment.captured), ("towing_partner_payable", payment.captured)],
         memo=f"Tow {tow.pk} beyond the free allowance", key=f"repair_booking:tow:{tow.pk}")
