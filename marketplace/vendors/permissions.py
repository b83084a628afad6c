"""Vendor scoping: a vendor's staff act only on their own vendor; platform staff on all."""
from marketplace.core.errors import ErrorCode, PermissionDenied
from marketplace.core.permissions import is_authenticated, require_login

from .models import StaffRole, VendorStaff

MANAGERS = (StaffRole.OWNER, StaffRole.MANAGER)
ANY_STAFF = (StaffRole.OWNER, StaffRole.MANAGER, StaffRole.STAFF)


def vendor_roles(user):
    """{vendor_id: role} of the user's memberships, read once per user object."""
    if not is_authenticated(user):
        return {}
    roles = getattr(user, "_vendor_roles", None)
    if roles is None:
        roles = dict(VendorStaff.objects.filter(user=user).values_list("vendor_id", "role"))
        user._vendor_roles = roles
    return roles


def has_vendor_role(user, vendor_id, roles=ANY_STAFF):
    if not is_authenticated(user):
        return False
    if user.is_staff:
        return True
    return vendor_roles(user).get(int(vendor_id)) in roles


def require_vendor_role(info, vendor_id, roles=ANY_STAFF):
    """The caller must be staff of this vendor with one of `roles` (or platform staff)."""
    user = require_login(info)
    if not has_vendor_role(user, vendor_id, roles):
        raise PermissionDenied("You do not work for this vendor in a role that allows this.",
                               code=ErrorCode.PERMISSION_DENIED)
    return user
