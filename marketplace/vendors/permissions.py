"""Vendor scoping: a vendor's staff act only on their own vendor; platform staff on all."""
from marketplace.core.errors import ErrorCode, PermissionDenied
from marketplace.core.permissions import Policy, is_authenticated, require_login

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


class vendor_role(Policy):
    """Declared vendor scope of a mutation: the caller must be staff of the vendor in one of
    `roles` (platform staff always pass). `vendor_from` is the name of an argument holding
    a Vendor global ID (e.g. "vendor_id"), or a function of the looked-up object giving its
    vendor id (`lambda product: product.vendor_id`, with `BaseMutation.lookup`)."""

    name = "vendor_role"
    declares_ownership = True
    requires_login = True

    def __init__(self, roles=ANY_STAFF, vendor_from="vendor_id"):
        self.roles, self.vendor_from = tuple(roles), vendor_from

    def vendor_id(self, arguments, instance):
        if callable(self.vendor_from):
            return self.vendor_from(instance) if instance is not None else None
        from marketplace.core.ids import decode_id_of

        if arguments.get(self.vendor_from) is None:  # an optional vendor left out: the platform scope
            return None
        return int(decode_id_of(arguments.get(self.vendor_from), "Vendor", field=self.vendor_from))

    def check(self, info, arguments, instance=None):
        vendor_id = self.vendor_id(arguments, instance)
        if vendor_id is None:  # nothing vendor-owned named (e.g. the platform's own): staff only
            user = require_login(info)
            if not user.is_staff:
                raise PermissionDenied("Only platform staff may do this.")
            return
        require_vendor_role(info, vendor_id, self.roles)
