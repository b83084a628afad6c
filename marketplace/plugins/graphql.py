"""GraphQL building blocks for plugins (part of the public plugin API)."""
from marketplace.api.dataloaders import DataLoader, group_by, then
from marketplace.api.errors import Error, ErrorCode
from marketplace.api.mutations import BaseMutation
from marketplace.api.pagination import ConnectionField, CountableConnection
from marketplace.api.types import decode_id
from marketplace.core import permissions
from marketplace.core.errors import NotFound, PermissionDenied, ValidationError

__all__ = [
    "BaseMutation", "ConnectionField", "CountableConnection", "DataLoader", "Error", "ErrorCode",
    "NotFound", "PermissionDenied", "ValidationError", "decode_id", "group_by", "permissions", "then",
    "ProductNode", "ProductVariantNode", "VendorType", "UserType",
]


def __getattr__(name):
    """The core's GraphQL types, for plugins that return or reference them."""
    if name in ("ProductNode", "ProductVariantNode"):
        from marketplace.catalog import schema

        return getattr(schema, name)
    if name == "VendorType":
        from marketplace.vendors.schema import VendorType

        return VendorType
    if name == "UserType":
        from marketplace.accounts.schema import UserType

        return UserType
    raise AttributeError(name)
