"""Vendors for plugins: read-only `VendorInfo` selectors, the role checks, and the lifecycle
services a plugin may call.

- `vendor_info(vendor_id)`, `vendor_infos(ids=None, kind=None, status=None)`;
- `VendorKind` ("parts_vendor", "repair_shop", "dealer"), `VendorStatus`, `StaffRole`,
  `ANY_STAFF`, `MANAGERS`, `has_vendor_role(user, vendor_id, roles)`,
  `require_vendor_role(info, vendor_id, roles)`, `vendor_roles(user)`;
- `hide_storefront(vendor_id, owner, reason)` / `show_storefront(vendor_id, owner)`: keep a
  vendor out of listings and search for your reason (e.g. an unpaid plan) and lift it;
  independent of platform staff's suspension, never deleting anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Mapping

from marketplace.vendors.models import StaffRole, VendorKind, VendorStatus
from marketplace.vendors.permissions import ANY_STAFF, MANAGERS, has_vendor_role, require_vendor_role, vendor_roles


@dataclass(frozen=True)
class VendorInfo:
    vendor_id: int
    kind: str
    status: str
    slug: str
    name_zh: str
    name_en: str
    phone: str
    province: str
    city: str
    district: str
    street: str
    latitude: Decimal | None
    longitude: Decimal | None
    opening_hours: Mapping
    storefront_hidden: bool
    approved_at: datetime | None
    owner_user_id: int | None

    @property
    def listed(self):
        return self.status == VendorStatus.APPROVED and not self.storefront_hidden


def _info(vendor, owners):
    return VendorInfo(vendor_id=vendor.pk, kind=vendor.kind, status=vendor.status, slug=vendor.slug,
                      name_zh=vendor.name_zh, name_en=vendor.name_en, phone=vendor.phone, province=vendor.province,
                      city=vendor.city, district=vendor.district, street=vendor.street, latitude=vendor.latitude,
                      longitude=vendor.longitude, opening_hours=MappingProxyType(dict(vendor.opening_hours or {})),
                      storefront_hidden=vendor.storefront_hidden, approved_at=vendor.approved_at,
                      owner_user_id=owners.get(vendor.pk))


def vendor_infos(ids=None, kind=None, status=None) -> list[VendorInfo]:
    from marketplace.vendors.models import Vendor, VendorStaff

    qs = Vendor.objects.order_by("pk")
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if kind is not None:
        qs = qs.filter(kind=kind)
    if status is not None:
        qs = qs.filter(status=status)
    vendors = list(qs)
    owners = dict(VendorStaff.objects.filter(vendor__in=vendors, role=StaffRole.OWNER).values_list("vendor_id", "user_id"))
    return [_info(v, owners) for v in vendors]


def vendor_info(vendor_id) -> VendorInfo | None:
    found = vendor_infos([vendor_id])
    return found[0] if found else None


def hide_storefront(vendor_id, owner, reason):
    from marketplace.vendors.services import hold_storefront

    hold_storefront(vendor_id, owner, reason)


def show_storefront(vendor_id, owner):
    from marketplace.vendors.services import release_storefront

    release_storefront(vendor_id, owner)


def staff_emails(vendor_id, roles=MANAGERS) -> list[str]:
    """E-mail addresses of the vendor's staff in `roles` (for notices)."""
    from marketplace.vendors.models import VendorStaff

    return list(VendorStaff.objects.filter(vendor_id=vendor_id, role__in=roles).values_list("user__email", flat=True))


__all__ = ["VendorInfo", "vendor_info", "vendor_infos", "hide_storefront", "show_storefront", "staff_emails",
           "VendorKind", "VendorStatus", "StaffRole", "ANY_STAFF", "MANAGERS", "has_vendor_role",
           "require_vendor_role", "vendor_roles"]
