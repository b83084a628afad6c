"""GraphQL building blocks for plugins (part of the public plugin API)."""
from marketplace.api.dataloaders import DataLoader, group_by
from marketplace.api.errors import Error, ErrorCode
from marketplace.api.mutations import BaseMutation
from marketplace.api.pagination import ConnectionField, CountableConnection
from marketplace.api.types import decode_id
from marketplace.core import permissions
from marketplace.core.errors import NotFound, PermissionDenied, ValidationError

__all__ = [
    "BaseMutation", "ConnectionField", "CountableConnection", "DataLoader", "Error", "ErrorCode",
    "NotFound", "PermissionDenied", "ValidationError", "decode_id", "group_by", "permissions",
]
